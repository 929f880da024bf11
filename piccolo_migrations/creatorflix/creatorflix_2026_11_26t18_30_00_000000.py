"""What each sync changed: the models and posts it added, changed or removed, and the keys it
ignored (with why), one row each; and an index to find a held run's confirmations."""

from domain.platform.migrations import ddl_forwards

ID = "2026-11-26T18:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "sync run changes: added, changed, removed, ignored"

STATEMENTS = [
    """CREATE TABLE IF NOT EXISTS sync_run_changes (
        id SERIAL PRIMARY KEY,
        run INTEGER NOT NULL REFERENCES sync_runs (id) ON DELETE CASCADE,
        kind VARCHAR(8) NOT NULL,
        change VARCHAR(8) NOT NULL DEFAULT '',
        model TEXT NOT NULL DEFAULT '',
        name TEXT NOT NULL,
        reason TEXT NOT NULL DEFAULT ''
    )""",
    "CREATE INDEX IF NOT EXISTS sync_run_changes_list "
    "ON sync_run_changes (run, kind, change, id)",
    "CREATE INDEX IF NOT EXISTS sync_runs_confirms ON sync_runs (confirms) "
    "WHERE confirms IS NOT NULL",
]


forwards = ddl_forwards(ID, DESCRIPTION, STATEMENTS)
