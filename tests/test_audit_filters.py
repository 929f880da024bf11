"""The audit log's filters: who, action, model (the target), a range of days and a search, each
a GET parameter; they narrow the entries, combine, keep to the pager, and a bad value is a 400
naming the parameter, never a 500."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from domain.accounts import admins, audit
from domain.platform.tables import AuditEntry
from tests.conftest import Bucket
from tests.web import PASSWORD, Browser, admin, browser, running_app

# (actor, action, target, detail, day)
SEED = [
    ("alice", "activation", "Emi Tanaka", "1 model activated", "2026-11-01"),
    ("bob", "publish_change", "Emi Tanaka", "published", "2026-11-05"),
    ("alice", "publish_change", "Ben", "unpublished", "2026-11-10"),
    ("bob", "admin_created", "carol", "superuser", "2026-11-15"),
    ("<b>Zoë</b>", "sign_in_failed", "<b>Zoë</b>", "wrong credentials", "2026-11-15"),
]
ROW = re.compile(r"<tr>\s*<td data-label=\"When\">(.*?)</tr>", re.S)
CELL = re.compile(r'title="([^"]*)"')


@pytest.fixture
async def b(database: Any, bucket: Bucket, settings: Any, pg_engine: Any) -> AsyncIterator[Browser]:
    await admin()
    for name in ("alice", "bob"):
        await admins.create_admin(name, f"{name}@example.com", PASSWORD, False)
    await AuditEntry.insert(
        *[
            AuditEntry(
                actor=who,
                action=action,
                target=target,
                detail=detail,
                ip="203.0.113.9",
                created_at=datetime.fromisoformat(day).replace(hour=12, tzinfo=UTC),
            )
            for who, action, target, detail, day in SEED
        ]
    )
    async with running_app(settings, bucket, pg_engine, worker=False) as app, browser(app) as web:
        response = await web.sign_in()
        assert response.status_code == 303
        yield web


def entries(page: str) -> list[tuple[str, str, str]]:
    """(who, action, what) of each entry the page lists; the tester's own sign-in left out."""
    found = []
    for row in ROW.findall(page):
        titles = CELL.findall(row)
        who = html.unescape(titles[0])
        action = re.search(r'<span class="badge">([^<]*)</span>', row)
        assert action is not None, row
        what = re.search(r'data-label="What">(?:<a[^>]*title="([^"]*)")?', row)
        target = html.unescape(what.group(1) or "") if what else ""
        if who != "tester":
            found.append((who, action.group(1).replace(" ", "_"), target))
    return found


def count(page: str) -> int:
    match = re.search(r"<strong data-audit-count>([\d,]+)</strong>", page)
    assert match is not None, "no count of entries on the page"
    return int(match.group(1).replace(",", ""))


async def test_each_filter_narrows_the_entries(b: Browser) -> None:
    everything = await b.get("/audit")
    assert everything.status_code == 200
    assert len(entries(everything.text)) == 5 and "Clear filters" not in everything.text
    for query, want in (
        (
            "admin=alice",
            {("alice", "activation", "Emi Tanaka"), ("alice", "publish_change", "Ben")},
        ),
        (
            "action=publish_change",
            {("bob", "publish_change", "Emi Tanaka"), ("alice", "publish_change", "Ben")},
        ),
        (
            "target=Emi+Tanaka",
            {("alice", "activation", "Emi Tanaka"), ("bob", "publish_change", "Emi Tanaka")},
        ),
        ("from=2026-11-10&to=2026-11-10", {("alice", "publish_change", "Ben")}),
        (
            "from=2026-11-15&to=2026-11-30",
            {("bob", "admin_created", "carol"), ("<b>Zoë</b>", "sign_in_failed", "<b>Zoë</b>")},
        ),
        ("to=2026-11-01", {("alice", "activation", "Emi Tanaka")}),
        ("q=SUPERUSER", {("bob", "admin_created", "carol")}),  # detail, any case
        ("q=ben", {("alice", "publish_change", "Ben")}),  # target
        ("q=100%25", set()),  # % is a character, not a wildcard
    ):
        page = (await b.get(f"/audit?{query}")).text
        assert set(entries(page)) == want, query
        assert count(page) == len(want), query
        assert "Clear filters" in page and 'href="/audit"' in page, query
        fragment = await b.get(f"/audit?{query}", headers={"HX-Request": "true"})
        assert set(entries(fragment.text)) == want and "<html" not in fragment.text, query


async def test_combined_filters_narrow_together(b: Browser) -> None:
    page = (await b.get("/audit?admin=bob&action=publish_change&from=2026-11-02&q=published")).text
    assert entries(page) == [("bob", "publish_change", "Emi Tanaka")]
    assert count(page) == 1
    none = (await b.get("/audit?admin=alice&target=carol")).text
    assert entries(none) == [] and "No audit entry matches these filters." in none
    # htmx sends every control, empty or not: the address it keeps names only those in use.
    hx = await b.get(
        "/audit?q=&admin=bob&action=&target=&from=2026-11-02&to=", headers={"HX-Request": "true"}
    )
    assert hx.headers["hx-push-url"] == "/audit?admin=bob&from=2026-11-02"
    cleared = await b.get("/audit?q=&admin=&action=", headers={"HX-Request": "true"})
    assert cleared.headers["hx-push-url"] == "/audit"
    # The controls show the filters the address holds.
    assert '<option value="bob" selected>' in page
    assert '<option value="publish_change" selected>' in page
    assert 'name="from" value="2026-11-02"' in page


async def test_selects_list_the_admins_and_actions_the_log_holds(b: Browser) -> None:
    page = (await b.get("/audit")).text
    actor_select = page[
        page.index('name="admin"') : page.index("</select>", page.index('name="admin"'))
    ]
    assert '<option value="alice">' in actor_select and '<option value="bob">' in actor_select
    assert "Zoë" not in actor_select  # a name typed at sign-in is no admin
    assert "dora" not in actor_select  # nobody by that name
    only = (await b.get("/audit?admin=dora")).text
    assert '<option value="dora" selected>' in only  # asked for by the address: shown
    action_select = page[page.index('name="action"') :]
    action_select = action_select[: action_select.index("</select>")]
    assert '<option value="admin_created">' in action_select
    assert '<option value="job_retried">' not in action_select  # never logged here


async def test_pager_keeps_the_filters(b: Browser) -> None:
    for n in range(audit.PAGE_SIZE + 3):
        await audit.record("dora", "publish_change", f"model {n}", "published")
    await audit.record("erin", "publish_change", "other", "published")
    first = (await b.get("/audit?admin=dora")).text
    assert count(first) == audit.PAGE_SIZE + 3
    older = re.search(r'href="(/audit\?[^"]*before=\d+[^"]*)"', first)
    assert older is not None, "no link to older entries"
    link = html.unescape(older.group(1))
    assert "admin=dora" in link
    second = (await b.get(link)).text
    assert {who for who, _, _ in entries(second)} == {"dora"}
    assert len(entries(second)) == 3
    assert count(second) == audit.PAGE_SIZE + 3  # the count is of all pages


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("action=drop", "action='drop' is not an audited action"),
        ("from=yesterday", "from='yesterday' is not a date: write it as YYYY-MM-DD"),
        ("to=2026-13-01", "to='2026-13-01' is not a date"),
        ("from=20261101", "from='20261101' is not a date"),
        ("from=2026-11-10&to=2026-11-01", "from=2026-11-10 is after to=2026-11-01: swap them"),
        ("q=" + "x" * 201, "q is too long"),
        ("before=0", "before"),
    ],
)
async def test_bad_values_are_400s_naming_the_parameter(b: Browser, query: str, names: str) -> None:
    page = await b.get(f"/audit?{query}")
    assert page.status_code == 400, query
    assert "<html" in page.text and names in html.unescape(page.text), query
    toast = await b.get(f"/audit?{query}", headers={"HX-Request": "true"})
    assert toast.status_code == 400 and names in toast.text, query
