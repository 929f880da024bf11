"""Free loopback ports, and waiting for one to accept connections."""

from __future__ import annotations

import socket
import time


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, within: float, what: str = "") -> None:
    """Until 127.0.0.1:`port` accepts a connection; TimeoutError after `within` seconds."""
    deadline = time.monotonic() + within
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"{what or f'port {port}'} not accepting connections within {within:g} s"
                ) from None
            time.sleep(0.05)
