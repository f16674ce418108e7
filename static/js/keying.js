/* Pingyi keying screen: one keystroke per unit, no mouse needed.
 *
 * Serial, then Enter (or Tab); then per unit 1..n for the options in order, 0 or space for
 * blank, 9 for several marks. The cursor advances by itself; Backspace goes back, arrows move.
 * Enter saves (fetch POST, the server answers JSON) and starts the next ballot. Until saved the
 * ballot lives in localStorage, so a reload loses nothing. Without this script the form still
 * posts: the "keys" field then takes the keystrokes as one line.
 *
 * The serial is checked as soon as it is typed (when the field is left): out of every printed
 * range, in dispute, keyed once by this clerk, or already counted. A counted serial shows the
 * confirmation box; the server refuses another paper of it unless the box is ticked.
 */
(function () {
  "use strict";
  const form = document.getElementById("keying");
  if (!form) return;

  const n = parseInt(form.dataset.n, 10);
  const nOptions = parseInt(form.dataset.options, 10);
  const storageKey = form.dataset.storage;
  const serial = document.getElementById("id_serial");
  const comments = document.getElementById("id_comments");
  const allow = document.getElementById("id_allow_out_of_range");
  const keysInput = document.getElementById("id_keys");
  const pad = document.getElementById("k-pad");
  const rows = Array.from(pad.querySelectorAll("tr.k-row"));
  const posEl = document.getElementById("k-pos");
  const catEl = document.getElementById("k-category");
  const unitEl = document.getElementById("k-unit");
  const msg = document.getElementById("k-message");
  const saveBtn = document.getElementById("k-save");
  const checkEl = document.getElementById("k-serial-check");
  const confirmBox = document.getElementById("k-confirm");
  const confirmCopy = document.getElementById("id_confirm_copy");
  const labels = JSON.parse(document.getElementById("k-labels").textContent);

  // The script drives the keys: the one-line fallback field is not needed.
  document.getElementById("k-keys-fallback").hidden = true;
  keysInput.required = false;

  let state = load() || fresh();
  let saving = false;
  let lastChecked = "";
  let checkSeq = 0;

  function showConfirm(on) {
    confirmBox.hidden = !on;
    if (!on) confirmCopy.checked = false;
  }

  function clearCheck() {
    checkEl.hidden = true;
    checkEl.textContent = "";
    lastChecked = "";
  }

  // Ask the server what keying this serial would meet; show it beside the serial.
  async function checkSerial() {
    const value = serial.value.trim();
    if (!value || value === lastChecked) return;
    lastChecked = value;
    const seq = ++checkSeq;
    let data = null;
    try {
      const r = await fetch(form.dataset.checkUrl + "?" + new URLSearchParams({ serial: value }), {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      data = await r.json();
    } catch (err) {
      lastChecked = "";
      return; // the save will say it again
    }
    if (seq !== checkSeq || serial.value.trim() !== value) return; // typed on meanwhile
    const issues = data.issues || [];
    checkEl.textContent = "";
    let copy = false;
    issues.forEach(function (issue) {
      const p = document.createElement("div");
      p.className = "k-issue";
      p.dataset.code = issue.code;
      p.textContent = issue.message;
      if ((issue.choices || []).indexOf("allow_out_of_range") >= 0 && allow) {
        const c = document.createElement("div");
        c.className = "fw-bold mt-1";
        c.textContent = form.dataset.allowText;
        p.appendChild(c);
      }
      if ((issue.choices || []).indexOf("confirm_copy") >= 0) copy = true;
      checkEl.appendChild(p);
    });
    checkEl.className = "alert alert-warning small py-2 mb-2";
    checkEl.hidden = issues.length === 0;
    showConfirm(copy);
  }

  function fresh() {
    return { serial: "", keys: new Array(n).fill(null), pos: 0, comments: "" };
  }

  function load() {
    try {
      const s = JSON.parse(localStorage.getItem(storageKey) || "null");
      if (s && Array.isArray(s.keys) && s.keys.length === n) return s;
    } catch (e) { /* a corrupt entry is dropped */ }
    return null;
  }

  function store() {
    state.serial = serial.value;
    state.comments = comments ? comments.value : "";
    localStorage.setItem(storageKey, JSON.stringify(state));
  }

  function label(code) {
    if (code === null) return "";
    return labels[String(code)] || "?";
  }

  function renderRow(i) {
    const tr = rows[i];
    const code = state.keys[i];
    tr.classList.toggle("k-done", code !== null);
    tr.classList.toggle("k-spoiled", code === 9);
    tr.querySelectorAll("td.k-opt").forEach(function (td) {
      td.classList.toggle("k-on", code !== null && String(code) === td.dataset.code);
    });
    tr.querySelector(".k-val").textContent = code === 0 || code === 9 ? label(code) : "";
  }

  function renderCursor(scroll) {
    rows.forEach(function (tr, i) {
      const cur = i === state.pos;
      tr.classList.toggle("k-current", cur);
      if (cur) tr.setAttribute("aria-current", "true"); else tr.removeAttribute("aria-current");
    });
    const tr = rows[Math.min(state.pos, n - 1)];
    const filled = state.keys.filter(function (k) { return k !== null; }).length;
    posEl.textContent = form.dataset.posText
      .replace("%1", Math.min(state.pos + 1, n)).replace("%2", n).replace("%3", filled);
    catEl.textContent = tr.dataset.category;
    unitEl.textContent = tr.dataset.unit;
    saveBtn.disabled = saving;
    if (scroll) tr.scrollIntoView({ block: "center" });
  }

  function renderAll() {
    serial.value = state.serial;
    if (comments) comments.value = state.comments || "";
    for (let i = 0; i < n; i++) renderRow(i);
    renderCursor(false);
  }

  function say(kind, text, extra) {
    msg.className = "alert alert-" + kind + " py-2 mb-2";
    msg.textContent = text;
    (extra || []).forEach(function (w) {
      const p = document.createElement("div");
      p.className = "fw-bold mt-1";
      p.textContent = w;
      msg.appendChild(p);
    });
    msg.hidden = false;
  }

  function setKey(code) {
    if (state.pos >= n) state.pos = n - 1;
    state.keys[state.pos] = code;
    renderRow(state.pos);
    if (state.pos < n - 1) state.pos += 1;
    store();
    renderCursor(true);
    if (state.keys.every(function (k) { return k !== null; }) && state.pos === n - 1) {
      say("info", form.dataset.doneText);
    }
  }

  function codeOf(e) {
    if (e.key === " " || e.code === "Space") return 0;
    if (!/^[0-9]$/.test(e.key)) return null;
    const d = parseInt(e.key, 10);
    return d === 0 || d === 9 || d <= nOptions ? d : -1;
  }

  pad.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.altKey || e.metaKey) return;
    const code = codeOf(e);
    if (code !== null) {
      e.preventDefault();
      if (code < 0) {
        say("danger", form.dataset.badKeyText.replace("%s", e.key));
        return;
      }
      setKey(code);
    } else if (e.key === "Backspace") {
      e.preventDefault();
      // Back one unit and clear it (or clear the last one when it is filled).
      if (!(state.pos === n - 1 && state.keys[n - 1] !== null) && state.pos > 0) state.pos -= 1;
      state.keys[state.pos] = null;
      renderRow(state.pos);
      store();
      renderCursor(true);
    } else if (e.key === "ArrowUp" || e.key === "ArrowDown") {
      e.preventDefault();
      state.pos = Math.max(0, Math.min(n - 1, state.pos + (e.key === "ArrowUp" ? -1 : 1)));
      store();
      renderCursor(true);
    } else if (e.key === "Home") {
      e.preventDefault();
      state.pos = 0;
      renderCursor(true);
    } else if (e.key === "Enter") {
      e.preventDefault();
      save();
    } else if (e.key === "Escape") {
      e.preventDefault();
      serial.focus();
      serial.select();
    }
  });

  rows.forEach(function (tr, i) {
    tr.addEventListener("click", function () {
      state.pos = i;
      renderCursor(false);
      pad.focus();
    });
  });

  serial.addEventListener("input", function () {
    store();
    if (serial.value.trim() !== lastChecked) {
      clearCheck();
      showConfirm(false);
    }
  });
  serial.addEventListener("blur", checkSerial);
  confirmCopy.addEventListener("keydown", function (e) {
    if (e.key === "Enter") { e.preventDefault(); save(); }
  });
  if (comments) comments.addEventListener("input", store);
  serial.addEventListener("keydown", function (e) {
    if (e.key === "Enter" || (e.key === "Tab" && !e.shiftKey)) {
      e.preventDefault();
      if (!serial.value.trim()) {
        say("danger", form.dataset.noSerialText);
        return;
      }
      // A serial typed after a save starts a new ballot at the first unit.
      if (state.keys.every(function (k) { return k === null; })) state.pos = 0;
      pad.focus();
      renderCursor(true);
    }
  });
  if (comments) {
    comments.addEventListener("keydown", function (e) {
      if (e.key === "Enter") { e.preventDefault(); save(); }
    });
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    save();
  });

  async function save() {
    if (saving) return;
    store();
    if (!state.serial.trim()) {
      say("danger", form.dataset.noSerialText);
      serial.focus();
      return;
    }
    const missing = state.keys.indexOf(null);
    if (missing >= 0) {
      const left = state.keys.filter(function (k) { return k === null; }).length;
      say("warning", form.dataset.missingText.replace("%d", left));
      state.pos = missing;
      renderCursor(true);
      pad.focus();
      return;
    }
    saving = true;
    renderCursor(false);
    const body = new FormData(form);
    body.set("serial", state.serial);
    body.set("keys", state.keys.join(""));
    body.set("comments", state.comments || "");
    let data = null;
    try {
      const r = await fetch(form.action || window.location.href, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      data = await r.json();
    } catch (err) {
      data = { ok: false, error: form.dataset.networkText, field: "" };
    }
    saving = false;
    if (data.ok) {
      say(data.warnings && data.warnings.length ? "warning" : "success", data.message, data.warnings);
      localStorage.removeItem(storageKey);
      state = fresh();
      if (allow) allow.checked = false;
      showConfirm(false);
      clearCheck();
      renderAll();
      pad.scrollTop = 0; // the next ballot starts at its first unit
      serial.focus();
    } else {
      say("danger", data.error);
      if (data.code === "out_of_range" && allow) allow.closest(".form-check").hidden = false;
      renderCursor(false);
      if (data.code === "counted") {
        // Another paper of a counted serial: only an explicit tick lets it through.
        showConfirm(true);
        confirmCopy.focus();
      } else if (data.field === "serial" || data.field === "") {
        serial.scrollIntoView({ block: "center" });
        serial.focus();
        serial.select();
      }
      else pad.focus();
    }
  }

  renderAll();
  if (state.serial && state.keys.some(function (k) { return k !== null; })) {
    say("info", form.dataset.restoredText);
    pad.focus();
    renderCursor(true);
  } else {
    serial.focus();
  }
})();
