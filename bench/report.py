"""Printing the benchmark's figures, the summary against the targets, and the JSON file."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.measure import TableWrites
from domain.catalogue.runs import Run


def say(text: str = "") -> None:
    print(text, flush=True)


def rate(keys: int, seconds: float) -> float:
    return keys / seconds if seconds > 0 else math.inf


def fmt_rate(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f} keys/s"


def describe_run(run: Run) -> str:
    return (
        f"status {run.status}, listed {run.keys_listed:,}, ignored "
        f"{run.keys_ignored:,}; models +{run.models_inserted:,} "
        f"~{run.models_updated:,}; posts +{run.posts_inserted:,} "
        f"~{run.posts_updated:,}; media +{run.media_inserted:,} "
        f"~{run.media_updated:,} -{run.media_deleted:,}"
        + (f"; error: {run.error}" if run.error else "")
    )


def fmt_writes(writes: dict[str, TableWrites]) -> str:
    parts = []
    for table, w in writes.items():
        short = table.removeprefix("whitelabel_")
        parts.append(
            f"{short} {w.total:,} (ins {w.inserted:,} / upd {w.updated:,} / del {w.deleted:,})"
        )
    return "; ".join(parts)


@dataclass
class Target:
    name: str
    value: float | None
    goal: float
    higher_is_better: bool
    unit: str

    @property
    def met(self) -> bool | None:
        if self.value is None or math.isnan(self.value):
            return None
        return self.value >= self.goal if self.higher_is_better else self.value <= self.goal

    def line(self) -> str:
        if self.value is None:
            shown = "not measured"
        elif self.unit == "keys/s":
            shown = f"{self.value:,.0f} keys/s"
        elif self.unit == "x":
            shown = f"{self.value:.2f}x"
        elif self.unit == "MB":
            shown = f"{self.value:,.0f} MB"
        else:
            shown = f"{self.value:,.0f} {self.unit}".rstrip()
        sign = ">=" if self.higher_is_better else "<="
        goal = (
            f"{self.goal:,.0f} keys/s"
            if self.unit == "keys/s"
            else (
                f"{self.goal:g}x" if self.unit == "x" else f"{self.goal:,.0f} {self.unit}".rstrip()
            )
        )
        verdict = {True: "met", False: "MISSED", None: "-"}[self.met]
        return f"  {self.name:<38} {shown:>18}   target {sign} {goal:<16} {verdict}"


@dataclass
class Figures:
    values: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def __setitem__(self, key: str, value: Any) -> None:
        self.values[key] = value

    def get(self, key: str) -> Any:
        return self.values.get(key)

    def targets(self) -> list[Target]:
        g = self.get
        found: list[Target] = []
        for who, label in (("ours", "1 process"), ("workers", "workers")):
            if g(f"{who}_resync_seconds") is None:
                continue
            peak = g(f"{who}_peak_rss_mb") or g(f"{who}_first_peak_rss_mb")
            found += [
                Target(
                    f"{label}: re-sync, original / ours", g(f"{who}_resync_ratio"), 20, True, "x"
                ),
                Target(f"{label}: re-sync / floor", g(f"{who}_resync_over_floor"), 3, False, "x"),
                Target(
                    f"{label}: rows written, re-sync", g(f"{who}_resync_rows_written"), 0, False, ""
                ),
                Target(f"{label}: first, original / ours", g(f"{who}_first_ratio"), 10, True, "x"),
                Target(f"{label}: peak RSS", peak, 300, False, "MB"),
            ]
            steps = [g(f"{who}_{run}_loop_step_ms") for run in ("first", "resync")]
            if None not in steps:  # measured in this process only (bench/loop_lag.py)
                found.append(Target(f"{label}: longest loop step", max(steps), 20, False, "ms"))
        return found

    def latest_wake(self) -> float | None:
        late = [self.get(f"ours_{run}_loop_wake_ms") for run in ("first", "resync")]
        return max(late) if None not in late else None

    def first_over_floor(self) -> float | None:
        original, floor = self.get("original_first_seconds"), self.get("floor_media_seconds")
        return original / floor if original and floor else None

    def summary(self) -> None:
        say()
        say("=" * 100)
        say("SUMMARY (figures against the targets; nothing here is asserted)")
        for target in self.targets():
            say(target.line())
        extra = [
            ("our first sync", self.get("ours_first_keys_per_s"), "keys/s"),
            ("our unchanged re-sync", self.get("ours_resync_keys_per_s"), "keys/s"),
            ("original first sync", self.get("original_first_keys_per_s"), "keys/s"),
            ("original re-sync", self.get("original_resync_keys_per_s"), "keys/s"),
            ("process peak RSS (ru_maxrss, whole run)", self.get("process_peak_rss_mb"), "MB"),
            ("2 ms timer, latest wake-up", self.latest_wake(), "ms"),
            # The best first-sync ratio storing the media rows alone allows (bench/write_floor.py).
            ("first, original / database floor", self.first_over_floor(), "x"),
        ]
        for name, value, unit in extra:
            if value is not None:
                shown = (
                    f"{value:.2f}x"
                    if unit == "x"
                    else (f"{value:,.0f} {unit}" if unit in ("MB", "ms") else fmt_rate(value))
                )
                say(f"  {name:<38} {shown:>18}   (for reference)")
        for note in self.notes:
            say(f"  note: {note}")
        say("=" * 100)

    def write_json(self, path: Path) -> None:
        data = {
            "figures": self.values,
            "targets": [
                {
                    "name": t.name,
                    "value": t.value,
                    "target": t.goal,
                    "higher_is_better": t.higher_is_better,
                    "unit": t.unit,
                    "met": t.met,
                }
                for t in self.targets()
            ],
            "notes": self.notes,
        }
        path.write_text(json.dumps(data, indent=2, default=str) + "\n")
        say(f"figures written to {path}")
