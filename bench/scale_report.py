"""The scale run's figures (bench/sync_scale.py): two sizes side by side, their ratios, the
targets with PASS / MISS, and the JSON file."""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.report import say

MB = 1024 * 1024
RSS_GOAL_MB = 300.0
RESYNC_OVER_FLOOR_GOAL = 3.0
FIRST_PER_KEY_GOAL = 1.2
STAGED = (  # the tables a sync writes, whose sizes are printed
    "whitelabel_models",
    "whitelabel_posts",
    "whitelabel_media",
    "whitelabel_model_images",
    "sync_run_changes",
)


@dataclass
class Phase:
    """One sync at one size, as the bench saw it."""

    name: str
    status: str
    keys: int
    seconds: float
    requests: int
    worker_cpu: list[float]  # seconds, each worker (utime + stime over the sync)
    pg_cpu: float | None  # seconds, the whole local cluster
    store_cpu: float  # seconds, bench/store.py's process
    worker_peak_mb: list[float]
    store_peak_mb: float
    bench_peak_mb: float
    autovacuums: int  # autovacuum + autoanalyze passes on the staged tables during it
    models_per_s_by_tenth: list[float]  # models done in each tenth of the wall time, per s
    load: tuple[float, float]  # the 1-minute load average during it: lowest, highest

    @property
    def keys_per_s(self) -> float:
        return self.keys / self.seconds if self.seconds > 0 else math.inf

    @property
    def us_per_key(self) -> float:
        return self.seconds / max(self.keys, 1) * 1e6

    @property
    def workers_per_million(self) -> float | None:
        return self.per_million(sum(self.worker_cpu))

    def per_million(self, seconds: float | None) -> float | None:
        return None if seconds is None else seconds / max(self.keys, 1) * 1e6

    def describe(self) -> str:
        pg = f", PostgreSQL {self.pg_cpu:.1f} s CPU" if self.pg_cpu is not None else ""
        return (
            f"{self.status}, {self.keys:,} keys in {self.seconds:.1f} s ({self.keys_per_s:,.0f} "
            f"keys/s), {self.requests:,} listing requests; workers' CPU "
            + " + ".join(f"{c:.1f}" for c in self.worker_cpu)
            + f" s{pg}; workers' peak RSS "
            + ", ".join(f"{m:,.0f}" for m in self.worker_peak_mb)
            + f" MB, store {self.store_peak_mb:,.0f} MB; {self.autovacuums} autovacuum passes; "
            + f"load average {self.load[0]:.1f} to {self.load[1]:.1f}"
            + "\n  models done per s, by tenth of the time: "
            + (" ".join(f"{r:,.0f}" for r in self.models_per_s_by_tenth) or "too short to tell")
        )


@dataclass
class Size:
    label: str
    models: int
    keys: int
    build_seconds: float
    store_build_peak_mb: float = math.nan
    first: Phase | None = None
    resync: Phase | None = None
    resync_rows_written: int = 0
    db: dict[str, Any] = field(default_factory=dict)
    load: tuple[float, float, float] = (0.0, 0.0, 0.0)  # the load average when it ended

    def floor(self, args: argparse.Namespace) -> float:
        """The listing floor: pages x the store's delay / requests in flight."""
        return math.ceil(self.keys / 1000) * args.delay / args.concurrency

    def phases(self) -> tuple[Phase, Phase]:
        assert self.first is not None and self.resync is not None, f"{self.label}: not measured"
        return self.first, self.resync


def _mb(n: float) -> str:
    return f"{n / MB:,.1f} MB"


def _num(value: float | None, spec: str = ",.1f", unit: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:{spec}}{unit}"


Row = tuple[str, Callable[[Size], Any], Callable[[Any], str], bool]


def _mb0(v: float | None) -> str:
    return _num(v, ",.0f", " MB")


def _int(v: int) -> str:
    return f"{v:,}"


def _rate(v: float | None) -> str:
    return _num(v, ",.0f")


def _us(v: float | None) -> str:
    return _num(v, ",.2f")


def _peaks(v: list[float]) -> str:
    return " / ".join(f"{m:,.0f}" for m in v) + " MB"


def _load(v: tuple[float, float, float]) -> str:
    return " ".join(f"{x:.1f}" for x in v)


def _span(v: tuple[float, float]) -> str:
    return f"{v[0]:.1f} to {v[1]:.1f}"


def _phase_rows(name: str, i: int) -> list[Row]:
    def p(s: Size) -> Phase:
        return s.phases()[i]

    return [
        (f"{name}: status", lambda s: p(s).status, str, False),
        (f"{name}: seconds", lambda s: p(s).seconds, _num, True),
        (f"{name}: keys/s", lambda s: p(s).keys_per_s, _rate, True),
        (f"{name}: us per key", lambda s: p(s).us_per_key, _us, True),
        (f"{name}: listing requests", lambda s: p(s).requests, _int, True),
        (
            f"{name}: workers' CPU s / M keys",
            lambda s: p(s).per_million(sum(p(s).worker_cpu)),
            _num,
            True,
        ),
        (f"{name}: PostgreSQL CPU s / M keys", lambda s: p(s).per_million(p(s).pg_cpu), _num, True),
        (f"{name}: store's CPU s / M keys", lambda s: p(s).per_million(p(s).store_cpu), _num, True),
        (f"{name}: workers' peak RSS", lambda s: p(s).worker_peak_mb, _peaks, True),
        (f"{name}: store's peak RSS", lambda s: p(s).store_peak_mb, _mb0, True),
        (f"{name}: bench's peak RSS", lambda s: p(s).bench_peak_mb, _mb0, True),
        (f"{name}: autovacuum passes", lambda s: p(s).autovacuums, str, False),
        (f"{name}: load average (1 min)", lambda s: p(s).load, _span, False),
    ]


def _table_rows(table: str) -> list[Row]:
    short = table.removeprefix("whitelabel_")
    return [
        (f"  {short}: rows", lambda s: s.db[table]["rows"], _int, True),
        (f"  {short}: heap", lambda s: s.db[table]["heap"], _mb, True),
        (f"  {short}: indexes", lambda s: s.db[table]["indexes"], _mb, True),
    ]


def _rows(args: argparse.Namespace) -> list[Row]:
    """(label, value of a size, format, print the large / small ratio)."""

    def over_floor(s: Size) -> float:
        return s.phases()[1].seconds / s.floor(args)

    rows: list[Row] = [
        ("keys", lambda s: s.keys, _int, True),
        ("store: build seconds", lambda s: s.build_seconds, _num, True),
        ("store: peak RSS building", lambda s: s.store_build_peak_mb, _mb0, True),
        *_phase_rows("first sync", 0),
        *_phase_rows("re-sync", 1),
        ("re-sync: listing floor s", lambda s: s.floor(args), _num, True),
        ("re-sync / listing floor", over_floor, lambda v: f"{v:.2f}x", True),
        ("re-sync: rows written", lambda s: s.resync_rows_written, _int, False),
        ("database (pg_database_size)", lambda s: s.db["database"], _mb, True),
        ("load average at the end (1/5/15 min)", lambda s: s.load, _load, False),
    ]
    for table in STAGED:
        rows += _table_rows(table)
    return rows


def _ratio(small: Any, large: Any) -> float | None:
    """large / small; of the largest value, for lists (the workers' peaks)."""
    if isinstance(small, list) and isinstance(large, list) and small and large:
        small, large = max(small), max(large)
    if isinstance(small, int | float) and isinstance(large, int | float) and small:
        return float(large) / float(small)
    return None


@dataclass
class Target:
    name: str
    value: float
    goal: float
    unit: str

    @property
    def met(self) -> bool:
        return self.value <= self.goal

    def line(self) -> str:
        shown = f"{self.value:,.2f}x" if self.unit == "x" else f"{self.value:,.0f} MB"
        goal = f"{self.goal:g}x" if self.unit == "x" else f"{self.goal:,.0f} MB"
        return f"  {self.name:<58} {shown:>10}   <= {goal:<8} {'PASS' if self.met else 'MISS'}"


def targets(small: Size, large: Size, args: argparse.Namespace) -> list[Target]:
    s_first, _ = small.phases()
    l_first, l_resync = large.phases()
    workers = max(m for size in (small, large) for p in size.phases() for m in p.worker_peak_mb)
    store = max(
        [large.store_build_peak_mb, small.store_build_peak_mb]
        + [p.store_peak_mb for size in (small, large) for p in size.phases()]
    )
    bench = max(p.bench_peak_mb for size in (small, large) for p in size.phases())
    return [
        Target(
            f"re-sync at {large.keys:,} keys / listing floor ({large.floor(args):.1f} s)",
            l_resync.seconds / large.floor(args),
            RESYNC_OVER_FLOOR_GOAL,
            "x",
        ),
        Target("peak RSS, each worker, both sizes", workers, RSS_GOAL_MB, "MB"),
        Target("peak RSS, the store process (bench/store.py)", store, RSS_GOAL_MB, "MB"),
        Target("peak RSS, the bench process", bench, RSS_GOAL_MB, "MB"),
        Target(
            "first-sync time per key, large / small",
            l_first.us_per_key / s_first.us_per_key,
            FIRST_PER_KEY_GOAL,
            "x",
        ),
    ]


def report(sizes: list[Size], args: argparse.Namespace) -> None:
    small, large = sizes
    say()
    say("=" * 100)
    head = f"{'':<38}{small.keys:>18,} keys{large.keys:>18,} keys{'large / small':>16}"
    say(head)
    table: dict[str, dict[str, Any]] = {}
    for label, pick, fmt, ratio in _rows(args):
        a, b = pick(small), pick(large)
        r = _ratio(a, b) if ratio else None
        say(f"{label:<38}{fmt(a):>23}{fmt(b):>23}{(f'{r:.2f}x' if r is not None else ''):>16}")
        table[label.strip()] = {"small": a, "large": b, "ratio": r}
    say()
    say("TARGETS")
    found = targets(small, large, args)
    for target in found:
        say(target.line())
    say("=" * 100)
    if args.json:
        data = {
            "sizes": [dataclasses.asdict(s) for s in sizes],
            "table": table,
            "targets": [{**dataclasses.asdict(t), "met": t.met} for t in found],
        }
        args.json.write_text(json.dumps(data, indent=2, default=str) + "\n")
        say(f"figures written to {args.json}")
