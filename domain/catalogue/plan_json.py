"""A deletion plan as stored on its run (`sync_runs.plan`) and handed between the sync's
modules: `DeletionPlan.as_json()`, read back by confirming, the guard's pages and the CLI."""

from __future__ import annotations

from typing import NotRequired, TypedDict

from domain.production.live import LiveJSON


class PlanPart(TypedDict):
    """One surviving model's deletions (a part's `per_model` entry)."""

    name: str  # the model folder
    posts: list[int]  # staged post ids
    post_names: NotRequired[list[str]]  # their folders (plans held before it lack it)
    media: list[int]  # staged media ids
    keys: list[str]  # the first PLAN_NAMES_SHOWN media keys
    fingerprint: str | None  # the listing's, stored once the deletions are applied


class PlanSummary(TypedDict):
    models: int
    posts: int  # the gone models' posts too
    media: int
    model_names: list[str]  # the first PLAN_NAMES_SHOWN
    media_keys: list[str]
    live: NotRequired[LiveJSON]  # a held plan's: what it takes off the public site


class PlanJSON(TypedDict):
    models: dict[str, int]  # folder -> id of the models gone from the bucket
    model_posts: int
    model_media: int
    per_model: dict[str, PlanPart]  # model id (as text: a JSON key) -> its deletions
    summary: PlanSummary
