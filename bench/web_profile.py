"""Sample a server with py-spy while it is under load, and rank where its CPU time goes."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from bench.web_load import LoadResult, run_load

ROOT = Path(__file__).resolve().parent.parent
FRAME = re.compile(r"^(?P<func>.*) \((?P<path>[^()]*?)(?::\d+)?\)$")
SITE = re.compile(r".*/site-packages/")
OURS = ("app.py", "controllers/", "domain/", "bench/")
# Frames under every request (interpreter start-up, the event loop): left out of "inclusive".
PLUMBING = ("<frozen", "click/", "asyncio/", "selectors.py", "uvicorn/main.py",
            "uvicorn/server.py", "uvicorn/_compat.py", "uvicorn/__main__.py")  # fmt: skip


@dataclass
class Profile:
    name: str
    samples: int = 0
    self_time: Counter[str] = field(default_factory=Counter)
    inclusive: Counter[str] = field(default_factory=Counter)
    ours: Counter[str] = field(default_factory=Counter)  # inclusive, project code only
    raw_path: str = ""
    db_polls: int = 0
    db_active: Counter[str] = field(default_factory=Counter)  # query -> backends seen running it

    def top(self, counter: Counter[str], n: int) -> list[tuple[str, float]]:
        total = self.samples or 1
        return [(name, round(100 * count / total, 1)) for name, count in counter.most_common(n)]

    def as_dict(self, n: int = 15) -> dict[str, object]:
        return {
            "samples": self.samples,
            "raw": self.raw_path,
            "self_pct": self.top(self.self_time, n),
            "library_inclusive_pct": self.top(self.inclusive, n),
            "project_inclusive_pct": self.top(self.ours, n),
            "db_mean_active_backends": self.db_top(n),
        }

    def db_top(self, n: int) -> list[tuple[str, float]]:
        polls = self.db_polls or 1
        return [(q, round(c / polls, 2)) for q, c in self.db_active.most_common(n)]


def _frame(raw: str) -> tuple[str, bool]:
    """("func (short/path.py)", is project code) for one py-spy frame.

    py-spy already shortens paths: site-packages and the working directory are cut off.
    """
    found = FRAME.match(raw.strip())
    if not found:
        return raw.strip(), False
    path = SITE.sub("", found["path"]).removeprefix(str(ROOT) + "/")
    ours = path.startswith(OURS) or path.endswith(".html")  # .html: a Jinja template
    return f"{found['func']} ({path})", ours


async def sample_database(until: float, every: float = 0.01) -> tuple[int, Counter[str]]:
    """Poll pg_stat_activity: which statements are running (parallel workers included)."""
    seen: Counter[str] = Counter()
    polls = 0
    conn = await asyncpg.connect(os.environ["DATABASE_URL"])
    try:
        while time.perf_counter() < until:
            rows = await conn.fetch(
                "SELECT query FROM pg_stat_activity WHERE state = 'active' "
                "AND pid <> pg_backend_pid() AND datname = current_database()"
            )
            polls += 1
            for r in rows:
                seen[" ".join(r["query"].split())[:150]] += 1
            await asyncio.sleep(every)
    finally:
        await conn.close()
    return polls, seen


def parse_collapsed(name: str, text: str) -> Profile:
    profile = Profile(name)
    for line in text.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_frame(f) for f in stack.split(";") if " (" in f]
        if not frames:
            continue
        profile.samples += count
        profile.self_time[frames[-1][0]] += count
        for frame, ours in dict.fromkeys(frames):  # each function once per stack
            if ours:
                profile.ours[frame] += count
            elif not frame.rpartition(" (")[2].startswith(PLUMBING):
                profile.inclusive[frame] += count
    return profile


async def profile_under_load(
    name: str,
    base: str,
    path: str,
    *,
    pid: int,
    cookies: list[str],
    connections: int,
    seconds: float,
    out_dir: Path,
) -> tuple[Profile, LoadResult]:
    """py-spy record (100 Hz, non-blocking) on `pid` while `path` is under load.

    PostgreSQL is sampled at the same time (pg_stat_activity every 10 ms), since a page can be
    slow in the database while the server process sits idle.
    """
    raw = out_dir / f"web_profile_{name}.txt"
    spy = Path(sys.executable).with_name("py-spy")
    command = [
        str(spy), "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", "100",
        "--nonblocking", "--format", "raw", "--output", str(raw),
    ]  # fmt: skip
    recorder = await asyncio.create_subprocess_exec(
        *command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    load, (polls, active) = await asyncio.gather(
        run_load(
            name,
            base,
            path,
            cookies=cookies,
            connections=connections,
            duration=seconds,
            warmup=0.5,
            server_pid=pid,
        ),
        sample_database(time.perf_counter() + seconds),
    )
    _, err = await recorder.communicate()
    if recorder.returncode != 0 or not raw.exists():
        raise RuntimeError(f"py-spy failed ({recorder.returncode}): {err.decode()[-500:]}")
    profile = parse_collapsed(name, raw.read_text())
    profile.raw_path = str(raw)
    profile.db_polls, profile.db_active = polls, active
    return profile, load


def print_profile(profile: Profile, n: int = 12) -> None:
    print(f"\n  Profile of {profile.name}: {profile.samples} samples ({profile.raw_path})")
    for title, counter in (
        ("self (leaf) time", profile.self_time),
        ("project code, inclusive", profile.ours),
        ("libraries, inclusive", profile.inclusive),
    ):
        print(f"    {title}:")
        for frame, pct in profile.top(counter, n):
            print(f"      {pct:5.1f}%  {frame}")
    print(f"    PostgreSQL, mean backends running each statement ({profile.db_polls} polls):")
    for query, mean in profile.db_top(n):
        print(f"      {mean:5.2f}  {query}")
