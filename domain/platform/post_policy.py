"""S3 POST policies, checked as S3 checks them: moto's server stores any browser POST it gets,
so the embedded S3 (and the tests' S3) put this check in front of it (platform/policy_gate.py).

Follows AWS's "Creating a POST policy" (Signature Version 4): the signature over the base64
policy, its expiration, every condition, and no form field that no condition covers."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime

# Fields S3 never asks a condition for.
UNCHECKED = frozenset({"x-amz-signature", "policy", "file"})


class PolicyRefused(Exception):
    """What S3 answers: an HTTP status and its error code, with the reason."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def xml(self) -> bytes:
        return (
            f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{self.code}</Code>'
            f"<Message>{_escape(self.message)}</Message></Error>"
        ).encode()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _denied(reason: str) -> PolicyRefused:
    return PolicyRefused(403, "AccessDenied", f"Invalid according to Policy: {reason}")


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def signature(secret: str, date: str, region: str, policy: str) -> str:
    """SigV4 over the base64 policy, with the signing key of that day, region and s3."""
    key = _hmac(("AWS4" + secret).encode(), date)
    for part in (region, "s3", "aws4_request"):
        key = _hmac(key, part)
    return hmac.new(key, policy.encode(), hashlib.sha256).hexdigest()


def check(
    fields: Mapping[str, str],
    size: int,
    bucket: str,
    secrets: Mapping[str, str],
    now: datetime | None = None,
) -> None:
    """Raise PolicyRefused unless S3 would store this form's file (`size` bytes)."""
    form = {k.lower(): v for k, v in fields.items()}
    encoded = form.get("policy", "")
    credential = form.get("x-amz-credential", "").split("/")
    if not encoded or len(credential) != 5 or form.get("x-amz-algorithm") != "AWS4-HMAC-SHA256":
        raise PolicyRefused(403, "AccessDenied", "Missing or malformed POST policy fields.")
    access_key, date, region = credential[:3]
    secret = secrets.get(access_key)
    if secret is None:
        raise PolicyRefused(403, "InvalidAccessKeyId", f"Unknown access key {access_key!r}.")
    if not hmac.compare_digest(
        signature(secret, date, region, encoded), form.get("x-amz-signature", "")
    ):
        raise PolicyRefused(403, "SignatureDoesNotMatch", "The policy's signature is wrong.")
    try:
        policy = json.loads(base64.b64decode(encoded, validate=True))
        expires = datetime.strptime(policy["expiration"], "%Y-%m-%dT%H:%M:%SZ")
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise PolicyRefused(400, "InvalidPolicyDocument", "The policy is not valid.") from None
    if (now or datetime.now(UTC)).replace(tzinfo=None) > expires:
        raise _denied("Policy expired.")
    form["bucket"] = bucket
    covered = {"bucket"}
    for condition in policy.get("conditions", []):
        covered |= _condition(condition, form, size)
    extra = sorted(
        k for k in form if k not in covered | UNCHECKED and not k.startswith("x-ignore-")
    )
    if extra:
        raise _denied(f"Extra input fields: {', '.join(extra)}")


def _condition(condition: object, form: dict[str, str], size: int) -> set[str]:
    """Check one condition; return the field names it covers."""
    if isinstance(condition, dict) and len(condition) == 1:
        ((name, value),) = condition.items()
        condition = ["eq", f"${name}", value]
    if not isinstance(condition, list) or len(condition) != 3:
        raise PolicyRefused(400, "InvalidPolicyDocument", f"Bad condition {condition!r}.")
    op, name, value = condition
    if op == "content-length-range":
        if size < int(name):
            raise PolicyRefused(
                400,
                "EntityTooSmall",
                "Your proposed upload is smaller than the minimum allowed size",
            )
        if size > int(value):
            raise PolicyRefused(
                400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size"
            )
        return set()
    field = str(name).lstrip("$").lower()
    given = form.get(field)
    if given is None:
        raise _denied(f'Policy Condition failed: ["{op}", "{name}", "{value}"]')
    if (op == "eq" and given != value) or (op == "starts-with" and not given.startswith(value)):
        raise _denied(f'Policy Condition failed: ["{op}", "{name}", "{value}"]')
    if op not in ("eq", "starts-with"):
        raise PolicyRefused(400, "InvalidPolicyDocument", f"Unknown condition {op!r}.")
    return {field}
