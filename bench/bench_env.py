"""The machine a benchmark ran on, printed by every script in bench/ (one helper for all of them)."""

from __future__ import annotations

import os
import platform
import sqlite3


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> str:
    """One line: OS, CPU model, cores, memory, Python, SQLite and the load average when it was called."""
    try:
        memory = f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB"
    except (ValueError, OSError, AttributeError):
        memory = "? GiB"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{platform.system()} {platform.release()}, {cpu_model()}, {os.cpu_count()} cores, {memory}, "
            f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, load average {load:.1f}")
