"""Piccolo tables. Table names are a contract with the dashboard and operators' SQL.

With schema_extras.py (what Piccolo cannot declare), the whole schema the migrations make:
tests/test_schema_truth.py holds them to it; docs/migrations.md says how to change it. A column
declared `null=False, default=None` has no default in the database (a value is required)."""

from __future__ import annotations

import enum

from piccolo.columns import (
    JSON,
    Array,
    BigInt,
    BigSerial,
    Boolean,
    Bytea,
    DoublePrecision,
    ForeignKey,
    Integer,
    OnDelete,
    OnUpdate,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.constraints import Unique
from piccolo.table import Table


class StagedStatus(enum.StrEnum):
    new = "new"
    active = "active"


class MediaType(enum.StrEnum):
    image = "image"
    video = "video"


class RunStatus(enum.StrEnum):
    queued = "queued"  # waiting for a worker
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"
    needs_confirmation = "needs_confirmation"
    superseded = "superseded"  # a held plan a newer run of the same scope replaced
    skipped = "skipped"  # a scheduled tick that found a sync still going


class WhitelabelModel(Table, tablename="whitelabel_models"):
    id: Serial  # Piccolo's implicit primary key, declared for the type checker
    folder_name = Text(unique=True)
    thumbnail_key = Text(null=True, default=None)
    icon_key = Text(null=True, default=None)
    banner_key = Text(null=True, default=None)
    # Model-level and profile images other than icon/banner, in key order.
    extra_image_keys = JSON(default=[])
    post_count = Integer(default=0)
    image_count = Integer(default=0)
    video_count = Integer(default=0)
    status = Varchar(length=16, default=StagedStatus.new, choices=StagedStatus, index=True)
    # Fingerprint of the model's last applied listing: an equal listing is skipped.
    listing_hash = Varchar(length=64, null=True, default=None)
    ignored_keys = Integer(default=0)
    last_synced_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class WhitelabelPost(Table, tablename="whitelabel_posts"):
    id: Serial  # Piccolo's implicit primary key, declared for the type checker
    whitelabel_model = ForeignKey(WhitelabelModel, on_delete=OnDelete.cascade, index=False)
    folder_name = Text()
    title = Text()
    media_cdns = JSON(default={"images": [], "videos": []})
    image_count = Integer(default=0)
    video_count = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())


class Derivatives:
    """Columns of a row whose object gets derivatives (domain/media): made from the object whose
    ETag is derived_etag, or failed on media_error_etag; neither equal to etag means waiting."""

    derived_etag = Varchar(length=128, null=True, default=None)
    thumb_key = Text(null=True, default=None)  # 160 px wide WebP
    preview_key = Text(null=True, default=None)  # 480 px wide WebP (images)
    poster_key = Text(null=True, default=None)  # 480 px wide WebP frame (videos)
    width = Integer(null=True, default=None)  # of the original, as displayed
    height = Integer(null=True, default=None)
    duration = DoublePrecision(null=True, default=None)  # seconds (videos)
    media_error = Text(null=True, default=None)  # why no derivative could be made
    media_error_etag = Varchar(length=128, null=True, default=None)
    derived_at = Timestamptz(null=True, default=None)
    derive_claimed_at = Timestamptz(null=True, default=None)  # a worker is on it


class WhitelabelMedia(Derivatives, Table, tablename="whitelabel_media"):
    id: Serial  # Piccolo's implicit primary key, declared for the type checker
    whitelabel_post = ForeignKey(WhitelabelPost, on_delete=OnDelete.cascade, index=True)
    s3_key = Text(unique=True)
    url = Text()
    type = Varchar(length=8, choices=MediaType)
    size = BigInt(default=0)
    etag = Varchar(length=128, default="")
    last_modified = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class WhitelabelModelImage(Derivatives, Table, tablename="whitelabel_model_images"):
    """A model's own image (icon, banner, model or profile image), kept for its derivatives."""

    id: Serial  # Piccolo's implicit primary key, declared for the type checker
    whitelabel_model = ForeignKey(
        WhitelabelModel,
        null=False,
        on_delete=OnDelete.cascade,
        on_update=OnUpdate.no_action,
        index=True,
    )
    s3_key = Text(unique=True, null=False, default=None)
    role = Varchar(length=8, default="image")  # icon, banner or image
    type = Varchar(length=8, default="image")
    size = BigInt(default=0)
    etag = Varchar(length=128, default="")
    created_at = Timestamptz(default=TimestamptzNow())


class MediaDerivedTrash(Table, tablename="media_derived_trash"):
    """Derivatives of deleted media rows (filled by a trigger), deleted from the bucket later."""

    id = BigSerial(primary_key=True)
    source_key = Text(null=False, default=None)
    etag = Varchar(length=128, default="")
    s3_key = Text(null=False, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class SyncRun(Table, tablename="sync_runs"):
    id: Serial  # Piccolo's implicit primary key, declared for the type checker
    scope = Text(default="all")  # "all", or one model's folder name
    status = Varchar(length=24, default=RunStatus.running, choices=RunStatus, index=True)
    phase = Varchar(length=32, default="starting")
    dry_run = Boolean(default=False)
    started_at = Timestamptz(default=TimestamptzNow(), index=True)
    finished_at = Timestamptz(null=True, default=None)
    heartbeat_at = Timestamptz(default=TimestamptzNow())
    keys_listed = Integer(default=0)
    keys_ignored = Integer(default=0)
    models_total = Integer(default=0)
    models_done = Integer(default=0)
    models_inserted = Integer(default=0)
    models_updated = Integer(default=0)
    models_deleted = Integer(default=0)
    posts_inserted = Integer(default=0)
    posts_updated = Integer(default=0)
    posts_deleted = Integer(default=0)
    media_inserted = Integer(default=0)
    media_updated = Integer(default=0)
    media_deleted = Integer(default=0)
    error = Text(null=True, default=None)
    triggered_by = Varchar(length=150, default="cli")
    cancel_requested = Boolean(default=False)
    # For needs_confirmation: the deletions this run would apply, applied as-is on confirm.
    plan = JSON(null=True, default=None)
    kind = Varchar(length=16, default="sync")  # "sync", or "confirm" (applies a held plan)
    confirms = Integer(null=True, default=None)  # the run whose plan a "confirm" run applies
    superseded_by = Integer(null=True, default=None)
    job_id = BigInt(null=True, default=None)  # the queue's job running it
    events = JSON(default="[]")  # the ledger: [{"at": iso time, "text": ...}]


class SyncPart(Table, tablename="sync_parts"):
    """A share of one sync's model folders, claimed by whichever worker is free."""

    id: Serial  # Piccolo's implicit primary key, declared for the type checker
    # Indexed by sync_parts_run_part_no_key, which leads with it.
    run = ForeignKey(SyncRun, null=False, on_delete=OnDelete.cascade, on_update=OnUpdate.no_action)
    part_no = Integer(null=False, default=None)
    folders = JSON(default="[]")
    status = Varchar(length=16, default="pending")  # pending, running, done
    owner = Varchar(length=128, default="")
    heartbeat_at = Timestamptz(null=True, default=None)
    stats = JSON(default="{}")
    result = JSON(null=True, default=None)  # seen, failed, unchanged, deletions
    sync_parts_run_part_no_key = Unique(["run", "part_no"])  # a run's parts are numbered once


class SyncRunChange(Table, tablename="sync_run_changes"):
    """One model or post a run added, changed or removed, or one key it ignored and why."""

    id: Serial  # Piccolo's implicit primary key, declared for the type checker
    # Indexed with kind, change and id (schema_extras.py: sync_run_changes_list).
    run = ForeignKey(SyncRun, null=False, on_delete=OnDelete.cascade, on_update=OnUpdate.no_action)
    kind = Varchar(length=8, null=False, default=None)  # "model", "post" or "ignored"
    change = Varchar(length=8, default="")  # "added", "changed", "removed"; "" for ignored
    model = Text(default="")  # the model folder (of a post, too)
    name = Text(null=False, default=None)  # the model or post folder, or the ignored key
    reason = Text(default="")  # why a key was ignored


class SyncSchedule(Table, tablename="sync_schedule"):
    """The one sync schedule: an interval or a cron expression, off when empty."""

    id: Serial  # Piccolo's implicit primary key, declared for the type checker
    expression = Varchar(length=128, default="")
    updated_by = Varchar(length=150, default="")
    updated_at = Timestamptz(default=TimestamptzNow())
    last_tick_at = Timestamptz(null=True, default=None)


class PreviewQueue(Table, tablename="preview_queue"):
    """The one switch of the preview jobs: paused or not, by whom and when (the jobs page)."""

    id: Serial  # Piccolo's implicit primary key, declared for the type checker
    paused = Boolean(default=False)
    updated_by = Varchar(length=150, default="")
    updated_at = Timestamptz(null=True, default=None)


class Model(Table, tablename="models"):
    id: Serial  # Piccolo's implicit primary key, declared for the type checker
    name = Text(unique=True)
    slug = Varchar(length=255, unique=True)
    description = Text(default="")
    icon_key = Text(null=True, default=None)
    banner_key = Text(null=True, default=None)
    thumbnail_key = Text(null=True, default=None)
    is_featured = Boolean(default=False)
    is_advertiser = Boolean(default=False)
    is_published = Boolean(default=True, index=True)
    post_count = Integer(default=0)
    display_order = Integer(default=0)  # lower first on the public site, then most posts
    whitelabel_model = ForeignKey(
        WhitelabelModel, null=True, default=None, on_delete=OnDelete.set_null, index=True
    )
    # The staged folder it was activated from: stays when the name is edited.
    source_folder = Text(null=True, default=None, unique=True)
    # Set when a sync removed its folder: unpublished then, and public again only by an admin.
    source_missing_at = Timestamptz(null=True, default=None)
    # Set when an admin retired it: unpublished then, off the list and the public site, and not
    # publishable until an admin restores it (domain/production/retiring.py).
    retired_at = Timestamptz(null=True, default=None)
    retired_by = Text(null=True, default=None)  # the admin's username
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class Post(Table, tablename="posts"):
    id: Serial  # Piccolo's implicit primary key, declared for the type checker
    model = ForeignKey(Model, on_delete=OnDelete.cascade, index=True)
    # "<staged model folder>/<post folder>": stable across re-syncs and re-activations.
    source_key = Text(unique=True)
    title = Text()
    content_key = Text()
    thumbnail_key = Text(null=True, default=None)
    type = Varchar(length=8, choices=MediaType)
    is_published = Boolean(default=True)
    # Every item of the post in key order: [{"key": ..., "type": "image" | "video"}].
    media = JSON(default=[])
    source_missing_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class ModelSlug(Table, tablename="model_slugs"):
    """A slug a model had before: the public API still answers to it."""

    id: Serial  # Piccolo's implicit primary key, declared for the type checker
    slug = Varchar(length=255, unique=True, null=False, default=None)
    model = ForeignKey(Model, null=False, on_delete=OnDelete.cascade, on_update=OnUpdate.no_action)
    created_at = Timestamptz(default=TimestamptzNow())


class BulkActivation(Table, tablename="bulk_activations"):
    """Many staged models activated by a worker: the set fixed when asked, and its progress."""

    id: Serial  # Piccolo's implicit primary key, declared for the type checker
    description = Text(default="")  # what was picked, as the admin reads it
    selection = JSON(default="{}")  # {"search", "status"} or {"names": [...]}
    # A hash of the action and its selection: unique among queued and running activations
    # (a partial index, bulk_activations_pending_selection), so a repeat finds the first one.
    selection_key = Text(null=True, default=None)
    model_ids = Array(base_column=Integer())  # whitelabel_models ids, in activation order
    total = Integer(default=0)
    done = Integer(default=0)
    failed = Integer(default=0)
    status = Varchar(length=16, default="queued")  # queued, running, succeeded, failed
    summary = Text(default="")
    error = Text(null=True, default=None)
    actor = Varchar(length=150, default="")
    ip = Varchar(length=64, default="")
    job_id = BigInt(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    finished_at = Timestamptz(null=True, default=None)


class PublicTally(Table, tablename="public_tallies"):
    """How the number of public models changed: a row per statement on `models` that changed
    it, written by that table's triggers (schema_extras.py). Their sum is the public API's
    count (domain/production/tally.py), which then costs the same at a million models; reads
    fold the rows into one now and then."""

    id: Serial  # Piccolo's implicit primary key, declared for the type checker
    models = BigInt(default=0)


class AuditEntry(Table, tablename="audit_log"):
    id: Serial  # Piccolo's implicit primary key, declared for the type checker
    actor = Varchar(length=150, default="")
    action = Varchar(length=64, index=True)
    target = Text(default="")
    detail = Text(default="")
    ip = Varchar(length=64, default="")
    model = Integer(null=True, default=None, index=True)  # the production model it concerns
    created_at = Timestamptz(default=TimestamptzNow(), index=True)


class SessionRow(Table, tablename="admin_sessions"):
    """Server-side sessions, so they survive restarts and span app processes."""

    id: Serial  # Piccolo's implicit primary key, declared for the type checker
    key = Varchar(length=128, unique=True)
    data = Bytea()
    expires_at = Timestamptz(index=True)


TABLES: tuple[type[Table], ...] = (
    WhitelabelModel,
    WhitelabelPost,
    WhitelabelMedia,
    WhitelabelModelImage,
    MediaDerivedTrash,
    SyncRun,
    SyncPart,
    SyncRunChange,
    SyncSchedule,
    PreviewQueue,
    Model,
    Post,
    ModelSlug,
    BulkActivation,
    PublicTally,
    AuditEntry,
    SessionRow,
)
