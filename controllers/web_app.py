"""The Litestar app: its routes, middleware, templates and lifespan (`create_app`). Imported by
the web process alone: `python -m app worker` never loads the web stack (app.py)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import Litestar, Router, get
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig
from litestar.plugins.flash import FlashConfig, FlashPlugin
from litestar.plugins.htmx import HTMXPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from controllers.accounts.admins import AdminsController
from controllers.accounts.audit import AuditController
from controllers.accounts.auth import AuthController
from controllers.api_docs import VendoredSwagger
from controllers.boundary import Boundary, security_headers
from controllers.catalogue.charts import ChartsController
from controllers.catalogue.dashboard import DashboardController
from controllers.catalogue.run_lists import RunListsController
from controllers.catalogue.sync import SyncController
from controllers.cli import CreatorFlixCLI
from controllers.csrf import SessionCsrf
from controllers.deps import dependencies
from controllers.errors import exception_handlers
from controllers.jobs.board import JobsController
from controllers.metrics import CONFIG as METRICS
from controllers.metrics import MetricsController
from controllers.numbers import strict_integers
from controllers.production.editing import ProductionModelController
from controllers.production.public_api import PublicApiController
from controllers.production.publishing import ProductionController
from controllers.production.retiring import ProductionRetireController
from controllers.security import ActionsHoldTheirSession, admin_auth, admin_or_scraper
from controllers.sessions import DatabaseStore
from controllers.staging.bulk import StagedBulkController
from controllers.staging.old_urls import old_url
from controllers.staging.staged import StagedModelsController
from controllers.templating import COMPILED_TEMPLATES, StaticAssets, register_filters, url_for
from controllers.uploads.routes import UploadsController, upload_form_router
from domain.platform.runtime import Runtime
from domain.platform.settings import ROOT, Settings, SettingsError

log = logging.getLogger("creatorflix")


@get("/healthz", name="healthz", sync_to_thread=False, include_in_schema=False)
def healthz() -> dict[str, str]:
    return {"status": "ok"}


def template_config(assets: StaticAssets) -> TemplateConfig[JinjaTemplateEngine]:
    env = Environment(
        loader=FileSystemLoader(ROOT / "templates"),
        auto_reload=False,
        autoescape=select_autoescape(default=True, default_for_string=True),
        bytecode_cache=COMPILED_TEMPLATES,
    )
    register_filters(env)
    env.globals["static_url"] = assets.url
    engine = JinjaTemplateEngine.from_environment(env)
    engine.register_template_callable("url_for", url_for)
    return TemplateConfig(instance=engine)


def create_app(settings: Settings | None = None) -> Litestar:
    if settings is None:
        try:
            settings = Settings.from_env()
        except SettingsError as exc:
            raise SystemExit(f"error: {exc}") from None
    runtime = Runtime(settings)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        try:
            await runtime.start()
        except Exception as exc:
            log.error("startup failed: %s", exc)
            raise
        try:
            yield
        finally:
            await runtime.stop()

    assets = StaticAssets(ROOT / "static")  # hashed once, from the bytes served
    templates = template_config(assets)
    auth = admin_auth(settings.session_idle_seconds, settings.secure_cookies)
    metrics = Router(
        "/", route_handlers=[MetricsController], guards=[admin_or_scraper(settings.metrics_token)]
    )
    return Litestar(
        route_handlers=[
            healthz,
            AuthController,
            DashboardController,
            ChartsController,
            SyncController,
            RunListsController,
            StagedModelsController,
            StagedBulkController,
            JobsController,
            old_url,
            ProductionController,
            ProductionModelController,
            ProductionRetireController,
            AuditController,
            AdminsController,
            UploadsController,
            upload_form_router(settings.upload_max_bytes),
            PublicApiController,
            metrics,
            create_static_files_router(
                path="/static",
                directories=[ROOT / "static"],
                file_system=assets.file_system(),
                name="static",
                include_in_schema=False,
            ),
        ],
        lifespan=[lifespan],
        guards=[strict_integers],  # every integer path and query parameter, read as written
        plugins=[
            CreatorFlixCLI(),
            HTMXPlugin(),
            FlashPlugin(FlashConfig(template_config=templates)),
        ],
        template_config=templates,
        middleware=[
            Boundary(settings.forwarded_allow_ips),
            METRICS.middleware,
            auth.middleware,
            ActionsHoldTheirSession(),
            SessionCsrf(settings.secret_key, settings.secure_cookies),
        ],
        before_send=[
            security_headers(lambda: runtime.s3_settings.endpoint if runtime.s3_settings else None),
            assets.cache_headers,
        ],
        stores={"sessions": DatabaseStore()},
        exception_handlers=exception_handlers(),
        dependencies=dependencies(runtime),
        openapi_config=OpenAPIConfig(
            title="CreatorFlix public API",
            version="1.0.0",
            path="/schema",
            render_plugins=[VendoredSwagger()],
        ),
        state=State({"settings": settings, "runtime": runtime}),
    )
