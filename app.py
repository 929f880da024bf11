"""CreatorFlix Admin: `create_app(settings)` builds the Litestar app; `python -m app` serves it,
`python -m app worker` runs queued jobs. Only the web imports the web stack (Litestar, Jinja, the
controllers: controllers/web_app.py), so a worker starts in two thirds of the time."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from domain.platform.settings import Settings, SettingsError

if TYPE_CHECKING:
    from litestar import Litestar


def create_app(settings: Settings | None = None) -> Litestar:
    """The Litestar app (`app:create_app` for uvicorn and the `litestar` CLI). For the
    operator's commands (`litestar sync`, ...) only what they use: settings and the commands."""
    if settings is None and _operator_command(sys.argv):
        from controllers.cli import operator_app

        try:
            return operator_app(Settings.from_env())
        except SettingsError as exc:
            raise SystemExit(f"error: {exc}") from None
    from controllers.web_app import create_app as build

    return build(settings)


def _operator_command(argv: list[str]) -> bool:
    """Whether this process is `litestar <command> ...` for one of controllers/cli.py's
    commands. Anything else (`litestar run`, `routes`, an option before the command) gets the
    whole app."""
    from controllers.cli import COMMANDS

    return Path(argv[0]).name == "litestar" and len(argv) > 1 and argv[1] in COMMANDS


def main(argv: list[str]) -> None:
    """`python -m app`: web plus workers (and embedded services); `python -m app worker`."""
    import asyncio

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    os.chdir(Path(__file__).resolve().parent)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        raise SystemExit(f"error: {exc}") from None
    try:
        if argv[:1] == ["worker"]:
            from domain import tasks
            from domain.platform import worker

            asyncio.run(worker.run(settings, middleware=tasks.MIDDLEWARE))
        else:
            from domain.catalogue import jobs as catalogue_jobs
            from domain.platform import supervisor

            supervisor.serve(settings, create_app, catalogue_jobs.first_start)
    except KeyboardInterrupt:
        pass
    except (OSError, RuntimeError) as exc:  # unreachable services: one line, naming the fix
        raise SystemExit(f"error: {exc}") from None


if __name__ == "__main__":
    main(sys.argv[1:])
