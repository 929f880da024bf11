"""Piccolo app: our tables and their migrations under ./piccolo_migrations/creatorflix."""

from piccolo.conf.apps import AppConfig

from domain.platform.settings import ROOT
from domain.platform.tables import TABLES

APP_CONFIG = AppConfig(
    app_name="creatorflix",
    migrations_folder_path=str(ROOT / "piccolo_migrations" / "creatorflix"),
    table_classes=list(TABLES),
    migration_dependencies=["piccolo.apps.user.piccolo_app"],
    commands=[],
)
