"""The public API's docs at /schema (and /schema/swagger): Swagger UI from static/vendor, started
by a static script, so the app's CSP (no inline script or style) allows it and it works offline.
Until Swagger UI draws itself (its bundle takes seconds to load), the page says it is loading:
plain HTML and CSS inside the element Swagger UI then replaces."""

from __future__ import annotations

import html
from typing import Any

from litestar import Request, Router
from litestar.openapi.plugins import SwaggerRenderPlugin

VENDOR = "/vendor/swagger-ui-5.35.0"


class VendoredSwagger(SwaggerRenderPlugin):
    def __init__(self) -> None:
        super().__init__(path="/swagger", style="")

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        def static(file_path: str) -> str:
            return html.escape(request.app.route_reverse("static", file_path=file_path))

        title = html.escape(str(openapi_schema["info"]["title"]))
        spec_url = html.escape(self.get_openapi_json_route(request))
        return f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title}</title>
  <link rel="icon" href="{static("/favicon.svg")}" type="image/svg+xml">
  <link rel="stylesheet" href="{static(f"{VENDOR}/swagger-ui.css")}">
  <link rel="stylesheet" href="{static("/api-docs.css")}">
  <script src="{static(f"{VENDOR}/swagger-ui-bundle.js")}" defer></script>
  <script src="{static("/api-docs.js")}" defer></script>
</head>
<body>
  <div id="swagger-ui" data-spec-url="{spec_url}">
    <div class="api-docs-loading" role="status">
      <span class="api-docs-spinner" aria-hidden="true"></span>
      <p>Loading the API docs…</p>
      <p class="api-docs-note">The viewer is large and takes a few seconds the first time;
        the schema itself is at <a href="{spec_url}">{spec_url}</a>.</p>
      <noscript><p>The viewer needs JavaScript; the schema link works without.</p></noscript>
    </div>
  </div>
</body>
</html>
""".encode()

    def receive_router(self, router: Router) -> None:
        """No OAuth2 redirect page (its script is inline, and the API has no OAuth)."""
