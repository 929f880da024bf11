"""One production model's own pages: edit what the public site shows, preview it exactly as
the public API serves it, and its history (the audit log filtered to it)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
from litestar import Controller, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body
from litestar.plugins.htmx import ClientRedirect, HTMXRequest, HTMXTemplate

from controllers.deps import ActorDep, S3Dep
from controllers.form_errors import NO_ERRORS, form_errors, refused
from controllers.forms import Checked, RowId
from controllers.lists import ListDep, listed
from controllers.numbers import whole_number
from controllers.production.public_api import ModelRef, PageMeta, PostPage, PublicModel, public_post
from controllers.responses import Did, audited, is_fragment, render, render_context
from domain.errors import Conflict, Invalid
from domain.platform import paging
from domain.production import editing, public
from domain.production import publishing as production
from domain.production.rows import ProductionModel

ON = ("on", "true", "1")
FIELDS = editing.EDITABLE


@dataclass
class EditForm(Checked):
    name: str
    slug: str
    description: str = ""
    is_featured: str = ""
    is_advertiser: str = ""
    display_order: str = "0"
    then: str = "done"  # which button: "done" (Save) or "continue" (Save and continue editing)

    def edit(self) -> editing.ModelEdit:
        order = whole_number("display_order", self.display_order or "0", *editing.ORDER_RANGE)
        return editing.ModelEdit(
            self.name,
            self.slug.strip(),
            self.description,
            self.is_featured in ON,
            self.is_advertiser in ON,
            order,
        )

    def kept(self) -> dict[str, object]:
        """The values as typed, for the form sent back with its errors."""
        values: dict[str, object] = {name: getattr(self, name) for name in FIELDS}
        return {
            **values,
            "is_featured": self.is_featured in ON,
            "is_advertiser": self.is_advertiser in ON,
        }


def _saved(model: ProductionModel) -> dict[str, object]:
    """The form's values as stored."""
    return {name: getattr(model, name) for name in FIELDS}


EditBody = Annotated[EditForm, Body(media_type=RequestEncodingType.URL_ENCODED)]
PAGE = "production/edit.html"
PARTIAL = "production/_edit.html"


async def _model(model_id: int) -> ProductionModel:
    model = await production.model(model_id)
    if model is None:
        raise NotFoundException(f"There is no production model #{model_id}.")
    return model


def _to_model_page(request: HTMXRequest, back: str, response: Response[Any]) -> Response[Any]:
    """After a save, htmx goes to the model's page too (the flash travels in the session)."""
    if not is_fragment(request):
        return response
    redirect = ClientRedirect(back)
    redirect.status_code = 200  # as ClientRefresh: 201 on a @post otherwise
    return redirect


def _edit_page(request: HTMXRequest, model: ProductionModel, **context: object) -> HTMXTemplate:
    context.setdefault("form", _saved(model))
    context.setdefault("errors", NO_ERRORS)
    shown = {"model": model, "nav": "production", **context}
    return render_context(request, PAGE, PARTIAL, shown)


class ProductionModelController(Controller):
    path = "/production/{model_id:int}"
    include_in_schema = False

    @get("/edit", name="production.edit")
    async def edit_page(self, request: HTMXRequest, model_id: RowId) -> HTMXTemplate:
        return _edit_page(request, await _model(model_id))

    @post("/edit", name="production.update")
    async def update(
        self, request: HTMXRequest, actor: ActorDep, model_id: RowId, data: EditBody
    ) -> Response[Any]:
        """Save; "Save" goes back to the model's page, "Save and continue editing" stays on
        the form with the saved values. A refused value comes back marked, as typed."""
        try:
            edit = data.edit()
            changes = await editing.update_model(model_id, edit)
        except (Invalid, Conflict) as exc:
            model = await _model(model_id)
            errors = form_errors(exc, FIELDS)
            kept = {"model": model, "form": data.kept(), "errors": errors, "nav": "production"}
            return refused(request, exc, page=PAGE, partial=PARTIAL, target="#model-edit", **kept)
        stay = data.then == "continue"
        edit_url = request.app.route_reverse("production.edit", model_id=model_id)
        back = (
            edit_url if stay else request.app.route_reverse("production.detail", model_id=model_id)
        )
        if not changes:
            did, toast = None, ("info", "Nothing changed.")
        else:
            did = Did("model_edited", edit.name, "; ".join(changes)[:2000], model_id)
            toast = ("success", f"{edit.name} saved: {len(changes)} change(s).")
        if stay:  # htmx: the form again, with the saved values

            async def fresh() -> dict[str, object]:
                model = await _model(model_id)
                return {"model": model, "form": _saved(model), "errors": NO_ERRORS}

            return await audited(
                request, actor, did, back=back, toast=toast, partial=PARTIAL, fresh=fresh
            )
        response = await audited(request, actor, did, back=back, toast=toast)
        return _to_model_page(request, back, response)

    @get("/preview", name="production.preview")
    async def preview(self, request: HTMXRequest, s3: S3Dep, model_id: RowId) -> HTMXTemplate:
        """What /api/v1 answers for this model, from the same code, or why it answers 404."""
        model = await _model(model_id)
        found = await public.model(model.slug, s3.sign)
        posts = await public.model_posts(model.slug, 1, s3.sign) if found else None
        body = None
        if found and posts:
            page = PostPage(
                model=ModelRef(**posts["model"]),
                data=[public_post(r) for r in posts["data"]],
                meta=PageMeta(**posts["meta"]),
            )
            body = {"model": PublicModel(**found), "posts": page}
        return render(
            request,
            "production/preview.html",
            model=model,
            public=body,
            json=json.dumps(msgspec.to_builtins(body), indent=2, ensure_ascii=False)
            if body
            else "",
            nav="production",
        )

    @get(
        "/history",
        name="production.history",
        dependencies=listed(editing.HISTORY),
    )
    async def history(
        self, request: HTMXRequest, model_id: RowId, listing: ListDep
    ) -> HTMXTemplate:
        model = await _model(model_id)
        size = listing.size
        rows, next_before = paging.older(
            await editing.history(model_id, listing.before_id, size), size
        )
        return render(
            request,
            "production/history.html",
            model=model,
            rows=rows,
            next_before=next_before,
            nav="production",
        )
