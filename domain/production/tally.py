"""The number of public models, read from public_tallies: the models table's triggers
(domain/platform/schema_extras.py) add a row for each statement that changes it, so the public
API's count sums a few rows instead of reading every public model (90 ms at a million)."""

from __future__ import annotations

from domain.platform import db

# Tally rows a read lets pile up before it folds them into one (an activation of N models that
# become public adds up to N rows; one bulk publish, one row).
FOLD_AT = 100
# The number of public models, as a scalar subquery: the API's count and the dashboard's card.
PUBLIC_MODELS = "(SELECT COALESCE(SUM(models), 0) FROM public_tallies)"


async def public_models() -> int:
    """Public models (domain/production/visibility.py's rule): the sum of the tally's rows."""
    # raw: an aggregate over public_tallies, the count and its rows in one round trip
    found = await db.fetch(
        f"SELECT {PUBLIC_MODELS} AS n, (SELECT COUNT(*) FROM public_tallies) AS rows"
    )
    if int(found[0]["rows"]) > FOLD_AT:
        await fold()
    return int(found[0]["n"])


async def fold() -> None:
    """The tally's rows replaced by their sum, in one statement: rows another transaction adds
    meanwhile are not among those deleted, and two folds at once each sum only the rows they
    deleted, so the sum never changes."""
    # raw: a data-modifying CTE (DELETE ... RETURNING into an INSERT), beyond Piccolo's builder
    await db.fetch(
        "WITH gone AS (DELETE FROM public_tallies RETURNING models) "
        "INSERT INTO public_tallies (models) SELECT SUM(models) FROM gone HAVING COUNT(*) > 0"
    )
