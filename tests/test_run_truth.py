"""A run's page tells the truth about the bucket: the project's own previews (`_derived/`) are
neither ignored keys nor models, so a real stray file is counted and kept where an admin sees
it, and a run's models done never pass its total. Through HTTP, with the real worker."""

from __future__ import annotations

import asyncio
import re

from domain.catalogue import parts
from domain.catalogue.begin import begin_here
from domain.catalogue.keys import DERIVED_PREFIX
from domain.catalogue.sync import SyncOptions, run_sync, work_parts
from domain.media.derive import DERIVED_PREFIX as WRITTEN_UNDER
from tests.conftest import Bucket
from tests.web import Browser

# More previews than a run keeps ignored keys (200): before, they filled the sample.
DERIVED = [f"_derived/{i:04x}/e1/preview.webp" for i in range(205)]
STRAY = "zed/Trip/notes.txt"  # sorts after `_derived/`: the key an admin must see


def test_the_sync_and_the_previews_agree_on_the_prefix() -> None:
    assert DERIVED_PREFIX == WRITTEN_UNDER


async def test_derived_previews_are_not_ignored_keys_nor_models(
    signed_in: Browser, bucket: Bucket
) -> None:
    b = signed_in
    await bucket.put("Anna/Beach/a.jpg", "Ben/Trip/t.png", "zed/Trip/z.jpg", STRAY, *DERIVED)
    run = await b.sync_now()
    assert run.status == "succeeded", run.error
    assert run.keys_ignored == 1, f"{run.keys_ignored} keys ignored: the previews were counted"
    assert (run.models_done, run.models_total) == (3, 3), "done passed total"
    page = (await b.get(f"/sync-runs/{run.id}")).text
    counters = dict(
        re.findall(r'counter-label">([^<]+)</span>\s*<span class="counter-value">([^<]+)<', page)
    )
    assert counters["Keys ignored"] == "1" and counters["Models"] == "3 / 3", counters
    ignored = (await b.get(f"/sync-runs/{run.id}/changes?kind=ignored")).text
    assert STRAY in ignored, "the stray file is not among the ignored keys"
    assert "_derived/" not in ignored, "the project's previews are listed as ignored keys"


async def test_a_resumed_run_never_counts_more_models_done_than_in_all(
    database: object, bucket: Bucket
) -> None:
    """A coordinator that stops after its part is done: the run is taken over, its new
    coordinator lists the bucket again, one folder fewer now. The done part's models stay
    counted, and so does its total: done never passes total ("Models 3 / 2" before)."""
    await bucket.put("Anna/P/a.jpg", "Ben/P/b.jpg", "Cleo/P/c.jpg")
    options = SyncOptions(public_base=bucket.public_base)
    handle = await begin_here(options.run_request(), "first")
    assert await parts.create(handle.id, ["Anna", "Ben", "Cleo"], 1) == 1
    await work_parts(bucket.s3, options, handle.id, "first", asyncio.Event())  # then it stops
    await bucket.delete("Cleo/P/c.jpg")
    run = await run_sync(bucket.s3, options, handle)  # taken over: lists the bucket again
    assert run.status == "succeeded", run.error
    assert run.models_done <= run.models_total, (run.models_done, run.models_total)
    assert (run.models_done, run.models_total) == (3, 3)
