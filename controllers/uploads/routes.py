"""Uploads: the form; for the browser, one presigned POST per file and, once they are in, a
sync of the model; without JavaScript, the same form stored by the server."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from litestar import Controller, Response, Router, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromQuery, JSONBody
from litestar.plugins.flash import flash
from litestar.plugins.htmx import HTMXRequest, HTMXTemplate
from litestar.response import Redirect

from controllers.deps import Actor, ActorDep, RuntimeDep, S3Dep
from controllers.forms import Checked
from controllers.responses import render
from domain.catalogue import runs
from domain.errors import Conflict, DomainError, Invalid
from domain.platform.runtime import Runtime
from domain.uploads import names, store
from domain.uploads.store import Target

PAGE = "uploads/index.html"
RESULT = "uploads/_result.html"
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


@dataclass
class FinishBody(Checked):
    model: str
    post: str
    files: list[str] = field(default_factory=list)


def _limit(runtime: Runtime) -> int:
    return runtime.settings.upload_max_bytes


async def _sync(runtime: Runtime, actor: Actor, target: Target, detail: str) -> dict[str, Any]:
    """Queue the model's sync and audit the upload's end; a sync already going is said."""
    try:
        run_id = await runtime.start_sync(target.model, actor.username)
    except runs.SyncBusy as busy:
        await actor.record("upload_finished", target.prefix, f"{detail}; no sync: {busy}")
        return {"run": None, "busy": str(busy)}
    await actor.record("upload_finished", target.prefix, f"{detail}; run #{run_id}")
    await actor.record("sync_started", target.model, f"run #{run_id}, after an upload")
    return {"run": await runs.get(run_id), "busy": None}


class UploadsController(Controller):
    """The browser's calls (JSON in); the page and its form are in `upload_form_router`."""

    path = "/uploads"
    include_in_schema = False

    @post("/presign", name="uploads.presign", status_code=200)
    async def presign(
        self, runtime: RuntimeDep, actor: ActorDep, s3: S3Dep, data: JSONBody[PresignBody]
    ) -> dict[str, Any]:
        """One presigned POST per file (JSON), after every name, type and size is checked."""
        target = Target(data.model, data.post)
        files = [(f.name, f.type, f.size) for f in data.files]
        planned = names.plan(target.model, target.post, files, _limit(runtime))
        signed = await store.presign(s3, target, planned, _limit(runtime))
        await actor.record("upload_started", target.prefix, target.describe(planned))
        return {"uploads": signed, "max_bytes": _limit(runtime)}

    @post("/finish", name="uploads.finish", status_code=200)
    async def finish(
        self,
        request: HTMXRequest,
        runtime: RuntimeDep,
        actor: ActorDep,
        s3: S3Dep,
        data: JSONBody[FinishBody],
    ) -> HTMXTemplate:
        """The browser's files are in: check they are, then sync the model (the result panel)."""
        target = Target(names.check_name("model", data.model), names.check_name("post", data.post))
        if not data.files:
            raise Invalid("No uploaded files were named: upload at least one first.")
        for name in data.files:
            names.check_name("file", name)
        await store.check_landed(s3, target, data.files)
        synced = await _sync(runtime, actor, target, f"{len(data.files)} file(s) in the bucket")
        return render(request, RESULT, RESULT, target=target, count=len(data.files), **synced)


async def index(
    request: HTMXRequest,
    runtime: RuntimeDep,
    model: FromQuery[str] = "",
    post: FromQuery[str] = "",
) -> HTMXTemplate:
    """The form, its model (and post) filled in from a staged model's "Upload a post" link."""
    return _page(request, runtime, model, post)


async def upload_form(
    request: HTMXRequest, runtime: RuntimeDep, actor: ActorDep, s3: S3Dep
) -> Response[Any]:
    """The form without JavaScript: the server streams each file to the bucket within the same
    limits, then queues the sync and shows its run."""
    form = await request.form()
    model, post_name = str(form.get("model") or ""), str(form.get("post") or "")
    uploads = [f for f in form.getall("files", []) if isinstance(f, UploadFile)]
    target = Target(model, post_name)
    try:
        files = [(f.filename, f.content_type, _size(f)) for f in uploads]
        planned = names.plan(model, post_name, files, _limit(runtime))
        await actor.record("upload_started", target.prefix, target.describe(planned))
        await store.store(s3, target, planned, [f.read for f in uploads])
    except DomainError as refused:
        status = 409 if isinstance(refused, Conflict) else 400
        return _page(request, runtime, model, post_name, error=str(refused), status_code=status)
    finally:
        for f in uploads:
            await f.close()
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
    error: str = "",
    status_code: int = 200,
) -> HTMXTemplate:
    return render(
        request,
        PAGE,
        status_code=status_code,
        model=model,
        post=post_name,
        error=error,
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
