"""The numpy decoder of jieba's part-of-speech HMM gives exactly jieba's answers."""

from __future__ import annotations

import random

import jieba.posseg as posseg
import pytest
from jieba.posseg.viterbi import viterbi as jieba_viterbi

from evalplat.anonymise import tagger
from evalplat.anonymise.lexicon import SURNAME_WEIGHTS
from evalplat.demo.textgen import generate_cases

TABLES = (posseg.char_state_tab_P, posseg.start_P, posseg.trans_P, posseg.emit_P)


@pytest.fixture(scope="module")
def hmm() -> tagger.PosHMM:
    tagger.warm_up()
    return tagger.PosHMM(posseg.start_P, posseg.trans_P, posseg.emit_P, posseg.char_state_tab_P)


def _random_strings(seed: int, n: int) -> list[str]:
    """Short strings of name characters, function words, Latin letters, digits and characters
    jieba's tables do not know (which may take any state)."""
    rng = random.Random(seed)
    alphabet = ("".join(s for s, _ in SURNAME_WEIGHTS) + "志强明华丽芳敏伟燕倩欣嘉文可以与向对被发生驾驶赔偿录称"
                "的了在是我他她aZ7，。、")
    out = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 14))) for _ in range(n)]
    # a few with characters the tables do not know (any of the 256 states: slow for jieba)
    return out + [rng.choice(alphabet) + rng.choice("龘齉𠀋") + rng.choice(alphabet) for _ in range(n // 50)]


def _windows() -> list[str]:
    texts = [d.text for case in generate_cases(40, seed=5) for d in case.documents]
    rng = random.Random(2)
    out = []
    for text in texts:
        for _ in range(8):
            i = rng.randrange(len(text))
            out.append(text[i:i + rng.randint(3, 12)].replace("\n", " "))
    return out


def test_viterbi_equals_jieba_on_random_character_runs(hmm):
    for obs in _random_strings(1, 600):
        assert hmm.viterbi(obs) == jieba_viterbi(obs, *TABLES), obs


def test_tokens_equal_jieba_tagger_on_text_windows():
    tagger.warm_up()
    windows = _windows() + _random_strings(2, 300) + ["我向何欣倩赔偿", "事与李林天发生", "录,黄文可以"]
    names = 0
    for window in windows:
        ours = [(p.word, p.flag) for p in tagger._load()["cut"](window)]
        assert ours == [(p.word, p.flag) for p in posseg.dt.cut(window)], window
        names += sum(flag == "nr" for _, flag in ours)
    assert names > 0

