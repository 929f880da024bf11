"""Answers to the browser: the page or, for htmx, its fragment; toasts; the answer to an action
whose change is committed and audited."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, NamedTuple

from litestar import MediaType, Response
from litestar.plugins.flash import flash
from litestar.plugins.htmx import ClientRefresh, HTMXHeaders, HTMXRequest, HTMXTemplate
from litestar.response import Redirect

from controllers.deps import Actor
from controllers.security import SignedInAdmin

log = logging.getLogger("creatorflix.actions")
# (level, message), or with what the page keys it by: {"run": 4} is replaced by the run's outcome.
Toast = tuple[str, str] | tuple[str, str, dict[str, int]]
TRIGGERS = (
    HTMXHeaders.TRIGGER_EVENT.value,
    HTMXHeaders.TRIGGER_AFTER_SETTLE.value,
    HTMXHeaders.TRIGGER_AFTER_SWAP.value,
)
# What picks the page or its fragment: a cache must key on these (htmx's caching docs).
VARY = ", ".join(
    h.value for h in (HTMXHeaders.REQUEST, HTMXHeaders.BOOSTED, HTMXHeaders.HISTORY_RESTORE_REQUEST)
)


class Did(NamedTuple):
    """An audit entry: what was done, to what, and how it went."""

    action: str
    target: str
    detail: str = ""
    model: int | None = None  # the production model it concerns


def is_fragment(request: HTMXRequest) -> bool:
    """An htmx request that is not a boosted navigation or a history restore wants the partial."""
    htmx = request.htmx
    return bool(htmx) and not (htmx.boosted or htmx.history_restore_request)


def user_of(request: HTMXRequest) -> SignedInAdmin | None:
    """The signed-in admin, if the route is behind the sign-in (error pages may not be)."""
    user = request.scope.get("user")
    return user if isinstance(user, SignedInAdmin) else None


def ascii_triggers(response: Response[Any]) -> Response[Any]:
    """litestar-htmx writes the event JSON as UTF-8, and response headers are Latin-1: a model
    named with emoji or Cyrillic turned a committed action into an error. ASCII-escaped JSON
    reads back the same in the browser."""
    for name in TRIGGERS:
        value = response.headers.get(name)
        if value and value.startswith("{"):
            response.headers[name] = json.dumps(json.loads(value), ensure_ascii=True)
    return response


def _toast_params(toast: Toast) -> dict[str, object]:
    keys = toast[2] if len(toast) == 3 else {}
    return {"level": toast[0], "message": toast[1], **keys}


def render(
    request: HTMXRequest,
    template: str,
    partial: str | None = None,
    toast: Toast | None = None,
    status_code: int = 200,
    **context: object,
) -> HTMXTemplate:
    """The page, or just `partial` for an htmx fragment request; a toast rides along."""
    return render_context(request, template, partial, context, toast, status_code)


def render_context(
    request: HTMXRequest,
    template: str,
    partial: str | None,
    context: Mapping[str, object],
    toast: Toast | None = None,
    status_code: int = 200,
) -> HTMXTemplate:
    """`render`, with the template's context built beforehand."""
    name = partial if partial and is_fragment(request) else template
    response = HTMXTemplate(
        media_type=MediaType.HTML,
        template_name=name,
        status_code=status_code,
        context={"user": user_of(request), **context},
        headers={"Vary": VARY} if partial and partial != template else None,
        trigger_event="toast" if toast else None,
        params=_toast_params(toast) if toast else None,
        after="settle" if toast else None,
    )
    ascii_triggers(response)
    return response


def after_action(
    request: HTMXRequest,
    redirect_to: str,
    partial: str | None,
    toast: Toast,
    **context: object,
) -> Response[Any]:
    """htmx gets the swapped partial plus a toast; a plain form post gets a redirect + flash."""
    return _after_action(request, redirect_to, partial, toast, context)


def _after_action(
    request: HTMXRequest,
    redirect_to: str,
    partial: str | None,
    toast: Toast,
    context: Mapping[str, object],
) -> Response[Any]:
    if partial and is_fragment(request):
        return render_context(request, partial, partial, context, toast)
    flash(request, toast[1], toast[0])
    if is_fragment(request):  # nothing to swap: reload the page, which shows the flash
        refresh = ClientRefresh()
        refresh.status_code = 200  # ClientRefresh leaves it to the handler: 201 on a @post
        return refresh
    return Redirect(redirect_to, status_code=303)


async def audited(
    request: HTMXRequest,
    actor: Actor,
    did: Did | None,
    *,
    back: str,
    toast: Toast,
    partial: str | None = None,
    fresh: Callable[[], Awaitable[Mapping[str, object]]] | None = None,
) -> Response[Any]:
    """The answer to an action whose change is committed: its audit record, then the fresh
    context for `partial`. Either failing is logged and the action still reported as done,
    with a reload to show it."""
    try:
        if did is not None:
            await actor.record(*did)
        context: Mapping[str, object] = await fresh() if fresh is not None else {}
    except Exception:
        log.exception("%s %r: done, but its answer failed", request.method, request.url.path)
        return after_action(request, back, None, (toast[0], toast[1] + " Reloading."))
    return _after_action(request, back, partial, toast, context)
