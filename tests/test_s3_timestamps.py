"""The S3 client's timestamp parser: same instants as botocore's, installed on the client."""

from __future__ import annotations

from datetime import datetime

import pytest
from botocore.utils import parse_timestamp

import domain.platform.s3_pages
import domain.platform.s3_rows
from domain.platform.s3 import S3Service, fast_timestamp
from domain.platform.settings import S3Settings

VALUES = [
    "2026-01-01T00:00:00.000Z",  # what S3 (and moto) put in ListObjectsV2's LastModified
    "2025-06-30T23:59:59.123Z",
    "2026-01-01T00:00:00Z",
    "2026-01-01T01:00:00+01:00",
    "Thu, 01 Jan 2026 00:00:00 GMT",  # RFC 822 headers: botocore's parser
    "1700000000",  # epoch seconds: botocore's parser
    "20260101",  # an epoch to botocore, a date to fromisoformat: must stay botocore's
    1700000000,
]


@pytest.mark.parametrize("value", VALUES, ids=str)
def test_fast_timestamp_gives_botocores_instant(value: object) -> None:
    fast, slow = fast_timestamp(value), parse_timestamp(value)
    assert fast == slow
    assert fast.utcoffset() == slow.utcoffset()


def test_fast_timestamp_rejects_what_botocore_rejects() -> None:
    with pytest.raises(ValueError):
        parse_timestamp("not a time")
    with pytest.raises(ValueError):
        fast_timestamp("not a time")


async def test_listings_parse_last_modified_with_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """A real listing (moto's server) goes through fast_timestamp and keeps the instant."""
    from moto.server import ThreadedMotoServer

    seen: list[object] = []

    def spy(value: object) -> datetime:
        seen.append(value)
        return fast_timestamp(value)

    # Whichever parser reads the page (the fast path's rows or lxml) goes through it.
    monkeypatch.setattr(domain.platform.s3_rows, "fast_timestamp", spy)
    monkeypatch.setattr(domain.platform.s3_pages, "fast_timestamp", spy)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        settings = S3Settings(f"http://{host}:{port}", "us-east-1", "k", "s", "ts-bucket")
        async with S3Service(settings) as s3:
            await s3.create_bucket()
            await s3.upload("Model/Post/a.jpg", b"x")
            objects = [o async for page in s3.list_pages("") for o in page]
    finally:
        server.stop()
    assert [o.key for o in objects] == ["Model/Post/a.jpg"]
    assert seen, "the listing's LastModified did not go through fast_timestamp"
    modified = objects[0].last_modified
    assert modified is not None and modified == parse_timestamp(seen[0])
    assert modified.utcoffset() is not None
