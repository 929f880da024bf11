"""A sync run's counters, defined once: Counters names them; RunStats (a run's live progress)
and runs.Run (a stored run) carry them, and COUNTERS (the matching columns of sync_runs, and the
keys of a part's stats) is read from it."""

from __future__ import annotations

from dataclasses import dataclass, field, fields


@dataclass
class Counters:
    keys_listed: int = 0
    keys_ignored: int = 0
    models_total: int = 0
    models_done: int = 0
    models_inserted: int = 0
    models_updated: int = 0
    models_deleted: int = 0
    posts_inserted: int = 0
    posts_updated: int = 0
    posts_deleted: int = 0
    media_inserted: int = 0
    media_updated: int = 0
    media_deleted: int = 0

    def counters(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in COUNTERS}

    def add(self, counters: dict[str, int]) -> None:
        for key in COUNTERS:
            setattr(self, key, getattr(self, key) + int(counters.get(key, 0)))


@dataclass
class RunStats(Counters):
    """A run's progress as its workers count it."""

    phase: str = "starting"
    errors: list[str] = field(default_factory=list)


# Every counter, in declaration order (the column order of sync_runs' counters).
COUNTERS: tuple[str, ...] = tuple(f.name for f in fields(Counters))
