"""Test runner: installs what is missing, starts a throwaway PostgreSQL, runs a command, stops it.

Usage: python tests/run.py [pytest args...]
       python tests/run.py --only-db -- COMMAND...   (any command, with DATABASE_URL set)
"""

from __future__ import annotations

import compileall
import glob
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: sys.path holds tests/, not the project
    sys.path.insert(0, str(ROOT))

from harness.ports import free_port  # noqa: E402

APT_PACKAGES = {"postgresql": "/usr/lib/postgresql/*/bin/initdb", "chromium": "/usr/bin/chromium"}


def log(message: str) -> None:
    print(f"[tests/run] {message}", flush=True)


def ensure_packages(names: list[str]) -> None:
    missing = [n for n in names if not glob.glob(APT_PACKAGES[n])]
    if not missing:
        return
    if os.geteuid() != 0:
        sys.exit(
            f"missing Debian packages {missing}: run `sudo apt-get install {' '.join(missing)}`"
        )
    log(f"installing {' '.join(missing)} with apt-get")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True, env=env)


def compile_sources() -> None:
    """Write the project's bytecode once, up front. With PYTHONDONTWRITEBYTECODE set (as on this
    machine and CI), Python reads a .pyc but never writes one, so every process the tests start
    (the app, its workers, the CLI: hundreds) would compile the same ~20,000 lines again
    (0.2 s of CPU each)."""
    for folder in ("domain", "controllers", "harness", "tests", "bench", "piccolo_migrations"):
        compileall.compile_dir(ROOT / folder, quiet=2, workers=1)
    for name in ("app.py", "piccolo_conf.py"):
        compileall.compile_file(ROOT / name, quiet=2)


class Postgres:
    """A throwaway cluster owned by the `postgres` user on a free loopback port."""

    def __init__(self) -> None:
        self.bindir = Path(sorted(glob.glob(APT_PACKAGES["postgresql"]))[-1]).parent
        self.dir = Path(tempfile.mkdtemp(prefix="creatorflix-pg-"))
        self.port = free_port()
        self.as_postgres = os.geteuid() == 0

    def _run(self, *args: str) -> None:
        cmd = [str(a) for a in args]
        if self.as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)

    def start(self) -> str:
        if self.as_postgres:
            shutil.chown(self.dir, "postgres", "postgres")
        data = self.dir / "data"
        self._run(
            self.bindir / "initdb",
            "-D",
            data,
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        )
        opts = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} "
            f"-c unix_socket_directories={self.dir}"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(
            self.bindir / "pg_ctl", "-D", data, "-l", self.dir / "log", "-o", opts, "-w", "start"
        )
        self._run(
            self.bindir / "createdb",
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "creatorflix",
        )
        log(f"PostgreSQL running on 127.0.0.1:{self.port}")
        return f"postgresql://postgres@127.0.0.1:{self.port}/creatorflix"

    def stop(self) -> None:
        try:
            self._run(
                self.bindir / "pg_ctl", "-D", self.dir / "data", "-m", "immediate", "-w", "stop"
            )
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
        log("PostgreSQL stopped")


def main(argv: list[str]) -> int:
    only_db = "--only-db" in argv
    argv = [a for a in argv if a != "--only-db"]
    if only_db:
        command = argv[argv.index("--") + 1 :] if "--" in argv else argv
        ensure_packages(["postgresql"])
    else:
        # Three workers (pytest-xdist; TEST_WORKERS=0 for none), each file's tests on one, each
        # worker with a database of its own (tests/conftest.py); the slowest 20 at the end.
        # Three on two cores: the tests wait on processes, browsers and timers a good part of
        # the time (the full suite, quiet machine, same commit: 635 s with three, 807 s with two;
        # at 280c672, 583 s with three, 659 s with four and a browser wait missed). Session 28
        # cut the suite's CPU from about 1,000 s to 675 s (505 s wall, make test with lint).
        workers = os.environ.get("TEST_WORKERS", "3")
        # Files go out in conftest.py's order (its slowest first), not xdist's (most tests first).
        xdist = ["-n", workers, "--dist", "loadfile", "--no-loadscope-reorder"]
        parallel = xdist if workers != "0" else []
        named = [a for a in argv if not a.startswith("-") and (ROOT / a.split("::")[0]).exists()]
        if len(named) == 1 or any(a == "-n" or a.startswith("--numprocesses") for a in argv):
            parallel = []  # one file: one process; or the caller chose
        command = [sys.executable, "-m", "pytest", *parallel, "--durations=20", *argv]
        ensure_packages(["postgresql", "chromium"])
    compile_sources()
    pg = Postgres()
    url = pg.start()
    try:
        env = {**os.environ, "DATABASE_URL": url, "TEST_DATABASE_URL": url}
        return subprocess.run(command, cwd=ROOT, env=env).returncode
    finally:
        pg.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
