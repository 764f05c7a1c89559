// Leads and deals: the stage checklist, the pipeline → stage picker, the line items editor,
// the junk reason and the "lost" dialog. Everything is delegated from the document, so it
// keeps working on content htmx swaps in; every form still posts without this file.
(function () {
  "use strict";
  if (window.vkDeals) return;
  window.vkDeals = true;

  // --- checklist: ticks are guidance only, kept in this browser per deal and stage ---------
  function loadTicks(key) {
    try { return JSON.parse(window.localStorage.getItem(key) || "[]"); } catch (e) { return []; }
  }
  function initChecklists(root) {
    root.querySelectorAll("[data-vk-checklist]").forEach(function (list) {
      var ticks = loadTicks(list.getAttribute("data-vk-checklist"));
      list.querySelectorAll("input[type=checkbox]").forEach(function (box) {
        box.checked = ticks.indexOf(parseInt(box.getAttribute("data-index"), 10)) >= 0;
      });
    });
  }
  document.addEventListener("change", function (event) {
    var list = event.target.closest && event.target.closest("[data-vk-checklist]");
    if (!list) return;
    var ticks = [];
    list.querySelectorAll("input[type=checkbox]").forEach(function (box) {
      if (box.checked) ticks.push(parseInt(box.getAttribute("data-index"), 10));
    });
    try { window.localStorage.setItem(list.getAttribute("data-vk-checklist"), JSON.stringify(ticks)); } catch (e) { /* private mode */ }
  });

  // --- the stage list shows only the chosen pipeline's stages --------------------------------
  function filterStages(pipelineSelect) {
    var form = pipelineSelect.form;
    var stage = form && form.querySelector("[data-vk-stage]");
    if (!stage) return;
    stage.querySelectorAll("optgroup").forEach(function (group) {
      var match = group.getAttribute("data-pipeline") === pipelineSelect.value;
      group.hidden = !match;
      group.disabled = !match;
    });
    var chosen = stage.options[stage.selectedIndex];
    if (chosen && chosen.parentNode.tagName === "OPTGROUP" && chosen.parentNode.disabled) stage.value = "";
  }

  // --- junk reason only when the status is junk; the deal part of a conversion ------------------
  function showJunk(select) {
    var target = document.querySelector(select.getAttribute("data-vk-junk"));
    if (target) target.hidden = select.value !== "junk";
  }
  function toggleTarget(box) {
    var target = document.querySelector(box.getAttribute("data-vk-toggle"));
    if (target) target.hidden = !box.checked;
  }

  function init(root) {
    initChecklists(root);
    // On a phone the stage bar scrolls: bring the current stage into view.
    var current = root.querySelector && root.querySelector(".vk-stagebar .vk-stage-current");
    var wrap = current && current.closest(".vk-stagebar-wrap");
    if (wrap && wrap.scrollWidth > wrap.clientWidth) {
      wrap.scrollLeft = current.offsetLeft - (wrap.clientWidth - current.offsetWidth) / 2;
    }
    root.querySelectorAll("[data-vk-pipeline]").forEach(filterStages);
    root.querySelectorAll("[data-vk-junk]").forEach(showJunk);
    root.querySelectorAll("[data-vk-toggle]").forEach(toggleTarget);
  }
  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:afterSettle", function (event) { init(event.target); });

  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.matches("[data-vk-pipeline]")) filterStages(el);
    if (el.matches("[data-vk-junk]")) showJunk(el);
    if (el.matches("[data-vk-toggle]")) toggleTarget(el);
    if (el.matches("[data-vk-product]")) fillFromProduct(el);
  });

  // --- line items ------------------------------------------------------------------------------
  function fillFromProduct(select) {
    var option = select.options[select.selectedIndex];
    if (!option || !option.value) return;
    var row = select.closest(".vk-line");
    var set = function (key, value, always) {
      var input = row.querySelector("[name$='." + key + "']");
      if (input && (always || value !== "")) input.value = value;
    };
    set("name", option.getAttribute("data-name"), true);
    set("unit", option.getAttribute("data-unit"), true);
    set("unit_price", option.getAttribute("data-price"), false);
    set("vat_rate", option.getAttribute("data-vat"), true);
    var qty = row.querySelector("[name$='.quantity']");
    if (qty && !qty.value) qty.value = "1";
  }

  function renumber(row, index) {
    row.setAttribute("data-index", index);
    row.querySelectorAll("[name], [id], [for], [aria-describedby]").forEach(function (el) {
      ["name", "id", "for", "aria-describedby"].forEach(function (attr) {
        var v = el.getAttribute(attr);
        if (v) el.setAttribute(attr, v.replace(/\[\d+\]/, "[" + index + "]").replace(/^line_\d+_/, "line_" + index + "_"));
      });
    });
  }

  document.addEventListener("click", function (event) {
    var add = event.target.closest(".vk-line-add");
    if (add) {
      var box = add.closest("form").querySelector(".vk-lines-edit");
      var rows = box.querySelectorAll(".vk-line");
      var index = parseInt(box.getAttribute("data-next"), 10) || rows.length;
      var copy = rows[rows.length - 1].cloneNode(true);
      copy.querySelectorAll(".invalid-feedback").forEach(function (el) { el.remove(); });
      copy.querySelectorAll("input, select").forEach(function (el) {
        el.classList.remove("is-invalid");
        el.removeAttribute("aria-invalid");
        el.removeAttribute("aria-describedby");
        el.value = "";
      });
      renumber(copy, index);
      var legend = copy.querySelector("legend");
      if (legend) legend.textContent = legend.textContent.replace(/\d+/, String(rows.length + 1));
      box.appendChild(copy);
      box.setAttribute("data-next", index + 1);
      copy.querySelector("select, input").focus();
      return;
    }
    var remove = event.target.closest(".vk-line-delete");
    if (remove) {
      var row = remove.closest(".vk-line");
      var all = row.parentNode.querySelectorAll(".vk-line");
      if (all.length > 1) {
        var next = row.nextElementSibling || row.previousElementSibling;
        row.remove();
        if (next) next.querySelector("select, input").focus();
      } else {
        row.querySelectorAll("input, select").forEach(function (el) { el.value = ""; });
      }
      return;
    }
    // "Lost" asks for a reason in a dialog instead of posting straight away.
    var lost = event.target.closest("[data-vk-lost]");
    if (lost && window.bootstrap) {
      var dialog = document.querySelector(lost.getAttribute("data-vk-lost"));
      if (dialog) {
        event.preventDefault();
        window.bootstrap.Modal.getOrCreateInstance(dialog).show();
      }
    }
  });
})();
