"""One pending bulk activation per selection: a repeat of the same request, while the first is
queued or running, answers with that one instead of queueing another job (issue 21 item 8)."""

from domain.platform.migrations import ddl_forwards

ID = "2026-12-06T12:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "bulk_activations: one queued or running activation per selection"

STATEMENTS = [
    "ALTER TABLE bulk_activations ADD COLUMN IF NOT EXISTS selection_key TEXT NULL",
    "CREATE UNIQUE INDEX IF NOT EXISTS bulk_activations_pending_selection "
    "ON bulk_activations (selection_key) WHERE status IN ('queued', 'running')",
]


forwards = ddl_forwards(ID, DESCRIPTION, STATEMENTS)
