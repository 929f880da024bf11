// Starts Swagger UI on /schema (controllers/api_docs.py): a file, not an inline script, so the
// app's Content-Security-Policy allows it. No online validator, nothing fetched from elsewhere.
// Swagger UI replaces the loading message inside #swagger-ui when it draws itself.
// No deep links: Swagger puts each path's link inside the operation's toggle button, a link
// nested in a button (axe: nested-interactive, target-size; tests/browser/test_a11y.py).
document.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("swagger-ui");
  if (!window.SwaggerUIBundle) {  // its bundle failed to load: say so instead of "Loading"
    root.querySelector(".api-docs-loading > p").textContent =
      "The API docs viewer did not load; reload the page, or read the schema below.";
    root.querySelector(".api-docs-spinner")?.remove();
    return;
  }
  // Swagger's server picker is a <select> in an empty <label>: give it a name once it appears.
  const name = () => {
    const servers = root.querySelector("select#servers:not([aria-label])");
    if (servers) servers.setAttribute("aria-label", "Server");
  };
  new MutationObserver(name).observe(root, { childList: true, subtree: true });
  window.SwaggerUIBundle({
    url: root.dataset.specUrl,
    domNode: root,
    deepLinking: false,
    validatorUrl: null,
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
