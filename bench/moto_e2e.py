"""End to end through a real S3 API: moto's server in-process, seeded through its backend."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

from moto.core import DEFAULT_ACCOUNT_ID
from moto.s3.models import s3_backends
from moto.server import ThreadedMotoServer

from bench.catalogue import Catalogue
from domain.platform.settings import S3Settings

BUCKET = "creatorflix-bench"
REGION = "us-east-1"


def catalogue_for(keys: int, posts: int, media: int) -> Catalogue:
    """The catalogue shape of the main run, with as many models as make about `keys` keys."""
    per_model = Catalogue(1, posts, media).keys_per_model
    return Catalogue(max(1, round(keys / per_model)), posts, media)


def seed(catalogue: Catalogue, bucket: str = BUCKET) -> int:
    """Put every key straight into moto's in-memory backend (no HTTP); returns keys written."""
    backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    backend.create_bucket(bucket, REGION)
    count = 0
    for index in range(1, catalogue.models + 1):
        for key, size in catalogue.model_keys(index):
            backend.put_object(bucket, key, b"x" * (size % 61 + 1), disable_notification=True)
            count += 1
    return count


@contextlib.contextmanager
def moto_server() -> Iterator[S3Settings]:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield S3Settings(
            endpoint=f"http://{host}:{port}",
            region=REGION,
            key="bench",
            secret="bench-secret",
            bucket=BUCKET,
        )
    finally:
        server.stop()
