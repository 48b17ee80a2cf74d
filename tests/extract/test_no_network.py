"""OCR inference in a process without network: no connection attempt, nothing written under the user's home.

The process runs in its own network namespace (``unshare -n``, as root, as in CI) under ``strace``, with HOME
pointed at an empty directory. onnxruntime from the package index would look up a telemetry host and write a
device id under ``~/.cache``; RapidOCR would fetch models it cannot find.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from samplefiles import image_bytes, require_cjk_font

from evalplat.extract import OcrConfig
from evalplat.extract.engines import RapidOcrEngine

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import sys
from evalplat.extract import OcrConfig, extract_text
result = extract_text(open(sys.argv[1], "rb").read(), "scan.png", config=OcrConfig(engine="rapidocr"))
print(result.ocr_engine)
print(result.text)
"""


def _isolated(tmp_path: Path) -> list[str]:
    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("strace"):
        pytest.skip("needs root, unshare and strace (apt-get install strace; CI runs as root)")
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"unshare -n is not permitted here: {probe.stderr.decode(errors='replace').strip()}")
    return ["unshare", "-n", "strace", "-f", "-qq", "-e", "trace=network", "-o", str(tmp_path / "trace.txt")]


def _attempts(calls: list[str]) -> list[str]:
    """Connection attempts (or datagrams sent) to anything but a local socket, from an strace log."""
    return [line for line in calls if re.search(r"\b(connect|sendto|sendmsg)\(", line) and "AF_UNIX" not in line]


def test_the_network_trace_catches_a_connection_attempt(tmp_path: Path) -> None:
    command = _isolated(tmp_path)
    attempt = "import socket\ntry:\n    socket.create_connection(('192.0.2.1', 80), timeout=1)\nexcept OSError:\n    pass"
    subprocess.run([*command, sys.executable, "-c", attempt], capture_output=True, timeout=60, check=False)
    assert len(_attempts((tmp_path / "trace.txt").read_text().splitlines())) == 1


def test_rapidocr_inference_makes_no_connection_attempt_and_writes_nothing_under_home(tmp_path: Path) -> None:
    if not RapidOcrEngine(OcrConfig()).status().available:
        pytest.skip("RapidOCR is not installed")
    require_cjk_font()
    command = _isolated(tmp_path)
    image = tmp_path / "scan.png"
    image.write_bytes(image_bytes(["被告人冼国梁于2023年5月"], "PNG"))
    home = tmp_path / "home"
    home.mkdir()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("XDG_", "ORT_"))}
    env.update(HOME=str(home), PYTHONPATH=str(ROOT))
    done = subprocess.run([*command, sys.executable, "-c", SCRIPT, str(image)], capture_output=True, env=env,
                          cwd=tmp_path, timeout=600, check=False)
    output = done.stdout.decode()
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    assert output.startswith("rapidocr ")
    assert "冼国梁" in output  # the inference really ran
    calls = (tmp_path / "trace.txt").read_text().splitlines()
    assert _attempts(calls) == []
    unix = [line for line in calls if re.search(r"\bconnect\(", line) and "AF_UNIX" in line]
    assert all("nscd" in line for line in unix), unix  # at most a user-name lookup, never a host lookup
    written = [str(p.relative_to(home)) for p in home.rglob("*")]
    assert written == []
