/* The online ballot: a live count of unanswered units, confirmation before blanks are
   recorded, and answers kept in this browser (localStorage) until the receipt is shown, so
   a dropped connection or a reload loses nothing. No libraries; works without it too (the
   server asks for the same confirmation). The access code is never written to storage. */
(function () {
  "use strict";
  var PREFIX = "pingyi:ballot:";
  var SKIP = { code: 1, csrfmiddlewaretoken: 1, blanks_ok: 1 };

  function storage() {
    try { var s = window.localStorage; s.setItem(PREFIX + "t", "1"); s.removeItem(PREFIX + "t"); return s; }
    catch (e) { return null; } // private mode or disabled: the ballot still works
  }

  // The receipt page: the ballot is in, forget the draft.
  var done = document.querySelector("[data-clear-ballot]");
  if (done) { var s0 = storage(); if (s0) s0.removeItem(PREFIX + done.getAttribute("data-clear-ballot")); }

  var form = document.getElementById("ballot-form");
  if (!form) return;
  var store = storage();
  var key = PREFIX + form.getAttribute("data-slug");
  var units = Array.prototype.slice.call(form.querySelectorAll("[data-unit]"));
  var counter = document.getElementById("unanswered");
  var submitting = false;

  function unanswered() {
    return units.filter(function (u) {
      var groups = u.querySelectorAll("fieldset.choice");
      return Array.prototype.some.call(groups, function (g) { return !g.querySelector("input[type=radio]:checked"); });
    });
  }

  function answeredAny() {
    return !!form.querySelector("input[type=radio]:checked");
  }

  function refresh() {
    var open = unanswered();
    if (counter) counter.textContent = String(open.length);
    units.forEach(function (u) { u.classList.toggle("unit-done", open.indexOf(u) < 0); });
  }

  function save() {
    if (!store) return;
    var data = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || SKIP[el.name]) return;
      if (el.type === "radio") { if (el.checked) data[el.name] = el.value; }
      else if (el.tagName === "TEXTAREA" && el.value) { data[el.name] = el.value; }
    });
    try { store.setItem(key, JSON.stringify(data)); } catch (e) { /* storage full: ignore */ }
  }

  function restore() {
    // A page the server re-rendered with the posted answers already shows them.
    if (!store || form.getAttribute("data-bound") === "1") return;
    var data;
    try { data = JSON.parse(store.getItem(key) || "{}"); } catch (e) { return; }
    Object.keys(data).forEach(function (name) {
      if (SKIP[name]) return;
      var els = form.elements[name];
      if (!els) return;
      if (els.length !== undefined && els[0] && els[0].type === "radio") {
        Array.prototype.forEach.call(els, function (r) { r.checked = r.value === data[name]; });
      } else if (els.tagName === "TEXTAREA") {
        els.value = data[name];
        var details = els.closest("details");
        if (details) details.open = true;
      }
    });
  }

  function message(id, n) {
    var t = document.getElementById(id);
    var text = t ? (t.content ? t.content.textContent : t.textContent) : "";
    return text.replace("{n}", n).replace("{label}", form.getAttribute("data-blank-label"));
  }

  form.addEventListener("change", function () { refresh(); save(); });
  form.addEventListener("input", function (e) { if (e.target.tagName === "TEXTAREA") save(); });

  form.addEventListener("submit", function (e) {
    if (submitting) { e.preventDefault(); return; } // a double click sends one request
    if (!answeredAny()) {
      e.preventDefault();
      window.alert(message("msg-empty", 0));
      return;
    }
    var open = unanswered();
    var ok = document.getElementById("blanks_ok");
    if (open.length && ok && ok.type === "hidden") {
      var id = form.getAttribute("data-blank-label") ? "msg-confirm-blank" : "msg-confirm-none";
      if (!window.confirm(message(id, open.length))) {
        e.preventDefault();
        var first = open[0].querySelector("input[type=radio]");
        open[0].scrollIntoView({ block: "center" });
        if (first) first.focus();
        return;
      }
      ok.value = "on";
    }
    submitting = true;
    var btn = document.getElementById("submit-ballot");
    if (btn) { btn.setAttribute("aria-disabled", "true"); btn.classList.add("disabled"); }
  });

  // Coming back through the back/forward cache: allow submitting again (the server answers
  // a repeated code with the same receipt).
  window.addEventListener("pageshow", function () {
    submitting = false;
    var btn = document.getElementById("submit-ballot");
    if (btn) { btn.removeAttribute("aria-disabled"); btn.classList.remove("disabled"); }
  });

  var next = document.getElementById("next-open");
  if (next) {
    next.addEventListener("click", function () {
      var open = unanswered();
      if (!open.length) { document.getElementById("submit-ballot").focus(); return; }
      open[0].scrollIntoView({ block: "center" });
      var groups = Array.prototype.slice.call(open[0].querySelectorAll("fieldset.choice"));
      var empty = groups.filter(function (g) { return !g.querySelector("input:checked"); })[0];
      var radio = (empty || open[0]).querySelector("input[type=radio]");
      if (radio) radio.focus({ preventScroll: true });
    });
  }

  Array.prototype.forEach.call(form.querySelectorAll(".js-only"), function (el) { el.hidden = false; });
  restore();
  refresh();
  var errors = document.getElementById("form-errors");
  if (errors) errors.focus();
})();
