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
  // Record pickers (.vk-lookup): type to search on the server, pick with the mouse or the
  // arrow keys and Enter; the hidden input carries the chosen id. Clearing the text clears it.
  (function () {
    var timers = new WeakMap();
    function parts(el) {
      var box = el.closest(".vk-lookup");
      return box && {
        box: box,
        text: box.querySelector("[data-lookup-url]"),
        value: box.querySelector("[data-lookup-value]"),
        list: box.querySelector(".vk-lookup-list"),
      };
    }
    function close(p) { p.list.hidden = true; p.text.setAttribute("aria-expanded", "false"); }
    function choose(p, option) {
      p.value.value = option.getAttribute("data-value");
      p.text.value = option.getAttribute("data-label");
      close(p);
      p.text.focus();
      p.value.dispatchEvent(new Event("change", { bubbles: true }));
    }
    function search(p) {
      var url = p.text.getAttribute("data-lookup-url") + "?q=" + encodeURIComponent(p.text.value);
      fetch(url, { headers: { "HX-Request": "true" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : ""; })
        .then(function (html) {
          p.list.innerHTML = html;
          p.list.hidden = !html.trim();
          p.text.setAttribute("aria-expanded", p.list.hidden ? "false" : "true");
        });
    }
    document.addEventListener("input", function (event) {
      var p = event.target.matches && event.target.matches("[data-lookup-url]") && parts(event.target);
      if (!p) return;
      if (!p.text.value.trim()) { p.value.value = ""; }
      clearTimeout(timers.get(p.text));
      timers.set(p.text, setTimeout(function () { search(p); }, 200));
    });
    document.addEventListener("focusin", function (event) {
      var p = event.target.matches && event.target.matches("[data-lookup-url]") && parts(event.target);
      if (p && p.list.hidden) search(p);
    });
    document.addEventListener("click", function (event) {
      var option = event.target.closest && event.target.closest(".vk-lookup-list [data-value]");
      if (option) { choose(parts(option), option); return; }
      document.querySelectorAll(".vk-lookup-list:not([hidden])").forEach(function (list) {
        if (!list.closest(".vk-lookup").contains(event.target)) close(parts(list));
      });
    });
    document.addEventListener("keydown", function (event) {
      var p = event.target.closest && parts(event.target);
      if (!p || !p.text || p.list.hidden) return;
      var options = Array.prototype.slice.call(p.list.querySelectorAll("[data-value]"));
      var at = options.indexOf(document.activeElement);
      if (event.key === "ArrowDown") {
        event.preventDefault();
        (options[at + 1] || options[0] || p.text).focus();
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        (at > 0 ? options[at - 1] : p.text).focus();
      } else if (event.key === "Escape") {
        close(p);
        p.text.focus();
      } else if (event.key === "Enter" && at >= 0) {
        event.preventDefault();
        choose(p, options[at]);
      }
    });
  })();
})();
