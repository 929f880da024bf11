"""Inputs that used to be 500s or the wrong row (issue 21 item 7), through HTTP against the app:
concurrent saves of one slug from two admins' sessions, and integers a request carries written
out of range or with other digits than ASCII's, on every route that takes one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from litestar.routes import HTTPRoute
from piccolo.engine import Engine

from controllers.numbers import MAX_ID, int_parameters, strict_integers
from domain.platform import db
from domain.platform.settings import Settings
from domain.platform.tables import Model
from tests.conftest import Bucket
from tests.web import Browser, admin, browser, running_app

ROUNDS = 6
MODELS = 4  # saves per round: one per model, alternating between the two sessions
# Each read as another number by int() (or by msgspec, for '1e3'), or out of the column's range.
BAD_INTS = ["99999999999", "2147483648", "-1", "0", "٣", "３", " 3", "3_0", "+3", "1e3"]
NOT_AN_INT_TO_ROUTING = {"1e3"}  # int() refuses it: no `{x:int}` route matches (404)


@pytest.fixture
async def two_admins(
    database: Any, bucket: Bucket, settings: Settings, pg_engine: Engine
) -> AsyncIterator[tuple[Any, Browser, Browser]]:
    await admin("tester")
    await admin("second")
    async with (
        running_app(settings, bucket, pg_engine, worker=False) as app,
        browser(app) as one,
        browser(app) as two,
    ):
        await one.sign_in("tester")
        await two.sign_in("second")
        yield app, one, two


async def models(count: int) -> list[int]:
    ids = []
    for i in range(1, count + 1):
        rows = await Model.insert(Model(name=f"Model {i}", slug=f"model-{i}")).returning(Model.id)
        ids.append(int(rows[0]["id"]))
    return ids


async def reset_slugs(ids: list[int]) -> None:
    for i, model_id in enumerate(ids, 1):
        await Model.update({Model.slug: f"model-{i}", Model.name: f"Model {i}"}).where(
            Model.id == model_id
        )
    await db.fetch("DELETE FROM model_slugs")


async def save_at_once(
    one: Browser, two: Browser, ids: list[int], forms: list[dict[str, str]]
) -> list[httpx.Response]:
    """Each model's edit form sent at once, alternately from the two admins' sessions."""
    saves = [
        (one if i % 2 else two).post(f"/production/{model_id}/edit", form, htmx=True)
        for i, (model_id, form) in enumerate(zip(ids, forms, strict=True))
    ]
    return await asyncio.wait_for(asyncio.gather(*saves), 30)


@pytest.mark.timeout(120)
async def test_concurrent_saves_of_one_slug_answer_200_or_409_naming_slug_and_one_model_wins(
    two_admins: tuple[Any, Browser, Browser],
) -> None:
    _, one, two = two_admins
    ids = await models(MODELS)
    answers: list[tuple[int, int, str]] = []
    for round_no in range(ROUNDS):
        await reset_slugs(ids)
        slug = f"wanted-{round_no}"
        forms = [
            {"name": f"Model {i + 1}", "slug": slug, "display_order": "0"} for i in range(MODELS)
        ]
        responses = await save_at_once(one, two, ids, forms)
        answers += [(round_no, r.status_code, r.text[:200]) for r in responses]
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [200] + [409] * (MODELS - 1), (round_no, answers[-MODELS:])
        refused = [r.text for r in responses if r.status_code == 409]
        assert all("slug" in text and slug in text for text in refused), refused
        holders = await Model.select(Model.id).where(Model.slug == slug)
        assert len(holders) == 1, (round_no, holders)


@pytest.mark.timeout(60)
async def test_concurrent_renames_to_one_name_answer_409_naming_name(
    two_admins: tuple[Any, Browser, Browser],
) -> None:
    """The other unique column the edit form writes: two models renamed to one name at once."""
    _, one, two = two_admins
    ids = await models(MODELS)
    for round_no in range(3):
        await reset_slugs(ids)
        forms = [{"name": f"Same name {round_no}", "slug": f"model-{i + 1}"} for i in range(MODELS)]
        responses = await save_at_once(one, two, ids, forms)
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [200] + [409] * (MODELS - 1), [
            (r.status_code, r.text) for r in responses
        ]
        assert all("name" in r.text for r in responses if r.status_code == 409)


def integer_routes(app: Any) -> list[tuple[str, str, str, str]]:
    """(method, template, parameter, where: "path" or its query key) for every integer
    parameter of every route."""
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path.endswith("/events"):
            continue  # the run's event stream never ends; its id is checked like the others'
        for handler in route.route_handlers:
            for name, (where, _, _) in int_parameters(handler, route.path).items():
                for method in sorted(handler.http_methods - {"OPTIONS", "HEAD"}):
                    found.append((method, route.path, name, where))
    return found


def fill(template: str, values: dict[str, str]) -> str:
    path = template
    for name, value in values.items():
        path = path.replace(f"{{{name}:int}}", value).replace(f"{{{name}:str}}", value)
    return path.replace("{ref:str}", "model-1").replace("{model_name:str}", "folder")


async def test_every_integer_parameter_is_bounded_and_checked_as_written(
    two_admins: tuple[Any, Browser, Browser],
) -> None:
    """Structural: every route with an `int` parameter has the app-wide guard, within MAX_ID."""
    app, _, _ = two_admins
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            checked = int_parameters(handler, route.path)
            guards = [getattr(g, "func", g) for g in handler.resolve_guards()]
            guarded = strict_integers in guards
            assert not checked or guarded, (route.path, handler, checked)
            for name, (_, least, most) in checked.items():
                assert least >= 0 and most <= MAX_ID, (route.path, name, least, most)


@pytest.mark.timeout(180)
async def test_out_of_range_and_non_ascii_integers_answer_400_naming_the_parameter(
    two_admins: tuple[Any, Browser, Browser],
) -> None:
    app, one, _ = two_admins
    ids = await models(40)  # '٣' and '3_0' would be rows 3 and 30, '1e3' page 1000
    assert ids[-1] == 40
    wrong = []
    routes = integer_routes(app)
    assert len(routes) >= 20, routes
    for method, template, name, where in routes:
        for bad in BAD_INTS:
            values = {n: "1" for n in ("model_id", "post_id", "run_id", "admin_id")}
            query = ""
            if where == "path":
                values[name] = bad
            else:
                query = f"?{where}={bad}"
            target = fill(template, values) + query
            if method == "GET":
                response = await one.client.get(target)
            else:
                response = await one.post(target, {}, htmx=True)
            expected = 404 if where == "path" and bad in NOT_AN_INT_TO_ROUTING else 400
            shown = where if where != "path" else name
            if response.status_code != expected or (expected == 400 and shown not in response.text):
                wrong.append((method, target, response.status_code, response.text[:100]))
    assert wrong == [], "\n".join(map(str, wrong))


async def test_bulk_publish_ids_and_display_order_take_only_ascii_digits_in_range(
    two_admins: tuple[Any, Browser, Browser],
) -> None:
    """Form fields: `id=99999999999` was a 500 (OverflowError) and `id=٣` published model 3."""
    _, one, _ = two_admins
    ids = await models(3)
    await Model.update({Model.is_published: False}).where(Model.id.is_in(ids))
    for bad in BAD_INTS:
        response = await one.post(
            "/production/_bulk/publish", {"published": "true", "id": bad}, htmx=True
        )
        assert response.status_code == 400, (bad, response.status_code, response.text[:200])
        assert "id=" in response.text, response.text
        edit = await one.post(
            f"/production/{ids[0]}/edit",
            {"name": "Model 1", "slug": "model-1", "display_order": bad},
            htmx=True,
        )
        if bad in ("-1", "0"):  # both are display orders
            assert edit.status_code == 200, (bad, edit.text[:200])
        else:
            assert edit.status_code == 400, (bad, edit.status_code, edit.text[:200])
            assert "display_order" in edit.text, edit.text
    published = await Model.select(Model.id).where(Model.is_published.eq(True))
    assert published == [], published  # none was taken as model 3 (or any other)
    ok = await one.post(
        "/production/_bulk/publish", {"published": "true", "id": [str(ids[2])]}, htmx=True
    )
    assert ok.status_code == 200, ok.text
    assert await Model.select(Model.id).where(Model.is_published.eq(True)) == [{"id": ids[2]}]


async def test_a_schedule_written_with_other_digits_than_ascii_is_refused_naming_it(
    two_admins: tuple[Any, Browser, Browser],
) -> None:
    """`every ٣m` was saved as every 3 minutes (the schedule's parser reads digits with \\d)."""
    _, one, _ = two_admins
    for written in ("every ٣m", "every ３0m", "0 ٣ * * *"):
        response = await one.post("/sync-schedule", {"schedule": written}, htmx=True)
        assert response.status_code == 400, (written, response.status_code, response.text[:200])
        assert "schedule=" in response.text and "ASCII" in response.text, response.text
    saved = await one.post("/sync-schedule", {"schedule": "every 30m"}, htmx=True)
    assert saved.status_code == 200, saved.text[:200]
