// Invoice Manager behaviour that htmx cannot express with attributes; the rest
// is in the templates (hx-headers carries the CSRF token, hx-sync orders the
// list's requests) and in the server's answers (out-of-band parts, and
// HX-Push-Url or HX-Replace-Url for history). Kept in a file (no inline script)
// so the Content-Security-Policy can forbid inline code.
(function () {
  "use strict";

  function filterForm() {
    return document.getElementById("invoice-filters");
  }

  // Presets and "Clear filters" change the form's own controls, then submit it,
  // so the controls always show what the table shows. htmx could only do that by
  // swapping the controls, which would lose what the user is typing into them.
  // Without JavaScript they are ordinary links.
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
      // No filters at all is the "All invoices" tab, not a saved view cleared
      // ("all" when a default view would otherwise open instead).
      var view = form.querySelector("input[name=view]");
      if (!view) {
        view = document.createElement("input");
        view.type = "hidden";
        view.name = "view";
        form.appendChild(view);
      }
      view.value = link.dataset.clearFilters || "";
    } else {
      form.querySelector("#date_from").value = link.dataset.presetFrom;
      form.querySelector("#date_to").value = link.dataset.presetTo;
    }
    htmx.trigger(form, "submit");
  });

  // Messages about bad filters arrive out of band; mark their controls invalid
  // and described by the message, as the full page does. Setting attributes on
  // a control is not a swap htmx has, and swapping a date input being typed in
  // would lose the digits typed so far.
  function markInvalidControls() {
    var form = filterForm();
    if (!form) return;
    Array.prototype.forEach.call(form.elements, function (control) {
      if (!control.id || control.type === "hidden") return;
      var messageId = control.id + "-error";
      if (document.getElementById(messageId)) {
        control.setAttribute("aria-invalid", "true");
        control.setAttribute("aria-describedby", messageId);
      } else if (control.getAttribute("aria-describedby") === messageId) {
        control.removeAttribute("aria-invalid");
        control.removeAttribute("aria-describedby");
      }
    });
  }
  document.addEventListener("htmx:afterSettle", markInvalidControls);

  // Keyboard users keep their place when the table is replaced: htmx refocuses
  // the control with the same id; when that control is gone (Next on the last
  // page), focus goes to the pager instead of falling back to the page top.
  var focusWasInResults = false;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    focusWasInResults = Boolean(
      target && target.id === "invoice-results" && target.contains(document.activeElement)
    );
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (!focusWasInResults) return;
    focusWasInResults = false;
    var active = document.activeElement;
    if (active && active !== document.body) return;
    var fallback = document.querySelector("#invoice-results .pager a, #per_page");
    if (fallback) fallback.focus();
  });

  // An htmx request that fails shows a message above the table; the table keeps
  // its last good content.
  function showAlert(text) {
    var box = document.getElementById("htmx-alert");
    if (!box) return;
    box.textContent = text;
    box.hidden = !text;
  }
  // The server answers htmx requests that fail with a plain-text reason (a
  // conflict, a refused transition, a missing right); show it as it is.
  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var type = xhr.getResponseHeader("Content-Type") || "";
    if (type.indexOf("text/plain") === 0 && xhr.responseText) {
      showAlert(xhr.responseText);
    } else {
      showAlert("The request failed (" + xhr.status + " " + xhr.statusText + "). Please try again.");
    }
  });
  document.addEventListener("htmx:sendError", function () {
    showAlert("The server could not be reached. Check your connection and try again.");
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.xhr && event.detail.xhr.status < 400) showAlert("");
  });
})();
