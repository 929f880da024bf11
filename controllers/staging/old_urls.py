"""Old links keep working: the staged pages lived under `/whitelabel` before they took the
glossary's word, so bookmarks and open tabs there are sent to the same path under `/staged`."""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import quote

from litestar import HttpMethod, Request, route
from litestar.response import Redirect

OLD = "/whitelabel"


@route(
    [OLD, OLD + "/{path:path}"],
    http_method=[HttpMethod.GET, HttpMethod.POST],
    name="staged.old_url",
    include_in_schema=False,
    sync_to_thread=False,
)
def old_url(request: Request[Any, Any, Any]) -> Redirect:
    """GET: 301. POST: 308, keeping method and body, so a form opened before the move works."""
    # The CSRF token rides in the body (or htmx's header): it is checked on this request and
    # again at the new URL. Sign-in applies first, as on every admin route.
    rest = request.scope["path"][len(OLD) :]
    new = request.app.route_reverse("staged.index") + quote(rest, safe="/")
    query = request.scope["query_string"].decode("latin-1")
    status: Literal[301, 308] = 301 if request.method == HttpMethod.GET else 308
    return Redirect(f"{new}?{query}" if query else new, status_code=status)
