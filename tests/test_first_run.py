"""Issue 25, first run: /schema says it is loading in plain HTML (no inline script or style) until
Swagger UI replaces it, and the Makefile's `make run` install says what it does while `make test`
keeps its quiet install."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.web import Browser

ROOT = Path(__file__).resolve().parents[1]


async def test_the_api_docs_page_says_it_is_loading(signed_in: Browser) -> None:
    answer = await signed_in.get("/schema")
    assert answer.status_code == 200
    page = answer.text
    root = page.split('<div id="swagger-ui"')[1]
    assert 'class="api-docs-loading" role="status"' in root
    assert "Loading the API docs" in root
    assert 'href="/schema/openapi.json"' in root  # the schema itself, readable meanwhile
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)  # no inline script
    assert "style=" not in page and "<style" not in page
    assert "script-src 'self'" in answer.headers["content-security-policy"]


def dry_run(*targets: str, env: dict[str, str] | None = None) -> str:
    """What make would run, without running it (-n), as if nothing were installed (-B)."""
    done = subprocess.run(
        ["make", "-nB", *targets], cwd=ROOT, capture_output=True, text=True, check=True, env=env
    )
    return done.stdout


def test_make_run_says_each_install_step_and_make_test_stays_quiet() -> None:
    run = dry_run("run")
    for step in (
        "creating the virtualenv",
        "upgrading pip",
        "installing the app and its packages",
        "pip shows its progress",
        "packages installed in",
        "about 3 minutes",
        "first start: the app creates its PostgreSQL",
    ):
        assert step in run, step
    assert "--progress-bar on -e '.[demo]'" in run
    test = dry_run("lint")  # `make test` runs lint first, which installs the dev extra
    assert "pip install -q -e '.[dev]'" in test and "==>" not in test
