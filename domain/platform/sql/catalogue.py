"""Hand-written SQL for sync runs (see the package docstring)."""

from __future__ import annotations

# When a whole-bucket sync last succeeded: it saw every model still staged. Unchanged models
# are not stamped one by one (an unchanged re-sync writes no row), so a model was last synced
# at its own stamp (its last change, or a one-model sync) or then. A scalar subquery, so that
# the pages showing it pay no extra round trip.
LAST_FULL_SYNC = (
    "(SELECT max(finished_at) FROM sync_runs WHERE status = 'succeeded' "
    "AND scope = 'all' AND NOT dry_run AND kind = 'sync')"
)
