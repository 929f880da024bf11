"""Piccolo Admin on `whitelabel_models`, for the web benchmark's baseline.

    DATABASE_URL=... python -m uvicorn bench.web_piccolo_admin:create_app --factory

Same database, the same pool size as our app (2..16), sessions in Piccolo's `sessions` table.
The list endpoint the admin UI calls is GET /api/tables/whitelabel_models/?__readable=true&...
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from piccolo_admin.endpoints import create_admin
from piccolo_api.rate_limiting.middleware import InMemoryLimitProvider
from piccolo_api.session_auth.tables import SessionsBase
from starlette.applications import Starlette
from starlette.routing import Mount

from domain.platform import db
from domain.platform.embedded_pg import database_url
from domain.platform.settings import Settings
from domain.platform.tables import WhitelabelModel

LIST_PATH = "/api/tables/whitelabel_models/"


def create_app() -> Starlette:
    settings = Settings.from_env()
    if not settings.database_url:
        raise SystemExit("error: DATABASE_URL is not set")
    engine = db.make_engine(database_url(settings))
    db.install_engine(engine)  # our tables, BaseUser
    SessionsBase._meta.db = engine

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await db.start(engine)  # opens the same 2..16 connection pool as our app
        try:
            yield
        finally:
            await db.stop(engine)

    admin = create_admin(
        tables=[WhitelabelModel],
        site_name="CreatorFlix (Piccolo Admin)",
        # The default allows 20 sign-ins per 5 minutes; --logins may need more.
        rate_limit_provider=InMemoryLimitProvider(limit=1_000, timespan=300),
    )
    return Starlette(routes=[Mount("/", app=admin)], lifespan=lifespan)
