"""Settings validation, the S3 service's errors and signing, and loud start-up failures."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import httpx
import pytest

from domain.platform.db import DatabaseUnavailable
from domain.platform.runtime import Runtime
from domain.platform.s3 import S3BucketMissing, S3Service, S3Unreachable
from domain.platform.settings import Settings, SettingsError
from harness.ports import free_port
from tests.conftest import Bucket

S3_ENV = {
    "DO_SPACES_ENDPOINT": "https://nyc3.example.com",
    "DO_SPACES_KEY": "k",
    "DO_SPACES_SECRET": "s",
    "DO_SPACES_BUCKET": "b",
}


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"DATABASE_URL": "mysql://x/y"}, "DATABASE_URL"),
        ({"SIGNED_URL_TTL": "soon"}, "SIGNED_URL_TTL"),
        ({"SIGNED_URL_TTL": "5"}, "SIGNED_URL_TTL"),
        ({"SYNC_MAX_DELETE_FRACTION": "2"}, "SYNC_MAX_DELETE_FRACTION"),
        ({"SYNC_CONCURRENCY": "0"}, "SYNC_CONCURRENCY"),
        ({"DO_SPACES_KEY": "k"}, "DO_SPACES_ENDPOINT"),
        ({**S3_ENV, "DO_SPACES_ENDPOINT": "nyc3"}, "DO_SPACES_ENDPOINT"),
        ({**S3_ENV, "DO_SPACES_CDN_URL": "cdn.example.com"}, "DO_SPACES_CDN_URL"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"HOST": "http://0.0.0.0:8000"}, "HOST"),
        ({"PORT": "80000"}, "PORT"),
        ({"EMBEDDED_S3_PORT": "s3"}, "EMBEDDED_S3_PORT"),
        ({"WORKER_NAME": "worker\n1"}, "WORKER_NAME"),
    ],
)
def test_malformed_settings_name_the_variable(env: dict[str, str], names: str) -> None:
    with pytest.raises(SettingsError, match=names):
        Settings.from_env(env)


def test_defaults_and_full_configuration() -> None:
    empty = Settings.from_env({})
    assert empty.database_url is None and empty.s3 is None and empty.demo
    assert empty.signed_url_ttl == 3600 and empty.sync_max_delete_fraction == 0.2
    full = Settings.from_env(
        {
            **S3_ENV,
            "DATABASE_URL": "postgresql://u:p@h/db",
            "DO_SPACES_CDN_URL": "https://cdn.example.com/",
        }
    )
    assert full.s3 is not None and full.s3.public_base == "https://cdn.example.com"
    assert not full.demo and full.s3.region == "us-east-1"
    assert (empty.host, empty.port, empty.embedded_s3_port, empty.worker_name) == (
        "127.0.0.1",
        8000,
        9455,
        "",
    )
    listen = Settings.from_env({"HOST": "::", "PORT": "8080", "WORKER_NAME": "worker-2@web1"})
    assert (listen.host, listen.port, listen.worker_name) == ("::", 8080, "worker-2@web1")


def closed_port() -> int:
    return free_port()  # closed again: nothing listens there


async def test_unreachable_endpoint_and_missing_bucket_are_named(bucket: Bucket) -> None:
    dead = replace(bucket.s3.settings, endpoint=f"http://127.0.0.1:{closed_port()}")
    async with S3Service(dead, max_attempts=1, timeout=2) as s3:
        with pytest.raises(S3Unreachable, match="DO_SPACES_ENDPOINT"):
            await s3.check()
    missing = replace(bucket.s3.settings, bucket="no-such-bucket")
    async with S3Service(missing, max_attempts=1) as s3:
        with pytest.raises(S3BucketMissing, match="DO_SPACES_BUCKET"):
            await s3.check()


async def test_upload_content_type_and_signed_urls(bucket: Bucket) -> None:
    await bucket.s3.upload("M/P/photo one.jpg", b"\xff\xd8jpeg")
    head = await bucket.s3.client.head_object(
        Bucket=bucket.s3.settings.bucket, Key="M/P/photo one.jpg"
    )
    assert head["ContentType"] == "image/jpeg"
    url = await bucket.s3.sign("M/P/photo one.jpg")
    assert url == await bucket.s3.sign("M/P/photo one.jpg")  # cached, not re-signed
    assert "X-Amz-Expires=600" in url
    async with httpx.AsyncClient() as client:
        assert (await client.get(url)).content == b"\xff\xd8jpeg"


async def test_startup_fails_loudly_when_the_database_is_unreachable(settings: Any) -> None:
    bad = replace(settings, database_url=f"postgresql://nobody@127.0.0.1:{closed_port()}/x")
    runtime = Runtime(bad)
    with pytest.raises(DatabaseUnavailable, match="DATABASE_URL"):
        await runtime.start()
