"""What a sync is asked to do, where it lists from, and the deletions it collects."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from domain.catalogue.begin import RunRequest
from domain.catalogue.plan_json import PlanJSON, PlanPart
from domain.platform.s3_types import S3Object

PLAN_NAMES_SHOWN = 20


class ListingSource(Protocol):
    """What the sync needs from a bucket (S3Service, or an in-memory source in benchmarks)."""

    def list_top(self) -> Awaitable[tuple[list[str], list[S3Object]]]: ...  # prefixes, loose

    def list_level(self, prefix: str) -> Awaitable[tuple[list[str], list[S3Object]]]: ...

    def list_pages(self, prefix: str) -> AsyncIterator[list[S3Object]]: ...

    def list_after(self, start_after: str) -> AsyncIterator[Sequence[S3Object]]: ...


@dataclass(frozen=True)
class SyncOptions:
    public_base: str
    model: str | None = None
    dry_run: bool = False
    allow_mass_delete: bool = False
    concurrency: int = 16  # listing requests in flight, and models diffed at once
    max_delete_fraction: float = 0.2
    triggered_by: str = "cli"
    parts: int = 16  # most parts the folders are split into (shared by workers)

    def run_request(self) -> RunRequest:
        return RunRequest(self.model or "all", self.triggered_by, dry_run=self.dry_run)


@dataclass
class DeletionPlan:
    """Deletions collected during a run, applied only after the mass-delete guard."""

    models: dict[str, int] = field(default_factory=dict)  # folder -> id of gone models
    model_posts: int = 0  # post rows that go with the gone models (their cascade)
    model_media: int = 0  # media rows that go with the gone models
    per_model: dict[int, PlanPart] = field(default_factory=dict)
    unchanged: list[int] = field(default_factory=list)  # seen, fingerprint equal: no writes

    @property
    def media_count(self) -> int:
        return self.model_media + sum(len(p["media"]) for p in self.per_model.values())

    def as_json(self) -> PlanJSON:
        keys = [k for p in self.per_model.values() for k in p["keys"][:PLAN_NAMES_SHOWN]]
        return {
            "models": self.models,
            "model_posts": self.model_posts,
            "model_media": self.model_media,
            "per_model": {str(k): v for k, v in self.per_model.items()},
            "summary": {
                "models": len(self.models),
                # Everything confirming deletes: the gone models' posts too.
                "posts": self.model_posts + sum(len(p["posts"]) for p in self.per_model.values()),
                "media": self.media_count,
                "model_names": sorted(self.models)[:PLAN_NAMES_SHOWN],
                "media_keys": keys[:PLAN_NAMES_SHOWN],
            },
        }
