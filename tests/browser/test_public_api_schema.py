"""schemathesis against the live server's OpenAPI schema: no 5xx, responses match the schema."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from domain.staging.activation import activate_all_new
from tests.conftest import Bucket

ST = str(Path(sys.executable).parent / "st")
CONFIG = str(Path(__file__).with_name("schemathesis.toml"))


async def test_public_api_conforms_to_its_schema(app_data: Bucket, live_server: str) -> None:
    await app_data.put("Zoë Ådahl/P 1/a.jpg", "Zoë Ådahl/P 1/b.mp4", "Ben/Trip/x.png")
    assert (await app_data.sync()).status == "succeeded"
    await activate_all_new()
    done = await asyncio.to_thread(
        subprocess.run,
        [
            ST,
            "--config-file",
            CONFIG,
            "run",
            f"{live_server}/schema/openapi.json",
            "--checks",
            "all",
            "--max-examples",
            "100",
            "--generation-deterministic",
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    summary = done.stdout[-3000:]
    assert done.returncode == 0, summary
    assert " passed" in summary and "failure" not in summary.split("SUMMARY")[-1]
