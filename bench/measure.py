"""Measuring helpers: resident memory of a phase, and rows a phase wrote, per table."""

from __future__ import annotations

import contextlib
import os
import platform
import resource
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from domain.platform import db, queue
from domain.platform.embedded_pg import database_url
from domain.platform.settings import Settings

STATUS = Path("/proc/self/status")
SYNC_TABLES = ("whitelabel_models", "whitelabel_posts", "whitelabel_media")


def _status_kb(name: str) -> int | None:
    try:
        for line in STATUS.read_text().splitlines():
            if line.startswith(name + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def rss_mb() -> float:
    kb = _status_kb("VmRSS")
    return kb / 1024 if kb is not None else float("nan")


def process_peak_mb() -> float:
    """Peak RSS of the whole process so far (getrusage ru_maxrss, KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _reset_hwm() -> bool:
    """Reset the kernel's peak-RSS mark (VmHWM) to the current RSS; False where unsupported."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


@dataclass
class PhaseMemory:
    start_mb: float = 0.0
    peak_mb: float = 0.0
    method: str = ""


@contextlib.contextmanager
def phase_memory() -> Iterator[PhaseMemory]:
    """Peak RSS over the `with` body: the kernel's VmHWM after a reset, else 5 ms sampling."""
    result = PhaseMemory(start_mb=rss_mb())
    if _reset_hwm() and _status_kb("VmHWM") is not None:
        result.method = "VmHWM reset at phase start"
        yield result
        result.peak_mb = (_status_kb("VmHWM") or 0) / 1024
        return
    result.method = "VmRSS sampled every 5 ms"
    peak = [result.start_mb]
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.005):
            peak[0] = max(peak[0], rss_mb())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield result
    finally:
        stop.set()
        sampler.join()
        result.peak_mb = max(peak[0], rss_mb())


@dataclass
class TableMark:
    max_id: int
    rows: int


@dataclass
class WriteMark:
    xid: int
    tables: dict[str, TableMark] = field(default_factory=dict)


@dataclass
class TableWrites:
    inserted: int
    updated: int
    deleted: int

    @property
    def total(self) -> int:
        return self.inserted + self.updated + self.deleted


async def mark_writes(conn: asyncpg.Connection) -> WriteMark:
    """Remember each table's row count and highest id, and the current transaction id."""
    xid = int(await conn.fetchval("SELECT txid_current()")) & 0xFFFFFFFF
    mark = WriteMark(xid)
    for table in SYNC_TABLES:
        row = await conn.fetchrow(f"SELECT coalesce(max(id), 0) AS m, count(*) AS n FROM {table}")
        mark.tables[table] = TableMark(int(row["m"]), int(row["n"]))
    return mark


async def writes_since(conn: asyncpg.Connection, mark: WriteMark) -> dict[str, TableWrites]:
    """Rows inserted (new id), updated (old id, newer xmin) and deleted since `mark`.

    Any write leaves a new row version whose xmin is a later transaction, so this counts
    rewrites that change nothing as well; it is exact on a fresh cluster (no xid wraparound).
    """
    result: dict[str, TableWrites] = {}
    for table, before in mark.tables.items():
        row = await conn.fetchrow(
            f"SELECT count(*) FILTER (WHERE id > $1) AS ins, count(*) FILTER (WHERE id <= $1 "
            f"AND xmin::text::bigint > $2) AS upd, count(*) AS n FROM {table}",
            before.max_id,
            mark.xid,
        )
        inserted = int(row["ins"])
        result[table] = TableWrites(
            inserted, int(row["upd"]), before.rows - (int(row["n"]) - inserted)
        )
    return result


def _ppid(pid: int | str) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def _is_postgres(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip() == "postgres"
    except OSError:
        return False


def _proc_cpu(pid: int, children: bool = False) -> float:
    """utime + stime (and the reaped children's, if asked) of a process, in seconds."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    if children:
        ticks += int(fields[13]) + int(fields[14])  # cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


class ServerCpu:
    """CPU seconds used by the local PostgreSQL cluster (postmaster, its live processes and the
    ones it has reaped); None when the server is not on this machine or not readable."""

    def __init__(self, postmaster: int | None) -> None:
        self.postmaster = postmaster

    @classmethod
    async def find(cls, conn: asyncpg.Connection) -> ServerCpu:
        backend = int(await conn.fetchval("SELECT pg_backend_pid()"))
        postmaster = _ppid(backend)
        if postmaster is None or not (_is_postgres(backend) and _is_postgres(postmaster)):
            return cls(None)  # a remote server, or one we cannot see
        return cls(postmaster)

    def seconds(self) -> float | None:
        if self.postmaster is None:
            return None
        total = _proc_cpu(self.postmaster, children=True)
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and _ppid(entry.name) == self.postmaster:
                total += _proc_cpu(int(entry.name))
        return total


class Timer:
    """Wall time, this process's CPU time and (optionally) the database server's CPU time."""

    def __init__(self, server: ServerCpu | None = None) -> None:
        self.server = server
        self.seconds = 0.0
        self.cpu = 0.0
        self.server_cpu: float | None = None
        self._marks: tuple[float, float, float | None] = (0.0, 0.0, None)

    def __enter__(self) -> Timer:
        server = self.server.seconds() if self.server else None
        self._marks = (time.perf_counter(), time.process_time(), server)
        return self

    def __exit__(self, *exc: object) -> None:
        wall, cpu, server = self._marks
        self.seconds = time.perf_counter() - wall
        self.cpu = time.process_time() - cpu
        now = self._settled()
        self.server_cpu = now - server if now is not None and server is not None else None

    def _settled(self) -> float | None:
        """The server's CPU once it stops changing: a backend whose client just disconnected
        is invisible until the postmaster reaps it (its CPU then moves to the children's)."""
        if self.server is None:
            return None
        last = self.server.seconds()
        for _ in range(20):
            time.sleep(0.05)
            now = self.server.seconds()
            if now == last:
                break
            last = now
        return last

    def describe(self) -> str:
        text = f"{self.seconds:.2f} s wall, {self.cpu:.2f} s CPU here"
        if self.server_cpu is not None:
            text += f", {self.server_cpu:.2f} s CPU in PostgreSQL"
        return text


async def reset_tables(conn: asyncpg.Connection) -> None:
    await conn.execute(
        "TRUNCATE whitelabel_media, whitelabel_posts, whitelabel_models, sync_runs "
        "RESTART IDENTITY CASCADE"
    )


async def settle(conn: asyncpg.Connection) -> None:
    """VACUUM ANALYZE after a bulk load, as autovacuum would soon do (outside the timings)."""
    for table in ("whitelabel_models", "whitelabel_posts", "whitelabel_media"):
        await conn.execute(f"VACUUM ANALYZE {table}")


async def table_counts(conn: asyncpg.Connection) -> str:
    row = await conn.fetchrow(
        "SELECT (SELECT count(*) FROM whitelabel_models) AS models, "
        "(SELECT count(*) FROM whitelabel_posts) AS posts, "
        "(SELECT count(*) FROM whitelabel_media) AS media"
    )
    return f"{row['models']:,} models, {row['posts']:,} posts, {row['media']:,} media rows"


@contextlib.asynccontextmanager
async def bench_database(settings: Settings) -> AsyncIterator[asyncpg.Connection]:
    """The app's engine (migrated) and job queue on DATABASE_URL, and a plain connection for
    the bench's own reads; all closed on leaving."""
    engine = db.make_engine(database_url(settings))
    db.install_engine(engine)
    await db.start(engine)
    await db.migrate()
    queue.connect(settings.database_url)
    await queue.app.open_async()
    conn = await asyncpg.connect(settings.database_url)
    try:
        yield conn
    finally:
        await conn.close()
        await queue.app.close_async()
        await db.stop(engine)


async def machine_line(conn: asyncpg.Connection) -> str:
    """Python and PostgreSQL versions, CPUs and the load average, for a run's heading."""
    version = await conn.fetchval("SHOW server_version")
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"python {platform.python_version()}, PostgreSQL {version}, {os.cpu_count()} CPUs, "
        f"load average {load}"
    )
