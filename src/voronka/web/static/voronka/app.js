// Keyboard shortcuts and small behaviours shared by every page.
// "/" or Ctrl+K focuses the global search; arrows move through its results; Escape closes them.
(function () {
  "use strict";

  function searchBox() { return document.getElementById("global-search-input"); }
  function resultsBox() { return document.getElementById("global-search-results"); }
  function resultLinks() {
    var box = resultsBox();
    return box ? Array.prototype.slice.call(box.querySelectorAll("a.search-item")) : [];
  }
  function closeResults() {
    var results = resultsBox();
    if (results) results.innerHTML = "";
  }

  document.addEventListener("keydown", function (event) {
    var box = searchBox();
    if (!box) return;
    var active = document.activeElement;
    var typing = /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName) || active.isContentEditable;
    if ((event.key === "/" && !typing) || ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "k")) {
      event.preventDefault();
      box.focus();
      box.select();
      return;
    }
    var links = resultLinks();
    var index = links.indexOf(active);
    if (event.key === "ArrowDown" && (active === box || index >= 0) && links.length) {
      event.preventDefault();
      links[Math.min(index + 1, links.length - 1)].focus();
    } else if (event.key === "ArrowUp" && index >= 0) {
      event.preventDefault();
      if (index === 0) box.focus(); else links[index - 1].focus();
    } else if (event.key === "Escape" && (active === box || index >= 0)) {
      closeResults();
      box.blur();
    }
  });

  // A click outside the search closes its drop-down.
  document.addEventListener("click", function (event) {
    var form = event.target.closest && event.target.closest(".global-search");
    if (!form) closeResults();
  });

  // <form data-confirm="Question?">: ask before a destructive action.
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute && event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  });

  // <button data-copy-target="#id">: copy the field's text and say so on the button.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-copy-target]");
    if (!button) return;
    var field = document.querySelector(button.getAttribute("data-copy-target"));
    if (!field) return;
    field.select();
    var done = function () {
      var label = button.querySelector("span") || button;
      label.textContent = button.getAttribute("data-copied-text") || "Copied";
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, function () { document.execCommand("copy"); done(); });
    } else {
      document.execCommand("copy");
      done();
    }
  });
})();
