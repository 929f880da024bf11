"""Retire and restore one production model (domain/production/retiring.py). Each has a page
that asks for confirmation (the way without JavaScript; htmx asks with hx-confirm instead) and
an action, audited with its change; an htmx request reloads the model's page, a plain form post
is sent back to it."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.plugins.htmx import HTMXRequest, HTMXTemplate

from controllers.deps import ActorDep
from controllers.forms import EmptyBody, RowId
from controllers.responses import audited, render
from domain.errors import Conflict
from domain.production import publishing as production
from domain.production import retiring


class ProductionRetireController(Controller):
    path = "/production"
    include_in_schema = False

    @get("/{model_id:int}/retire", name="production.confirm_retire")
    async def confirm_retire(self, request: HTMXRequest, model_id: RowId) -> HTMXTemplate:
        """The page behind the Retire button: what retiring does, and the form to confirm."""
        return await _confirm(request, model_id, "retire")

    @get("/{model_id:int}/restore", name="production.confirm_restore")
    async def confirm_restore(self, request: HTMXRequest, model_id: RowId) -> HTMXTemplate:
        return await _confirm(request, model_id, "restore")

    @post("/{model_id:int}/retire", name="production.retire")
    async def retire(
        self, request: HTMXRequest, actor: ActorDep, model_id: RowId, data: EmptyBody
    ) -> Response[Any]:
        done = await retiring.retire(model_id, actor.username, actor.address)
        message = f"{done.name} retired: off the production list and the public site."
        return await _answer(request, actor, model_id, message)

    @post("/{model_id:int}/restore", name="production.restore")
    async def restore(
        self, request: HTMXRequest, actor: ActorDep, model_id: RowId, data: EmptyBody
    ) -> Response[Any]:
        done = await retiring.restore(model_id, actor.username, actor.address)
        message = f"{done.name} restored: unpublished until you publish it."
        return await _answer(request, actor, model_id, message)


async def _confirm(request: HTMXRequest, model_id: int, action: str) -> HTMXTemplate:
    model = await production.model(model_id)
    if model is None:
        raise NotFoundException(f"There is no production model #{model_id}.")
    retired = model.retired_at is not None
    if retired != (action == "restore"):  # nothing to confirm: say so, as the action would
        state = "already retired" if retired else "not retired"
        raise Conflict(f"{model.name} is {state}: there is nothing to {action}.")
    return render(request, "production/confirm.html", model=model, action=action, nav="production")


async def _answer(
    request: HTMXRequest, actor: ActorDep, model_id: int, message: str
) -> Response[Any]:
    """The change and its audit entry are committed together: nothing more to record."""
    back = request.app.route_reverse("production.detail", model_id=model_id)
    return await audited(request, actor, None, back=back, toast=("success", message))
