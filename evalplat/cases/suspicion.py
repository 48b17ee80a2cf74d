"""Where the machine was unsure: stretches of a redacted text that the checker should look at.

:func:`flags_for` is the one function the redaction review, the campaign queue and the stored
``Redaction.flags`` use. It takes the redactor's own judgement (:func:`evalplat.anonymise.suspicious`:
``name_like``, ``after_role_word``, ``identifier_number``) and adds what only the case as a whole shows:

- ``repeat``: the original of a redacted stretch occurs again, unredacted (a missed propagation).

Flags are plain dictionaries ``{"start", "end", "reason"}`` — offsets into the original text, never the
text itself (the original is encrypted at rest; flags are not) — stored with the redaction; the checker
dismisses the ones that are fine (``"dismissed": True``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = ["REASONS", "flags_for", "merge_flags", "open_count"]

#: The reason codes, in the order the review lists them.
REASONS = ("repeat", "name_like", "after_role_word", "identifier_number")

_CJK_RUN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff]{2,}")


def _repeats(text: str, live: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Unredacted occurrences of the originals of redacted Chinese stretches."""
    originals = {text[s:e] for s, e in live if _CJK_RUN.fullmatch(text[s:e])}
    found = []
    for original in originals:
        for match in re.finditer(re.escape(original), text):
            if not any(s < match.end() and match.start() < e for s, e in live):
                found.append(match.span())
    return found


def flags_for(text: str, spans: Sequence[Mapping[str, Any]],
              leads: Iterable[tuple[int, int]] | None = None) -> list[dict[str, Any]]:
    """What the checker should look at in ``text`` given its stored ``spans`` (see the module docstring).

    ``leads`` is what the redaction that gave the spans took for a person (``Redaction.leads``); when
    None (a checker's correction of stored spans) the text is run through the redactor once for them.
    """
    from evalplat.anonymise import suspicious

    live = [{"start": int(s["start"]), "end": int(s["end"])} for s in spans if s.get("source") != "removed"]
    found = {(f["start"], f["end"]): str(f["reason"]) for f in suspicious(text, live, leads=leads)}
    for span in _repeats(text, [(s["start"], s["end"]) for s in live]):
        found.setdefault(span, "repeat")
    return [{"start": s, "end": e, "reason": r} for (s, e), r in sorted(found.items())]


def merge_flags(new: Iterable[Mapping[str, Any]], old: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """New flags, keeping the checker's dismissals of the same stretch for the same reason."""
    dismissed = {(f["start"], f["end"], f["reason"], f.get("field")) for f in old if f.get("dismissed")}
    out = []
    for flag in new:
        item = dict(flag)
        if (item["start"], item["end"], item["reason"], item.get("field")) in dismissed:
            item["dismissed"] = True
        out.append(item)
    return out


def open_count(flags: Iterable[Mapping[str, Any]]) -> int:
    return sum(not f.get("dismissed") for f in flags)
