"""`/metrics` for Prometheus: request latencies (Litestar's middleware), jobs, workers, syncs.

Not public: a signed-in admin, or a scraper sending `Authorization: Bearer $METRICS_TOKEN`.
"""

from __future__ import annotations

from litestar import Response, get
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController
from prometheus_client import Gauge

from domain.catalogue import runs
from domain.platform import queue

# group_path: a request is labelled by its route's template (`/staged/{model_name:str}`), never by
# its raw path, so invented paths add no series; unrouted ones (404, 405) never reach it.
CONFIG = PrometheusConfig(
    app_name="creatorflix", prefix="creatorflix", exclude=["^/metrics$"], group_path=True
)
JOBS = Gauge("creatorflix_jobs", "Jobs in the queue by state", ["state"])
WORKERS = Gauge("creatorflix_workers", "Worker processes with a recent heartbeat")
RUNS = Gauge("creatorflix_sync_runs", "Sync runs by status", ["status"])
SYNC_SECONDS = Gauge("creatorflix_sync_seconds_total", "Wall time of all finished syncs")
SYNC_KEYS = Gauge("creatorflix_sync_keys_listed_total", "Keys listed by all finished syncs")
SYNC_FINISHED = Gauge("creatorflix_sync_finished_total", "Finished syncs")
LAST_SECONDS = Gauge("creatorflix_last_sync_seconds", "Duration of the last finished sync")
LAST_KEYS = Gauge("creatorflix_last_sync_keys_listed", "Keys listed by the last finished sync")


class MetricsController(PrometheusController):
    include_in_schema = False
    opt = {"exclude_from_auth": True}  # its guard lets in an admin or the scraper (app.py)

    @get(include_in_schema=False)
    async def get(self) -> Response[bytes]:
        state = await queue.queue_state()
        JOBS.labels("queued").set(state.queued)
        JOBS.labels("running").set(state.running)
        WORKERS.set(state.workers)
        totals = await runs.totals()
        for status, count in totals.by_status.items():
            RUNS.labels(status).set(count)
        SYNC_SECONDS.set(totals.seconds)
        SYNC_KEYS.set(totals.keys)
        SYNC_FINISHED.set(totals.finished)
        LAST_SECONDS.set(totals.last_seconds)
        LAST_KEYS.set(totals.last_keys)
        return await super().get.fn(self)  # type: ignore[no-any-return]
