"""Piccolo's entry point (migrations, `piccolo user create`): the engine comes from Settings.

With no DATABASE_URL, the embedded PostgreSQL under ./data/pg is used (started if needed).
"""

from piccolo.conf.apps import AppRegistry

from domain.platform.db import make_engine
from domain.platform.embedded_pg import database_url
from domain.platform.settings import Settings

DB = make_engine(database_url(Settings.from_env()))

APP_REGISTRY = AppRegistry(
    apps=["piccolo.apps.user.piccolo_app", "domain.platform.piccolo_app"],
)
