// Invoice Manager behaviour on top of htmx. Kept in a file (no inline script) so
// the Content-Security-Policy can forbid inline code.
(function () {
  "use strict";

  // Every htmx request carries the CSRF token in a header (Flask-WTF reads it).
  document.addEventListener("htmx:configRequest", function (event) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) event.detail.headers["X-CSRFToken"] = meta.content;
  });

  function filterForm() {
    return document.getElementById("invoice-filters");
  }

  // Presets and "Clear filters" change the form's own controls, then submit it,
  // so the controls always show what the table shows. Without JavaScript they
  // are ordinary links.
  document.addEventListener("click", function (event) {
    var link = event.target.closest("[data-preset-from], [data-clear-filters]");
    var form = filterForm();
    if (!link || !form || !window.htmx) return;
    event.preventDefault();
    if (link.hasAttribute("data-clear-filters")) {
      form.querySelectorAll("input[type=search], input[type=date]").forEach(function (el) {
        el.value = "";
      });
      form.querySelector("#status").value = "ALL";
      form.querySelector("#date_field").value = "period";
    } else {
      form.querySelector("#date_from").value = link.dataset.presetFrom;
      form.querySelector("#date_to").value = link.dataset.presetTo;
    }
    htmx.trigger(form, "submit");
  });

  // An htmx request that fails shows a message above the table; the table keeps
  // its last good content.
  function showAlert(text) {
    var box = document.getElementById("htmx-alert");
    if (!box) return;
    box.textContent = text;
    box.hidden = !text;
  }
  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    showAlert("The request failed (" + xhr.status + " " + xhr.statusText + "). Please try again.");
  });
  document.addEventListener("htmx:sendError", function () {
    showAlert("The server could not be reached. Check your connection and try again.");
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.xhr && event.detail.xhr.status < 400) showAlert("");
  });
})();
