"""SigV4 request signatures (Authorization header or presigned query), checked as S3 checks
them, for the embedded S3: moto's server accepts any request, signed or not.

Follows AWS's "Authenticating Requests (AWS Signature Version 4)": the canonical request from
the path as sent, the query sorted, the signed headers, and the payload hash the client
declared (`x-amz-content-sha256`, or UNSIGNED-PAYLOAD for a presigned URL)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, unquote

from domain.platform.post_policy import PolicyRefused, signature

ALGORITHM = "AWS4-HMAC-SHA256"
SKEW = timedelta(minutes=15)  # S3's tolerance for a request's clock
MAX_PRESIGNED = 7 * 24 * 3600


def _denied(code: str, message: str) -> PolicyRefused:
    return PolicyRefused(403, code, message)


def is_signed(environ: Mapping[str, object]) -> bool:
    """Whether the request carries a signature at all (header or query)."""
    query = str(environ.get("QUERY_STRING", ""))
    return bool(environ.get("HTTP_AUTHORIZATION")) or "X-Amz-Signature=" in query


def verify(
    environ: Mapping[str, object], secrets: Mapping[str, str], now: datetime | None = None
) -> None:
    """Raise PolicyRefused (403) unless the request is signed with one of `secrets`' keys."""
    now = now or datetime.now(UTC)
    pairs = _query(str(environ.get("QUERY_STRING", "")))
    given = dict(pairs)
    header = str(environ.get("HTTP_AUTHORIZATION", ""))
    if header:
        algorithm, _, rest = header.partition(" ")
        parts = dict(p.strip().partition("=")[::2] for p in rest.split(","))
        credential, signed_headers = parts.get("Credential", ""), parts.get("SignedHeaders", "")
        sent = parts.get("Signature", "")
        stamp = _header(environ, "x-amz-date")
        payload = _header(environ, "x-amz-content-sha256") or "UNSIGNED-PAYLOAD"
    elif "X-Amz-Signature" in given:
        algorithm = given.get("X-Amz-Algorithm", "")
        credential, signed_headers = (
            given.get("X-Amz-Credential", ""),
            given.get("X-Amz-SignedHeaders", ""),
        )
        sent, stamp, payload = given["X-Amz-Signature"], given.get("X-Amz-Date", ""), ""
        payload = "UNSIGNED-PAYLOAD"
        pairs = [(k, v) for k, v in pairs if k != "X-Amz-Signature"]
    else:
        raise _denied("AccessDenied", "Anonymous requests are refused: sign the request.")
    if algorithm != ALGORITHM:
        raise _denied("AccessDenied", f"Only {ALGORITHM} signatures are accepted.")
    scope = credential.split("/")
    if len(scope) != 5 or scope[3] != "s3" or scope[4] != "aws4_request":
        raise _denied("AccessDenied", "Malformed credential scope.")
    secret = secrets.get(scope[0])
    if secret is None:
        raise _denied("InvalidAccessKeyId", f"Unknown access key {scope[0]!r}.")
    _check_time(stamp, given, header_auth=bool(header), now=now)
    names = [n for n in signed_headers.lower().split(";") if n]
    if "host" not in names:
        raise _denied("AccessDenied", "The Host header must be signed.")
    canonical = "\n".join(
        [
            str(environ.get("REQUEST_METHOD", "")),
            _raw_path(environ),
            "&".join(f"{k}={v}" for k, v in sorted((_enc(k), _enc(v)) for k, v in pairs)),
            "".join(f"{n}:{_header(environ, n)}\n" for n in names),
            ";".join(names),
            payload,
        ]
    )
    to_sign = "\n".join(
        [ALGORITHM, stamp, "/".join(scope[1:]), hashlib.sha256(canonical.encode()).hexdigest()]
    )
    if not hmac.compare_digest(signature(secret, scope[1], scope[2], to_sign), sent):
        raise _denied("SignatureDoesNotMatch", "The request signature does not match.")


def _check_time(stamp: str, given: Mapping[str, str], *, header_auth: bool, now: datetime) -> None:
    try:
        signed_at = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise _denied("AccessDenied", "Missing or malformed X-Amz-Date.") from None
    if header_auth:
        if abs(now - signed_at) > SKEW:
            raise _denied("RequestTimeTooSkewed", "The request's time is too far from ours.")
        return
    try:
        expires = int(given.get("X-Amz-Expires", ""))
    except ValueError:
        raise _denied("AccessDenied", "Missing or malformed X-Amz-Expires.") from None
    if not 0 < expires <= MAX_PRESIGNED or now > signed_at + timedelta(seconds=expires):
        raise _denied("AccessDenied", "Request has expired")
    if signed_at - now > SKEW:
        raise _denied("AccessDenied", "The request is signed in the future.")


def _query(raw: str) -> list[tuple[str, str]]:
    pairs = []
    for item in raw.split("&"):
        if item:
            key, _, value = item.partition("=")
            pairs.append((unquote(key), unquote(value)))
    return pairs


def _enc(text: str) -> str:
    return quote(text, safe="-_.~")


def _raw_path(environ: Mapping[str, object]) -> str:
    """The path exactly as the client sent (and signed) it: S3 does not normalize it."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        return str(raw).split("?", 1)[0] or "/"
    path = str(environ.get("PATH_INFO", "")).encode("latin-1").decode("utf-8", "replace")
    return quote(path, safe="/~") or "/"


def _header(environ: Mapping[str, object], name: str) -> str:
    key = {"content-type": "CONTENT_TYPE", "content-length": "CONTENT_LENGTH"}.get(
        name, "HTTP_" + name.upper().replace("-", "_")
    )
    return " ".join(str(environ.get(key, "")).split())
