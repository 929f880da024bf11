"""Existing models an upload's model name may mean: suggestions as the admin types, and the one
spelled the same but for case, accents or spaces. An upload to "emi tanaka" beside "Emi
Tanaka" makes a second model, which is rarely what was meant, so it must be asked for."""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass

import asyncpg

from domain.errors import Conflict
from domain.platform import db
from domain.platform.paging import like_pattern
from domain.platform.tables import WhitelabelModel

log = logging.getLogger("creatorflix.uploads")
SHOWN = 8  # suggestions under the field
CANDIDATES = 50  # similar names read to find a look-alike among them

# raw: pg_trgm's similarity operator and ordering, served by the trigram index on
# lower(folder_name) (schema_extras.RAW_EXTRAS); Piccolo has no expression for either.
_SIMILAR = (
    "SELECT folder_name FROM whitelabel_models "
    "WHERE lower(folder_name) LIKE $1 ESCAPE '\\' OR lower(folder_name) % $2 "
    "ORDER BY similarity(lower(folder_name), $2) DESC, folder_name LIMIT $3"
)
_CONTAINING = (  # the same without pg_trgm (a server that lacks the extension)
    "SELECT folder_name FROM whitelabel_models WHERE lower(folder_name) LIKE $1 ESCAPE '\\' "
    "ORDER BY folder_name LIMIT $2"
)


def fold(name: str) -> str:
    """A name as people tell names apart: case, accents, and runs of spaces do not count."""
    decomposed = unicodedata.normalize("NFKD", name)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


@dataclass(frozen=True)
class Suggestions:
    typed: str
    names: list[str]  # existing models like it, the most alike first
    exists: bool  # the typed name is a model already: the post goes into it
    lookalike: str | None  # an existing model spelled alike but not the same


async def _similar(typed: str, limit: int) -> list[str]:
    lowered = typed.lower()
    try:
        found = await db.fetch(_SIMILAR, like_pattern(lowered), lowered, limit)
    except asyncpg.UndefinedFunctionError:
        log.info("pg_trgm is not installed: model suggestions match by substring only")
        found = await db.fetch(_CONTAINING, like_pattern(lowered), limit)
    return [str(r["folder_name"]) for r in found]


async def suggest(typed: str) -> Suggestions:
    """What the model field shows under it for `typed` (no query for an empty one)."""
    if not typed.strip():
        return Suggestions(typed, [], False, None)
    m = WhitelabelModel
    exists = await db.first(m.select(m.id).where(m.folder_name == typed).limit(1)) is not None
    candidates = await _similar(typed, CANDIDATES)
    wanted = fold(typed)
    lookalike = None
    if not exists:
        lookalike = next((n for n in candidates if n != typed and fold(n) == wanted), None)
    names = [n for n in candidates if n != typed][:SHOWN]
    return Suggestions(typed, names, exists, lookalike)


def check_new_model(found: Suggestions, new_model: bool) -> None:
    """A 409 for an upload that would make a model beside its look-alike, unless asked for."""
    if found.lookalike is not None and not new_model:
        raise Conflict(
            f"The model {found.typed!r} would be new, but {found.lookalike!r} exists and "
            f"differs only in case, accents or spaces: type {found.lookalike!r} to add the post "
            "to it, or tick 'Make a new model' to create it beside it.",
            field="model",
        )
