"""Embedded S3 (moto's server, in-process, loopback) so the app runs with zero configuration."""

from __future__ import annotations

import logging
import os
import socket

from moto.server import ThreadedMotoServer

from domain.settings import S3Settings

DEMO_BUCKET = "creatorflix-demo"
# A stable port keeps media URLs (built on endpoint + bucket) equal across restarts.
DEFAULT_PORT = 9455


class EmbeddedS3:
    """A moto server on a free loopback port; its data lives in memory for the process."""

    def __init__(self, bucket: str = DEMO_BUCKET) -> None:
        self.bucket = bucket
        self.port = _port(int(os.environ.get("EMBEDDED_S3_PORT") or DEFAULT_PORT))
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)

    def start(self) -> S3Settings:
        self._server.start()
        return self.settings

    def stop(self) -> None:
        self._server.stop()

    @property
    def settings(self) -> S3Settings:
        return S3Settings(
            endpoint=f"http://127.0.0.1:{self.port}",
            region="us-east-1",
            key="demo",
            secret="demo-secret",
            bucket=self.bucket,
        )


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
