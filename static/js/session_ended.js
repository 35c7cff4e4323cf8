// Inside a portal's frame, an ended single sign-on session tells the portal,
// which can fetch a new token and re-enter at the same address. Only the
// origins allowed to frame the app (FRAME_ANCESTORS) are told.
(function () {
  "use strict";
  if (window.parent === window) return;
  var box = document.getElementById("session-ended");
  if (!box) return;
  var origins = (box.dataset.hostOrigins || "").split(" ").filter(Boolean);
  origins.forEach(function (origin) {
    window.parent.postMessage(
      { type: "invoice-manager:session-ended", path: box.dataset.path },
      origin
    );
  });
})();
