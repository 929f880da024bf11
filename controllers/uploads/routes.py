"""Uploads: the form; for the browser, one presigned POST per file and, once they are in, a
sync of the model; without JavaScript, the same form stored by the server."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypedDict

from litestar import Controller, Response, Router, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import PermissionDeniedException
from litestar.params import FromQuery, JSONBody
from litestar.plugins.flash import flash
from litestar.plugins.htmx import HTMXRequest, HTMXTemplate
from litestar.response import Redirect

from controllers.deps import Actor, ActorDep, RuntimeDep, S3Dep
from controllers.form_errors import NO_ERRORS, FormErrors, form_errors, status_of
from controllers.forms import Checked
from controllers.responses import render
from domain.accounts.admins import signed_in
from domain.catalogue import jobs as catalogue_jobs
from domain.catalogue import runs
from domain.errors import DomainError
from domain.platform.runtime import Runtime
from domain.uploads import lookalikes, names, tickets, transfer
from domain.uploads.lookalikes import Suggestions
from domain.uploads.tickets import Ticket
from domain.uploads.transfer import Landed, Target

PAGE = "uploads/index.html"
RESULT = "uploads/_result.html"
MODELS = "uploads/_models.html"
FIELDS = ("model", "post", "files")
FORM_MARGIN = 1024 * 1024  # the form's other fields and its multipart framing


@dataclass
class FileSpec(Checked):
    name: str
    size: int
    type: str = ""


@dataclass
class PresignBody(Checked):
    model: str
    post: str
    files: list[FileSpec] = field(default_factory=list)
    replace: bool = False  # files of the same name are replaced (audited), not refused
    new_model: bool = False  # a model beside one spelled alike (lookalikes.py) is wanted


@dataclass
class RenewBody(Checked):
    ticket: str
    name: str


@dataclass
class FinishBody(Checked):
    ticket: str
    files: list[str] = field(default_factory=list)


def _limit(runtime: Runtime) -> int:
    return runtime.settings.upload_max_bytes


class Synced(TypedDict):
    run: runs.Run | None  # the model's sync, queued
    busy: str | None  # or why none was: a sync is going


class PresignAnswer(transfer.Presigned):
    max_bytes: int


async def _sync(runtime: Runtime, actor: Actor, target: Target, detail: str) -> Synced:
    """Queue the model's sync and audit the upload's end; a sync already going is said."""
    try:
        run_id = await catalogue_jobs.start_sync(target.model, actor.username)
    except runs.SyncBusy as busy:
        await actor.record("upload_finished", target.prefix, f"{detail}; no sync: {busy}")
        return {"run": None, "busy": str(busy)}
    await actor.record("upload_finished", target.prefix, f"{detail}; run #{run_id}")
    await actor.record("sync_started", target.model, f"run #{run_id}, after an upload")
    return {"run": await runs.get(run_id), "busy": None}


async def _ticket(request: HTMXRequest, runtime: Runtime, sealed: str) -> Ticket:
    """The upload's ticket, for the admin who began it and only while they are an active admin
    (checked here again: a deactivated admin's upload is not finished)."""
    ticket = tickets.open_(sealed, runtime.settings.secret_key)
    if ticket.admin != request.user.id:
        raise PermissionDeniedException("This upload was begun by another admin: begin your own.")
    if await signed_in(ticket.admin) is None:
        raise PermissionDeniedException("This upload's admin is no longer active.")
    return ticket


def _replacing(names_: list[str]) -> str:
    return f"; replacing {len(names_)}: " + ", ".join(names_)[:400] if names_ else ""


def _landed(files: list[Landed]) -> str:
    """The audit's list of what reached the post: name, size, type and ETag of each."""
    text = "; ".join(f"{f.name} ({f.size} bytes, {f.content_type}, {f.etag})" for f in files)
    return f"{len(files)} file(s) checked and in the post: {text}"[:2000]


class UploadsController(Controller):
    """The browser's calls (JSON in); the page and its form are in `upload_form_router`."""

    path = "/uploads"
    include_in_schema = False

    @post("/presign", name="uploads.presign", status_code=200)
    async def presign(
        self,
        request: HTMXRequest,
        runtime: RuntimeDep,
        actor: ActorDep,
        s3: S3Dep,
        data: JSONBody[PresignBody],
    ) -> PresignAnswer:
        """One presigned POST per file (JSON), after every name, type and size is checked."""
        target = Target(data.model, data.post)
        files = [(f.name, f.type, f.size) for f in data.files]
        planned = names.plan(target.model, target.post, files, _limit(runtime))
        found = await lookalikes.suggest(target.model)
        lookalikes.check_new_model(found, data.new_model)
        secret = runtime.settings.secret_key
        ticket, signed = await transfer.presign(
            s3, target, planned, request.user.id, data.replace, secret
        )
        detail = target.describe(planned) + _replacing(ticket.replacing)
        await actor.record("upload_started", target.prefix, detail)
        return {**signed, "max_bytes": _limit(runtime)}

    @post("/renew", name="uploads.renew", status_code=200)
    async def renew(
        self, request: HTMXRequest, runtime: RuntimeDep, s3: S3Dep, data: JSONBody[RenewBody]
    ) -> transfer.SignedUpload:
        """A fresh policy for one file of the upload not sent yet (its policy ran out)."""
        ticket = await _ticket(request, runtime, data.ticket)
        return await transfer.renew(s3, ticket, data.name)

    @post("/finish", name="uploads.finish", status_code=200)
    async def finish(
        self,
        request: HTMXRequest,
        runtime: RuntimeDep,
        actor: ActorDep,
        s3: S3Dep,
        data: JSONBody[FinishBody],
    ) -> HTMXTemplate:
        """The browser's files are in: check each landed as declared, put them into the post,
        then sync the model (the result panel)."""
        ticket = await _ticket(request, runtime, data.ticket)
        target = Target(ticket.model, ticket.post)
        landed = await transfer.finish(s3, ticket, data.files)
        replaced = [f"{f.name} ({f.replaced} -> {f.etag})" for f in landed if f.replaced]
        if replaced:
            await actor.record("upload_replaced", target.prefix, "; ".join(replaced)[:2000])
        synced = await _sync(runtime, actor, target, _landed(landed))
        return render(request, RESULT, RESULT, target=target, count=len(landed), **synced)

    @get("/models", name="uploads.models")
    async def models(
        self,
        request: HTMXRequest,
        runtime: RuntimeDep,
        model: FromQuery[str] = "",
        post: FromQuery[str] = "",
    ) -> HTMXTemplate:
        """Existing models like the one typed, and a warning for one spelled alike: under the
        field for htmx, else the form itself with them."""
        found = await lookalikes.suggest(names.check_length("model", model))
        return _page(request, runtime, model, post, suggestions=found, partial=MODELS)


async def index(
    request: HTMXRequest,
    runtime: RuntimeDep,
    model: FromQuery[str] = "",
    post: FromQuery[str] = "",
) -> HTMXTemplate:
    """The form, its model (and post) filled in from a staged model's "Upload a post" link."""
    found = await lookalikes.suggest(names.check_length("model", model))
    return _page(request, runtime, model, post, suggestions=found)


async def upload_form(
    request: HTMXRequest, runtime: RuntimeDep, actor: ActorDep, s3: S3Dep
) -> Response[Any]:
    """The form without JavaScript: the server streams each file to the bucket within the same
    limits, then queues the sync and shows its run."""
    form = await request.form()
    model, post_name = str(form.get("model") or ""), str(form.get("post") or "")
    uploads = [f for f in form.getall("files", []) if isinstance(f, UploadFile)]
    replace = form.get("replace") == "on"
    target = Target(model, post_name)
    found = await lookalikes.suggest(model[: names.MAX_NAME])  # the check's, and the page's
    try:
        files = [(f.filename, f.content_type, _size(f)) for f in uploads]
        planned = names.plan(model, post_name, files, _limit(runtime))
        lookalikes.check_new_model(found, form.get("new_model") == "on")
        await actor.record("upload_started", target.prefix, target.describe(planned))
        replaced = await transfer.store(s3, target, planned, [f.read for f in uploads], replace)
    except DomainError as refused:  # the form again, its field marked (the files are chosen anew)
        errors = form_errors(refused, FIELDS, {"file": "files"})
        return _page(request, runtime, model, post_name, errors, status_of(refused), found)
    finally:
        for f in uploads:
            await f.close()
    if replaced:
        await actor.record("upload_replaced", target.prefix, ", ".join(replaced)[:2000])
    synced = await _sync(runtime, actor, target, target.describe(planned))
    if synced["run"] is None:
        flash(request, f"Uploaded, but not synced: {synced['busy']}", "warning")
        return Redirect(request.app.route_reverse("runs.index"), status_code=303)
    flash(request, f"Uploaded {len(planned)} file(s) to {target.prefix}: syncing.", "success")
    return Redirect(
        request.app.route_reverse("runs.detail", run_id=synced["run"].id), status_code=303
    )


def _size(upload: UploadFile) -> int:
    upload.file.seek(0, 2)
    size = upload.file.tell()
    upload.file.seek(0)
    return size


def _page(
    request: HTMXRequest,
    runtime: Runtime,
    model: str,
    post_name: str,
    errors: FormErrors = NO_ERRORS,
    status_code: int = 200,
    suggestions: Suggestions | None = None,
    *,
    partial: str | None = None,
) -> HTMXTemplate:
    return render(
        request,
        PAGE,
        partial,
        status_code=status_code,
        suggestions=suggestions or Suggestions(model, [], False, None),
        model=model,
        post=post_name,
        errors=errors,
        limit=_limit(runtime),
        limit_text=names.human(_limit(runtime)),
        accept=",".join(f".{ext}" for ext in names.TYPES),
        types=names.ALLOWED,
        nav="uploads",
    )


def upload_form_router(limit: int) -> Router:
    """The page and its form's POST: the only route whose body may be as large as a file."""
    handlers = [
        get("/", name="uploads.index")(index),
        post("/", name="uploads.create")(upload_form),
    ]
    return Router(
        "/uploads",
        route_handlers=handlers,
        request_max_body_size=limit + FORM_MARGIN,
        include_in_schema=False,
    )
