"""Admins: superusers list, create, deactivate and reactivate admins, and reset passwords."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Response, get, post
from litestar.plugins.htmx import HTMXRequest, HTMXTemplate

from controllers.deps import Actor, ActorDep
from controllers.form_errors import NO_ERRORS, FormErrors, form_errors, refused
from controllers.forms import Checked, EmptyBody, Form, RowId
from controllers.responses import Did, Toast, audited, render, render_context
from controllers.security import SignedInAdmin, superusers_only
from controllers.sessions import SESSION_COOKIE
from domain.accounts import admins as accounts
from domain.errors import Conflict, Invalid

PAGE = "accounts/admins/index.html"
ROW = "accounts/admins/_row.html"
NEW = "accounts/admins/_new_admin.html"
NEW_FIELDS = ("username", "email", "password")


@dataclass
class NewAdminForm(Checked):
    # Defaults: an empty field gets the domain's message naming it, on the form kept filled.
    username: str = ""
    email: str = ""
    password: str = ""
    superuser: bool = False


@dataclass
class PasswordForm(Checked):
    password: str = ""


NewAdminBody = Annotated[NewAdminForm, Form]
PasswordBody = Annotated[PasswordForm, Form]


async def _context(**context: object) -> dict[str, object]:
    """What the page (and its new-admin form) shows."""
    context.setdefault("form", NewAdminForm())
    context.setdefault("errors", NO_ERRORS)
    return {
        "rows": await accounts.admins(),
        "min_password": accounts.MIN_PASSWORD,
        "nav": "admins",
        **context,
    }


async def _page(request: HTMXRequest) -> HTMXTemplate:
    return render_context(request, PAGE, None, await _context())


def _me(request: HTMXRequest) -> SignedInAdmin:
    user = request.user
    assert isinstance(user, SignedInAdmin)  # superusers_only let it through
    return user


async def _refused_password(
    request: HTMXRequest, exc: Invalid, admin_id: int, errors: FormErrors
) -> HTMXTemplate:
    """A refused new password: htmx gets the admin's row with its form open and marked; a
    plain form post the page, that row's form so."""
    row = await accounts.admin(admin_id)
    context = await _context(row=row, password_errors={admin_id: errors})
    return refused(request, exc, page=PAGE, partial=ROW, target=f"#admin-{admin_id}", **context)


class AdminsController(Controller):
    path = "/admins"
    include_in_schema = False
    guards = [superusers_only]

    @get("/", name="admins.index")
    async def index(self, request: HTMXRequest) -> HTMXTemplate:
        return await _page(request)

    @post("/", name="admins.create")
    async def create(
        self, request: HTMXRequest, actor: ActorDep, data: NewAdminBody
    ) -> Response[Any]:
        try:
            row = await accounts.create_admin(
                data.username, data.email, data.password, data.superuser
            )
        except (Invalid, Conflict) as exc:  # the form again, filled in but for the password
            data.password = ""
            context = await _context(form=data, errors=form_errors(exc, NEW_FIELDS))
            return refused(
                request, exc, page=PAGE, partial=NEW, target="#new-admin-panel", **context
            )
        kind = "superuser" if row.superuser else "admin"
        did = Did("admin_created", row.username, kind)
        return await _answer(request, actor, did, ("success", f"Created {kind} {row.username!r}."))

    @get("/{admin_id:int}/deactivate", name="admins.confirm_deactivate")
    async def confirm_deactivate(self, request: HTMXRequest, admin_id: RowId) -> HTMXTemplate:
        """Where "Deactivate" leads without JavaScript: the question htmx asks with confirm()."""
        row = await accounts.admin(admin_id)
        return render(request, "accounts/admins/deactivate.html", row=row, nav="admins")

    @post("/{admin_id:int}/deactivate", name="admins.deactivate")
    async def deactivate(
        self, request: HTMXRequest, actor: ActorDep, admin_id: RowId, data: EmptyBody
    ) -> Response[Any]:
        return await _set_active(request, actor, admin_id, False)

    @post("/{admin_id:int}/reactivate", name="admins.reactivate")
    async def reactivate(
        self, request: HTMXRequest, actor: ActorDep, admin_id: RowId, data: EmptyBody
    ) -> Response[Any]:
        return await _set_active(request, actor, admin_id, True)

    @post("/{admin_id:int}/password", name="admins.password")
    async def reset_password(
        self, request: HTMXRequest, actor: ActorDep, admin_id: RowId, data: PasswordBody
    ) -> Response[Any]:
        own = admin_id == _me(request).id
        keep = request.cookies.get(SESSION_COOKIE) if own else None
        try:
            ended = await accounts.reset_password(admin_id, data.password, keep_session=keep)
        except Invalid as exc:  # the row's form again, open, its field marked
            errors = form_errors(exc, ("password",))
            return await _refused_password(request, exc, admin_id, errors)
        row = await accounts.admin(admin_id)
        sessions = f"{ended} {'other ' if own else ''}session(s) ended"
        did = Did("admin_password_reset", row.username, sessions)
        toast = ("success", f"Password of {row.username!r} reset; {sessions}.")
        return await _answer(request, actor, did, toast, admin_id)


async def _answer(
    request: HTMXRequest, actor: Actor, did: Did | None, toast: Toast, row_id: int | None = None
) -> Response[Any]:
    """A change to the admins, audited: htmx gets the admin's row again (`row_id`), else the
    list reloads; a plain form post goes back to the list."""
    back = request.app.route_reverse("admins.index")
    if row_id is None:
        return await audited(request, actor, did, back=back, toast=toast)
    admin_id = row_id

    async def fresh() -> dict[str, object]:
        return {"row": await accounts.admin(admin_id), "min_password": accounts.MIN_PASSWORD}

    return await audited(request, actor, did, back=back, toast=toast, partial=ROW, fresh=fresh)


async def _set_active(
    request: HTMXRequest, actor: ActorDep, admin_id: int, active: bool
) -> Response[Any]:
    row, changed = await accounts.set_active(admin_id, active, by=_me(request).id)
    name = row.username
    if not changed:
        toast = ("info", f"{name!r} was already {'active' if active else 'inactive'}.")
    elif active:
        toast = ("success", f"{name!r} reactivated: they can sign in again.")
    else:
        toast = ("success", f"{name!r} deactivated: their sessions have ended.")
    action = "admin_reactivated" if active else "admin_deactivated"
    return await _answer(request, actor, Did(action, name) if changed else None, toast, admin_id)
