"""The read side of derivatives for admin pages: which small image to show for a key."""

from __future__ import annotations

from typing import Any

from domain.media.store import derivatives_of
from domain.platform.paging import Signer, sign_rows


async def sign_with_previews(
    rows: list[dict[str, Any]], signer: Signer, key: str = "thumbnail_key"
) -> list[dict[str, Any]]:
    """`sign_rows`, plus `preview_url`: the 160 px preview of a post's media once a worker made
    it, None (a placeholder) until then, and the original for images no worker previews."""
    await sign_rows(rows, signer, key)
    derived = await derivatives_of([r[key] for r in rows if r.get(key)])
    for row in rows:
        found = derived.get(row.get(key) or "")
        if found is None:
            row["preview_url"] = row["thumbnail_url"]
        else:
            thumb = found["thumb_key"]
            row["preview_url"] = await signer(thumb) if thumb else None
    return rows


async def signed_derivatives(item: dict[str, Any], signer: Signer) -> dict[str, Any]:
    """A gallery item's preview (480 px), thumbnail, poster URLs and error, from its row."""

    async def signed(column: str) -> str | None:
        return await signer(item[column]) if item.get(column) else None

    return {
        "preview_url": await signed("preview_key"),
        "thumb_url": await signed("thumb_key"),
        "poster_url": await signed("poster_key"),
        "error": item.get("media_error"),
    }
