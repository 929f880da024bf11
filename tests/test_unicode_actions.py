"""htmx actions on models whose names are not Latin-1: the toast rides in a response header,
which must stay ASCII; the action answers 2xx and the database agrees with what is shown."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

import pytest

from tests.conftest import Bucket, rows
from tests.web import admin, browser, running_app

NAMES = ["Zoë 🌸", "Анна", "李小龍", "abc\u202egnp.exe", "zero\u200bwidth"]


@pytest.fixture
async def staged_names(database: Any, bucket: Bucket, settings: Any, pg_engine: Any) -> Any:
    await bucket.put(*[f"{name}/Post/a.jpg" for name in NAMES])
    await admin()
    assert (await bucket.sync()).status == "succeeded"
    async with running_app(settings, bucket, pg_engine) as app, browser(app) as b:
        await b.sign_in()
        yield b


async def test_htmx_actions_on_non_latin1_names_answer_2xx_with_a_readable_toast(
    staged_names: Any,
) -> None:
    b = staged_names
    for name in NAMES:
        path = f"/staged/{quote(name, safe='')}"
        activated = await b.post(f"{path}/activate", {}, htmx=True)
        assert activated.status_code == 200, (name, activated.text[:300])
        header = activated.headers["hx-trigger-after-settle"]
        assert header.isascii()
        assert name in json.loads(header)["toast"]["message"]  # the client reads it back
        assert "badge-active" in activated.text
        resynced = await b.post(f"{path}/resync", {}, htmx=True)
        assert resynced.status_code == 200, (name, resynced.text[:300])
        told = json.loads(resynced.headers["hx-trigger-after-settle"])["toast"]["message"]
        assert f"Re-sync of {name} queued" in told
        run = await b.wait_for_run(int(re.search(r"run #(\d+)", told).group(1)))  # type: ignore[union-attr]
        assert run.status == "succeeded" and run.scope == name
    states = {r["folder_name"]: r["status"] for r in await rows("SELECT * FROM whitelabel_models")}
    assert states == dict.fromkeys(NAMES, "active")
    names = {r["name"] for r in await rows("SELECT name FROM models")}
    assert names == set(NAMES)
