// The invoice list from the keyboard: "/" search, "j"/"k" move a row focus,
// Enter opens the focused invoice, "x" ticks it, "?" lists the shortcuts.
// None fires while typing in a field or with a modifier key held; each move is
// announced (#keyboard-status, a polite live region) for screen readers.
(function () {
  "use strict";
  var focused = -1;

  function rows() {
    return Array.prototype.slice.call(
      document.querySelectorAll("#invoice-results tbody tr[id^='invoice-']"));
  }

  function typing(target) {
    if (!target || !target.tagName) return false;
    var tag = target.tagName.toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" ||
      target.isContentEditable;
  }

  function announce(text) {
    var status = document.getElementById("keyboard-status");
    if (status) status.textContent = text;
  }

  function number(row) {
    var link = row.querySelector("a.strong");
    return link ? link.textContent.trim() : "";
  }

  function focusRow(index) {
    var all = rows();
    if (!all.length) { announce("No invoices in the table."); return; }
    index = Math.max(0, Math.min(all.length - 1, index));
    all.forEach(function (row) { row.classList.remove("row-focus"); });
    var row = all[index];
    row.setAttribute("tabindex", "-1");
    row.classList.add("row-focus");
    row.focus();
    focused = index;
    announce("Invoice " + number(row) + ", row " + (index + 1) + " of " + all.length + ".");
  }

  function currentRow() {
    var active = document.activeElement;
    return active && active.matches && active.matches("#invoice-results tbody tr") ? active : null;
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    if (!document.getElementById("invoice-results")) return;
    var row = currentRow();
    switch (event.key) {
      case "/":
        event.preventDefault();
        document.getElementById("q").focus();
        break;
      case "j":
        focusRow(row ? rows().indexOf(row) + 1 : 0);
        break;
      case "k":
        focusRow(row ? rows().indexOf(row) - 1 : 0);
        break;
      case "Enter":
        if (!row) return;
        event.preventDefault();
        window.location.assign(row.querySelector("a.strong").href);
        break;
      case "x":
        if (!row) return;
        var box = row.querySelector("input.select-row");
        box.checked = !box.checked;
        box.dispatchEvent(new Event("change", { bubbles: true }));
        announce("Invoice " + number(row) + (box.checked ? " ticked." : " not ticked."));
        break;
      case "?":
        var dialog = document.getElementById("shortcuts");
        if (dialog && !dialog.open) dialog.showModal();
        break;
      default:
        return;
    }
  });

  // A new table (htmx swap) has new rows: the focus starts again.
  document.addEventListener("htmx:afterSwap", function () { focused = -1; });

  document.addEventListener("click", function (event) {
    var opener = event.target.closest && event.target.closest("[data-open-shortcuts]");
    if (opener) document.getElementById("shortcuts").showModal();
    var closer = event.target.closest && event.target.closest("[data-close-shortcuts]");
    if (closer) closer.closest("dialog").close();
  });
})();
