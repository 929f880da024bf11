"""Bulk activations: the recorded set of staged models a worker activates, and its progress."""

from domain.platform.migrations import ddl_forwards

ID = "2026-11-26T17:41:07:120612"
VERSION = "1.38.0"
DESCRIPTION = "bulk activations with progress"

STATEMENTS = [
    """CREATE TABLE IF NOT EXISTS bulk_activations (
        id SERIAL PRIMARY KEY,
        description TEXT NOT NULL DEFAULT '',
        selection JSON NOT NULL DEFAULT '{}',
        model_ids INTEGER[] NOT NULL DEFAULT '{}',
        total INTEGER NOT NULL DEFAULT 0,
        done INTEGER NOT NULL DEFAULT 0,
        failed INTEGER NOT NULL DEFAULT 0,
        status VARCHAR(16) NOT NULL DEFAULT 'queued',
        summary TEXT NOT NULL DEFAULT '',
        error TEXT NULL,
        actor VARCHAR(150) NOT NULL DEFAULT '',
        ip VARCHAR(64) NOT NULL DEFAULT '',
        job_id BIGINT NULL,
        created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        finished_at TIMESTAMPTZ NULL
    )""",
]


forwards = ddl_forwards(ID, DESCRIPTION, STATEMENTS)
