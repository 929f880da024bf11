"""Which S3 answers are tried again, through the fault proxy in front of moto: 500, 502, 503 and
504 are transient (a gateway or the store hiccuped) for the listing, the sync and the
aiobotocore client alike; a 400 is the request's own fault and is not sent again.

The injected error codes are ones no retry rule knows by name, so the status alone decides."""

from __future__ import annotations

import pytest

from domain.catalogue.sync import SyncOptions, run_sync
from domain.platform.s3 import S3Error
from tests.conftest import Proxied, rows
from tests.fault_proxy import Rule, keys_listing, listing

KEYS = [f"{m}/P/{i}.jpg" for m in ("Ann", "Bea") for i in range(2)]
TRANSIENT = [(500, "InternalServerError"), (502, "BadGateway"), (503, "ServiceUnavailable")]
TRANSIENT += [(504, "GatewayTimeout")]


def top_listing(method: str, target: str) -> bool:
    """The sync's first request: the model folders (a listing with a delimiter)."""
    return listing()(method, target) and "delimiter=" in target


async def keys_in(proxied: Proxied) -> list[str]:
    """The bucket's keys, listed straight from moto."""
    return [o.key async for page in proxied.bucket.s3.list_pages("") for o in page]


async def sync_through(proxied: Proxied) -> str:
    options = SyncOptions(public_base=proxied.bucket.public_base)
    return (await run_sync(proxied.s3, options)).status


@pytest.mark.parametrize(("status", "code"), TRANSIENT)
async def test_a_sync_whose_listings_answer_a_5xx_once_is_retried_and_succeeds(
    database: object, proxied: Proxied, status: int, code: str
) -> None:
    await proxied.bucket.put(*KEYS)
    rules = [Rule(top_listing, status, code, times=1), Rule(keys_listing, status, code, times=1)]
    proxied.proxy.rules = rules
    assert await sync_through(proxied) == "succeeded", f"a {status} from S3 was not retried"
    assert [r.hits for r in rules] == [1, 1]  # each failed once, then went through
    staged = {r["s3_key"] for r in await rows("SELECT s3_key FROM whitelabel_media")}
    assert staged == set(KEYS)


async def test_a_listing_answering_400_is_not_retried_and_fails_the_sync(
    database: object, proxied: Proxied
) -> None:
    await proxied.bucket.put(*KEYS)
    rule = Rule(listing(), 400, "InvalidArgument", times=1)
    proxied.proxy.rules = [rule]
    before = proxied.s3.requests
    assert await sync_through(proxied) == "failed", "a 400 from S3 was sent again"
    assert (rule.hits, proxied.s3.requests - before) == (1, 1)
    assert await rows("SELECT id FROM whitelabel_media") == []
    assert await sync_through(proxied) == "succeeded"  # the next sync, without the fault


@pytest.mark.parametrize(("status", "code"), TRANSIENT)
async def test_the_s3_client_retries_a_5xx_answer_once(
    proxied: Proxied, status: int, code: str
) -> None:
    """aiobotocore's calls through its retry configuration: a delete. (Not an upload, which
    botocore sends with `Expect: 100-continue`, nor a HEAD, whose error the fault proxy sends
    with a body: the proxy does neither as S3 would.)"""
    await proxied.bucket.put("Ann/P/gone.jpg", "Ann/P/kept.jpg")
    rule = Rule(lambda method, target: method == "DELETE", status, code, times=1)
    proxied.proxy.rules = [rule]
    sent = proxied.proxy.requests
    await proxied.s3.delete("Ann/P/gone.jpg")
    assert (rule.hits, proxied.proxy.requests - sent) == (1, 2)
    assert await keys_in(proxied) == ["Ann/P/kept.jpg"], f"a delete that met {status} was lost"


async def test_the_s3_client_does_not_retry_a_400(proxied: Proxied) -> None:
    """(A DELETE: botocore sends a HEAD that met a 400 again, asking for the bucket's region.)"""
    await proxied.bucket.put("Ann/P/kept.jpg")
    rule = Rule(lambda method, target: method == "DELETE", 400, "InvalidArgument", times=1)
    proxied.proxy.rules = [rule]
    sent = proxied.proxy.requests
    with pytest.raises(S3Error):
        await proxied.s3.delete("Ann/P/kept.jpg")
    assert (rule.hits, proxied.proxy.requests - sent) == (1, 1), "a 400 was sent again"
    assert await keys_in(proxied) == ["Ann/P/kept.jpg"]
