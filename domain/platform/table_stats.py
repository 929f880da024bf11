"""Planner statistics that keep up with tables a bulk write grows.

PostgreSQL plans a foreign key's check once per connection and keeps the plan until the table's
statistics change. Statistics taken while a table was empty (after a catalogue was cleared and
autovacuum analyzed it, or a bench's VACUUM ANALYZE) make a sequential scan the cheapest check,
and the plan outlives the table's growth: autovacuum looks only once a minute. A first sync of
201,000 keys into such tables read 889 million post rows for the checks of its media rows and
spent 34 to 61 s of database CPU where the same sync on current statistics spent 8.

So a bulk writer reports the rows it writes here; every `CHECK_EVERY` rows it compares each
table's size with the size its statistics were taken at, and analyzes the tables grown past
`STALE` times that while their statistics still call them tiny (under `TINY` pages). Once they
say a table is bigger, an index lookup beats a scan however much it grows, and autovacuum keeps
them from there: so a table is analyzed here a few times at most, each while it is small (every
doubling instead cost a first sync of 203,000 keys a fifth more database CPU). One process at a
time analyzes; the others go on writing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from domain.platform import db

log = logging.getLogger("creatorflix.db")
CHECK_EVERY = 5_000  # rows written by this process between two looks at the statistics
STALE = 2.0  # a table this many times its analyzed size (or past SMALL pages) is analyzed
SMALL = 8  # pages: a table below twice this is never worth analyzing for
TINY = 128  # pages: statistics saying at least this are left to autovacuum
ANALYZING = 0x5354415453  # advisory lock key ("STATS"): one process analyzes at a time


@dataclass
class FreshStatistics:
    """Statistics of `tables` kept fresh by one process's bulk writes (see the module)."""

    tables: tuple[str, ...]
    check_every: int = CHECK_EVERY
    _since: int = 0

    async def wrote(self, rows: int) -> list[str]:
        """Count `rows` written; every `check_every` rows, analyze the tables grown stale.
        Returns the tables analyzed now (usually none)."""
        self._since += rows
        if self._since < self.check_every:
            return []
        self._since = 0  # before awaiting: the process's other writers count on afresh
        return await analyze_stale(self.tables)


# raw: the catalogue's own bookkeeping (relpages: pages at the last ANALYZE or VACUUM)
SIZES = """SELECT c.relname, c.relpages,
    pg_relation_size(c.oid) / current_setting('block_size')::int AS pages
    FROM pg_class c WHERE c.oid = ANY($1::regclass[])"""


def is_stale(analyzed_pages: int, pages: int) -> bool:
    """Whether a table of `pages` whose statistics were taken at `analyzed_pages` needs them
    taken again: they still call it tiny, and it has grown past STALE times that (or SMALL)."""
    return analyzed_pages < TINY and pages > STALE * max(analyzed_pages, SMALL)


async def stale_tables(tables: tuple[str, ...]) -> list[str]:
    """The tables among `tables` whose statistics are stale (is_stale)."""
    rows = await db.fetch(SIZES, list(tables))
    return [str(r["relname"]) for r in rows if is_stale(int(r["relpages"]), int(r["pages"]))]


async def analyze_stale(tables: tuple[str, ...]) -> list[str]:
    """ANALYZE the stale ones among `tables`, unless another process is analyzing already."""
    stale = await stale_tables(tables)
    if not stale:
        return []
    async with db.transaction() as tx:
        # raw: an advisory lock; ANALYZE runs in a transaction, and the lock ends with it
        if not await tx.fetchval("SELECT pg_try_advisory_xact_lock($1)", ANALYZING):
            return []
        await tx.execute(f"ANALYZE {', '.join(stale)}")  # names from our own tables' list
    log.info("statistics refreshed for %s: they had fallen behind the rows written", stale)
    return stale
