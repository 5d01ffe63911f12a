// Starts Swagger UI on /docs. A file of its own, not an inline script, so that the
// page works under a Content-Security-Policy that allows scripts from tokend only.
// The page's settings come from its <script type="application/json"> block.
"use strict";

window.addEventListener("load", () => {
  const config = JSON.parse(document.getElementById("swagger-config").textContent);
  window.ui = SwaggerUIBundle({
    ...config,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  });
});
