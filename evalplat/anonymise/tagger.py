"""Lazy, process-wide access to jieba: its dictionary and its part-of-speech tagger.

jieba's dictionary takes about a second to load; it is loaded once, on first use, under a lock.
The tagger (~0.14 MB/s) is only ever given short windows chosen by cheap prefilters.

Almost all of the tagger's time on such windows goes to one function: the Viterbi decoding of
jieba's joint segmentation/part-of-speech HMM (256 states) over runs of characters that are not
dictionary words, which is where unknown names are. :class:`PosHMM` decodes the same model with
numpy, one vectorised step per character, and gives exactly jieba's result, ties included
(tests/anonymise/test_tagger.py compares the two); the rest of jieba's tagger is used as is.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any, cast

import numpy as np
import numpy.typing as npt

#: jieba's stand-ins for log(0): a missing emission and a missing transition
MIN_FLOAT = -3.14e100
MIN_INF = float("-inf")


class PosHMM:
    """jieba's part-of-speech HMM, decoded with numpy.

    Parameters
    ----------
    start_p, trans_p, emit_p : mapping
        Log start, transition and emission probabilities keyed by state, a (position, tag)
        pair such as ``("B", "nr")`` (jieba.posseg's ``start_P``, ``trans_P``, ``emit_P``).
    char_states : mapping of str to tuple
        The states a character may take (``char_state_tab_P``); any state when absent.
    """

    def __init__(self, start_p: Mapping[Any, float], trans_p: Mapping[Any, Mapping[Any, float]],
                 emit_p: Mapping[Any, Mapping[str, float]], char_states: Mapping[str, Any]) -> None:
        # states in ascending order, so "greatest index" is "greatest state" when breaking ties
        self.states: list[Any] = sorted(trans_p)
        self._index = {s: i for i, s in enumerate(self.states)}
        n = len(self.states)
        self._start = np.array([start_p[s] for s in self.states])
        self._trans = np.full((n, n), MIN_INF)
        for a, row in trans_p.items():
            for b, prob in row.items():
                self._trans[self._index[a], self._index[b]] = prob
        self._has_next = cast(npt.NDArray[np.bool_], (self._trans > MIN_INF).any(axis=1))
        self._emit_p = emit_p
        self._char_states = char_states
        self._all = np.ones(n, dtype=bool)
        self._emit_cache: dict[str, npt.NDArray[np.float64]] = {}
        self._mask_cache: dict[str, npt.NDArray[np.bool_]] = {}

    def _emit(self, ch: str) -> npt.NDArray[np.float64]:
        e = self._emit_cache.get(ch)
        if e is None:
            e = np.array([self._emit_p[s].get(ch, MIN_FLOAT) for s in self.states])
            self._emit_cache[ch] = e
        return e

    def _mask(self, ch: str) -> npt.NDArray[np.bool_]:
        m = self._mask_cache.get(ch)
        if m is None:
            allowed = self._char_states.get(ch)
            if allowed is None:
                m = self._all
            else:
                m = np.zeros(len(self.states), dtype=bool)
                m[[self._index[s] for s in allowed]] = True
            self._mask_cache[ch] = m
        return m

    def viterbi(self, obs: str) -> tuple[float, list[Any]]:
        """The most probable state sequence for ``obs`` and its log probability.

        Follows ``jieba.posseg.viterbi.viterbi`` step for step: the states tried at each
        character are those the character may take that some live previous state can move to
        (all successors when none, all states when there are none), the same sums are formed in
        the same order, and ties go to the greatest previous state as with Python's ``max``
        over (probability, state) pairs.
        """
        active = np.flatnonzero(self._mask(obs[0]))
        v = self._start[active] + self._emit(obs[0])[active]
        back: list[tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]] = []
        for ch in obs[1:]:
            keep = self._has_next[active]
            prev = active[keep]
            if prev.size == 0:
                raise ValueError(f"no state can follow {obs!r}")  # jieba's max() fails here too
            sub = self._trans[prev]
            expect = cast(npt.NDArray[np.bool_], (sub > MIN_INF).any(axis=0))
            cand = self._mask(ch) & expect
            if not cand.any():
                cand = expect if expect.any() else self._all
            nxt = np.flatnonzero(cand)
            scores = (v[keep][:, None] + sub[:, nxt]) + self._emit(ch)[nxt][None, :]
            rev = scores[::-1]  # argmax takes the first maximum: reversed, the greatest state
            arg = rev.argmax(axis=0)
            v = rev[arg, np.arange(nxt.size)]
            back.append((nxt, prev[::-1][arg]))
            active = nxt
        k = int(v[::-1].argmax())
        prob = float(v[::-1][k])
        state = int(active[::-1][k])
        route = [state]
        for nxt, pointer in reversed(back):
            state = int(pointer[np.searchsorted(nxt, state)])
            route.append(state)
        route.reverse()
        return prob, [self.states[i] for i in route]


def _fast_tokenizer() -> Any:
    """jieba's POSTokenizer sharing the loaded dictionary, with :class:`PosHMM` as its decoder."""
    import jieba.posseg as posseg

    hmm = PosHMM(posseg.start_P, posseg.trans_P, posseg.emit_P, posseg.char_state_tab_P)

    class FastPOSTokenizer(posseg.POSTokenizer):  # type: ignore[misc]
        # the name-mangled hook jieba's __cut_detail calls for runs of unknown characters
        def _POSTokenizer__cut(self, sentence: str) -> Iterator[Any]:
            _, states = hmm.viterbi(sentence)
            begin = done = 0
            for i, (position, flag) in enumerate(states):
                if position == "B":
                    begin = i
                elif position in ("E", "S"):
                    yield posseg.pair(sentence[begin if position == "E" else i:i + 1], flag)
                    done = i + 1
            if done < len(sentence):
                yield posseg.pair(sentence[done:], states[done][1])

    tokenizer = FastPOSTokenizer.__new__(FastPOSTokenizer)
    tokenizer.__dict__.update(posseg.dt.__dict__)  # the same dictionary and tag table, not a copy
    return tokenizer

_lock = threading.Lock()
_state: dict[str, Any] = {}


def _load() -> dict[str, Any]:
    if _state:
        return _state
    with _lock:
        if not _state:
            import jieba
            import jieba.posseg

            jieba.setLogLevel(logging.WARNING)
            jieba.dt.initialize()
            _state["freq"] = jieba.dt.FREQ
            _state["tags"] = jieba.posseg.dt.word_tag_tab
            _state["cut"] = _fast_tokenizer().cut
    return _state


def word_freq(word: str) -> int:
    """Frequency of ``word`` in jieba's dictionary (0 when absent)."""
    return int(_load()["freq"].get(word) or 0)


def word_tag(word: str) -> str | None:
    """jieba's part-of-speech tag for a dictionary word, or None."""
    return _load()["tags"].get(word)


def tag_windows(windows: list[str]) -> list[list[tuple[int, int, str]]]:
    """Tag many short windows in one tagger call.

    Parameters
    ----------
    windows : list of str
        Short stretches of text without line breaks.

    Returns
    -------
    list of list of (start, end, flag)
        For each window, its tokens as offsets into that window with jieba's flag
        (``nr`` person name, ``nrfg``/``nrt`` name variants, ``ns`` place …).
    """
    return [_tag_one(w.replace("\n", " ")) for w in windows]


@lru_cache(maxsize=65536)
def _tag_one(window: str) -> list[tuple[int, int, str]]:
    """Tag one window (cached: boilerplate such as 请于接到本函之日起 recurs in every case)."""
    tokens = []
    pos = 0
    for pair in _load()["cut"](window, HMM=True):
        tokens.append((pos, pos + len(pair.word), pair.flag))
        pos += len(pair.word)
    return tokens


@lru_cache(maxsize=65536)
def dictionary_words(text: str) -> tuple[tuple[int, int], ...]:
    """jieba's dictionary segmentation of ``text`` (its most probable route through dictionary
    words, no HMM for unknown words), as (start, end) offsets.

    Unknown characters (most of a name's) stand alone: 经审理查明 cuts as 经/审理/查明,
    被告人次仁多吉 as 被告人/次/仁/多/吉 or so, with the name's characters single.
    """
    import jieba

    _load()
    out = []
    pos = 0
    for word in jieba.dt.cut(text, HMM=False):
        out.append((pos, pos + len(word)))
        pos += len(word)
    return tuple(out)


def warm_up() -> None:
    """Load jieba's dictionary and tagger now (about a second) rather than on the first document."""
    _load()
