"""An upload's bucket side. The browser's path: sign one exact POST per file to a staging key
of the upload's ticket, renew a policy that ran out before its file was sent, and finish:
check what landed and copy it into the post. The server's path: store the files it received.

A new file never targets a key that exists; replacing one is asked for (`replace`) and the
finish replaces only the object the admin saw when the upload began (its ETag)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypedDict

from domain.errors import Conflict, Invalid
from domain.platform.s3 import S3Service
from domain.platform.s3_types import PresignedPost
from domain.uploads import bucket, tickets
from domain.uploads.bucket import Head
from domain.uploads.names import Planned, human
from domain.uploads.tickets import Ticket, TicketFile


@dataclass(frozen=True)
class Target:
    """The post an upload goes to."""

    model: str
    post: str

    @property
    def prefix(self) -> str:
        return f"{self.model}/{self.post}/"

    def describe(self, planned: list[Planned]) -> str:
        """What the audit log says about the files: how many and how large."""
        total = sum(p.size for p in planned)
        return (
            f"{len(planned)} file(s), {human(total)}: " + ", ".join(p.name for p in planned)[:400]
        )


@dataclass(frozen=True)
class Landed:
    """A file the finish step put into its post: as declared, and what it replaced."""

    name: str
    size: int
    content_type: str
    etag: str
    replaced: str | None


def _more(names: list[str]) -> str:
    return f"{names[0]!r}" + (f" and {len(names) - 1} more" if len(names) > 1 else "")


async def existing(s3: S3Service, planned: list[Planned], replace: bool) -> dict[str, Head]:
    """The files already in the post (HEAD each key): a 409 naming them unless `replace`."""
    heads = await bucket.each(planned, lambda p: bucket.head(s3, p.key))
    taken = {p.name: h for p, h in zip(planned, heads, strict=True) if h is not None}
    if taken and not replace:
        raise Conflict(
            f"{_more(list(taken))} is already in this post: rename the file, pick another "
            "post, or tick “Replace files of the same name” to replace it (audited).",
            field="file",
        )
    return taken


class SignedUpload(PresignedPost):
    """One file's exact POST (the browser's JSON): its URL and fields, for its staging key."""

    name: str
    key: str
    size: int
    expires_in: int  # seconds


class Presigned(TypedDict):
    ticket: str  # sealed (tickets.seal)
    uploads: list[SignedUpload]


async def presign(
    s3: S3Service, target: Target, planned: list[Planned], admin: int, replace: bool, secret: str
) -> tuple[Ticket, Presigned]:
    """The upload's ticket and one exact POST per file, each to a staging key no object has."""
    taken = await existing(s3, planned, replace)
    ticket = tickets.new(
        admin, target.model, target.post, planned, {n: h.etag for n, h in taken.items()}
    )
    staged = await bucket.each(ticket.files, lambda f: bucket.head(s3, ticket.staging_key(f.name)))
    if any(h is not None for h in staged):  # a random id of 128 bits: never expected
        raise Conflict("The upload's staging folder is not empty: start the upload again.")
    signed = await bucket.each(ticket.files, lambda f: _signed(s3, ticket, f))
    return ticket, {"ticket": tickets.seal(ticket, secret), "uploads": signed}


async def renew(s3: S3Service, ticket: Ticket, name: str) -> SignedUpload:
    """A new policy for a file whose policy ran out before it was sent (nothing landed yet)."""
    item = ticket.file(name)
    if await bucket.head(s3, ticket.staging_key(name)) is not None:
        raise Conflict(f"{name!r} has already reached the bucket: finish the upload.")
    return await _signed(s3, ticket, item)


async def _signed(s3: S3Service, ticket: Ticket, item: TicketFile) -> SignedUpload:
    seconds = min(tickets.POLICY_SECONDS, tickets.POLICY_MAX_SECONDS)
    key = ticket.staging_key(item.name)
    post = await bucket.exact_post(s3, key, item.content_type, item.size, seconds)
    return {"name": item.name, "key": key, "size": item.size, "expires_in": seconds, **post}


async def finish(s3: S3Service, ticket: Ticket, names: list[str]) -> list[Landed]:
    """Check every named file landed as declared (size, type) and that its place in the post
    is as the upload found it; then copy each into the post. Refuses all or does all."""
    if not names:
        raise Invalid("No uploaded files were named: upload at least one first.")
    if len(set(names)) != len(names):
        raise Invalid("A file is named twice: name each uploaded file once.")
    items = [ticket.file(n) for n in names]
    staged = await bucket.each(items, lambda f: bucket.head(s3, ticket.staging_key(f.name)))
    missing = [f.name for f, h in zip(items, staged, strict=True) if h is None]
    if missing:
        raise Conflict(f"{_more(missing)} did not reach the bucket: upload it again.")
    heads = [h for h in staged if h is not None]
    for item, got in zip(items, heads, strict=True):
        _as_declared(item, got)
    in_post = await bucket.each(items, lambda f: bucket.head(s3, ticket.final_key(f.name)))
    for item, now in zip(items, in_post, strict=True):
        _unchanged(item, now)
    landed = []
    for item, got in zip(items, heads, strict=True):
        final = ticket.final_key(item.name)
        etag = await bucket.copy(s3, ticket.staging_key(item.name), final, got.etag)
        if etag != got.etag:  # moto ignores CopySourceIfMatch; S3 refuses the copy itself
            if item.replaces is None:
                await s3.delete(final)
            raise Conflict(f"{item.name!r} changed while it was finished: upload it again.")
        await s3.delete(ticket.staging_key(item.name))
        landed.append(Landed(item.name, got.size, got.content_type, etag, item.replaces))
    return landed


def _as_declared(item: TicketFile, got: Head) -> None:
    if got.size != item.size:
        raise Conflict(
            f"{item.name!r} arrived as {got.size} bytes, not the {item.size} declared: "
            "upload it again."
        )
    if got.content_type != item.content_type:
        raise Conflict(
            f"{item.name!r} arrived as {got.content_type[:60]!r}, not the declared "
            f"{item.content_type}: upload it again."
        )


def _unchanged(item: TicketFile, now: Head | None) -> None:
    if item.replaces is None and now is not None:
        raise Conflict(
            f"{item.name!r} is already in this post (this upload was finished, or another "
            "one put it there): nothing was replaced."
        )
    if item.replaces is not None and (now is None or now.etag != item.replaces):
        raise Conflict(
            f"{item.name!r} changed in this post since the upload began: nothing was "
            "replaced; start the upload again."
        )


Reader = Callable[[int], Awaitable[bytes]]


async def store(
    s3: S3Service, target: Target, planned: list[Planned], readers: list[Reader], replace: bool
) -> list[str]:
    """Stream each received file into the bucket (multipart above one part); the names of the
    files it replaced (only when `replace` was asked for)."""
    taken = await existing(s3, planned, replace)
    for item, read in zip(planned, readers, strict=True):
        await s3.put_stream(item.key, read, item.size, item.content_type)
    return [p.name for p in planned if p.name in taken]
