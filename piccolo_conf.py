"""Piccolo's entry point (migrations, `piccolo user create`): the engine comes from Settings."""

from piccolo.conf.apps import AppRegistry

from domain.db import make_engine
from domain.settings import Settings

DB = make_engine(Settings.from_env())

APP_REGISTRY = AppRegistry(
    apps=["piccolo.apps.user.piccolo_app", "domain.piccolo_app"],
)
