"""`make mutate`: mutation testing of the pure core with mutmut, then the kill rate and survivors.

Usage: python tests/mutate.py [--keep] [--min PERCENT]

The modules and tests come from [tool.mutmut] in pyproject.toml; docs/mutation.md explains
every surviving mutant. Each run starts from a clean mutants/ (a kept one would reuse verdicts
reached with older tests) unless --keep is given. Exits 1 when the kill rate is below --min.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUTANTS = ROOT / "mutants"
LOG = ROOT / "mutants" / "mutmut-run.log"
# mutmut's verdicts that count as the tests catching the mutant.
DETECTED = {"killed", "timeout", "caught by type check"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="reuse mutants/ from the last run")
    parser.add_argument("--min", type=float, default=90.0, help="lowest passing kill rate, %%")
    args = parser.parse_args()
    os.chdir(ROOT)
    modules = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]["only_mutate"]

    if not args.keep and MUTANTS.exists():
        shutil.rmtree(MUTANTS)
    MUTANTS.mkdir(exist_ok=True)
    mutmut = str(Path(sys.executable).parent / "mutmut")
    workers = str(os.cpu_count() or 2)
    print(f"[mutate] mutmut over {', '.join(modules)} ({workers} workers; log: {LOG.name})")
    started = time.monotonic()
    with LOG.open("w") as log:
        done = subprocess.run([mutmut, "run", "--max-children", workers], stdout=log, stderr=log)
    if done.returncode != 0:
        print(LOG.read_text()[-4000:])
        print(f"[mutate] mutmut failed (exit {done.returncode}); see {LOG}")
        return 1
    print(f"[mutate] done in {time.monotonic() - started:.0f} s")
    return report(modules, args.min)


def report(modules: list[str], minimum: float) -> int:
    from mutmut.mutation.diff_apply import get_diff_for_mutant
    from mutmut.stats import status_by_exit_code

    survivors: list[tuple[str, str, str]] = []
    rows: list[tuple[str, int, int, int]] = []  # module, mutants, killed, survived
    for module in modules:
        meta = json.loads((MUTANTS / f"{module}.meta").read_text())
        statuses = {
            name: status_by_exit_code[code] for name, code in meta["exit_code_by_key"].items()
        }
        detected = sum(1 for s in statuses.values() if s in DETECTED)
        survived = sum(1 for s in statuses.values() if s == "survived")
        rows.append((module, len(statuses), detected, survived))
        survivors += [(module, n, s) for n, s in sorted(statuses.items()) if s not in DETECTED]
    total = sum(r[1] for r in rows)
    detected = sum(r[2] for r in rows)
    kill_rate = 100 * detected / max(total, 1)

    print()
    print(f"{'module':<28} {'mutants':>7} {'killed':>7} {'survived':>8} {'other':>5} kill rate")
    for module, n, killed, alive in [*rows, ("total", total, detected, sum(r[3] for r in rows))]:
        line = f"{module:<28} {n:>7} {killed:>7} {alive:>8} {n - killed - alive:>5}"
        print(f"{line} {100 * killed / max(n, 1):>8.1f}%")
    print()
    print(f"kill rate: {detected}/{total} = {kill_rate:.1f}%")
    if survivors:
        print(f"\nsurvivors ({len(survivors)}; explained in docs/mutation.md):")
        for module, name, status in survivors:
            changed = [
                line
                for line in get_diff_for_mutant(name, path=module).splitlines()
                if line[:1] in "+-" and line[:3] not in ("+++", "---")
            ]
            print(f"  {name} ({status})")
            for line in changed:
                print(f"      {line.strip()[:1]} {line[1:].strip()}")
    if kill_rate < minimum:
        print(f"\n[mutate] kill rate below {minimum:g}%")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
