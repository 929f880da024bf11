"""What a bench needs around it: the database migrated and the job queue open."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from domain.platform import db, queue


@asynccontextmanager
async def database_and_queue(database_url: str) -> AsyncIterator[None]:
    """The engine installed and migrated and procrastinate's queue open, for the block."""
    engine = db.make_engine(database_url)
    db.install_engine(engine)
    await db.start(engine)
    await db.migrate()
    queue.connect(database_url)
    await queue.app.open_async()
    try:
        yield
    finally:
        await queue.app.close_async()
        await db.stop(engine)
