"""Bulk publishing: one transaction over N production models (the domain call behind
"Unpublish all N matching"). Not a headline figure: it skips the HTTP stack.

    python tests/run.py --only-db -- .venv/bin/python -m bench.publish_bench [--models 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time

from domain.platform import db
from domain.production import publishing
from domain.production.publishing import ProductionQuery


async def main(count: int) -> None:
    engine = db.make_engine(os.environ["DATABASE_URL"])
    db.install_engine(engine)
    await db.start(engine)
    try:
        await db.migrate()
        async with db.transaction() as tx:
            await tx.execute("TRUNCATE models CASCADE")
            await tx.execute(
                "INSERT INTO models (name, slug, source_folder) SELECT 'm' || g, 'm' || g, "
                "'m' || g FROM generate_series(1, $1::int) g",
                count,
            )
        ids = await publishing.matching_ids(ProductionQuery())
        for published in (False, True):
            start = time.perf_counter()
            changed = (await publishing.set_many_published(ids, published)).changed
            took = time.perf_counter() - start
            verb = "publish" if published else "unpublish"
            print(f"{verb} {changed:,} models in one transaction: {took * 1000:,.0f} ms")
    finally:
        await db.stop(engine)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", type=int, default=10_000)
    asyncio.run(main(parser.parse_args().models))
