// Keyboard shortcuts and htmx glue. "/" or Ctrl+K focuses the global search.
(function () {
  "use strict";
  document.addEventListener("keydown", function (event) {
    var box = document.getElementById("global-search-input");
    if (!box) return;
    var typing = /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement.tagName) || document.activeElement.isContentEditable;
    if ((event.key === "/" && !typing) || ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "k")) {
      event.preventDefault();
      box.focus();
      box.select();
    }
    if (event.key === "Escape" && document.activeElement === box) {
      var results = document.getElementById("global-search-results");
      if (results) results.innerHTML = "";
      box.blur();
    }
  });
})();
