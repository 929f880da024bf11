"""`make mutate`: mutation testing with mutmut, one run per group of modules, then the kill rates.

Usage: python tests/mutate.py [--keep] [--min PERCENT] [GROUP...]

GROUPS below maps each group of modules to the test files that cover it; each group's mutants
run only against its own tests. The `core` group is [tool.mutmut] in pyproject.toml (the pure
core, tests without a database); the other groups need PostgreSQL, so without
TEST_DATABASE_URL this script restarts itself under `tests/run.py --only-db`. Each group runs in
a work directory of its own, mutants/GROUP/ (links to the project, a pyproject.toml with that
group's [tool.mutmut], and mutmut's own mutants/), one group after the other.
docs/mutation.md explains every surviving mutant. Each run starts from a clean work directory
(a kept one would reuse verdicts reached with older tests) unless --keep is given. Exits 1 when
a group's kill rate is below --min.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUTANTS = ROOT / "mutants"
# mutmut's verdicts that count as the tests catching the mutant.
DETECTED = {"killed", "timeout", "caught by type check"}
# Top-level entries a group's work directory does not link to.
# What the mutated packages find next to them, copied with them into mutmut's mutants/.
ALSO_COPY = ["piccolo_migrations", "templates", "static", "harness"]
NOT_LINKED = {".git", ".venv", "mutants", "pyproject.toml", "data", "test-output"}


@dataclass(frozen=True)
class Group:
    modules: tuple[str, ...]
    tests: tuple[str, ...]  # files or test ids, as pytest takes them
    database: bool = True  # the tests need conftest.py's PostgreSQL and S3 fixtures
    children: int = 1  # mutmut workers; DB groups share one database, so one at a time


def core() -> Group:
    settings = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]
    return Group(
        tuple(settings["only_mutate"]),
        tuple(settings["pytest_add_cli_args_test_selection"]),
        database=False,
        children=os.cpu_count() or 2,
    )


GROUPS: dict[str, Group] = {
    "core": core(),
    "csrf": Group(
        ("controllers/csrf.py", "controllers/boundary.py"),
        ("tests/test_boundary_rules.py", "tests/test_csrf_edges.py"),
    ),
    "confirm": Group(
        ("domain/catalogue/confirm.py",),
        (
            "tests/test_confirm_rules.py",
            "tests/test_plan_edges.py",
            "tests/test_queue_ops.py",
            "tests/test_sync_safety.py",
        ),
    ),
    "run-handle": Group(
        ("domain/catalogue/run_handle.py", "domain/platform/dedicated.py"),
        (
            "tests/test_run_handle_rules.py",
            "tests/test_dedicated.py",
            "tests/test_sync_safety.py",
            "tests/test_plan_edges.py",
            "tests/test_queue_ops.py",
        ),
    ),
    "production": Group(
        (
            "domain/production/publishing.py",
            "domain/production/lifecycle.py",
            "domain/production/retiring.py",
        ),
        (
            "tests/test_production_rules.py",
            "tests/test_publish_counts.py",
            "tests/test_lifecycle.py",
            "tests/test_production_edges.py",
            "tests/test_retire.py",
            "tests/test_capped_counts.py",
        ),
    ),
    "derive": Group(
        ("domain/media/derive.py",), ("tests/test_derive_rules.py", "tests/test_media.py")
    ),
    "schedule": Group(
        ("domain/catalogue/schedule.py",),
        (
            "tests/test_schedule_rules.py",
            "tests/test_stored_settings.py",
            "tests/test_schedule_race.py",
        ),
    ),
    "page-parts": Group(
        (
            "controllers/components.py",
            "domain/platform/table_stats.py",
            "domain/platform/loops.py",
        ),
        (
            "tests/test_components.py",
            "tests/test_table_stats.py",
            "tests/test_beside.py",
            "tests/test_loop_limits.py",
        ),
    ),
    "s3-listing": Group(
        ("domain/platform/s3_pages.py", "domain/platform/s3_listing.py"),
        (
            "tests/test_page_parsing.py",
            "tests/test_listing_errors.py",
            "tests/test_listing.py",
            "tests/test_listing_cut_short.py",
            "tests/test_retry_statuses.py",
        ),
    ),
}


def toml_list(values: list[str]) -> str:
    return json.dumps(values)  # a JSON array of strings is a TOML array


def group_pyproject(group: Group) -> str:
    """pyproject.toml with [tool.mutmut] replaced by the group's settings."""
    text = (ROOT / "pyproject.toml").read_text()
    settings = tomllib.loads(text)["tool"]["mutmut"]
    args = list(settings["pytest_add_cli_args"])
    if group.database:
        args.remove("--noconftest")
    sources = sorted({m.split("/")[0] for m in group.modules})
    table = (
        "[tool.mutmut]\n"
        f"source_paths = {toml_list(sources)}\n"
        f"only_mutate = {toml_list(list(group.modules))}\n"
        f"pytest_add_cli_args = {toml_list(args)}\n"
        f"pytest_add_cli_args_test_selection = {toml_list(list(group.tests))}\n"
        # found next to domain/ and controllers/ (the migrations by domain/platform/piccolo_app.py)
        f"also_copy = {toml_list(ALSO_COPY)}\n"
    )
    return re.sub(r"(?ms)^\[tool\.mutmut\]\n.*?(?=^\[|\Z)", lambda _: table + "\n", text)


def prepare(name: str, group: Group, keep: bool) -> Path:
    work = MUTANTS / name
    if work.exists() and not keep:
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    for entry in ROOT.iterdir():
        link = work / entry.name
        if entry.name not in NOT_LINKED and not link.exists():
            link.symlink_to(entry)
    (work / "pyproject.toml").write_text(group_pyproject(group))
    (work / "mutants").mkdir(exist_ok=True)
    return work


def run_group(name: str, group: Group, keep: bool) -> float:
    work = prepare(name, group, keep)
    log = work / "mutants" / "mutmut-run.log"
    mutmut = str(Path(sys.executable).parent / "mutmut")
    print(f"[mutate] {name}: {', '.join(group.modules)} ({group.children} workers)", flush=True)
    started = time.monotonic()
    with log.open("w") as out:
        done = subprocess.run(
            [mutmut, "run", "--max-children", str(group.children)],
            cwd=work,
            stdout=out,
            stderr=out,
        )
    elapsed = time.monotonic() - started
    if done.returncode != 0:
        print(log.read_text()[-4000:])
        raise SystemExit(f"[mutate] {name}: mutmut failed (exit {done.returncode}); see {log}")
    print(f"[mutate] {name}: done in {elapsed:.0f} s", flush=True)
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="reuse mutants/GROUP from the last run")
    parser.add_argument("--min", type=float, default=90.0, help="lowest passing kill rate, %%")
    parser.add_argument("groups", nargs="*", metavar="GROUP", help=f"of {', '.join(GROUPS)}")
    args = parser.parse_args()
    # The core by default (a minute and a half); `all` for every group (hours on 2 cores).
    names = list(GROUPS) if args.groups == ["all"] else (args.groups or ["core"])
    unknown = [n for n in names if n not in GROUPS]
    if unknown:
        parser.error(f"unknown groups {unknown}; known: {', '.join(GROUPS)}")
    if any(GROUPS[n].database for n in names) and not os.environ.get("TEST_DATABASE_URL"):
        runner = [sys.executable, str(ROOT / "tests" / "run.py"), "--only-db", "--"]
        return subprocess.run([*runner, sys.executable, *sys.argv]).returncode
    os.chdir(ROOT)
    failed = False
    times: dict[str, float] = {}
    for name in names:
        try:
            times[name] = run_group(name, GROUPS[name], args.keep)
        except SystemExit as exc:  # one group's failure (e.g. derive: no test reaches it)
            print(exc, flush=True)  # leaves the other groups' runs and reports standing
            failed = True
    for name, seconds in times.items():
        failed |= report(name, GROUPS[name], seconds, args.min) != 0
    print(f"\n[mutate] total {sum(times.values()) / 60:.1f} min")
    return 1 if failed else 0


def report(name: str, group: Group, seconds: float, minimum: float) -> int:
    from mutmut.mutation.diff_apply import get_diff_for_mutant
    from mutmut.stats import status_by_exit_code

    work = MUTANTS / name
    survivors: list[tuple[str, str, str]] = []
    rows: list[tuple[str, int, int, int]] = []  # module, mutants, killed, survived
    for module in group.modules:
        meta = json.loads((work / "mutants" / f"{module}.meta").read_text())
        statuses = {
            name: status_by_exit_code[code] for name, code in meta["exit_code_by_key"].items()
        }
        detected = sum(1 for s in statuses.values() if s in DETECTED)
        survived = sum(1 for s in statuses.values() if s == "survived")
        rows.append((module, len(statuses), detected, survived))
        survivors += [(module, n, s) for n, s in sorted(statuses.items()) if s not in DETECTED]
    total = sum(r[1] for r in rows)
    detected = sum(r[2] for r in rows)

    print(f"\n== {name} ({seconds / 60:.1f} min; tests: {' '.join(group.tests)})")
    print(f"{'module':<34} {'mutants':>7} {'killed':>7} {'survived':>8} {'other':>5} kill rate")
    for module, n, killed, alive in [*rows, ("total", total, detected, sum(r[3] for r in rows))]:
        line = f"{module:<34} {n:>7} {killed:>7} {alive:>8} {n - killed - alive:>5}"
        print(f"{line} {100 * killed / max(n, 1):>8.1f}%")
    if survivors:
        print(f"\nsurvivors ({len(survivors)}; explained in docs/mutation.md):")
        cwd = os.getcwd()
        os.chdir(work)  # get_diff_for_mutant reads mutants/ and the sources from there
        try:
            for module, mutant, status in survivors:
                changed = [
                    line
                    for line in get_diff_for_mutant(mutant, path=module).splitlines()
                    if line[:1] in "+-" and line[:3] not in ("+++", "---")
                ]
                print(f"  {mutant} ({status})")
                for line in changed:
                    print(f"      {line.strip()[:1]} {line[1:].strip()}")
        finally:
            os.chdir(cwd)
    low = [m for m, n, killed, _ in rows if 100 * killed / max(n, 1) < minimum]
    if low:
        print(f"\n[mutate] {name}: kill rate below {minimum:g}% in {', '.join(low)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
