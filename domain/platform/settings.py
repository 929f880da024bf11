"""Settings: one frozen dataclass, built from the environment in one place."""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA_DIR = ROOT / "data"
GIB = 1024**3
# WORKER_NICE's default: nice 19 and Linux's idle scheduling class (SCHED_IDLE), where a task
# gives up its core the moment another wants it (bench/pages_first.py measured it against 10).
IDLE = "idle"
_HOST_LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


class SettingsError(ValueError):
    """A malformed environment variable; the message names it and the fix."""


@dataclass(frozen=True)
class S3Settings:
    endpoint: str
    region: str
    key: str
    secret: str
    bucket: str
    cdn_url: str | None = None

    @property
    def public_base(self) -> str:
        """Base URL that media URLs are built on: the CDN if set, else endpoint/bucket."""
        if self.cdn_url:
            return self.cdn_url.rstrip("/")
        return f"{self.endpoint.rstrip('/')}/{self.bucket}"


@dataclass(frozen=True)
class Settings:
    database_url: str | None = None  # None: the embedded PostgreSQL under data_dir/pg
    data_dir: Path = DEFAULT_DATA_DIR
    s3: S3Settings | None = None  # None: use the embedded demo S3
    signed_url_ttl: int = 3600
    sync_concurrency: int = 16
    sync_max_delete_fraction: float = 0.2
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32))
    demo: bool = True  # fill the embedded S3 with sample content and create a demo admin
    session_idle_seconds: int = 8 * 3600
    secure_cookies: bool = False
    host: str = "127.0.0.1"
    port: int = 8000
    embedded_s3_port: int = 9455
    workers: int = 1  # worker processes `python -m app` supervises; 0 runs the web alone
    worker_concurrency: int = 4  # jobs one worker process runs at once
    worker_nice: int = 19  # how much lower a worker's CPU priority is than its starter's
    worker_idle: bool = True  # and in Linux's idle class: a core only when nothing else wants it
    sync_parts: int = 16  # most parts one sync's listing is split into, shared by workers
    metrics_token: str = ""  # lets a Prometheus scraper read /metrics without signing in
    worker_name: str = ""  # how a worker signs the runs and parts it works on; "" is host:pid
    # Proxies whose X-Forwarded-For/-Host we believe (addresses or networks); none by default.
    forwarded_allow_ips: tuple[str, ...] = ()
    upload_max_bytes: int = 2 * GIB  # the largest file an admin may upload (one S3 POST: 5 GiB)
    media_previews: bool = True  # workers make previews and posters after each sync

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        db = _database_url(env.get("DATABASE_URL"))
        s3 = _s3_settings(env)
        nice, idle = _worker_nice(env)
        secret = env.get("SECRET_KEY") or ""
        if secret and len(secret) < 32:
            raise SettingsError(
                "SECRET_KEY is too short: use at least 32 characters "
                "(e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`)."
            )
        return cls(
            database_url=db,
            data_dir=Path(env.get("DATA_DIR") or DEFAULT_DATA_DIR),
            s3=s3,
            signed_url_ttl=_int(env, "SIGNED_URL_TTL", 3600, low=60, high=7 * 24 * 3600),
            sync_concurrency=_int(env, "SYNC_CONCURRENCY", 16, low=1, high=64),
            sync_max_delete_fraction=_fraction(env, "SYNC_MAX_DELETE_FRACTION", 0.2),
            secret_key=secret or secrets.token_hex(32),
            demo=s3 is None and db is None,
            session_idle_seconds=_int(
                env, "SESSION_IDLE_SECONDS", 8 * 3600, low=60, high=30 * 86400
            ),
            secure_cookies=_bool(env, "SECURE_COOKIES", False),
            host=_host(env, "HOST", "127.0.0.1"),
            port=_int(env, "PORT", 8000, low=1, high=65535),
            embedded_s3_port=_int(env, "EMBEDDED_S3_PORT", 9455, low=1, high=65535),
            workers=_int(env, "WORKERS", 1, low=0, high=32),
            worker_concurrency=_int(env, "WORKER_CONCURRENCY", 4, low=1, high=64),
            worker_nice=nice,
            worker_idle=idle,
            sync_parts=_int(env, "SYNC_PARTS", 16, low=1, high=256),
            metrics_token=env.get("METRICS_TOKEN") or "",
            worker_name=_name(env, "WORKER_NAME"),
            forwarded_allow_ips=_networks(env, "FORWARDED_ALLOW_IPS"),
            upload_max_bytes=_int(env, "UPLOAD_MAX_BYTES", 2 * GIB, low=1, high=5 * GIB),
            media_previews=_bool(env, "MEDIA_PREVIEWS", True),
        )


def _networks(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """Comma-separated addresses or networks (`10.0.0.1, 10.1.0.0/16`); `*` trusts any peer."""
    found = []
    for item in (env.get(name) or "").split(","):
        item = item.strip()
        if item == "*":
            found += ["0.0.0.0/0", "::/0"]
            continue
        if not item:
            continue
        try:
            found.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise SettingsError(
                f"{name}: {item!r} is not an IP address or network: use e.g. "
                "127.0.0.1,10.0.0.0/8 (the proxies in front of the app), or leave it unset."
            ) from None
    return tuple(found)


def _database_url(value: str | None) -> str | None:
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("postgres", "postgresql") or not parts.hostname and not parts.path:
        raise SettingsError(
            f"DATABASE_URL={value!r} is not a PostgreSQL URL: use "
            "postgresql://user:password@host:5432/dbname, or unset it for the embedded PostgreSQL."
        )
    return value


def _s3_settings(env: Mapping[str, str]) -> S3Settings | None:
    names = ("DO_SPACES_ENDPOINT", "DO_SPACES_KEY", "DO_SPACES_SECRET", "DO_SPACES_BUCKET")
    given = [n for n in names if env.get(n)]
    if not given:
        return None
    missing = [n for n in names if not env.get(n)]
    if missing:
        raise SettingsError(
            f"{', '.join(missing)} not set while {', '.join(given)} is: set all of "
            f"{', '.join(names)}, or none of them to use the embedded demo S3."
        )
    endpoint = env["DO_SPACES_ENDPOINT"]
    if urlsplit(endpoint).scheme not in ("http", "https") or not urlsplit(endpoint).hostname:
        raise SettingsError(
            f"DO_SPACES_ENDPOINT={endpoint!r} is not a URL: use e.g. "
            "https://nyc3.digitaloceanspaces.com"
        )
    cdn = env.get("DO_SPACES_CDN_URL") or None
    if cdn and urlsplit(cdn).scheme not in ("http", "https"):
        raise SettingsError(
            f"DO_SPACES_CDN_URL={cdn!r} is not a URL: use e.g. "
            "https://my-bucket.nyc3.cdn.digitaloceanspaces.com, or unset it."
        )
    return S3Settings(
        endpoint=endpoint,
        region=env.get("DO_SPACES_REGION") or "us-east-1",
        key=env["DO_SPACES_KEY"],
        secret=env["DO_SPACES_SECRET"],
        bucket=env["DO_SPACES_BUCKET"],
        cdn_url=cdn,
    )


def _host(env: Mapping[str, str], name: str, default: str) -> str:
    """An address or host name to listen on, without scheme, port or path."""
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        return str(ipaddress.ip_address(raw.strip("[]")))
    except ValueError:
        pass
    labels = raw.rstrip(".").split(".")
    if len(raw) > 253 or not all(_HOST_LABEL.fullmatch(label) for label in labels):
        raise SettingsError(
            f"{name}={raw!r} is not an address or host name: use e.g. 127.0.0.1 (this machine "
            "only) or 0.0.0.0 (every interface), without scheme or port."
        )
    return raw


def _name(env: Mapping[str, str], name: str) -> str:
    """A short printable label (shown in run ledgers), or "" when unset."""
    raw = (env.get(name) or "").strip()
    if len(raw) > 100 or not raw.isprintable():
        raise SettingsError(
            f"{name}={raw[:40]!r} is not a usable name: use at most 100 printable characters "
            "(e.g. worker-1), or unset it to name the process by host and pid."
        )
    return raw


def _worker_nice(env: Mapping[str, str]) -> tuple[int, bool]:
    """WORKER_NICE: `idle` (the default) or 0 to 19 steps; (steps, in the idle class)."""
    raw = env.get("WORKER_NICE") or IDLE
    if raw == IDLE:
        return 19, True
    try:
        return _int(env, "WORKER_NICE", 19, low=0, high=19), False
    except SettingsError:
        raise SettingsError(
            f"WORKER_NICE={raw!r} is neither {IDLE} nor a whole number from 0 to 19: use {IDLE} "
            "(the default) or a number of steps, e.g. 10."
        ) from None


def _int(env: Mapping[str, str], name: str, default: int, *, low: int, high: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a whole number: use e.g. {default}.") from None
    if not low <= value <= high:
        raise SettingsError(f"{name}={value} is out of range: use {low} to {high}.")
    return value


def _fraction(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a number: use e.g. {default}.") from None
    if not 0.0 <= value <= 1.0:
        raise SettingsError(f"{name}={value} is out of range: use a fraction from 0 to 1.")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name}={raw!r} is not a boolean: use true or false.")
