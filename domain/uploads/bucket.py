"""The few S3 calls an upload makes beyond S3Service's: HEAD one key, sign one exact POST,
copy a staged object into its post, remove a staged object."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from botocore.exceptions import ClientError

from domain.platform.s3 import S3Service, explain
from domain.platform.s3_types import PresignedPost

AT_ONCE = 16  # HEAD requests in flight for one upload
T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Head:
    size: int
    content_type: str
    etag: str


async def head(s3: S3Service, key: str) -> Head | None:
    """What is stored at `key`, or None when nothing is."""
    try:
        found = await s3.client.head_object(Bucket=s3.settings.bucket, Key=key)
    except ClientError as exc:
        if str(exc.response.get("Error", {}).get("Code")) in ("404", "NoSuchKey", "NotFound"):
            return None
        raise explain(exc, s3.settings) from exc
    except Exception as exc:
        raise explain(exc, s3.settings) from exc
    return Head(
        int(found.get("ContentLength", 0)),
        str(found.get("ContentType", "")),
        str(found.get("ETag", "")).strip('"'),
    )


async def each(items: Iterable[T], call: Callable[[T], Awaitable[R]]) -> list[R]:
    """`call` for every item, AT_ONCE at a time, results in order."""
    gate = asyncio.Semaphore(AT_ONCE)

    async def one(item: T) -> R:
        async with gate:
            return await call(item)

    return list(await asyncio.gather(*(one(i) for i in items)))


async def exact_post(
    s3: S3Service, key: str, content_type: str, size: int, seconds: int
) -> PresignedPost:
    """A browser form's URL and fields for one POST of exactly this key, this type and exactly
    `size` bytes, for `seconds`: S3 refuses anything else the form would carry."""
    try:
        post: PresignedPost = await s3.client.generate_presigned_post(
            Bucket=s3.settings.bucket,
            Key=key,
            Fields={"Content-Type": content_type},
            Conditions=[{"Content-Type": content_type}, ["content-length-range", size, size]],
            ExpiresIn=seconds,
        )
    except Exception as exc:
        raise explain(exc, s3.settings) from exc
    return post


async def copy(s3: S3Service, source: str, target: str, etag: str) -> str:
    """Copy `source` (only as it was when it had `etag`) to `target`; the copy's ETag."""
    bucket = s3.settings.bucket
    try:
        done = await s3.client.copy_object(
            Bucket=bucket,
            Key=target,
            CopySource={"Bucket": bucket, "Key": source},
            CopySourceIfMatch=etag,  # S3 refuses the copy if the staged object changed since
            MetadataDirective="COPY",
        )
    except Exception as exc:
        raise explain(exc, s3.settings) from exc
    return str(done.get("CopyObjectResult", {}).get("ETag", "")).strip('"')
