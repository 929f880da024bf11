"""Embedded S3 (moto's server, loopback) so the app runs with zero configuration.

Its objects are kept under `data/demo-bucket/` between runs, so the embedded bucket and the
embedded database stay consistent across restarts. While `python -m app` runs, the endpoint is
written to `data/embedded-s3.json`, so workers and the CLI use the same bucket the web shows.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import urllib.error
import urllib.request
from pathlib import Path

from domain.platform.policy_gate import GatedMotoServer
from domain.platform.s3 import S3Service
from domain.platform.settings import S3Settings, Settings

DEMO_BUCKET = "creatorflix-demo"


class DemoExtraMissing(RuntimeError):
    """The embedded S3 (moto) or the demo catalogue (Pillow) is wanted but the `demo` extra is
    not installed; the message says how to install it or what to configure instead."""

    def __init__(self, what: str) -> None:
        super().__init__(
            f"{what} needs the demo extra: run `make run` (it installs it) or "
            "`pip install -e '.[demo]'`, or set DO_SPACES_ENDPOINT, _KEY, _SECRET and _BUCKET "
            "to use a real bucket."
        )


class EmbeddedS3:
    """A moto server on a loopback port (the configured one if free, so URLs stay stable)."""

    def __init__(self, settings: Settings, bucket: str = DEMO_BUCKET) -> None:
        try:
            import moto.server  # noqa: F401 - only to know the demo extra is there
        except ImportError:
            raise DemoExtraMissing("the embedded demo S3 (moto)") from None

        self.bucket = bucket
        self.data_dir = settings.data_dir
        self.port = _port(settings.embedded_s3_port)
        self.admin_origins = admin_origins(settings)
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        demo = _demo_settings("", bucket)
        # Requests are refused as Spaces refuses them: moto alone checks no signature and no
        # POST policy. Only loopback, only signed requests, browser POSTs under their policy.
        self._server = GatedMotoServer(self.port, {demo.key: demo.secret}, "127.0.0.1")

    def start(self) -> S3Settings:
        self._server.start()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        marker = _marker(self.data_dir)
        marker.write_text(json.dumps({"endpoint": self.settings.endpoint, "pid": os.getpid()}))
        return self.settings

    @property
    def address(self) -> str:
        """The address the server listens on (loopback)."""
        return self._server.address

    def stop(self) -> None:
        _marker(self.data_dir).unlink(missing_ok=True)
        self._server.stop()

    @property
    def settings(self) -> S3Settings:
        return _demo_settings(f"http://127.0.0.1:{self.port}", self.bucket)

    @property
    def store(self) -> Path:
        return self.data_dir / "demo-bucket"

    async def restore(self, s3: S3Service) -> int:
        """Put back the objects kept from the last run; returns how many (0: a new bucket)."""
        await s3.create_bucket()
        await s3.allow_browser_uploads(self.admin_origins)
        index = self.store / "index.json"
        if not index.exists():
            return 0
        keys: dict[str, str] = json.loads(index.read_text())
        for key, name in keys.items():
            await s3.upload(key, (self.store / "objects" / name).read_bytes())
        return len(keys)

    async def persist(self, s3: S3Service) -> int:
        """Keep every object of the bucket under data/demo-bucket/; returns how many."""
        objects = self.store / "objects"
        objects.mkdir(parents=True, exist_ok=True)
        keys: dict[str, str] = {}
        async for page in s3.list_pages(""):
            for obj in page:
                name = hashlib.sha256(obj.key.encode()).hexdigest()
                target = objects / name
                if not target.exists() or target.stat().st_size != obj.size:
                    response = await s3.client.get_object(Bucket=s3.settings.bucket, Key=obj.key)
                    async with response["Body"] as body:
                        target.write_bytes(await body.read())
                keys[obj.key] = name
        for stale in set(p.name for p in objects.iterdir()) - set(keys.values()):
            (objects / stale).unlink()
        (self.store / "index.json").write_text(json.dumps(keys, ensure_ascii=False))
        return len(keys)


def admin_origins(settings: Settings) -> list[str]:
    """Where the admin's pages come from, as the bucket's CORS rule names them."""
    if settings.host in ("0.0.0.0", "::"):  # every interface: any name may reach it
        return ["*"]
    origins = [f"http://{settings.host}:{settings.port}"]
    if settings.host == "127.0.0.1":
        origins.append(f"http://localhost:{settings.port}")
    return origins


def running_demo_s3(settings: Settings) -> S3Settings:
    """The embedded S3 of the `python -m app` running from this data dir, or a clear refusal."""
    marker = _marker(settings.data_dir)
    try:
        endpoint = json.loads(marker.read_text())["endpoint"]
        _answers(str(endpoint))
    except Exception:  # noqa: BLE001 - absent, unreadable or not answering: same advice
        raise RuntimeError(
            "no bucket configured and the demo's embedded S3 is not running: start the app with "
            "`make run` first (it owns the demo bucket), or set DO_SPACES_ENDPOINT, "
            "DO_SPACES_KEY, DO_SPACES_SECRET and DO_SPACES_BUCKET for a real bucket."
        ) from None
    return _demo_settings(str(endpoint), DEMO_BUCKET)


def _answers(endpoint: str) -> None:
    """Raise unless a server answers at `endpoint` (its 403 to an unsigned request is one)."""
    try:
        urllib.request.urlopen(endpoint, timeout=2).close()  # noqa: S310 - loopback only
    except urllib.error.HTTPError:
        return


def _demo_settings(endpoint: str, bucket: str) -> S3Settings:
    return S3Settings(
        endpoint=endpoint, region="us-east-1", key="demo", secret="demo-secret", bucket=bucket
    )


def _marker(data_dir: Path) -> Path:
    return data_dir / "embedded-s3.json"


def _port(preferred: int) -> int:
    """The preferred port if it is free, else any free loopback port."""
    for candidate in (preferred, 0):
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            return int(s.getsockname()[1])
    raise OSError("no free loopback port for the embedded S3")
