"""onnxruntime, imported only with its telemetry switched off.

onnxruntime from the package index sends telemetry on Linux: each process looks up a Microsoft events
host and writes a device id under ``~/.cache``. Setting ``ORT_DISABLE_TELEMETRY=1`` *before* the first
import stops all of it (``onnxruntime.disable_telemetry_events()`` alone does not). The evalplat package
sets the variable when it is imported; every model the platform runs (the OCR engine, the anonymiser's
named-entity model) gets onnxruntime through :func:`load`, which also covers code that imports this
module on its own.
"""

from __future__ import annotations

import os
from types import ModuleType

TELEMETRY_VARIABLE = "ORT_DISABLE_TELEMETRY"


def disable_telemetry() -> None:
    """Set the environment so that a later ``import onnxruntime`` sends nothing."""
    os.environ[TELEMETRY_VARIABLE] = "1"


def load() -> ModuleType:
    """Import onnxruntime with telemetry disabled and return the module.

    Raises ``ImportError`` when onnxruntime is not installed; callers turn that into their own
    "unavailable" error.
    """
    disable_telemetry()
    import onnxruntime  # noqa: PLC0415 - imported late on purpose, after the variable is set

    disable_events = getattr(onnxruntime, "disable_telemetry_events", None)
    if disable_events is not None:
        disable_events()
    return onnxruntime


disable_telemetry()
