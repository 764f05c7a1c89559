// The kanban board: drag a card to another column, or use its "Move to…" menu (keyboard, touch).
// Both post to the card's move URL and expect JSON: the re-rendered card and every column's
// count and sum. A refused move puts the card back where it was and says which fields to fill.
// Without this file the menu still works as a plain form POST.
(function () {
  "use strict";
  if (window.vkKanban) return;
  window.vkKanban = true;

  var dragged = null;

  function boardEl() { return document.getElementById("kanban-board"); }
  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }
  function column(stageId) {
    var board = boardEl();
    return board ? board.querySelector('.vk-kcol[data-stage="' + stageId + '"]') : null;
  }
  function list(col) { return col.querySelector(".vk-kcol-list"); }

  function announce(text) {
    var status = document.getElementById("kanban-status");
    if (!status) return;
    status.textContent = "";
    window.setTimeout(function () { status.textContent = text; }, 50);
  }

  function hideAlert() {
    var alert = document.getElementById("kanban-alert");
    if (alert) alert.hidden = true;
  }

  function showRefusal(data) {
    var alert = document.getElementById("kanban-alert");
    if (!alert) return;
    var body = alert.querySelector(".vk-kalert-body");
    body.textContent = "";
    var title = document.createElement("p");
    title.className = "fw-semibold mb-1";
    title.textContent = data.title || "";
    body.appendChild(title);
    if (data.errors && data.errors.length) {
      var ul = document.createElement("ul");
      data.errors.forEach(function (e) {
        var li = document.createElement("li");
        li.textContent = e.label + ": " + e.message;
        ul.appendChild(li);
      });
      body.appendChild(ul);
    }
    if (data.edit_url) {
      var link = document.createElement("a");
      link.href = data.edit_url;
      link.textContent = data.edit_label || data.edit_url;
      body.appendChild(link);
    }
    alert.hidden = false;
  }

  // Put the card back exactly where it was.
  function restore(card, origin) {
    if (origin.next && origin.next.parentNode === origin.parent) origin.parent.insertBefore(card, origin.next);
    else origin.parent.insertBefore(card, origin.parent.querySelector(".vk-kmore, .vk-kcol-empty"));
  }

  function updateHeaders(columns) {
    (columns || []).forEach(function (c) {
      var col = column(c.stage_id);
      if (!col) return;
      col.querySelector("[data-count]").textContent = c.count;
      col.querySelector("[data-sum]").textContent = c.total;
    });
  }

  // Ask for a lost reason in the dialog, then call done(reason, comment); nothing on cancel.
  function askReason(card, col, done) {
    var dialog = document.getElementById("kanban-lost-dialog");
    if (!dialog || !window.bootstrap) { done("", ""); return; }
    var form = document.getElementById("kanban-lost-form");
    var submitted = false;
    document.getElementById("kanban-lost-deal").textContent =
      (card.getAttribute("data-title") || "") + " → " + (col.getAttribute("data-name") || "");
    form.reset();
    var modal = window.bootstrap.Modal.getOrCreateInstance(dialog);
    function onSubmit(event) {
      event.preventDefault();
      submitted = true;
      modal.hide();
    }
    function onHidden() {
      form.removeEventListener("submit", onSubmit);
      dialog.removeEventListener("hidden.bs.modal", onHidden);
      if (submitted) {
        done(form.elements.lost_reason_id.value, form.elements.lost_comment.value);
      } else {
        var summary = card.querySelector(".vk-move summary");
        if (summary) summary.focus();
      }
    }
    form.addEventListener("submit", onSubmit);
    dialog.addEventListener("hidden.bs.modal", onHidden);
    dialog.addEventListener("shown.bs.modal", function () { form.elements.lost_reason_id.focus(); }, { once: true });
    modal.show();
  }

  function move(card, col, focusAfter) {
    if (!card || !col || col.getAttribute("data-stage") === card.getAttribute("data-stage")) return;
    var board = boardEl();
    var needsReason = board && board.getAttribute("data-needs-reason") === "1";
    if (col.getAttribute("data-kind") === "lost" && needsReason) {
      askReason(card, col, function (reason, comment) { send(card, col, reason, comment, focusAfter); });
    } else {
      send(card, col, "", "", focusAfter);
    }
  }

  function send(card, col, reason, comment, focusAfter) {
    hideAlert();
    var origin = { parent: card.parentNode, next: card.nextElementSibling };
    var target = list(col);
    target.insertBefore(card, target.firstChild);  // optimistic: it is where it was dropped
    card.classList.add("is-saving");
    card.setAttribute("aria-busy", "true");
    var menu = card.querySelector(".vk-move-form");
    var body = menu ? new FormData(menu) : new FormData();
    body.set("stage_id", col.getAttribute("data-stage"));
    if (reason) body.set("lost_reason_id", reason);
    if (comment) body.set("lost_comment", comment);
    var filters = (boardEl() && boardEl().getAttribute("data-filters")) || "";
    var url = card.getAttribute("data-move-url") + (filters ? "?" + filters : "");
    fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
    })
      .then(function (response) {
        return response.json().catch(function () { return { ok: false, title: response.statusText }; });
      })
      .then(function (data) {
        card.classList.remove("is-saving");
        card.removeAttribute("aria-busy");
        if (data.ok) {
          var holder = document.createElement("ul");
          holder.innerHTML = data.card;
          var fresh = holder.firstElementChild;
          card.replaceWith(fresh);
          if (window.htmx) window.htmx.process(fresh);
          updateHeaders(data.columns);
          announce(data.message);
          if (focusAfter) {
            var summary = fresh.querySelector(".vk-move summary");
            (summary || fresh).focus();
          }
          return;
        }
        restore(card, origin);
        if (data.needs_reason && data.errors && data.errors.length === 1 && !reason) {
          askReason(card, col, function (r, c) { send(card, col, r, c, focusAfter); });
          return;
        }
        card.classList.add("is-refused");
        window.setTimeout(function () { card.classList.remove("is-refused"); }, 4000);
        showRefusal(data);
        if (focusAfter) {
          var own = card.querySelector(".vk-move summary");
          if (own) own.focus();
        }
      })
      .catch(function () {
        card.classList.remove("is-saving");
        card.removeAttribute("aria-busy");
        restore(card, origin);
        var alert = document.getElementById("kanban-alert");
        showRefusal({ title: alert ? alert.getAttribute("data-offline") : "" });
      });
  }

  // --- drag and drop ------------------------------------------------------------------------
  document.addEventListener("dragstart", function (event) {
    var card = event.target.closest && event.target.closest('.vk-kcard[draggable="true"]');
    if (!card) return;
    dragged = card;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.getAttribute("data-deal"));
    window.setTimeout(function () { card.classList.add("is-dragging"); }, 0);
  });
  document.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("is-dragging");
    dragged = null;
    document.querySelectorAll(".vk-kcol.is-over").forEach(function (c) { c.classList.remove("is-over"); });
  });
  document.addEventListener("dragover", function (event) {
    if (!dragged) return;
    var col = event.target.closest && event.target.closest("#kanban-board .vk-kcol");
    if (!col || col.getAttribute("data-stage") === dragged.getAttribute("data-stage")) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    if (!col.classList.contains("is-over")) {
      document.querySelectorAll(".vk-kcol.is-over").forEach(function (c) { c.classList.remove("is-over"); });
      col.classList.add("is-over");
    }
  });
  document.addEventListener("dragleave", function (event) {
    var col = event.target.closest && event.target.closest(".vk-kcol");
    if (col && !col.contains(event.relatedTarget)) col.classList.remove("is-over");
  });
  document.addEventListener("drop", function (event) {
    if (!dragged) return;
    var col = event.target.closest && event.target.closest("#kanban-board .vk-kcol");
    if (!col) return;
    event.preventDefault();
    col.classList.remove("is-over");
    var card = dragged;
    card.classList.remove("is-dragging");
    dragged = null;
    move(card, col, false);
  });

  // --- the "Move to…" menu --------------------------------------------------------------------
  document.addEventListener("submit", function (event) {
    var form = event.target.closest && event.target.closest("#kanban-board .vk-move-form");
    if (!form || !window.fetch) return;
    var button = event.submitter;
    if (!button || !button.value) return;
    var col = column(button.value);
    if (!col) return;
    event.preventDefault();
    var details = form.closest("details");
    if (details) details.open = false;
    move(form.closest(".vk-kcard"), col, true);
  });

  // Escape closes an open menu and gives the focus back to its summary.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var details = event.target.closest && event.target.closest(".vk-move[open]");
    if (!details) return;
    details.open = false;
    details.querySelector("summary").focus();
  });

  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-kanban-dismiss]")) hideAlert();
  });
})();
