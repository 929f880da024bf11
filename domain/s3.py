"""Async S3 service (aiobotocore): listing, signed GET URLs, uploads, clear errors."""

from __future__ import annotations

import mimetypes
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import datetime
from typing import Any, NamedTuple

from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)
from botocore.utils import parse_timestamp

from domain.settings import S3Settings

PAGE_SIZE = 1000
SIGN_CACHE_SIZE = 50_000
_CREDENTIAL_CODES = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "403"}


class S3Object(NamedTuple):
    key: str
    size: int
    etag: str
    last_modified: datetime | None


class S3Error(RuntimeError):
    """A bucket problem worded for an operator: what failed and what to check."""


class S3CredentialsError(S3Error):
    pass


class S3BucketMissing(S3Error):
    pass


class S3Unreachable(S3Error):
    pass


def explain(exc: BaseException, settings: S3Settings) -> S3Error:
    """Turn a botocore error into one that says which setting to fix."""
    if isinstance(exc, S3Error):
        return exc
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in ("NoSuchBucket", "404"):
            return S3BucketMissing(
                f"bucket {settings.bucket!r} does not exist at {settings.endpoint}: "
                "check DO_SPACES_BUCKET and DO_SPACES_ENDPOINT."
            )
        if code in _CREDENTIAL_CODES:
            return S3CredentialsError(
                f"S3 refused the credentials for bucket {settings.bucket!r} ({code}): "
                "check DO_SPACES_KEY and DO_SPACES_SECRET."
            )
        return S3Error(f"S3 error {code} on bucket {settings.bucket!r}: {exc}")
    if isinstance(exc, EndpointConnectionError | ConnectTimeoutError | ReadTimeoutError):
        return S3Unreachable(
            f"S3 endpoint {settings.endpoint} is unreachable or timed out ({exc}): "
            "check DO_SPACES_ENDPOINT and the network."
        )
    if isinstance(exc, NoCredentialsError):
        return S3CredentialsError("no S3 credentials: set DO_SPACES_KEY and DO_SPACES_SECRET.")
    return S3Error(f"S3 request failed: {exc}")


def fast_timestamp(value: Any) -> datetime:
    """S3's ISO 8601 times (`2026-01-01T00:00:00.000Z`) parsed by `datetime.fromisoformat`.

    botocore's default parser (dateutil) costs ~150 us a value: most of the CPU of listing a
    bucket (every key has a LastModified). Values without an explicit offset (epoch seconds,
    RFC 822 headers, naive times) still go through botocore's parser, unchanged.
    """
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            if parsed.tzinfo is not None:
                return parsed
    return parse_timestamp(value)  # type: ignore[no-any-return]


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
        self._stack = AsyncExitStack()
        self._client: Any = None
        self._signed: OrderedDict[str, tuple[str, float]] = OrderedDict()

    async def __aenter__(self) -> S3Service:
        session = get_session()
        parsers = session.get_component("response_parser_factory")
        parsers.set_parser_defaults(timestamp_parser=fast_timestamp)
        self._client = await self._stack.enter_async_context(
            session.create_client(
                "s3",
                endpoint_url=self.settings.endpoint,
                region_name=self.settings.region,
                aws_access_key_id=self.settings.key,
                aws_secret_access_key=self.settings.secret,
                config=self._config,
            )
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.aclose()
        self._client = None

    @property
    def client(self) -> Any:
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
        prefixes: list[str] = []
        loose: list[S3Object] = []
        async for page in self._pages(prefix="", delimiter="/"):
            prefixes.extend(p["Prefix"] for p in page.get("CommonPrefixes", ()))
            loose.extend(_objects(page))
        return prefixes, loose

    async def list_pages(self, prefix: str) -> AsyncIterator[list[S3Object]]:
        """Every object under a prefix, one list per page of up to 1,000."""
        async for page in self._pages(prefix=prefix, delimiter=None):
            yield _objects(page)

    async def _pages(self, prefix: str, delimiter: str | None) -> AsyncIterator[dict[str, Any]]:
        params: dict[str, Any] = {
            "Bucket": self.settings.bucket,
            "Prefix": prefix,
            "MaxKeys": PAGE_SIZE,
        }
        if delimiter:
            params["Delimiter"] = delimiter
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            async for page in paginator.paginate(**params):
                yield page
        except Exception as exc:
            raise explain(exc, self.settings) from exc

    async def sign(self, key: str) -> str:
        """A presigned GET URL, reused for up to half its lifetime."""
        now = time.monotonic()
        hit = self._signed.get(key)
        if hit is not None and hit[1] > now:
            self._signed.move_to_end(key)
            return hit[0]
        url: str = await self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.settings.bucket, "Key": key}, ExpiresIn=self.ttl
        )
        self._signed[key] = (url, now + self.ttl / 2)
        if len(self._signed) > SIGN_CACHE_SIZE:
            self._signed.popitem(last=False)
        return url

    async def sign_many(self, keys: list[str | None]) -> list[str | None]:
        return [await self.sign(k) if k else None for k in keys]

    async def upload(self, key: str, body: bytes, content_type: str | None = None) -> None:
        content_type = content_type or mimetypes.guess_type(key)[0] or "application/octet-stream"
        try:
            await self.client.put_object(
                Bucket=self.settings.bucket, Key=key, Body=body, ContentType=content_type
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


def _objects(page: dict[str, Any]) -> list[S3Object]:
    return [
        S3Object(
            o["Key"],
            int(o.get("Size", 0)),
            str(o.get("ETag", "")).strip('"'),
            o.get("LastModified"),
        )
        for o in page.get("Contents", ())
    ]
