"""Async S3 service (aiobotocore): listing, signed GET URLs, uploads, clear errors."""

from __future__ import annotations

import functools
import mimetypes
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession, get_session
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from domain.platform.s3_listing import FastLister
from domain.platform.s3_pages import Page
from domain.platform.s3_types import (
    PresignedPost,
    S3BucketMissing,
    S3CredentialsError,
    S3Error,
    S3Object,
    S3Unreachable,
    cut_short,
    explain,
    fast_timestamp,
)
from domain.platform.settings import S3Settings

if TYPE_CHECKING:
    from aiobotocore.client import AioBaseClient

__all__ = [
    "S3BucketMissing",
    "S3CredentialsError",
    "S3Error",
    "S3Object",
    "S3Service",
    "S3Unreachable",
    "explain",
    "fast_timestamp",
]

SIGN_CACHE_SIZE = 50_000
PART_BYTES = 8 * 1024 * 1024  # one part of a server-side upload (S3: at least 5 MiB, bar the last)


@functools.cache
def _session() -> AioSession:
    """One botocore session per process: each client made from it reuses its loaded service model
    (S3's, about 50 ms of JSON to read again for every new session)."""
    session = get_session()
    parsers = session.get_component("response_parser_factory")
    parsers.set_parser_defaults(timestamp_parser=fast_timestamp)
    return session


def guessed_type(key: str) -> str:
    """The Content-Type an upload without one is stored with: guessed from the key's name."""
    return mimetypes.guess_type(key)[0] or "application/octet-stream"


class S3Service:
    """One long-lived client per process; use as `async with S3Service(settings) as s3`."""

    def __init__(
        self, settings: S3Settings, ttl: int = 3600, *, max_attempts: int = 5, timeout: float = 20.0
    ) -> None:
        self.settings = settings
        self.ttl = ttl
        self._config = AioConfig(
            retries={"mode": "standard", "max_attempts": max_attempts},
            connect_timeout=min(timeout, 10.0),
            read_timeout=timeout,
            s3={"addressing_style": "path"},
            signature_version="s3v4",
            max_pool_connections=32,
        )
        self._attempts, self._timeout = max_attempts, timeout
        self._stack = AsyncExitStack()
        self._client: AioBaseClient | None = None
        self._lister: FastLister | None = None
        self._signed: OrderedDict[str, tuple[str, float]] = OrderedDict()

    async def __aenter__(self) -> S3Service:
        session = _session()
        self._client = await self._stack.enter_async_context(
            session.create_client(
                "s3",
                endpoint_url=self.settings.endpoint,
                region_name=self.settings.region,
                aws_access_key_id=self.settings.key,
                aws_secret_access_key=self.settings.secret,
                config=self._config,
                # Plain HTTP (the embedded S3, moto) has no certificate to check: without this,
                # every client loads the CA bundle for nothing (30 to 60 ms of CPU a client).
                # Any https endpoint keeps verify=None, botocore's default: certificates checked.
                verify=False if urlsplit(self.settings.endpoint).scheme == "http" else None,
            )
        )
        settings = self.settings
        credentials = (
            Credentials(settings.key, settings.secret)
            if settings.key and settings.secret
            else await get_session().get_credentials()  # the environment's, found afresh
        )
        self._lister = FastLister(
            credentials,
            settings.endpoint,
            settings.region,
            settings.bucket,
            attempts=self._attempts,
            timeout=self._timeout,
        )
        self._stack.push_async_callback(self._lister.close)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.aclose()
        self._client = self._lister = None

    @property
    def requests(self) -> int:
        """ListObjectsV2 requests sent so far (retries included)."""
        return self._lister.requests if self._lister else 0

    @property
    def client(self) -> AioBaseClient:
        if self._client is None:
            raise RuntimeError("S3Service used outside `async with`")
        return self._client

    async def check(self) -> None:
        """Fail with a clear S3Error unless the bucket is reachable and readable."""
        try:
            await self.client.head_bucket(Bucket=self.settings.bucket)
        except Exception as exc:
            raise explain(exc, self.settings) from exc

    async def list_top(self) -> tuple[list[str], list[S3Object]]:
        """Model folder prefixes ('Name/') and the loose keys at the bucket root."""
        return await self.list_level("")

    async def list_level(self, prefix: str) -> tuple[list[str], list[S3Object]]:
        """The sub-folder prefixes right under `prefix` and the objects directly in it."""
        prefixes: list[str] = []
        loose: list[S3Object] = []
        async for page in self._pages(prefix=prefix, delimiter="/"):
            prefixes.extend(page.prefixes)
            loose.extend(page.objects)
        return prefixes, loose

    async def list_pages(self, prefix: str) -> AsyncIterator[list[S3Object]]:
        """Every object under a prefix, one list per page of up to 1,000."""
        async for page in self._pages(prefix=prefix):
            yield list(page.objects)

    async def list_after(self, start_after: str) -> AsyncIterator[Sequence[S3Object]]:
        """Every object whose key sorts after `start_after`, in S3's order, page by page.

        The caller stops reading where its key range ends; pages span model folders, so many
        small models cost one request per 1,000 keys, not one each. A page the fast path read
        is `Rows`: its S3Objects are built only if asked for."""
        async for page in self._pages(start_after=start_after):
            yield page.objects

    async def _pages(
        self, *, prefix: str = "", delimiter: str = "", start_after: str = ""
    ) -> AsyncIterator[Page]:
        if self._lister is None:
            raise RuntimeError("S3Service used outside `async with`")
        token: str | None = None
        used: set[str] = set()  # a token that comes back would list the same pages forever
        while True:
            try:
                page = await self._lister.page(
                    prefix=prefix, delimiter=delimiter, start_after=start_after, token=token
                )
            except Exception as exc:
                raise explain(exc, self.settings) from exc
            yield page
            token = page.next_token
            if token is None:
                return
            if token in used:
                raise cut_short(f"sent a continuation token it had sent before ({token[:40]!r})")
            used.add(token)

    async def sign(self, key: str) -> str:
        """A presigned GET URL, reused for up to half its lifetime. It tells S3 the type to
        answer with, the one the key's extension implies (an image or video shown inline,
        anything else a download), never the object's own: an object holding HTML is not
        served as a page through it."""
        now = time.monotonic()
        hit = self._signed.get(key)
        if hit is not None and hit[1] > now:
            self._signed.move_to_end(key)
            return hit[0]
        name = key.rsplit("/", 1)[-1]
        ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        implied = (mimetypes.guess_type(f"file.{ext}")[0] or "") if ext.isalnum() else ""
        media = implied.startswith(("image/", "video/")) and "svg" not in implied
        params = {
            "Bucket": self.settings.bucket,
            "Key": key,
            "ResponseContentType": implied if media else "application/octet-stream",
            "ResponseContentDisposition": "inline" if media else "attachment",
        }
        url: str = await self.client.generate_presigned_url(
            "get_object", Params=params, ExpiresIn=self.ttl
        )
        self._signed[key] = (url, now + self.ttl / 2)
        if len(self._signed) > SIGN_CACHE_SIZE:
            self._signed.popitem(last=False)
        return url

    async def upload(self, key: str, body: bytes, content_type: str | None = None) -> None:
        content_type = content_type or guessed_type(key)
        try:
            await self.client.put_object(
                Bucket=self.settings.bucket, Key=key, Body=body, ContentType=content_type
            )
        except Exception as exc:
            raise explain(exc, self.settings) from exc

    async def presign_post(
        self, key: str, content_type: str, max_bytes: int, expires: int
    ) -> PresignedPost:
        """A browser form's URL and fields for one POST of exactly this key and type, at most
        `max_bytes` long: S3 refuses anything else the form would carry."""
        try:
            post: PresignedPost = await self.client.generate_presigned_post(
                Bucket=self.settings.bucket,
                Key=key,
                Fields={"Content-Type": content_type},
                Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, max_bytes]],
                ExpiresIn=expires,
            )
        except Exception as exc:
            raise explain(exc, self.settings) from exc
        return post

    async def put_stream(
        self, key: str, read: Callable[[int], Awaitable[bytes]], size: int, content_type: str
    ) -> None:
        """Store `size` bytes read in parts, so a large file never sits in memory whole."""
        bucket = self.settings.bucket
        try:
            if size <= PART_BYTES:
                body = await read(size)
                await self.client.put_object(
                    Bucket=bucket, Key=key, Body=body, ContentType=content_type
                )
                return
            started = await self.client.create_multipart_upload(
                Bucket=bucket, Key=key, ContentType=content_type
            )
            where = {"Bucket": bucket, "Key": key, "UploadId": started["UploadId"]}
            try:
                parts: list[dict[str, object]] = []
                while chunk := await read(PART_BYTES):
                    number = len(parts) + 1
                    sent = await self.client.upload_part(**where, PartNumber=number, Body=chunk)
                    parts.append({"ETag": sent["ETag"], "PartNumber": number})
                await self.client.complete_multipart_upload(
                    **where, MultipartUpload={"Parts": parts}
                )
            except BaseException:
                await self.client.abort_multipart_upload(**where)
                raise
        except Exception as exc:
            raise explain(exc, self.settings) from exc

    async def allow_browser_uploads(self, origins: list[str]) -> None:
        """The bucket CORS rule that lets pages from `origins` POST files (docs/uploads.md);
        it replaces the bucket's CORS rules, so only the embedded S3 and tests call it."""
        rule = {
            "AllowedOrigins": origins,
            "AllowedMethods": ["POST"],
            "AllowedHeaders": ["*"],
            "ExposeHeaders": ["ETag"],
            "MaxAgeSeconds": 3000,
        }
        try:
            await self.client.put_bucket_cors(
                Bucket=self.settings.bucket, CORSConfiguration={"CORSRules": [rule]}
            )
        except Exception as exc:
            raise explain(exc, self.settings) from exc

    async def delete(self, key: str) -> None:
        try:
            await self.client.delete_object(Bucket=self.settings.bucket, Key=key)
        except Exception as exc:
            raise explain(exc, self.settings) from exc

    async def create_bucket(self) -> None:
        try:
            await self.client.create_bucket(Bucket=self.settings.bucket)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in (
                "BucketAlreadyOwnedByYou",
                "BucketAlreadyExists",
            ):
                raise explain(exc, self.settings) from exc
