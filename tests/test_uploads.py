"""Uploads over HTTP: the presign endpoint's refusals, real browser-form POSTs to moto's server
under the returned policy (which it refuses as S3 does), the end of an upload (a sync of the
model), the form without JavaScript, and the audit lines."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from piccolo.engine import Engine

from domain.platform.embedded_s3 import EmbeddedS3
from domain.platform.s3 import S3Service
from domain.platform.settings import Settings
from tests.conftest import Bucket, count, eventually, rows
from tests.web import Browser, admin, browser, running_app

LIMIT = 9 * 1024 * 1024  # above one part (8 MiB), so the server-side path uploads in parts
JPEG = b"\xff\xd8\xff\xe0" + b"j" * 1000


@pytest.fixture
async def b(
    database: Any, bucket: Bucket, settings: Settings, pg_engine: Engine
) -> AsyncIterator[Browser]:
    await admin()
    small = replace(settings, upload_max_bytes=LIMIT)
    async with running_app(small, bucket, pg_engine) as app, browser(app) as b:
        await b.sign_in()
        yield b


async def call(b: Browser, path: str, body: dict[str, Any], **headers: str) -> httpx.Response:
    return await b.client.post(
        path,
        json=body,
        headers={"x-csrftoken": b.token, "Accept": "application/json", **headers},
    )


def one(name: str = "a.jpg", type: str = "image/jpeg", size: int = len(JPEG)) -> dict[str, Any]:
    return {"name": name, "type": type, "size": size}


async def presign(b: Browser, model: str, post: str, *files: dict[str, Any]) -> httpx.Response:
    return await call(b, "/uploads/presign", {"model": model, "post": post, "files": list(files)})


async def actions() -> list[str]:
    """The audit log's actions since signing in."""
    found = await rows("SELECT action FROM audit_log WHERE action <> 'sign_in' ORDER BY id")
    return [r["action"] for r in found]


async def keys(bucket: Bucket) -> list[str]:
    return [o.key async for page in bucket.s3.list_pages("") for o in page]


async def form_post(signed: dict[str, Any], body: bytes, **changed: str) -> httpx.Response:
    """The browser's POST of one file to the bucket, with some fields changed."""
    fields = {**signed["fields"], **changed}
    async with httpx.AsyncClient(timeout=30) as client:
        return await client.post(signed["url"], data=fields, files={"file": ("x", body)})


async def test_presign_refuses_bad_names_types_and_sizes_naming_them(
    b: Browser, bucket: Bucket
) -> None:
    cases = [
        (("a/b", "P", one()), "'a/b'"),
        ((".x", "P", one()), "'.x'"),
        (("_x", "P", one()), "'_x'"),
        (("", "P", one()), "model name is empty"),
        (("Ann", "a/b", one()), "'a/b'"),
        (("Ann", "_drafts", one()), "'_drafts'"),
        (("Ann", "profile", one()), "'profile'"),
        (("Ann", "P", one(".hidden.jpg")), "'.hidden.jpg'"),
        (("Ann", "P", one("bell\x07.jpg")), "U+0007"),
        (("Ann", "P", one("x" * 201 + ".jpg")), "at most 200"),
        (("Ann", "P", one("page.html", "text/html")), ".html files cannot be uploaded"),
        (("Ann", "P", one("a.gif", "image/gif")), ".gif files"),
        (("Ann", "P", one("a.jpg", "text/html")), "'text/html'"),
        (("Ann", "P", one("a.jpg", size=LIMIT + 1)), "over the upload limit of 9.0 MiB"),
        (("Ann", "P", one("a.jpg", size=0)), "is empty"),
        (("Ann", "P", one(), one()), "'a.jpg' is chosen twice"),
        (("Ann", "P"), "No files were chosen"),
    ]
    for (model, post, *files), named in cases:
        response = await presign(b, model, post, *files)
        assert response.status_code == 400, (model, post, files, response.text)
        assert named in response.json()["detail"], (named, response.json())
    assert await keys(bucket) == []
    assert await rows("SELECT * FROM audit_log WHERE action LIKE 'upload%'") == []


async def test_presigned_post_stores_the_file_and_the_policy_refuses_the_rest(
    b: Browser, bucket: Bucket
) -> None:
    response = await presign(b, "Ann Lee", "Beach day", one("sun.jpg"), one("clip.mp4", "", 10))
    assert response.status_code == 200, response.text
    signed = {u["name"]: u for u in response.json()["uploads"]}
    sun, clip = signed["sun.jpg"], signed["clip.mp4"]
    assert sun["key"].startswith("_uploads/") and sun["key"].endswith("/sun.jpg")  # staged
    assert sun["fields"]["Content-Type"] == "image/jpeg"
    assert clip["fields"]["Content-Type"] == "video/mp4"  # the browser did not say: the extension
    # The policy binds the size, the type and the key: S3 (and the gated moto) refuse the rest.
    too_big = await form_post(sun, b"\xff" * (LIMIT + 1))
    assert too_big.status_code == 400 and b"<Code>EntityTooLarge</Code>" in too_big.content
    wrong_type = await form_post(sun, JPEG, **{"Content-Type": "text/html"})
    assert wrong_type.status_code == 403 and b"Policy Condition failed" in wrong_type.content
    other_key = await form_post(sun, JPEG, key="Ann Lee/Beach day/other.jpg")
    assert other_key.status_code == 403
    forged = await form_post(sun, JPEG, policy=clip["fields"]["policy"])
    assert forged.status_code == 403 and b"SignatureDoesNotMatch" in forged.content
    assert await keys(bucket) == []
    landed = await form_post(sun, JPEG)
    assert landed.status_code == 204, landed.text
    head = await bucket.s3.client.head_object(Bucket=bucket.s3.settings.bucket, Key=sun["key"])
    assert head["ContentLength"] == len(JPEG) and head["ContentType"] == "image/jpeg"
    finished = await call(
        b, "/uploads/finish", {"ticket": response.json()["ticket"], "files": ["sun.jpg"]}
    )
    assert finished.status_code == 200, finished.text
    assert await keys(bucket) == ["Ann Lee/Beach day/sun.jpg"]  # moved from staging
    # The same name again would replace it: refused before anything is signed.
    again = await presign(b, "Ann Lee", "Beach day", one("sun.jpg"))
    assert again.status_code == 409 and "'sun.jpg'" in again.json()["detail"]


async def test_finishing_an_upload_syncs_the_model_and_audits_it(
    b: Browser, bucket: Bucket
) -> None:
    files = [one("1.jpg"), one("2.jpg"), one("3.png", "image/png")]
    answer = (await presign(b, "Новая модель 🌸", "First post", *files)).json()
    signed = answer["uploads"]
    assert [(await form_post(u, JPEG)).status_code for u in signed[:2]] == [204, 204]
    body: dict[str, Any] = {"ticket": answer["ticket"], "files": ["1.jpg", "2.jpg", "3.png"]}
    missing = await call(b, "/uploads/finish", body, **{"HX-Request": "true"})
    assert missing.status_code == 409 and "'3.png' did not reach the bucket" in missing.text
    assert (await form_post(signed[2], JPEG)).status_code == 204
    finished = await call(b, "/uploads/finish", body, **{"HX-Request": "true"})
    assert finished.status_code == 200, finished.text
    run_id = int(re.search(r"Sync #(\d+)", finished.text).group(1))  # type: ignore[union-attr]
    assert "/staged/%D0%9D" in finished.text  # the link to the model page
    run = await b.wait_for_run(run_id)
    assert run.status == "succeeded" and run.scope == "Новая модель 🌸"
    posts = await rows(
        "SELECT p.title, p.image_count FROM whitelabel_posts p "
        "JOIN whitelabel_models m ON m.id = p.whitelabel_model WHERE m.folder_name = $1",
        "Новая модель 🌸",
    )
    assert posts == [{"title": "First post", "image_count": 3}]
    steps = ["upload_started", "upload_finished", "sync_started", "sync_finished"]
    await eventually(actions, steps)  # the worker writes the last line after the run ends
    audit = await rows("SELECT target, detail FROM audit_log WHERE action LIKE 'u%' ORDER BY id")
    assert audit[0]["target"] == "Новая модель 🌸/First post/"
    assert audit[0]["detail"].startswith("3 file(s), 2.9 KiB: 1.jpg, 2.jpg, 3.png")
    assert audit[1]["detail"].startswith("3 file(s) checked and in the post: 1.jpg (1004 bytes")
    assert audit[1]["detail"].endswith(f"; run #{run_id}")


async def test_the_form_without_javascript_stores_the_files_and_syncs(
    b: Browser, bucket: Bucket
) -> None:
    page = await b.get("/uploads?model=Ann")
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.text
    assert 'value="Ann"' in page.text
    big = b"\x00\x01" * (4 * 1024 * 1024 + 100)  # 8 MiB + 200 bytes: two parts
    files = [
        ("files", ("big.mp4", big, "video/mp4")),
        ("files", ("small.webp", JPEG, "image/webp")),
    ]
    form = {"model": "Ann", "post": "Server side", "_csrf_token": b.token}
    response = await b.client.post("/uploads", data=form, files=files)
    assert response.status_code == 303, response.text
    run_id = int(response.headers["location"].rsplit("/", 1)[1])
    assert (await b.wait_for_run(run_id)).status == "succeeded"
    stored = await bucket.s3.client.head_object(
        Bucket=bucket.s3.settings.bucket, Key="Ann/Server side/big.mp4"
    )
    assert stored["ContentLength"] == len(big) and stored["ContentType"] == "video/mp4"
    assert await count("whitelabel_media") == 2
    steps = ["upload_started", "upload_finished", "sync_started", "sync_finished"]
    await eventually(actions, steps)


async def test_the_form_without_javascript_refuses_within_the_same_limits(
    b: Browser, bucket: Bucket
) -> None:
    await b.get("/uploads")
    form = {"model": "Ann", "post": "P", "_csrf_token": b.token}
    cases = [
        ([("files", ("a.jpg", b"\xff" * (LIMIT + 1), "image/jpeg"))], 400, "over the upload limit"),
        ([("files", ("a.jpg", JPEG, "text/html"))], 400, "&#39;text/html&#39;"),
        ([("files", ("notes.txt", b"hi", "text/plain"))], 400, ".txt files cannot be uploaded"),
        ([("files", ("", b"", "application/octet-stream"))], 400, "No files were chosen"),
    ]
    for files, status, named in cases:
        response = await b.client.post("/uploads", data=form, files=files)
        assert response.status_code == status, (files[0][1][0], response.status_code)
        assert named in response.text, (named, response.text[-2000:])
        assert 'value="Ann"' in response.text  # the form again, filled in
    no_files = await b.post("/uploads", {"model": "Ann", "post": "P"})  # URL-encoded, no files
    assert no_files.status_code == 400 and "No files were chosen" in no_files.text
    bad_name = await b.client.post(
        "/uploads", data={**form, "post": "../up"}, files=[("files", ("a.jpg", JPEG, "image/jpeg"))]
    )
    assert bad_name.status_code == 400 and "&#39;../up&#39;" in bad_name.text
    too_large = await b.client.post(
        "/uploads", data=form, files=[("files", ("a.jpg", b"\xff" * (LIMIT + 2**21), "image/jpeg"))]
    )
    assert too_large.status_code == 413 and "at most 10.0 MiB" in too_large.text
    assert await keys(bucket) == [] and await count("sync_runs") == 0


async def test_pages_may_connect_to_the_bucket_and_nowhere_else(b: Browser, bucket: Bucket) -> None:
    csp = (await b.get("/uploads")).headers["content-security-policy"]
    endpoint = bucket.s3.settings.endpoint
    assert f"connect-src 'self' {endpoint};" in csp
    assert "form-action 'self';" in csp


async def test_the_embedded_s3_allows_the_admins_origin_and_checks_policies(
    open_tmp: Path,
) -> None:
    """`make run`'s bucket: the CORS rule for the app's own address, and POST policies held."""
    embedded = EmbeddedS3(Settings(data_dir=open_tmp, embedded_s3_port=0, port=8123))
    try:
        async with S3Service(embedded.start()) as s3:
            await embedded.restore(s3)
            cors = await s3.client.get_bucket_cors(Bucket=s3.settings.bucket)
            assert cors["CORSRules"] == [
                {
                    "AllowedOrigins": ["http://127.0.0.1:8123", "http://localhost:8123"],
                    "AllowedMethods": ["POST"],
                    "AllowedHeaders": ["*"],
                    "ExposeHeaders": ["ETag"],
                    "MaxAgeSeconds": 3000,
                }
            ]
            signed = await s3.presign_post("Ann/P/a.jpg", "image/jpeg", len(JPEG), 60)
            too_big = await form_post(signed, JPEG + b"!")
            assert too_big.status_code == 400 and b"EntityTooLarge" in too_big.content
            assert (await form_post(signed, JPEG)).status_code == 204
            await s3.delete("Ann/P/a.jpg")
    finally:
        embedded.stop()
