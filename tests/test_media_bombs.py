"""Decoder memory bombs through a real worker process, against moto's S3 server.

The corpus (bench/hostile_corpus.py): a motion-JPEG .mov whose header and first frame say
64x64 and whose later frames are 12000x12000, 40 MP RGBA and palette PNGs of a few dozen KB, a
10000x10000 progressive JPEG, animated GIF and WebP on a 6000x6000 canvas, 20,000 tiny frames.
What an operator would notice: each bomb's row says why it has no preview, the others preview,
and the worker that took them is the same process afterwards, under 400 MB, still making
previews.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench.hostile_corpus import EXPECTED, corpus
from domain.catalogue import jobs as catalogue_jobs
from domain.catalogue import runs
from domain.catalogue.begin import RunRequest, begin
from domain.media import records
from domain.platform import db
from tests.conftest import Bucket, cli_env, rows
from tests.processes import Process, Processes
from tests.test_media import jpeg

pytestmark = pytest.mark.timeout(120)
PEAK_RSS_MB = 400


async def synced(procs: Processes, worker: Process, what: str) -> None:
    """A whole-bucket sync as "Sync now" queues it, and its media work, each wait bounded."""
    run_id = await begin(
        RunRequest("all", "test"), lambda run: catalogue_jobs.defer_run("sync", run)
    )

    async def ended() -> runs.Run | None:
        run = await runs.get(run_id)
        return run if run and run.status not in runs.ACTIVE else None

    run = await procs.wait_for(ended, f"sync run #{run_id} ({what}) to end", 30, alive=(worker,))
    assert run.status == "succeeded", run.error

    async def media_idle() -> bool:
        waiting = await db.fetchval(
            "SELECT COUNT(*) FROM procrastinate_jobs WHERE task_name = 'derive_media' "
            "AND status IN ('todo', 'doing')"
        )
        return await records.counts() == (0, 0) and waiting == 0

    await procs.wait_for(media_idle, f"media jobs ({what}) to finish", 45, alive=(worker,))


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return float(line.split()[1]) / 1024
    raise AssertionError(f"no VmHWM for process {pid}")


async def outcomes() -> dict[str, dict[str, Any]]:
    found = await rows("SELECT * FROM whitelabel_media ORDER BY s3_key")
    return {r["s3_key"].rsplit("/", 1)[-1]: r for r in found}


async def test_bombs_record_their_reason_and_the_same_worker_stays_small_and_previews_after(
    bucket: Bucket, procs: Processes, queue: None, tmp_path: Path
) -> None:
    for name, path in corpus(tmp_path / "corpus").items():
        await bucket.put(f"Mal/P1/{name}", body=path.read_bytes())
    s3 = bucket.s3.settings
    assert s3.cdn_url
    worker = procs.worker("W1", cli_env(s3, DO_SPACES_CDN_URL=s3.cdn_url, WORKER_CONCURRENCY="2"))
    await procs.workers_registered(1, timeout=30)
    pid = worker.popen.pid

    await synced(procs, worker, "the hostile corpus")
    found = await outcomes()
    assert set(found) == set(EXPECTED), found.keys()
    for name, want in EXPECTED.items():
        row = found[name]
        if want is None:  # within what a render may use: previewed
            assert not row["media_error"], (name, row["media_error"])
            assert row["derived_etag"] == row["etag"], f"{name} has no preview"
        else:
            assert row["media_error"] and want in row["media_error"], (name, row["media_error"])
            assert row["media_error_etag"] == row["etag"] and not row["thumb_key"], name
    procs.check_alive(worker)
    peak = peak_rss_mb(pid)
    assert peak < PEAK_RSS_MB, f"worker W1 peaked at {peak:,.0f} MB on the hostile corpus"

    # The same process takes the next media job: an ordinary photo queued after the bombs.
    await bucket.put("Mal/P2/after.jpg", body=jpeg((1200, 900), "navy"))
    await synced(procs, worker, "a photo after the corpus")
    after = (await outcomes())["after.jpg"]
    assert after["derived_etag"] == after["etag"] and after["preview_key"], after
    assert not after["media_error"], after["media_error"]
    procs.check_alive(worker)
    assert worker.popen.pid == pid and procs.all == [worker]
