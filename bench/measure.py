"""Measuring helpers: resident memory of a phase, and rows a phase wrote, per table."""

from __future__ import annotations

import contextlib
import resource
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

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


class Timer:
    def __init__(self) -> None:
        self.started = 0.0
        self.seconds = 0.0

    def __enter__(self) -> Timer:
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.started
