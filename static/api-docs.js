// Starts Swagger UI on /schema (controllers/api_docs.py): a file, not an inline script, so the
// app's Content-Security-Policy allows it. No online validator, nothing fetched from elsewhere.
document.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("swagger-ui");
  window.SwaggerUIBundle({
    url: root.dataset.specUrl,
    domNode: root,
    deepLinking: true,
    validatorUrl: null,
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
