/* Voronka web form. Put <div id="voronka-form-TOKEN"></div> where the form should appear and
   load this script; it draws the form there and sends it to Voronka with fetch (no cookies).
   UTM tags are read from this page's address. Restyle with the CSS variables --vkf-accent,
   --vkf-radius and --vkf-font on the div. */
(function () {
  "use strict";
  var config = {{ config }};
  var script = document.currentScript;

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (attrs[name] === true) node.setAttribute(name, "");
      else if (attrs[name] !== false && attrs[name] != null) node.setAttribute(name, attrs[name]);
    });
    if (text) node.textContent = text;
    return node;
  }

  function addStyle() {
    if (document.getElementById("vkf-style")) return;
    var css = [
      ".vkf{--vkf-accent:#3b5bdb;--vkf-radius:6px;font-family:var(--vkf-font,inherit);max-width:32rem;color:inherit;line-height:1.4}",
      ".vkf *{box-sizing:border-box}",
      ".vkf h2{font-size:1.25rem;margin:0 0 .75rem}",
      ".vkf-field{margin:0 0 .75rem;border:0;padding:0}",
      ".vkf-label,.vkf legend{display:block;font-weight:600;margin:0 0 .25rem;padding:0;font-size:.95rem}",
      ".vkf-input{display:block;width:100%;padding:.5rem .65rem;font:inherit;border:1px solid #8a94a0;border-radius:var(--vkf-radius);background:#fff;color:#1c2430}",
      ".vkf textarea.vkf-input{min-height:6rem;resize:vertical}",
      ".vkf-input:focus,.vkf-check input:focus{outline:3px solid color-mix(in srgb,var(--vkf-accent) 45%,transparent);outline-offset:1px;border-color:var(--vkf-accent)}",
      ".vkf-check{display:flex;gap:.5rem;align-items:flex-start;margin:.2rem 0}",
      ".vkf-check input{margin-top:.25rem;width:1.05rem;height:1.05rem;accent-color:var(--vkf-accent)}",
      ".vkf-consent{white-space:pre-line;font-size:.9rem}",
      ".vkf-invalid{border-color:#b42318}",
      ".vkf-error{color:#b42318;font-size:.875rem;margin-top:.25rem}",
      ".vkf-req{color:#b42318}",
      ".vkf-hp{position:absolute!important;left:-10000px;top:auto;width:1px;height:1px;overflow:hidden}",
      ".vkf-button{font:inherit;font-weight:600;color:#fff;background:var(--vkf-accent);border:0;border-radius:var(--vkf-radius);padding:.6rem 1.2rem;cursor:pointer}",
      ".vkf-button[disabled]{opacity:.65;cursor:wait}",
      ".vkf-status{margin-top:.75rem;font-size:.95rem}",
      ".vkf-status.vkf-bad{color:#b42318}",
      ".vkf-thanks{white-space:pre-line;max-width:32rem;padding:1rem;border:1px solid #cfd4db;border-radius:var(--vkf-radius)}"
    ].join("\n");
    var style = el("style", { id: "vkf-style" });
    style.textContent = css;
    document.head.appendChild(style);
  }

  function idFor(key) { return "vkf-" + config.token + "-" + key.replace(/[^A-Za-z0-9_-]/g, "_"); }

  function control(field, id) {
    var w = field.widget;
    var common = { id: id, name: field.key, "class": "vkf-input", required: field.required, "aria-describedby": id + "-error" };
    if (w === "textarea") return el("textarea", Object.assign(common, { maxlength: field.max_length, rows: 4 }));
    if (w === "select") {
      var select = el("select", common);
      select.appendChild(el("option", { value: "" }, config.texts.choose));
      field.options.forEach(function (o) { select.appendChild(el("option", { value: o }, o)); });
      return select;
    }
    var types = { email: "email", tel: "tel", url: "url", date: "date", datetime: "datetime-local" };
    var attrs = Object.assign(common, { type: types[w] || "text", maxlength: field.max_length });
    if (field.autocomplete) attrs.autocomplete = field.autocomplete;
    if (w === "number") attrs.inputmode = "decimal";
    return el("input", attrs);
  }

  function fieldNode(field) {
    var id = idFor(field.key);
    var box;
    if (field.widget === "multiselect") {
      box = el("fieldset", { "class": "vkf-field", "data-key": field.key, "aria-describedby": id + "-error" });
      var legend = el("legend", {}, field.label);
      if (field.required) legend.appendChild(el("span", { "class": "vkf-req", "aria-hidden": "true" }, " *"));
      box.appendChild(legend);
      field.options.forEach(function (o, i) {
        var row = el("div", { "class": "vkf-check" });
        row.appendChild(el("input", { type: "checkbox", id: id + "-" + i, name: field.key, value: o }));
        row.appendChild(el("label", { "for": id + "-" + i }, o));
        box.appendChild(row);
      });
    } else if (field.widget === "checkbox") {
      box = el("div", { "class": "vkf-field", "data-key": field.key });
      var row = el("div", { "class": "vkf-check" });
      row.appendChild(el("input", { type: "checkbox", id: id, name: field.key, value: "true", required: field.required, "aria-describedby": id + "-error" }));
      var label = el("label", { "for": id }, field.label);
      if (field.required) label.appendChild(el("span", { "class": "vkf-req", "aria-hidden": "true" }, " *"));
      row.appendChild(label);
      box.appendChild(row);
    } else {
      box = el("div", { "class": "vkf-field", "data-key": field.key });
      var lab = el("label", { "class": "vkf-label", "for": id }, field.label);
      if (field.required) lab.appendChild(el("span", { "class": "vkf-req", "aria-hidden": "true" }, " *"));
      box.appendChild(lab);
      box.appendChild(control(field, id));
    }
    box.appendChild(el("div", { "class": "vkf-error", id: id + "-error", hidden: true }));
    return box;
  }

  function utm() {
    var params = new URLSearchParams(window.location.search);
    var out = {};
    ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"].forEach(function (k) {
      if (params.get(k)) out[k] = params.get(k);
    });
    return out;
  }

  function collect(form) {
    var data = {};
    config.fields.forEach(function (field) {
      if (field.widget === "multiselect") {
        data[field.key] = Array.prototype.map.call(
          form.querySelectorAll('input[name="' + field.key + '"]:checked'), function (i) { return i.value; });
      } else if (field.widget === "checkbox") {
        data[field.key] = form.elements[field.key].checked;
      } else {
        data[field.key] = form.elements[field.key].value;
      }
    });
    if (config.consent) data.consent = form.elements.consent.checked;
    data[config.honeypot] = form.elements[config.honeypot].value;
    data.utm = utm();
    data.referrer = document.referrer;
    data.page_url = window.location.href;
    return data;
  }

  function clearErrors(form) {
    form.querySelectorAll(".vkf-error").forEach(function (e) { e.hidden = true; e.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach(function (e) {
      e.removeAttribute("aria-invalid");
      e.classList.remove("vkf-invalid");
    });
  }

  function showErrors(form, errors, status) {
    var first = null;
    var other = [];
    errors.forEach(function (err) {
      var box = form.querySelector('[data-key="' + err.field + '"]');
      if (!box) { other.push(err.message); return; }
      var note = box.querySelector(".vkf-error");
      note.textContent = note.textContent ? note.textContent + "; " + err.message : err.message;
      note.hidden = false;
      box.querySelectorAll("input, select, textarea").forEach(function (input) {
        input.setAttribute("aria-invalid", "true");
        input.classList.add("vkf-invalid");
      });
      first = first || box.querySelector("input, select, textarea");
    });
    status.className = "vkf-status vkf-bad";
    status.textContent = [config.texts.fix].concat(other).join(" ");
    if (first) first.focus();
  }

  function render(mount) {
    addStyle();
    var form = el("form", { "class": "vkf", novalidate: true, "aria-label": config.title || config.button });
    if (config.title) form.appendChild(el("h2", {}, config.title));
    config.fields.forEach(function (field) { form.appendChild(fieldNode(field)); });
    var hp = el("div", { "class": "vkf-hp", "aria-hidden": "true" });
    var hpId = idFor(config.honeypot);
    hp.appendChild(el("label", { "for": hpId }, config.texts.honeypot));
    hp.appendChild(el("input", { type: "text", id: hpId, name: config.honeypot, tabindex: "-1", autocomplete: "off" }));
    form.appendChild(hp);
    if (config.consent) {
      var cid = idFor("consent");
      var box = el("div", { "class": "vkf-field", "data-key": "consent" });
      var row = el("div", { "class": "vkf-check" });
      row.appendChild(el("input", { type: "checkbox", id: cid, name: "consent", value: "true", required: true, "aria-describedby": cid + "-error" }));
      row.appendChild(el("label", { "for": cid, "class": "vkf-consent" }, config.consent));
      box.appendChild(row);
      box.appendChild(el("div", { "class": "vkf-error", id: cid + "-error", hidden: true }));
      form.appendChild(box);
    }
    var button = el("button", { type: "submit", "class": "vkf-button" }, config.button);
    form.appendChild(button);
    var status = el("div", { "class": "vkf-status", role: "status", "aria-live": "polite" });
    form.appendChild(status);

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      clearErrors(form);
      button.disabled = true;
      status.className = "vkf-status";
      status.textContent = config.texts.sending;
      fetch(config.submit_url, {
        method: "POST",
        mode: "cors",
        credentials: "omit",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(collect(form))
      }).then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (body) {
          button.disabled = false;
          if (response.ok) {
            if (body.redirect_url) { window.location.href = body.redirect_url; return; }
            var thanks = el("div", { "class": "vkf-thanks", role: "status", tabindex: "-1" }, body.message || config.texts.thanks);
            form.replaceWith(thanks);
            thanks.focus();
          } else if (response.status === 400) {
            showErrors(form, body.errors || [], status);
          } else {
            status.className = "vkf-status vkf-bad";
            status.textContent = response.status === 429 ? config.texts.busy
              : response.status === 404 ? config.texts.closed : (body.detail || config.texts.network);
          }
        });
      }).catch(function () {
        button.disabled = false;
        status.className = "vkf-status vkf-bad";
        status.textContent = config.texts.network;
      });
    });
    mount.innerHTML = "";
    mount.appendChild(form);
  }

  function start() {
    var mount = document.getElementById(config.mount_id);
    if (!mount) {
      mount = el("div", { id: config.mount_id });
      var anchor = script || document.querySelector('script[src*="' + config.token + '/embed.js"]');
      if (anchor && anchor.parentNode) anchor.parentNode.insertBefore(mount, anchor);
      else document.body.appendChild(mount);
    }
    if (mount.getAttribute("data-vkf-ready")) return;
    mount.setAttribute("data-vkf-ready", "1");
    render(mount);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
