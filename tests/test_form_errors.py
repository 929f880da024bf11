"""A refused form comes back marked: its 4xx, the message next to the field (aria-invalid, and
aria-describedby naming the message), a summary on top, and what the admin typed kept; for htmx
only the form's partial, retargeted at the form; without JavaScript the whole page. And the edit
form's Save, Save and continue editing, Cancel."""

from __future__ import annotations

import html
import re
from typing import Any

import httpx
import pytest

from domain.platform.tables import Model
from tests.conftest import rows
from tests.web import Browser

NAME = "Zoë «Ann» 🌸"  # user content: any Unicode, and markup characters


async def models() -> tuple[int, int]:
    ids = []
    for name, slug in (("Anna", "anna"), ("Ben", "ben")):
        made = await Model.insert(Model(name=name, slug=slug)).returning(Model.id)
        ids.append(int(made[0]["id"]))
    return ids[0], ids[1]


def control(page: str, element_id: str) -> str:
    """The opening tag of the element with this id (exactly one)."""
    found = re.findall(
        rf'<(?:input|textarea|select)\b[^>]*\bid="{re.escape(element_id)}"[^>]*>', page
    )
    assert len(found) == 1, (element_id, found, page[:3000])
    return str(found[0])


def message(page: str, element_id: str) -> str:
    """The text of the element with this id (a field's error message)."""
    found = re.search(rf'<p\b[^>]*\bid="{re.escape(element_id)}"[^>]*>(.*?)</p>', page, re.S)
    assert found, (element_id, page[:3000])
    return html.unescape(found.group(1))


def assert_marked(page: str, field_id: str, says: str, summary_on_top: bool = True) -> None:
    """The field is invalid, described by its message, which says `says`; the summary says it
    (or, for a form in a table row swapped alone, the message is read out itself)."""
    tag = control(page, field_id)
    assert 'aria-invalid="true"' in tag, tag
    described = re.search(r'aria-describedby="([^"]*)"', tag)
    assert described and f"{field_id}-error" in described.group(1).split(), tag
    assert says in message(page, f"{field_id}-error")
    if not summary_on_top:
        assert re.search(rf'<p class="form-error" id="{field_id}-error" role="alert">', page)
        return
    summary = re.search(r"<div[^>]*data-error-summary[^>]*>(.*?)</div>", page, re.S)
    assert summary and 'role="alert"' in summary.group(0), page[:3000]
    assert says in html.unescape(summary.group(1)) and f'href="#{field_id}"' in summary.group(1)


def assert_answer(response: httpx.Response, status: int, htmx: bool, target: str) -> None:
    assert response.status_code == status, (response.status_code, response.text[:500])
    if htmx:  # the form's partial, swapped over the form: not a page, not a toast
        assert response.headers.get("hx-retarget") == target, response.headers
        assert response.headers.get("hx-reswap") == "outerHTML", response.headers
        assert "<html" not in response.text and f'id="{target[1:]}"' in response.text
    else:  # the whole page, with the same form
        assert "<html" in response.text and f'id="{target[1:]}"' in response.text
        assert "hx-retarget" not in response.headers


def unmarked(page: str, field_id: str) -> bool:
    return 'aria-invalid="true"' not in control(page, field_id)


EDIT = {
    "name": NAME,
    "slug": "anna",
    "description": "Beach <b>&</b> gym",
    "is_featured": "on",
    "display_order": "7",
}


@pytest.mark.parametrize("htmx", [False, True], ids=["no-js", "htmx"])
async def test_a_taken_slug_is_409_marked_next_to_the_slug_with_every_typed_value_kept(
    signed_in: Browser, htmx: bool
) -> None:
    anna, ben = await models()
    response = await signed_in.post(f"/production/{ben}/edit", EDIT, htmx=htmx)
    assert_answer(response, 409, htmx, "#model-edit")
    page = response.text
    assert_marked(page, "field-slug", "Slug 'anna' is taken by another model")
    assert unmarked(page, "field-name") and unmarked(page, "field-display_order")
    assert f'value="{html.escape(NAME)}"' in page  # as typed, escaped
    assert "Beach &lt;b&gt;&amp;&lt;/b&gt; gym</textarea>" in page
    assert re.search(r'name="is_featured" value="on" checked', page)
    assert 'value="7"' in control(page, "field-display_order")
    assert await rows("SELECT name, slug FROM models WHERE id = $1", ben) == [
        {"name": "Ben", "slug": "ben"}
    ]


CASES = [
    ("bad-slug", {"slug": "Ben Ten/"}, 400, "field-slug", "is not URL-safe"),
    ("long-name", {"name": "n" * 201}, 400, "field-name", "use at most 200"),
    ("empty-name", {"name": "  "}, 400, "field-name", "Name is empty"),
    ("long-description", {"description": "d" * 5001}, 400, "field-description", "at most 5000"),
    ("order-not-a-number", {"display_order": "7e3"}, 400, "field-display_order", "whole number"),
    ("order-out-of-range", {"display_order": "2000000"}, 400, "field-display_order", "1000000"),
    ("taken-name", {"name": "Anna"}, 409, "field-name", "Name 'Anna' is taken"),
]


@pytest.mark.parametrize("htmx", [False, True], ids=["no-js", "htmx"])
@pytest.mark.parametrize(
    ("change", "status", "field_id", "says"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
async def test_each_refused_edit_value_is_marked_on_its_own_field_and_the_others_kept(
    signed_in: Browser, htmx: bool, change: dict[str, str], status: int, field_id: str, says: str
) -> None:
    _, ben = await models()
    form = {**EDIT, "slug": "ben-new", **change}
    response = await signed_in.post(f"/production/{ben}/edit", form, htmx=htmx)
    assert_answer(response, status, htmx, "#model-edit")
    assert_marked(response.text, field_id, says)
    assert 'value="ben-new"' in response.text or field_id == "field-slug"
    assert await rows("SELECT slug FROM models WHERE id = $1", ben) == [{"slug": "ben"}]


async def test_save_goes_to_the_model_page_and_continue_stays_on_the_form_with_saved_values(
    signed_in: Browser,
) -> None:
    b = signed_in
    _, ben = await models()
    edit_page = (await b.get(f"/production/{ben}/edit")).text
    assert re.search(rf'<a class="btn btn-ghost" href="/production/{ben}">Cancel</a>', edit_page)
    assert re.search(r'<button[^>]*name="then" value="done">Save</button>', edit_page)
    assert re.search(r'name="then" value="continue">Save and continue editing</button>', edit_page)

    done = await b.post(f"/production/{ben}/edit", {**EDIT, "slug": "ben-1", "then": "done"})
    assert done.status_code == 303 and done.headers["location"] == f"/production/{ben}"
    stay = await b.post(f"/production/{ben}/edit", {**EDIT, "slug": "ben-2", "then": "continue"})
    assert stay.status_code == 303 and stay.headers["location"] == f"/production/{ben}/edit"
    again = (await b.get(stay.headers["location"])).text
    assert 'value="ben-2"' in control(again, "field-slug") and "saved: 1 change(s)" in again

    htmx_done = await b.post(f"/production/{ben}/edit", {**EDIT, "slug": "ben-3"}, htmx=True)
    assert htmx_done.status_code == 200 and htmx_done.headers["hx-redirect"] == f"/production/{ben}"
    form = {**EDIT, "slug": "ben-4", "then": "continue"}
    htmx_stay = await b.post(f"/production/{ben}/edit", form, htmx=True)
    assert htmx_stay.status_code == 200 and "hx-redirect" not in htmx_stay.headers
    assert 'id="model-edit"' in htmx_stay.text and "<html" not in htmx_stay.text
    assert 'value="ben-4"' in control(htmx_stay.text, "field-slug")
    assert unmarked(htmx_stay.text, "field-slug")
    assert "saved: 1 change(s)" in htmx_stay.headers["hx-trigger-after-settle"]
    assert await rows("SELECT slug FROM models WHERE id = $1", ben) == [{"slug": "ben-4"}]


@pytest.mark.parametrize("htmx", [False, True], ids=["no-js", "htmx"])
async def test_a_taken_username_marks_the_new_admin_form_keeping_all_but_the_password(
    signed_in: Browser, htmx: bool
) -> None:
    form = {"username": "TESTER", "email": "new@example.com", "password": "long-enough-9"}
    response = await signed_in.post("/admins", form, htmx=htmx)
    assert_answer(response, 409, htmx, "#new-admin-panel")
    assert_marked(response.text, "new-username", "The username 'TESTER' is taken")
    assert 'value="TESTER"' in control(response.text, "new-username")
    assert 'value="new@example.com"' in control(response.text, "new-email")
    assert "long-enough-9" not in response.text
    short = await signed_in.post(
        "/admins", {**form, "username": "cid", "password": "seven77"}, htmx=htmx
    )
    assert_answer(short, 400, htmx, "#new-admin-panel")
    assert_marked(short.text, "new-password", "use at least 8")
    assert unmarked(short.text, "new-username")


@pytest.mark.parametrize("htmx", [False, True], ids=["no-js", "htmx"])
async def test_a_too_short_new_password_marks_that_admins_row_form(
    signed_in: Browser, htmx: bool
) -> None:
    me = (await rows("SELECT id FROM piccolo_user WHERE username = 'tester'"))[0]["id"]
    response = await signed_in.post(f"/admins/{me}/password", {"password": "short"}, htmx=htmx)
    assert_answer(response, 400, htmx, f"#admin-{me}")
    assert_marked(response.text, f"pw-{me}-password", "use at least 8", summary_on_top=not htmx)
    assert re.search(r'<details class="inline-details" open>', response.text)


@pytest.mark.parametrize("htmx", [False, True], ids=["no-js", "htmx"])
async def test_a_schedule_that_cannot_run_marks_its_field_and_keeps_what_was_typed(
    signed_in: Browser, htmx: bool
) -> None:
    for typed, says in (("every 0m", "shortest interval"), ("every ٣m", "ASCII digits")):
        response = await signed_in.post("/sync-schedule", {"schedule": typed}, htmx=htmx)
        assert_answer(response, 400, htmx, "#schedule-panel")
        assert_marked(response.text, "schedule", says)
        assert f'value="{typed}"' in control(response.text, "schedule")
    assert await rows("SELECT expression FROM sync_schedule") == [{"expression": ""}]
    saved = await signed_in.post("/sync-schedule", {"schedule": "every 30m"}, htmx=htmx)
    if htmx:  # the panel again, unmarked, with a toast
        assert saved.status_code == 200 and unmarked(saved.text, "schedule")
        assert "Scheduled sync: every 30m." in saved.headers["hx-trigger-after-settle"]
    else:
        assert saved.status_code == 303 and saved.headers["location"] == "/"


async def test_the_upload_form_without_javascript_marks_the_refused_name(
    signed_in: Browser,
) -> None:
    b = signed_in
    await b.get("/uploads")
    form: dict[str, Any] = {"model": NAME, "post": ".hidden", "_csrf_token": b.token}
    files = [("files", ("a.jpg", b"\xff\xd8\xff", "image/jpeg"))]
    response = await b.client.post("/uploads", data=form, files=files)
    assert_answer(response, 400, False, "#upload-post")
    assert_marked(response.text, "upload-post", "starts with '.'")
    assert f'value="{html.escape(NAME)}"' in control(response.text, "upload-model")
    assert 'value=".hidden"' in control(response.text, "upload-post")
    assert unmarked(response.text, "upload-model")
    wrong = [("files", ("a.txt", b"hi", "text/plain"))]
    refused = await b.client.post("/uploads", data={**form, "post": "P"}, files=wrong)
    assert_answer(refused, 400, False, "#upload-files")
    assert_marked(refused.text, "upload-files", ".txt files cannot be uploaded")
