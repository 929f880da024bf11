"""The mass-delete guard's decision (README: deletions above SYNC_MAX_DELETE_FRACTION of the
models or of the media, or after an empty listing, wait for confirmation). Pure: no database."""

from __future__ import annotations

from typing import Any

import pytest

from domain.catalogue.guard import GuardVerdict, judge_deletions

HELD_SHARE = "it would delete more than 20% of the catalogue"
HELD_EMPTY = "the bucket listing was empty"


def judge(**overrides: Any) -> GuardVerdict:
    """A healthy run over 10 models / 100 media that deletes one model and its 5 media."""
    counts: dict[str, Any] = {
        "deletes_any": True,
        "models_to_delete": 1,
        "total_models": 10,
        "media_to_delete": 5,
        "total_media": 100,
        "keys_listed": 500,
        "known_models": 10,
        "max_fraction": 0.2,
        "allow_mass_delete": False,
    }
    counts.update(overrides)
    return judge_deletions(**counts)


def test_a_small_deletion_goes_through() -> None:
    assert judge() == GuardVerdict(False, None)


def test_a_model_share_equal_to_the_fraction_is_allowed() -> None:
    assert judge(models_to_delete=2) == GuardVerdict(False, None)  # 2/10 == 0.2


def test_a_model_share_above_the_fraction_is_held() -> None:
    assert judge(models_to_delete=3) == GuardVerdict(True, HELD_SHARE)  # 3/10 > 0.2


def test_the_model_share_is_compared_against_the_model_total() -> None:
    # 3 of 1000 models, 3 of 100 media: a 0.3% / 3% deletion, far below 20%.
    assert not judge(models_to_delete=3, total_models=1000, media_to_delete=3).guarded
    # 21 of 100 models is above 20% even though 21 / 10 or 21 / 1000 would say otherwise.
    assert judge(models_to_delete=21, total_models=100).guarded
    assert not judge(models_to_delete=20, total_models=100).guarded


def test_a_media_share_equal_to_the_fraction_is_allowed() -> None:
    assert judge(models_to_delete=0, media_to_delete=20) == GuardVerdict(False, None)


def test_the_media_share_alone_holds_deletions() -> None:
    # No model goes away, but 21 of 100 media would: the media clause alone decides.
    assert judge(models_to_delete=0, media_to_delete=21) == GuardVerdict(True, HELD_SHARE)


def test_the_media_share_is_compared_against_the_media_total() -> None:
    assert not judge(models_to_delete=0, media_to_delete=21, total_media=1000).guarded
    assert judge(models_to_delete=0, media_to_delete=201, total_media=1000).guarded


def test_the_fraction_is_configurable_and_named_in_the_reason() -> None:
    assert not judge(models_to_delete=5, media_to_delete=50, max_fraction=0.5).guarded
    verdict = judge(models_to_delete=6, max_fraction=0.5)
    assert verdict == GuardVerdict(True, "it would delete more than 50% of the catalogue")
    assert judge(models_to_delete=1, max_fraction=0.05).reason == (
        "it would delete more than 5% of the catalogue"
    )


def test_a_zero_fraction_holds_any_deletion() -> None:
    assert judge(models_to_delete=0, media_to_delete=1, max_fraction=0.0).guarded


def test_an_empty_catalogue_total_never_divides() -> None:
    # Nothing counted in a table: that table's share cannot be computed, so it does not hold.
    assert not judge(models_to_delete=1, total_models=0, media_to_delete=0, total_media=0).guarded
    assert judge(models_to_delete=1, total_models=0, media_to_delete=50).guarded
    assert judge(models_to_delete=5, media_to_delete=1, total_media=0).guarded


def test_a_catalogue_of_one_model_or_one_media() -> None:
    # Deleting the only model (and its media) is a 100% deletion.
    assert judge(models_to_delete=1, total_models=1, media_to_delete=0).guarded
    assert judge(models_to_delete=0, media_to_delete=1, total_media=1).guarded


def test_an_empty_listing_of_a_known_catalogue_holds_any_deletion() -> None:
    # Even a deletion far below the fraction waits when the bucket listed nothing.
    verdict = judge(keys_listed=0, models_to_delete=1, media_to_delete=1)
    assert verdict == GuardVerdict(True, HELD_EMPTY)


def test_the_empty_listing_reason_wins_over_the_share() -> None:
    verdict = judge(keys_listed=0, models_to_delete=10, media_to_delete=100)
    assert verdict == GuardVerdict(True, HELD_EMPTY)


def test_one_listed_key_is_not_an_empty_listing() -> None:
    assert judge(keys_listed=1) == GuardVerdict(False, None)


def test_an_empty_listing_with_no_known_model_is_not_held() -> None:
    assert judge(keys_listed=0, known_models=0) == GuardVerdict(False, None)
    assert judge(keys_listed=0, known_models=1) == GuardVerdict(True, HELD_EMPTY)


@pytest.mark.parametrize(
    "overrides",
    [
        {"models_to_delete": 10, "media_to_delete": 100},  # everything
        {"keys_listed": 0},  # empty listing
    ],
)
def test_nothing_to_delete_is_never_held(overrides: dict[str, Any]) -> None:
    assert judge(deletes_any=False, **overrides) == GuardVerdict(False, None)


@pytest.mark.parametrize(
    "overrides",
    [
        {"models_to_delete": 10, "media_to_delete": 100},
        {"models_to_delete": 0, "media_to_delete": 21},
        {"keys_listed": 0},
    ],
)
def test_allow_mass_delete_lets_every_held_deletion_through(overrides: dict[str, Any]) -> None:
    assert judge(**overrides).guarded
    assert judge(allow_mass_delete=True, **overrides) == GuardVerdict(False, None)
