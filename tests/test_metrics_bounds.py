"""`/metrics` stays the same size whatever paths anyone sends: requests are labelled by their
route's template, and unrouted ones share none of their own."""

from __future__ import annotations

import secrets
from typing import Any

from tests.web import browser

INVENTED = 500


def series(text: str) -> set[str]:
    """Every sample line's name and labels (its value dropped)."""
    return {line.rsplit(" ", 1)[0] for line in text.splitlines() if line and line[0] != "#"}


def invented(i: int) -> str:
    word = secrets.token_hex(4) + ("x" * 3000 if i % 5 == 0 else "")
    return [
        f"/api/v1/models/{word}",
        f"/api/v1/models/{word}/posts",
        f"/staged/{word}",
        f"/sync-runs/{i + 1000}",
        f"/no-such-page/{word}",
    ][i % 5]


async def test_invented_paths_add_no_metric_series(admin_app: Any) -> None:
    async with browser(admin_app) as signed_out, browser(admin_app) as b:
        await b.sign_in()
        for i in range(5):  # each kind of request once: its route's series exist from now on
            await b.client.get(invented(i))
            await signed_out.client.get(invented(i))
        before = series((await b.client.get("/metrics")).text)
        for i in range(INVENTED):
            await (b if i % 2 else signed_out).client.get(invented(i))
        after = series((await b.client.get("/metrics")).text)
    assert any("/api/v1/models/{" in s for s in after), "requests are not labelled by route"
    assert after - before == set(), (
        f"{len(after - before)} new series, e.g. {min(after - before)[:200]}"
    )
