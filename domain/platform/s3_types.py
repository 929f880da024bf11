"""What every S3 caller shares: the object tuple, errors worded for operators, fast timestamps."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple, TypedDict

import aiohttp
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)
from botocore.utils import parse_timestamp

from domain.platform.settings import S3Settings

_CREDENTIAL_CODES = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "403"}


class PresignedPost(TypedDict):
    """A browser form's target and the fields it must send (boto's generate_presigned_post)."""

    url: str
    fields: dict[str, str]


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


class NotAListing(S3Error):
    """A 200 answer that is XML but not a ListObjectsV2 result: never read as an empty page."""


class ListingCutShort(S3Error):
    """A page says more follows but gives no way on (no continuation token, or one already
    used): the rest cannot be read, so the listing fails rather than end early or loop."""


def cut_short(why: str) -> ListingCutShort:
    return ListingCutShort(
        f"the S3 endpoint's listing {why}, so the rest of the bucket cannot be read: the sync "
        "fails and deletes nothing. Check the store (or a proxy in front of it) and sync again."
    )


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
    if isinstance(
        exc,
        EndpointConnectionError
        | ConnectTimeoutError
        | ReadTimeoutError
        | aiohttp.ClientConnectionError
        | TimeoutError,
    ):
        return S3Unreachable(
            f"S3 endpoint {settings.endpoint} is unreachable or timed out ({exc}): "
            "check DO_SPACES_ENDPOINT and the network."
        )
    if isinstance(exc, NoCredentialsError):
        return S3CredentialsError("no S3 credentials: set DO_SPACES_KEY and DO_SPACES_SECRET.")
    return S3Error(f"S3 request failed: {exc}")


def fast_timestamp(value: object) -> datetime:
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
