"""The mass-delete guard's decision (a pure function of counts; the sync gathers them)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class GuardVerdict:
    """Whether a run's deletions wait for confirmation, and why (None when they do not)."""

    guarded: bool
    reason: str | None = None


def judge_deletions(
    *,
    deletes_any: bool,
    models_to_delete: int,
    total_models: int,
    media_to_delete: int,
    total_media: int,
    keys_listed: int,
    known_models: int,
    max_fraction: float,
    allow_mass_delete: bool,
) -> GuardVerdict:
    """Hold deletions that would remove more than `max_fraction` of the models or of the media
    (a share equal to it passes), or any deletion after an empty listing of a known catalogue;
    `allow_mass_delete` lets them through, and a run that deletes nothing is never held."""
    too_many = (total_models > 0 and models_to_delete / total_models > max_fraction) or (
        total_media > 0 and media_to_delete / total_media > max_fraction
    )
    empty_listing = keys_listed == 0 and known_models > 0
    if not deletes_any or not (too_many or empty_listing) or allow_mass_delete:
        return GuardVerdict(False)
    if empty_listing:
        return GuardVerdict(True, "the bucket listing was empty")
    return GuardVerdict(True, f"it would delete more than {max_fraction:.0%} of the catalogue")
