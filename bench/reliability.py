"""Run the reliability suite and the mixed-load soak; write docs/reliability.md from the results.

Usage (a throwaway PostgreSQL is started for it):
    make reliability                      # full: suite + 5-minute soak
    make reliability ARGS="--soak-seconds 60"
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "test-output"
DOC = ROOT / "docs" / "reliability.md"
SUITES = {
    "Faults (proxy, killed connection, SIGKILL, two processes)": "tests/test_faults.py",
    "Convergence (hypothesis state machine, 200 examples)": "tests/test_convergence.py",
    "Hostile input (keys, query parameters, forms)": "tests/test_hostile.py",
    "Hostile names in Chromium": "tests/browser/test_hostile_pages.py",
    "Public API under schemathesis": "tests/browser/test_public_api_schema.py",
    "Access (route walk, CSRF, sessions, throttling, headers)": "tests/test_access.py",
    "Two app processes (sessions, progress streams)": "tests/browser/test_two_processes.py",
    "Worker processes (SIGKILLed worker or web, two webs + two workers, schedule, cancel)": (
        "tests/test_workers.py"
    ),
    "Embedded PostgreSQL SIGKILLed under make run": "tests/test_embedded.py",
    "Ending sessions under racing requests": "tests/test_session_races.py",
    "CSRF edges": "tests/test_csrf_edges.py",
    "Metrics cardinality": "tests/test_metrics_bounds.py",
    "Stored settings exercised": "tests/test_stored_settings.py",
    "Listings cut short": "tests/test_listing_cut_short.py",
    "Integers and unique races": "tests/test_input_races.py",
    "Queue fairness": "tests/test_queue_fairness.py",
    "Upload policies and the demo S3": "tests/test_upload_trust.py",
    "Decoder memory bombs through a worker": "tests/test_media_bombs.py",
    "Stopping the process tree": "tests/test_process_tree.py",
}
# Everything from this line on in docs/reliability.md is written by hand and kept as it is.
KEPT = "<!-- Written by hand from here on: make reliability keeps it. -->"


def run_suite() -> dict[str, dict[str, Any]]:
    junit = OUT / "reliability-junit.xml"
    report = OUT / "reliability.json"
    report.unlink(missing_ok=True)
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", f"--junitxml={junit}", *SUITES.values()],
        cwd=ROOT,
        check=False,
    )
    print(f"suite took {time.monotonic() - started:.0f} s", flush=True)
    per_file: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"passed": 0, "failed": 0, "seconds": 0.0}
    )
    for case in ET.parse(junit).getroot().iter("testcase"):
        path = case.get("classname", "").replace(".", "/")
        name = next((f for f in SUITES.values() if path.startswith(f[:-3])), path)
        failed = any(child.tag in ("failure", "error") for child in case)
        per_file[name]["failed" if failed else "passed"] += 1
        per_file[name]["seconds"] += float(case.get("time", 0))
    return dict(per_file)


def hostile_lines(hostile: dict[str, Any] | None) -> list[str]:
    """The hostile-media corpus through real workers (bench/hostile_media.py)."""
    if not hostile:
        return []
    lines = [
        "",
        "## Hostile media through two workers",
        "",
        "The corpus of `bench/hostile_corpus.py` (decoder memory bombs and one photo) synced and",
        "previewed by two real workers against moto; target: each worker at most 400 MB.",
        "",
        "| worker | peak RSS MB | alive | its render children's peaks MB |",
        "| --- | ---: | --- | --- |",
    ]
    for i, w in enumerate(hostile["workers"], 1):
        kids = ", ".join(f"{mb:,.0f}" for mb in w["children_mb"]) or "none"
        alive = "yes" if w["alive"] else "NO"
        lines.append(f"| {i} | {w['worker_mb']:,.0f} | {alive} | {kids} |")
    lines += ["", "| item | outcome |", "| --- | --- |"]
    lines += [
        f"| `{name}` | {str(outcome).replace('|', '/')} |"
        for name, outcome in hostile["items"].items()
    ]
    return lines


def write_doc(
    suite: dict[str, dict[str, Any]],
    faults: dict[str, Any],
    soak: dict[str, Any] | None,
    command: str,
    hostile: dict[str, Any] | None = None,
) -> None:
    lines = [
        "# Reliability",
        "",
        f"Produced by `{command}` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        f"({os.cpu_count()} CPUs). Re-run it to refresh every figure below.",
        "",
        "## Suites",
        "",
        "| suite | tests passed | failed | seconds |",
        "| --- | ---: | ---: | ---: |",
    ]
    for title, path in SUITES.items():
        row = suite.get(path, {"passed": 0, "failed": 0, "seconds": 0.0})
        lines.append(
            f"| {title} (`{path}`) | {row['passed']} | {row['failed']} | {row['seconds']:.0f} |"
        )
    lines += [
        "",
        "## Faults",
        "",
        "Each case ends by comparing the staged tables with the bucket through the key "
        "rules (`tests/oracle.py`).",
        "",
        "| case | what happened | what was kept | next sync converged |",
        "| --- | --- | --- | --- |",
    ]
    for case, row in faults.items():
        happened = row["happened"].replace("|", "\\|").replace("\n", " ")
        lines.append(
            f"| {case} | {happened} | {row['kept']} | {'yes' if row['converged'] else 'NO'} |"
        )
    if soak:
        lines += [
            "",
            "## Mixed load while a sync runs",
            "",
            f"{soak['seconds']:.0f} s at {soak['connections']} connections, "
            f"{soak['streams']} open progress streams, a {soak['keys']:,}-key bucket "
            f"re-synced throughout ({soak['syncs']} sync runs), after a "
            f"{soak['warmup_s']:.0f} s warm-up that includes the first full sync.",
            "",
            "| route | requests | errors | req/s | p50 ms | p99 ms |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        for route in soak["routes"]:
            lines.append(
                f"| `{route['name']}` | {route['requests']:,} | {route['errors']} | "
                f"{route['rps']:.0f} | {route['p50_ms']:.1f} | {route['p99_ms']:.1f} |"
            )
        lines += [
            "",
            f"Progress events received over SSE: {soak['events']:,}; "
            f"stream errors: {soak['stream_errors']}.",
            f"Server RSS after warm-up {soak['rss_warm_mb']:.0f} MB, at the end "
            f"{soak['rss_end_mb']:.0f} MB ({soak['rss_growth_pct']:+.1f}%; target within "
            "10%).",
            "RSS every tenth of the soak (MB): "
            + ", ".join(f"{v:.0f}" for v in soak.get("rss_series_mb", [])),
        ]
    lines += hostile_lines(hostile)
    old = DOC.read_text() if DOC.exists() else ""
    kept = old[old.index(KEPT) :] if KEPT in old else KEPT + "\n"
    DOC.parent.mkdir(exist_ok=True)
    DOC.write_text("\n".join(lines) + "\n\n" + kept)
    print(f"wrote {DOC.relative_to(ROOT)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--soak-seconds", type=float, default=300.0)
    parser.add_argument("--skip-soak", action="store_true")
    parser.add_argument("--skip-suite", action="store_true")
    parser.add_argument("--skip-hostile-media", action="store_true")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    suite_path = OUT / "reliability-suite.json"
    if args.skip_suite and suite_path.exists():  # keep the last suite figures
        suite = json.loads(suite_path.read_text())
    else:
        suite = run_suite()
        suite_path.write_text(json.dumps(suite, indent=2))
    faults_path = OUT / "reliability.json"
    faults = json.loads(faults_path.read_text()) if faults_path.exists() else {}
    hostile = None
    if not args.skip_hostile_media:  # printed, and kept in test-output/hostile-media.json
        from bench.hostile_media import measure, report

        hostile = asyncio.run(measure(workers=2))
        if hostile:
            report(hostile)
            (OUT / "hostile-media.json").write_text(json.dumps(hostile, indent=2, default=float))
    soak = None
    if not args.skip_soak:
        from bench.web_soak import run_soak

        soak = asyncio.run(run_soak(seconds=args.soak_seconds))
        (OUT / "soak.json").write_text(json.dumps(soak, indent=2))
    command = "make reliability" + (
        f' ARGS="--soak-seconds {args.soak_seconds:g}"' if args.soak_seconds != 300 else ""
    )
    write_doc(suite, faults, soak, command, hostile)


if __name__ == "__main__":
    main()
