// /api/docs: Swagger UI showing this app's own OpenAPI document (its address
// comes from the page, so nothing else can be loaded through it).
(function () {
  "use strict";
  var root = document.getElementById("api-docs");
  window.SwaggerUIBundle({
    url: root.dataset.specUrl,
    domNode: root,
    deepLinking: true,
    // No "Try it out" against other servers, no validator badge calling out.
    validatorUrl: null,
    queryConfigEnabled: false
  });
})();
