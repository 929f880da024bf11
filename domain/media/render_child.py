"""A render child: `python -m domain.media.render_child MEMORY`, started by sandbox.py.

Reads one request a line on stdin (`{"path": ..., "kind": ...}`), renders it under an address
space ceiling of what it maps once started plus MEMORY bytes, and answers on stdout with one
JSON line (`{"error": ...}`, or the sizes, duration and each file's length) followed by the
files' bytes. No pickle: whatever a hostile file does to a decoder here, the worker reads only
JSON and bytes. Ends at end of input, or with its parent (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import resource
import signal
import sys
from pathlib import Path
from typing import BinaryIO

from domain.media import render
from domain.media.rendered import MediaError

_PR_SET_PDEATHSIG = 1


def limit_memory(extra: int) -> None:
    """Die with the parent; cap the address space at what is mapped now plus `extra`."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    mapped = 0
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            mapped = int(line.split()[1]) * 1024
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = mapped + extra if hard == resource.RLIM_INFINITY else min(mapped + extra, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def answer(out: BinaryIO, request: dict[str, str]) -> None:
    try:
        made = render.render(Path(request["path"]), request["kind"])
    except MediaError as exc:
        reply: dict[str, object] = {"error": str(exc)}
        files: list[bytes] = []
    except MemoryError as exc:  # outside the decoders' own handling (render.py catches theirs)
        reply, files = {"error": render.out_of_memory(exc)}, []
    else:
        names = list(made.files)
        files = [made.files[n] for n in names]
        reply = {
            "width": made.width,
            "height": made.height,
            "duration": made.duration,
            "files": [[n, len(f)] for n, f in zip(names, files, strict=True)],
        }
    out.write(json.dumps(reply).encode() + b"\n")
    for data in files:
        out.write(data)
    out.flush()


def main() -> None:
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything else written to stdout (a library's message) goes to stderr
    limit_memory(int(sys.argv[1]))
    for line in sys.stdin.buffer:
        answer(out, json.loads(line))


if __name__ == "__main__":
    main()
