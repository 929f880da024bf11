"""What an upload policy lets its holder do, over HTTP against moto's real server behind the
gate: minutes of life, exactly the declared size and type, a key nobody has written, nothing
replaced unless asked for (and then audited), nothing finished for an admin who may not; and
the demo S3 itself: signed requests only, every write seen by the gate. Signed media URLs
answer with the type the key's extension implies, never the object's own."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from piccolo.engine import Engine

from controllers.uploads import routes
from domain.platform.embedded_s3 import EmbeddedS3
from domain.platform.s3 import S3Service
from domain.platform.settings import Settings
from domain.uploads import tickets
from tests.conftest import Bucket, rows
from tests.test_uploads import JPEG, LIMIT, call, form_post, keys, one, presign
from tests.web import Browser, admin, browser, running_app

HTTP_TIMEOUT_S = 10


@pytest.fixture
async def app_and_b(
    database: Any, bucket: Bucket, settings: Settings, pg_engine: Engine
) -> AsyncIterator[tuple[Any, Browser]]:
    await admin()
    small = replace(settings, upload_max_bytes=LIMIT)
    async with running_app(small, bucket, pg_engine) as app, browser(app) as b:
        await b.sign_in()
        yield app, b


@pytest.fixture
def b(app_and_b: tuple[Any, Browser]) -> Browser:
    return app_and_b[1]


async def body_of(bucket: Bucket, key: str) -> bytes:
    got = await bucket.s3.client.get_object(Bucket=bucket.s3.settings.bucket, Key=key)
    async with got["Body"] as stream:
        return bytes(await stream.read())


async def audit(action: str) -> list[dict[str, Any]]:
    return await rows("SELECT target, detail FROM audit_log WHERE action = $1 ORDER BY id", action)


async def started(b: Browser, *files: dict[str, Any], **extra: Any) -> dict[str, Any]:
    body = {"model": "Ann", "post": "P", "files": list(files), **extra}
    response = await call(b, "/uploads/presign", body)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def finish(b: Browser, ticket: str, *names: str) -> httpx.Response:
    return await call(b, "/uploads/finish", {"ticket": ticket, "files": list(names)})


def expiration(signed: dict[str, Any]) -> datetime:
    policy = json.loads(base64.b64decode(signed["fields"]["policy"]))
    return datetime.strptime(policy["expiration"], "%Y-%m-%dT%H:%M:%S%z").astimezone(UTC)


async def test_a_policy_expires_within_15_minutes_and_a_post_after_it_is_refused(
    b: Browser, bucket: Bucket, monkeypatch: pytest.MonkeyPatch
) -> None:
    signed = (await started(b, one()))["uploads"][0]
    left = expiration(signed) - datetime.now(UTC)
    assert timedelta(0) < left <= timedelta(minutes=15), left
    monkeypatch.setattr(tickets, "POLICY_SECONDS", 1)
    short = (await started(b, one("b.jpg")))["uploads"][0]
    await asyncio.sleep(max(0.0, (expiration(short) - datetime.now(UTC)).total_seconds()) + 1.1)
    late = await form_post(short, JPEG)
    assert late.status_code == 403 and b"Policy expired" in late.content, late.text
    assert await keys(bucket) == []


async def test_a_policy_admits_exactly_the_declared_size_not_a_byte_more_or_less(
    b: Browser, bucket: Bucket
) -> None:
    signed = (await started(b, one()))["uploads"][0]
    more = await form_post(signed, JPEG + b"!")
    assert more.status_code == 400 and b"<Code>EntityTooLarge</Code>" in more.content
    less = await form_post(signed, JPEG[:-1])
    assert less.status_code == 400 and b"<Code>EntityTooSmall</Code>" in less.content
    assert await keys(bucket) == []
    assert (await form_post(signed, JPEG)).status_code == 204


async def test_an_empty_file_gets_a_400_and_no_policy(b: Browser, bucket: Bucket) -> None:
    refused = await presign(b, "Ann", "P", one(size=0))
    assert refused.status_code == 400 and "'a.jpg' is empty (0 bytes)" in refused.json()["detail"]
    signed = (await started(b, one()))["uploads"][0]  # nor does an empty body pass a policy
    empty = await form_post(signed, b"")
    assert empty.status_code == 400 and b"EntityTooSmall" in empty.content
    assert await keys(bucket) == [] and await audit("upload_started") == [
        {"target": "Ann/P/", "detail": "1 file(s), 1004 bytes: a.jpg"}
    ]


async def test_no_policy_is_issued_for_a_key_that_exists(b: Browser, bucket: Bucket) -> None:
    await bucket.put("Ann/P/a.jpg", body=JPEG)
    refused = await presign(b, "Ann", "P", one("new.jpg"), one("a.jpg"))
    assert refused.status_code == 409, refused.text
    assert "'a.jpg' is already in this post" in refused.json()["detail"]
    assert "Replace files of the same name" in refused.json()["detail"]
    assert await audit("upload_started") == []
    signed = (await started(b, one("new.jpg")))["uploads"][0]  # the key the policy names is new
    assert signed["key"].startswith("_uploads/") and signed["fields"]["key"] == signed["key"]
    assert await keys(bucket) == ["Ann/P/a.jpg"]


async def test_reposting_a_used_policy_never_replaces_the_posted_file(
    b: Browser, bucket: Bucket
) -> None:
    answer = await started(b, one())
    signed = answer["uploads"][0]
    assert (await form_post(signed, JPEG)).status_code == 204
    assert (await finish(b, answer["ticket"], "a.jpg")).status_code == 200
    other = b"\xff\xd8" + b"X" * (len(JPEG) - 2)  # same size and type: the policy admits it
    again = await form_post(signed, other)
    assert again.status_code == 204  # S3 cannot refuse it: the policy is still valid ...
    assert await body_of(bucket, "Ann/P/a.jpg") == JPEG  # ... but it lands in staging only
    refinish = await finish(b, answer["ticket"], "a.jpg")
    assert refinish.status_code == 409 and "already in this post" in refinish.text
    assert await body_of(bucket, "Ann/P/a.jpg") == JPEG
    assert len(await audit("upload_finished")) == 1 and await audit("upload_replaced") == []


async def test_the_finish_refuses_what_landed_with_another_size_or_type_and_audits_success(
    b: Browser, bucket: Bucket
) -> None:
    answer = await started(b, one(), one("b.png", "image/png"))
    a, png = answer["uploads"]
    await bucket.s3.upload(a["key"], JPEG + b"!!", "image/jpeg")  # past the policy, signed
    await bucket.s3.upload(png["key"], JPEG, "image/png")
    wrong_size = await finish(b, answer["ticket"], "a.jpg", "b.png")
    assert wrong_size.status_code == 409
    assert "'a.jpg' arrived as 1006 bytes, not the 1004 declared" in wrong_size.text
    await bucket.s3.upload(a["key"], JPEG, "text/html")
    wrong_type = await finish(b, answer["ticket"], "a.jpg", "b.png")
    assert wrong_type.status_code == 409
    assert "'a.jpg' arrived as 'text/html', not the declared image/jpeg" in wrong_type.text
    assert [k for k in await keys(bucket) if k.startswith("Ann/")] == []  # nothing in the post
    assert (await form_post(a, JPEG)).status_code == 204
    done = await finish(b, answer["ticket"], "a.jpg", "b.png")
    assert done.status_code == 200, done.text
    assert await keys(bucket) == ["Ann/P/a.jpg", "Ann/P/b.png"]  # staging emptied
    [entry] = await audit("upload_finished")
    assert entry["target"] == "Ann/P/"
    assert entry["detail"].startswith(
        "2 file(s) checked and in the post: a.jpg (1004 bytes, image/jpeg, "
    )
    assert "b.png (1004 bytes, image/png, " in entry["detail"]


async def test_replacing_a_file_is_asked_for_and_audited_as_such(
    b: Browser, bucket: Bucket
) -> None:
    await bucket.put("Ann/P/a.jpg", body=b"old bytes")
    answer = await started(b, one(), replace=True)
    [entry] = await audit("upload_started")
    assert entry["detail"].endswith("; replacing 1: a.jpg")
    assert (await form_post(answer["uploads"][0], JPEG)).status_code == 204
    assert (await finish(b, answer["ticket"], "a.jpg")).status_code == 200
    assert await body_of(bucket, "Ann/P/a.jpg") == JPEG
    [replaced] = await audit("upload_replaced")
    assert replaced["target"] == "Ann/P/" and replaced["detail"].startswith("a.jpg (")
    # The form without JavaScript: the same choice, the same audit line.
    await b.get("/uploads")
    form = {"model": "Ann", "post": "P", "_csrf_token": b.token}
    files = [("files", ("a.jpg", b"\xff\xd8 third", "image/jpeg"))]
    refused = await b.client.post("/uploads", data=form, files=files)
    assert refused.status_code == 409 and "already in this post" in refused.text
    done = await b.client.post("/uploads", data={**form, "replace": "on"}, files=files)
    assert done.status_code == 303, done.text
    assert await body_of(bucket, "Ann/P/a.jpg") == b"\xff\xd8 third"
    assert [r["detail"] for r in await audit("upload_replaced")][1] == "a.jpg"


async def _never_active(user_id: int) -> None:
    return None


async def test_an_upload_is_finished_only_for_its_own_still_active_admin(
    app_and_b: tuple[Any, Browser], bucket: Bucket, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, b = app_and_b
    answer = await started(b, one())
    assert (await form_post(answer["uploads"][0], JPEG)).status_code == 204
    await admin("other")
    async with browser(app) as other:
        await other.sign_in("other")
        theirs = await finish(other, answer["ticket"], "a.jpg")
        assert theirs.status_code == 403 and "another admin" in theirs.text
        renew = await call(other, "/uploads/renew", {"ticket": answer["ticket"], "name": "a.jpg"})
        assert renew.status_code == 403
    # Deactivated while the request was in flight (past the sign-in check): the finish step
    # asks again whether the ticket's admin is active.
    with monkeypatch.context() as patched:
        patched.setattr(routes, "signed_in", _never_active)
        raced = await finish(b, answer["ticket"], "a.jpg")
    assert raced.status_code == 403 and "no longer active" in raced.text
    await rows("UPDATE piccolo_user SET active = false WHERE username = 'tester'")
    gone = await finish(b, answer["ticket"], "a.jpg")
    assert gone.status_code == 303 and gone.headers["location"].startswith("/login")
    assert [k for k in await keys(bucket) if k.startswith("Ann/")] == []
    assert await audit("upload_finished") == []


async def test_a_policy_is_renewed_only_for_a_file_not_sent_yet(b: Browser, bucket: Bucket) -> None:
    answer = await started(b, one())
    body = {"ticket": answer["ticket"], "name": "a.jpg"}
    renewed = await call(b, "/uploads/renew", body)
    assert renewed.status_code == 200 and renewed.json()["key"] == answer["uploads"][0]["key"]
    assert (await form_post(renewed.json(), JPEG)).status_code == 204
    late = await call(b, "/uploads/renew", body)
    assert late.status_code == 409 and "already reached the bucket" in late.text
    forged = answer["ticket"][:-4] + "0000"
    assert (await finish(b, forged, "a.jpg")).status_code == 400


async def test_the_demo_s3_refuses_unsigned_requests_and_gates_every_write(
    open_tmp: Path,
) -> None:
    embedded = EmbeddedS3(Settings(data_dir=open_tmp, embedded_s3_port=0, port=8123))
    try:
        endpoint = embedded.start().endpoint
        assert embedded.address == "127.0.0.1"  # loopback only
        async with (
            S3Service(embedded.settings) as s3,
            httpx.AsyncClient(timeout=HTTP_TIMEOUT_S) as anon,
        ):
            await embedded.restore(s3)
            await s3.upload("Ann/P/a.jpg", JPEG)  # signed: accepted
            base = f"{endpoint}/{s3.settings.bucket}"
            delete_xml = "<Delete><Object><Key>Ann/P/a.jpg</Key></Object></Delete>"
            attempts = {
                "PUT": await anon.put(f"{base}/Ann/P/evil.jpg", content=b"<html>"),
                "PUT copy": await anon.put(
                    f"{base}/Ann/P/copy.jpg", headers={"x-amz-copy-source": "/x/Ann/P/a.jpg"}
                ),
                "DELETE": await anon.delete(f"{base}/Ann/P/a.jpg"),
                "POST ?delete": await anon.post(f"{base}?delete", content=delete_xml),
                "POST ?delete form": await anon.post(
                    f"{base}?delete", data={"key": "Ann/P/x.jpg"}, files={"file": ("x", b"<")}
                ),
                "POST ?x=delete form": await anon.post(
                    f"{base}?x=delete", data={"key": "Ann/P/x.jpg"}, files={"file": ("x", b"<")}
                ),
                "POST form": await anon.post(
                    base, data={"key": "Ann/P/x.jpg"}, files={"file": ("x", b"<")}
                ),
                "GET": await anon.get(f"{base}/Ann/P/a.jpg"),
                "moto-api reset": await anon.post(f"{endpoint}/moto-api/reset"),
                "forged Authorization": await anon.put(
                    f"{base}/Ann/P/evil.jpg",
                    headers={
                        "Authorization": "AWS4-HMAC-SHA256 Credential=demo/20250101/us-east-1/s3/"
                        "aws4_request, SignedHeaders=host, Signature=" + "0" * 64,
                        "x-amz-date": datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ"),
                    },
                ),
            }
            statuses = {what: r.status_code for what, r in attempts.items()}
            assert statuses == dict.fromkeys(attempts, 403), statuses
            assert [o.key async for page in s3.list_pages("") for o in page] == ["Ann/P/a.jpg"]
            url = await s3.sign("Ann/P/a.jpg")
            assert (await anon.get(url)).content == JPEG  # a presigned URL is signed
            tampered = url.replace("Ann/P/a.jpg", "Ann/P/b.jpg")
            assert (await anon.get(tampered)).status_code == 403
            wrong = S3Service(replace(embedded.settings, secret="not-the-secret"), max_attempts=1)
            async with wrong:
                with pytest.raises(Exception, match="SignatureDoesNotMatch"):
                    await wrong.upload("Ann/P/evil.jpg", b"<html>")
            await s3.delete("Ann/P/a.jpg")
    finally:
        embedded.stop()


async def test_signed_media_urls_answer_with_the_extensions_type_not_the_objects(
    bucket: Bucket,
) -> None:
    hostile = b"<html><script>alert(1)</script></html>"
    await bucket.s3.upload("Ann/P/evil.jpg", hostile, "text/html")
    await bucket.s3.upload("Ann/P/clip.mp4", hostile, "text/html")
    await bucket.s3.upload("Ann/P/page.html", hostile, "text/html")
    async with httpx.AsyncClient(timeout=HTTP_TIMEOUT_S) as anon:
        jpg = await anon.get(await bucket.s3.sign("Ann/P/evil.jpg"))
        mp4 = await anon.get(await bucket.s3.sign("Ann/P/clip.mp4"))
        page = await anon.get(await bucket.s3.sign("Ann/P/page.html"))
    assert (
        jpg.headers["content-type"] == "image/jpeg" and mp4.headers["content-type"] == "video/mp4"
    )
    assert jpg.headers["content-disposition"] == "inline"
    assert page.headers["content-type"] == "application/octet-stream"
    assert page.headers["content-disposition"] == "attachment"


async def test_every_unsigned_post_to_a_bucket_meets_the_policy_check_whatever_its_query(
    bucket: Bucket,
) -> None:
    """The tests' shared S3 lets unsigned reads through, never an unchecked POST: a query
    holding `delete` no longer skips the gate (moto took such forms as uploads)."""
    base = f"{bucket.s3.settings.endpoint}/{bucket.s3.settings.bucket}"
    form = {"key": "Ann/P/evil.jpg", "Content-Type": "text/html"}
    async with httpx.AsyncClient(timeout=HTTP_TIMEOUT_S) as anon:
        for query in ("?delete", "?x=delete", "?undelete=1", ""):
            sent = await anon.post(base + query, data=form, files={"file": ("x", b"<html>")})
            assert sent.status_code == 403, (query, sent.status_code, sent.text[:200])
        xml = "<Delete><Object><Key>Ann/P/a.jpg</Key></Object></Delete>"
        await bucket.put("Ann/P/a.jpg")
        unsigned_delete = await anon.post(base + "?delete", content=xml)
        assert unsigned_delete.status_code == 403
    assert await keys(bucket) == ["Ann/P/a.jpg"]
