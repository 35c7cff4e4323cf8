// Embed mode: tell the framing portal how tall the Invoice Manager is, so it can
// size the iframe. Only the origins allowed to frame the app (FRAME_ANCESTORS)
// are told: postMessage's targetOrigin keeps anyone else from reading it.
(function () {
  "use strict";
  if (window.parent === window) return;
  var origins = (document.body.dataset.parentOrigins || "").split(" ").filter(Boolean);
  var last = 0;

  // The body's height, not the document's: the document is never shorter than
  // the frame, so once the portal had grown the frame it could never shrink it.
  function report() {
    var height = Math.ceil(document.body.scrollHeight);
    if (height === last) return;
    last = height;
    origins.forEach(function (origin) {
      window.parent.postMessage({ type: "invoice-manager:height", height: height }, origin);
    });
  }

  new ResizeObserver(report).observe(document.body);
  document.addEventListener("htmx:afterSettle", report);
  report();
})();
