"""An upload's bucket side: sign one POST per file, check what landed, or store files the
server received (the form without JavaScript)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from domain.errors import Conflict
from domain.platform.s3 import S3Service
from domain.uploads.names import Planned, human, refuse_existing

POLICY_TTL = 6 * 3600  # a batch of large files may take hours to start its last POST


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


async def keys_in(s3: S3Service, target: Target) -> set[str]:
    return {o.key async for page in s3.list_pages(target.prefix) for o in page}


async def presign(
    s3: S3Service, target: Target, planned: list[Planned], limit: int
) -> list[dict[str, Any]]:
    """One presigned POST per file, after refusing any that would replace a file."""
    refuse_existing(planned, await keys_in(s3, target))
    signed = []
    for item in planned:
        post = await s3.presign_post(item.key, item.content_type, limit, POLICY_TTL)
        signed.append({"name": item.name, "key": item.key, "size": item.size, **post})
    return signed


async def check_landed(s3: S3Service, target: Target, names: list[str]) -> None:
    """Every file the browser says it sent is in the bucket, or a 409 naming the first that is
    not (its POST failed or was refused)."""
    present = await keys_in(s3, target)
    missing = [n for n in names if target.prefix + n not in present]
    if missing:
        more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
        raise Conflict(f"{missing[0]!r}{more} did not reach the bucket: upload it again.")


Reader = Callable[[int], Awaitable[bytes]]


async def store(
    s3: S3Service, target: Target, planned: list[Planned], readers: list[Reader]
) -> None:
    """Stream each received file into the bucket (multipart above one part)."""
    refuse_existing(planned, await keys_in(s3, target))
    for item, read in zip(planned, readers, strict=True):
        await s3.put_stream(item.key, read, item.size, item.content_type)
