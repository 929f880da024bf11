"""Hand-written SQL for the dashboard's charts (domain/catalogue/trends.py)."""

from __future__ import annotations

from datetime import date, datetime
from typing import TypedDict

from domain.platform import db

# The catalogue's three tables, in the order the growth chart draws them.
GROWTH_TABLES = (
    ("models", "whitelabel_models"),
    ("posts", "whitelabel_posts"),
    ("media", "whitelabel_media"),
)


class Added(TypedDict):
    series: str  # one of GROWTH_TABLES' names
    day: date
    n: int


async def added_per_day(since: datetime, days: int) -> list[Added]:
    """Rows of each catalogue table created per UTC day since `since`: (series, day, n)."""
    selects = " UNION ALL ".join(
        f"(SELECT '{series}' AS series, (created_at AT TIME ZONE 'UTC')::date AS day, "
        f"count(*) AS n FROM {table} WHERE created_at >= $1 GROUP BY 2 ORDER BY 2 LIMIT $2)"
        for series, table in GROWTH_TABLES
    )
    # raw: grouping by an expression (the UTC day of created_at), which the builder cannot express
    return db.typed(Added, await db.fetch(selects, since, days + 1))
