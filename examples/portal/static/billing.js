// The portal's billing page: mount the Invoice Manager (host.js) in the page.
// The portal keeps the frame's address in its own, as ?billing=<path>, so a
// reload, a bookmark or a shared link reopens the same filtered view.
(function () {
  "use strict";
  var box = document.getElementById("invoice-manager");
  var csrfToken = document.querySelector('meta[name="csrf-token"]').content;
  var errorBox = document.getElementById("billing-error");

  // A fresh, one-time token from the portal's own server, for the user signed
  // in to the portal. Called at mount and whenever the session must be renewed.
  function getToken() {
    return fetch(box.dataset.tokenUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken }
    }).then(function (response) {
      if (!response.ok) throw new Error("the portal answered " + response.status);
      return response.json();
    }).then(function (body) {
      return body.token;
    });
  }

  var params = new URLSearchParams(window.location.search);
  window.invoiceManager = InvoiceManager.mount(box, {
    url: box.dataset.url,
    getToken: getToken,
    path: params.get("billing") || undefined,
    onNavigate: function (path) {
      // replaceState, not pushState: the frame's own history entries already
      // make the browser's Back button step back inside the frame.
      params.set("billing", path);
      window.history.replaceState(null, "", "?" + params.toString());
    },
    onError: function (error) {
      // The frame could only show a dead end (a refusal, a sign-in form this
      // user has no password for): say what happened instead.
      window.invoiceManager.frame.style.display = "none";
      errorBox.textContent = "Billing could not be opened: " + error.message;
      errorBox.hidden = false;
    }
  });

  // Signing out of the portal signs the frame's user out too, so nobody who
  // uses this browser next finds the invoices still open in the frame.
  var signOutForm = document.getElementById("sign-out");
  signOutForm.addEventListener("submit", function (event) {
    event.preventDefault();
    window.invoiceManager.signOut().then(function () { signOutForm.submit(); });
  });
})();
