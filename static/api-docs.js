// Starts Swagger UI on /schema (controllers/api_docs.py): a file, not an inline script, so the
// app's Content-Security-Policy allows it. No online validator, nothing fetched from elsewhere.
// Swagger UI replaces the loading message inside #swagger-ui when it draws itself.
document.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("swagger-ui");
  if (!window.SwaggerUIBundle) {  // its bundle failed to load: say so instead of "Loading"
    root.querySelector(".api-docs-loading > p").textContent =
      "The API docs viewer did not load; reload the page, or read the schema below.";
    root.querySelector(".api-docs-spinner")?.remove();
    return;
  }
  window.SwaggerUIBundle({
    url: root.dataset.specUrl,
    domNode: root,
    deepLinking: true,
    validatorUrl: null,
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
