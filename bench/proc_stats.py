"""Another process's CPU time and memory, read from /proc (Linux; NaN where unreadable)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def cpu_seconds(pid: int) -> float:
    """utime + stime of `pid` and of its reaped children (cutime + cstime), in seconds."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return float("nan")
    ticks = sum(int(fields[i]) for i in (11, 12, 13, 14))
    return ticks / os.sysconf("SC_CLK_TCK")


def status_mb(pid: int, field: str) -> float:
    """A /proc/<pid>/status memory field (VmRSS, VmHWM, ...) in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return float(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def peak_mb(pid: int) -> float:
    """The peak RSS (VmHWM) of `pid` since it started or since `reset_peak(pid)`."""
    return status_mb(pid, "VmHWM")


def reset_peak(pid: int) -> None:
    """Set `pid`'s peak-RSS mark to its current RSS (ours to do: a process we started)."""
    with contextlib.suppress(OSError):
        Path(f"/proc/{pid}/clear_refs").write_text("5")
