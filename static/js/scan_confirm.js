/* Pingyi scan confirmation: one key per uncertain row, then Enter.
 *
 * Each field starts with the machine's reading. A key (0, 1..n, 9; space = 0) replaces it and
 * moves to the next row; Backspace goes back a row; after the last row the focus rests on the
 * button, so Enter confirms the page. Without this script the fields still work: type a digit
 * in each and press Enter.
 */
(function () {
  "use strict";
  const form = document.getElementById("scan-confirm");
  if (!form) return;
  const nOptions = parseInt(form.dataset.options, 10);
  const fields = Array.from(form.querySelectorAll("input.scan-key"));
  const save = document.getElementById("scan-save");
  function valid(k) {
    if (k === "0" || k === "9") return true;
    const d = parseInt(k, 10);
    return !isNaN(d) && d >= 1 && d <= nOptions;
  }
  fields.forEach(function (field, i) {
    field.addEventListener("focus", function () { field.select(); });
    field.addEventListener("keydown", function (e) {
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      let k = e.key === " " ? "0" : e.key;
      if (k.length === 1) {
        e.preventDefault();
        if (!valid(k)) { field.classList.add("is-invalid"); return; }
        field.classList.remove("is-invalid");
        field.value = k;
        (fields[i + 1] || save).focus();
      } else if (k === "Backspace" && i > 0 && field.selectionStart === 0 && field.selectionEnd === field.value.length) {
        // Backspace on a row keeps its value and returns to the row before.
        e.preventDefault();
        fields[i - 1].focus();
      }
    });
  });
  // The key of each option under its box in the crop (the full row, or on a phone the boxes
  // only: the same breakpoint as the <picture> source).
  const narrow = window.matchMedia("(max-width: 575.98px)");
  function placeKeys() {
    form.querySelectorAll(".scan-keys").forEach(function (keys) {
      keys.querySelectorAll(".scan-keyhint").forEach(function (hint) {
        hint.style.left = (narrow.matches ? hint.dataset.part : hint.dataset.full) + "%";
      });
      keys.classList.add("ready");
    });
  }
  placeKeys();
  narrow.addEventListener("change", placeKeys);
  if (fields.length) fields[0].focus();
})();
