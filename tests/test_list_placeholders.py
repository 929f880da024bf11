"""The staged and production lists show a placeholder for a model's thumbnail until a worker
made its preview, and when it could not: never the signed original (a full-size object, or a
file a worker could not read), in an admin's list of hundreds of rows."""

from __future__ import annotations

from typing import Any

from domain.platform import db
from tests.conftest import Bucket, eventually
from tests.web import Browser, browser

PLACEHOLDER = '<div class="thumb placeholder">C</div>'
KEY = "Cleo/P/x.jpg"


def row_of(page: str, row_id: str) -> str:
    """One table row of a list page, by its id attribute."""
    assert f'<tr id="{row_id}"' in page, f"no row {row_id} on the page"
    return page.split(f'<tr id="{row_id}"', 1)[1].split("</tr>", 1)[0]


async def list_rows(b: Browser) -> tuple[str, str]:
    """Cleo's row on the staged list and on the production list."""
    staged_id = await db.fetchval("SELECT id FROM whitelabel_models WHERE folder_name = 'Cleo'")
    model_id = await db.fetchval("SELECT id FROM models WHERE name = 'Cleo'")
    staged = (await b.get("/staged")).text
    production = (await b.get("/production")).text
    return row_of(staged, f"row-{staged_id}"), row_of(production, f"pm-{model_id}")


async def media_state() -> tuple[str | None, str | None]:
    """(thumb_key, media_error) of Cleo's one file as pages read them (current ETag only)."""
    row = (
        await db.fetch(
            "SELECT CASE WHEN derived_etag = etag THEN thumb_key END AS thumb, "
            "CASE WHEN media_error_etag = etag THEN media_error END AS error "
            "FROM whitelabel_media WHERE s3_key = $1",
            KEY,
        )
    )[0]
    return row["thumb"], row["error"]


def assert_placeholder(row: str, when: str) -> None:
    assert "x.jpg" not in row, f"{when}: the list row shows the original: {row}"
    assert PLACEHOLDER in row, f"{when}: no placeholder in the row: {row}"


async def test_list_rows_show_a_placeholder_while_the_preview_is_pending(
    admin_app: Any, bucket: Bucket
) -> None:
    await bucket.put(KEY)
    assert (await bucket.sync()).status == "succeeded"  # no worker: no preview made
    assert await media_state() == (None, None)
    async with browser(admin_app) as b:
        await b.sign_in()
        assert (await b.post("/staged/Cleo/activate", {})).status_code == 303
        staged, production = await list_rows(b)
    assert_placeholder(staged, "pending, staged list")
    assert_placeholder(production, "pending, production list")


async def test_list_rows_show_a_placeholder_when_the_preview_failed(
    signed_in: Browser, bucket: Bucket
) -> None:
    b = signed_in
    await bucket.put(KEY, body=b"not an image")  # the app's worker cannot read it
    assert (await b.sync_now()).status == "succeeded"

    async def failed() -> bool:
        thumb, error = await media_state()
        return thumb is None and bool(error)

    await eventually(failed, True, timeout=30)
    assert (await b.post("/staged/Cleo/activate", {})).status_code == 303
    staged, production = await list_rows(b)
    assert_placeholder(staged, "failed, staged list")
    assert_placeholder(production, "failed, production list")
