"""An upload ticket: what the app promised the browser when it signed the POSTs, signed with
the app's secret so the finish step trusts it and nothing the browser says instead.

The browser's POSTs write only to a staging key of the ticket's own (`_uploads/<id>/<name>`,
a folder the sync ignores); the finish step, for the admin the ticket names, checks each staged
object against the declared size and type and only then copies it into the post. So a policy
re-used after the finish writes to a staging key nothing reads, never to the post."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

from domain.errors import Invalid
from domain.uploads.names import Planned

STAGING = "_uploads"  # a model folder starting with "_": the key rules ignore it
POLICY_SECONDS = 10 * 60  # a POST policy's life: at most 15 minutes (renewed per file)
POLICY_MAX_SECONDS = 15 * 60
TICKET_SECONDS = 12 * 3600  # how long an upload may take to be finished (its policies renewed)


@dataclass(frozen=True)
class TicketFile:
    """One declared file; `replaces` is the ETag of the file it replaces (None: a new file)."""

    name: str
    size: int
    content_type: str
    replaces: str | None = None


@dataclass(frozen=True)
class Ticket:
    id: str
    admin: int  # the admin's user id: only they may renew or finish it
    model: str
    post: str
    files: tuple[TicketFile, ...]
    issued: int  # Unix seconds

    @property
    def prefix(self) -> str:
        return f"{self.model}/{self.post}/"

    def staging_key(self, name: str) -> str:
        return f"{STAGING}/{self.id}/{name}"

    def final_key(self, name: str) -> str:
        return self.prefix + name

    def file(self, name: str) -> TicketFile:
        for item in self.files:
            if item.name == name:
                return item
        raise Invalid(f"{name!r} is not one of this upload's files: upload it again.")

    @property
    def replacing(self) -> list[str]:
        return [f.name for f in self.files if f.replaces is not None]


def new(
    admin: int, model: str, post: str, planned: list[Planned], replaces: dict[str, str]
) -> Ticket:
    files = tuple(TicketFile(p.name, p.size, p.content_type, replaces.get(p.name)) for p in planned)
    return Ticket(secrets.token_hex(16), admin, model, post, files, int(time.time()))


def seal(ticket: Ticket, secret: str) -> str:
    body = {
        "id": ticket.id,
        "admin": ticket.admin,
        "model": ticket.model,
        "post": ticket.post,
        "files": [[f.name, f.size, f.content_type, f.replaces] for f in ticket.files],
        "issued": ticket.issued,
    }
    payload = base64.urlsafe_b64encode(json.dumps(body, ensure_ascii=True).encode()).decode()
    return f"{payload}.{_mac(payload, secret)}"


def open_(sealed: str, secret: str, now: float | None = None) -> Ticket:
    """The ticket the app issued, or a 400: altered, unreadable, or older than a finish may be."""
    payload, _, mac = sealed.rpartition(".")
    if not payload or not hmac.compare_digest(mac, _mac(payload, secret)):
        raise Invalid("This upload's ticket is not one the app issued: start the upload again.")
    body = json.loads(base64.urlsafe_b64decode(payload))
    ticket = Ticket(
        str(body["id"]),
        int(body["admin"]),
        str(body["model"]),
        str(body["post"]),
        tuple(TicketFile(str(n), int(s), str(t), r) for n, s, t, r in body["files"]),
        int(body["issued"]),
    )
    if (now if now is not None else time.time()) > ticket.issued + TICKET_SECONDS:
        raise Invalid("This upload was started too long ago: start it again.")
    return ticket


def _mac(payload: str, secret: str) -> str:
    key = hashlib.sha256(b"upload-ticket:" + secret.encode()).digest()
    return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()
