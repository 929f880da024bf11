"""An upload's model field suggests the existing models as the admin types, and an upload that
would make a model beside one spelled alike (case, accents, spaces) is refused until a new model
is asked for: in the browser's path, the form without JavaScript, and the suggestions."""

from __future__ import annotations

import html
import re

from tests.conftest import Bucket, count
from tests.test_uploads import JPEG, call, keys, one
from tests.web import Browser

EXISTING = ("Emi Tanaka", "Zoë Drop", "Tanaka Studio", "<i>Bold")


async def staged(b: Browser, bucket: Bucket) -> None:
    await bucket.put(*(f"{name}/P/a.jpg" for name in EXISTING))
    run = await b.sync_now()
    assert run.status == "succeeded", run.error


async def suggestions(b: Browser, typed: str) -> str:
    answer = await b.client.get(
        "/uploads/models", params={"model": typed, "post": "Day"}, headers={"HX-Request": "true"}
    )
    assert answer.status_code == 200, answer.text[:300]
    assert "<form" not in answer.text  # the fragment alone
    return answer.text


def options(fragment: str) -> list[str]:
    return [html.unescape(v) for v in re.findall(r'<option value="([^"]*)"', fragment)]


async def test_typing_suggests_existing_models_and_flags_one_spelled_alike(
    signed_in: Browser, bucket: Bucket
) -> None:
    b = signed_in
    await staged(b, bucket)
    fragment = await suggestions(b, "tanaka")
    assert set(options(fragment)) >= {"Emi Tanaka", "Tanaka Studio"}
    assert "data-lookalike" not in fragment and "data-new-model" in fragment
    for typed, meant in [("emi tanaka", "Emi Tanaka"), ("zoe  DROP", "Zoë Drop")]:
        fragment = await suggestions(b, typed)
        warning = fragment.split("data-lookalike", 1)[1]
        assert html.unescape(warning).count(meant) >= 2, warning  # named, and a "Use" link
        assert 'name="new_model"' in warning
        assert options(fragment)[0] == meant  # the most alike first
    exact = await suggestions(b, "Emi Tanaka")
    assert "data-lookalike" not in exact and "Adds a post to the existing model" in exact
    assert "Emi Tanaka" not in options(exact)
    # Names are user content: shown escaped, in the options and the warning.
    bold = await suggestions(b, "<I>bold")
    assert "<i>Bold" not in bold and bold.count("&lt;i&gt;Bold") >= 3  # option, name, link
    too_long = await b.client.get("/uploads/models", params={"model": "x" * 201})
    assert too_long.status_code == 400 and "use at most 200" in too_long.text


async def test_an_upload_beside_a_lookalike_needs_new_model_asked_for(
    signed_in: Browser, bucket: Bucket
) -> None:
    b = signed_in
    await staged(b, bucket)
    body = {"model": "emi tanaka", "post": "Day", "files": [one()]}
    refused = await call(b, "/uploads/presign", body)
    assert refused.status_code == 409, refused.text
    assert "'Emi Tanaka' exists and differs only in case, accents or spaces" in refused.text
    asked = await call(b, "/uploads/presign", {**body, "new_model": True})
    assert asked.status_code == 200, asked.text
    into_existing = await call(b, "/uploads/presign", {**body, "model": "Emi Tanaka"})
    assert into_existing.status_code == 200, into_existing.text
    unlike = await call(b, "/uploads/presign", {**body, "model": "Emi Tanabe"})
    assert unlike.status_code == 200, unlike.text


async def test_the_form_without_javascript_warns_and_keeps_what_was_typed(
    signed_in: Browser, bucket: Bucket
) -> None:
    b = signed_in
    await staged(b, bucket)
    before = sorted(await keys(bucket))
    form = {"model": "ZOE DROP", "post": "Day", "_csrf_token": b.token}
    files = [("files", ("a.jpg", JPEG, "image/jpeg"))]
    refused = await b.client.post("/uploads", data=form, files=files)
    assert refused.status_code == 409
    page = html.unescape(refused.text)
    assert "'Zoë Drop' exists" in page and 'value="ZOE DROP"' in page and 'value="Day"' in page
    section = refused.text.split('id="upload-model-suggestions"', 1)[1][:1500]
    assert 'name="new_model"' in section, section
    assert 'href="/uploads?model=Zo%C3%AB+Drop&amp;post=Day">Use Zoë Drop' in section, section
    assert sorted(await keys(bucket)) == before and await count("whitelabel_models") == 4
    made = await b.client.post("/uploads", data={**form, "new_model": "on"}, files=files)
    assert made.status_code == 303, made.text[:300]
    assert "ZOE DROP/Day/a.jpg" in await keys(bucket)
