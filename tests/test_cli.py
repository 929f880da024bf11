"""The operator's command line, run as a real process against PostgreSQL and moto."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import Bucket, cli_env, count

ROOT = Path(__file__).resolve().parent.parent
LITESTAR = str(Path(sys.executable).parent / "litestar")


def cli(bucket: Bucket, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = cli_env(bucket.s3.settings, **env)
    return subprocess.run(
        [LITESTAR, *args], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=120
    )


async def test_sync_json_then_activate(database: Any, bucket: Bucket) -> None:
    await bucket.put("Cli Model/Post/a.jpg", "Cli Model/Post/b.mp4", "Other/P/c.jpg")
    done = cli(bucket, "sync", "--json")
    assert done.returncode == 0, done.stderr
    stats = json.loads(done.stdout.strip().splitlines()[-1])
    assert (stats["status"], stats["models_inserted"], stats["media_inserted"]) == (
        "succeeded",
        2,
        3,
    )
    table = cli(bucket, "sync")
    assert table.returncode == 0 and "succeeded" in table.stdout and "media" in table.stdout
    act = cli(bucket, "activate", "Cli Model")
    assert act.returncode == 0, act.stderr
    assert "1 posts created" in act.stdout
    assert await count("posts") == 1


async def test_failures_exit_non_zero_with_one_line(database: Any, bucket: Bucket) -> None:
    missing = cli(bucket, "sync", "--model", "Nope")
    assert missing.returncode == 1
    assert missing.stderr.strip().splitlines()[-1] == (
        "error: model folder 'Nope' is not in the bucket; no model was created."
    )
    bad = cli(bucket, "sync", SIGNED_URL_TTL="soon")
    assert bad.returncode != 0 and "SIGNED_URL_TTL='soon'" in bad.stderr
    assert "Traceback" not in bad.stderr
    nobucket = cli(bucket, "sync", DO_SPACES_BUCKET="no-such-bucket")
    assert nobucket.returncode == 1 and "no-such-bucket" in nobucket.stderr
    assert "DO_SPACES_BUCKET" in nobucket.stderr and "Traceback" not in nobucket.stderr
    unknown = cli(bucket, "activate", "Ghost")
    assert unknown.returncode == 1 and "Ghost" in unknown.stderr


async def test_litestar_routes_still_loads_the_whole_web_app(database: Any, bucket: Bucket) -> None:
    """The operator's commands load only what they use (app.py); every other `litestar`
    command (routes, run, schema) still gets the web app, all its routes."""
    done = cli(bucket, "routes")
    assert done.returncode == 0, done.stderr
    for route in ("/staged", "/production", "/api/v1/models", "/login"):
        assert route in done.stdout, route


async def test_an_operator_command_with_a_bad_setting_says_which_in_one_line(
    database: Any, bucket: Bucket
) -> None:
    done = cli(bucket, "sync", SYNC_CONCURRENCY="lots")
    assert done.returncode != 0
    assert done.stderr.strip().splitlines()[-1].startswith("error: SYNC_CONCURRENCY")


SLOW_LOG_THEN_FAIL = """
import logging, sys, time
sys.argv = ["litestar", "sync"]
import app
app.create_app()
writer = logging.getLogger().handlers[0].listener.handlers[0]
emit = writer.emit
writer.emit = lambda record: (time.sleep(0.2), emit(record))
logging.getLogger("creatorflix.test").info("a line still queued")
from controllers.cli import fail
fail("the error", 3)
"""


def test_the_error_stays_the_last_line_while_log_lines_are_still_queued() -> None:
    """Litestar writes log lines from a thread of its own; a command's error waits for them."""
    env = {**os.environ, "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}
    done = subprocess.run(
        [sys.executable, "-c", SLOW_LOG_THEN_FAIL],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 3 and "a line still queued" in done.stderr, done.stderr
    assert lines[-1] == "error: the error", done.stderr
