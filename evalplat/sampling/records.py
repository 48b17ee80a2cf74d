"""Population records, their canonical text form and the population digest.

The canonical line of a record is the published, language-independent form that anyone can rebuild
to verify a draw.  It is the UTF-8 text of six tab-separated fields::

    case_id <TAB> key <TAB> agency <TAB> case_type <TAB> sequence <TAB> closed_on

where ``key`` is the parts of the stable key joined by U+001F (integers in plain decimal), ``sequence``
is a decimal integer or empty, and ``closed_on`` is an ISO date (``YYYY-MM-DD``) or empty when the case
is not closed.  The population is ordered by stable key (element-wise; integers numerically, strings by
Unicode code point) and its digest is SHA-256 over the canonical lines, each followed by ``\\n``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from evalplat.sampling.errors import SamplingError

KeyPart = str | int

_FORBIDDEN = ("\t", "\n", "\r", "\x1f")
KEY_SEPARATOR = "\x1f"


@dataclass(frozen=True, slots=True)
class PopulationRecord:
    """One case of the sampling population.

    Parameters
    ----------
    case_id : str
        Identifier of the case in the platform.
    key : tuple of str or int
        Stable key that orders the population, e.g. ``(agency_code, year, case_number)``.
    agency : str
        Code of the legal-aid agency that handled the case.
    case_type : str
        ``"criminal"``, ``"civil"``, ``"administrative"``, ``"non_litigation"`` or another code.
    sequence : int or None
        The case's sequence number within its agency (used by designated-number plans).
    closed_on : datetime.date or None
        Closing date; ``None`` when the case is not closed.
    """

    case_id: str
    key: tuple[KeyPart, ...]
    agency: str
    case_type: str
    sequence: int | None = None
    closed_on: dt.date | None = None

    @property
    def closed(self) -> bool:
        """Whether the case is closed (has a closing date)."""
        return self.closed_on is not None

    @classmethod
    def from_mapping(cls, row: Mapping[str, Any]) -> PopulationRecord:
        """Build a record from a mapping with the field names of this class (``closed_on`` may be ISO text)."""
        closed = row.get("closed_on")
        if isinstance(closed, str):
            closed = dt.date.fromisoformat(closed) if closed else None
        sequence = row.get("sequence")
        if isinstance(sequence, str):
            sequence = int(sequence) if sequence.strip() else None
        key = row["key"]
        return cls(case_id=str(row["case_id"]), key=tuple(key) if not isinstance(key, str) else (key,),
                   agency=str(row["agency"]), case_type=str(row["case_type"]), sequence=sequence,
                   closed_on=closed)


def canonical_key(key: tuple[KeyPart, ...]) -> str:
    """The canonical text of a stable key: parts joined by U+001F, integers in decimal."""
    return KEY_SEPARATOR.join(str(part) for part in key)


def canonical_line(record: PopulationRecord) -> str:
    """The canonical line of a record (without the trailing newline); see the module docstring."""
    sequence = "" if record.sequence is None else record.sequence
    closed = "" if record.closed_on is None else record.closed_on.isoformat()
    return (f"{record.case_id}\t{KEY_SEPARATOR.join(map(str, record.key))}\t{record.agency}\t{record.case_type}"
            f"\t{sequence}\t{closed}")


def _check(record: PopulationRecord, position: int) -> None:
    if not isinstance(record, PopulationRecord):
        raise SamplingError("bad_record", position=position, field="record", reason=type(record).__name__)
    for field in ("case_id", "agency", "case_type"):
        value = getattr(record, field)
        if not isinstance(value, str) or not value or any(ch in value for ch in _FORBIDDEN):
            raise SamplingError("bad_record", position=position, field=field, reason=repr(value))
    if not isinstance(record.key, tuple) or not record.key:
        raise SamplingError("bad_record", position=position, field="key", reason=repr(record.key))
    for part in record.key:
        if isinstance(part, bool) or not isinstance(part, (str, int)) or (
                isinstance(part, str) and any(ch in part for ch in _FORBIDDEN)):
            raise SamplingError("bad_record", position=position, field="key", reason=repr(record.key))
    if record.sequence is not None and (isinstance(record.sequence, bool) or not isinstance(record.sequence, int)):
        raise SamplingError("bad_record", position=position, field="sequence", reason=repr(record.sequence))
    if record.closed_on is not None and not isinstance(record.closed_on, dt.date):
        raise SamplingError("bad_record", position=position, field="closed_on", reason=repr(record.closed_on))


_VALID_TAILS = {(str, str, str, seq, closed) for seq in (int, type(None)) for closed in (dt.date, type(None))}


def _shape(record: PopulationRecord) -> tuple[type, ...]:
    """Types of a record's fields: record, key, key parts, then case_id, agency, case_type, sequence, closed_on."""
    return (type(record), type(record.key), *map(type, record.key), type(record.case_id), type(record.agency),
            type(record.case_type), type(record.sequence), type(record.closed_on))


def prepare_population(records: Iterable[PopulationRecord]) -> tuple[list[PopulationRecord], list[str]]:
    """Validate records; return them ordered by stable key together with their canonical lines.

    Raises
    ------
    SamplingError
        ``bad_record`` for a malformed record (position in input order), ``mixed_key_types`` when a key
        position holds both text and numbers, ``duplicate_key`` / ``duplicate_case`` for repeated keys or ids.
    """
    given = list(records)
    # Fast whole-population checks; on any doubt the record-by-record check finds and names the culprit.
    try:
        shapes = set(map(_shape, given))
    except AttributeError:
        shapes = set()
    heads = {found[:-5] for found in shapes}
    shape = next(iter(heads)) if len(heads) == 1 else ()
    plain = not given or (
        len(shape) > 2 and shape[0] is PopulationRecord and shape[1] is tuple
        and all(t in (str, int) for t in shape[2:]) and all(found[-5:] in _VALID_TAILS for found in shapes)
        and all(r.case_id and r.agency and r.case_type for r in given))
    lines = [canonical_line(r) for r in given] if plain else []
    if plain and given:
        text = "\n".join(lines)
        plain = (text.count("\t") == 5 * len(given) and text.count("\n") == len(given) - 1
                 and "\r" not in text and text.count(KEY_SEPARATOR) == (len(shape) - 3) * len(given))
    if not plain:
        kinds: dict[int, type] = {}
        for position, record in enumerate(given):
            _check(record, position)
            for index, part in enumerate(record.key):
                kind = int if isinstance(part, int) else str
                if kinds.setdefault(index, kind) is not kind:
                    raise SamplingError("mixed_key_types", position=position, index=index, key=repr(record.key))
        shape = tuple(map(type, given[0].key))
        position = next((i for i, r in enumerate(given) if tuple(map(type, r.key)) != shape), 0)
        raise SamplingError("bad_record", position=position, field="key",
                            reason="every key must have the same number of parts as the first one")
    keys = [r.key for r in given]
    order = sorted(range(len(given)), key=keys.__getitem__)
    ordered = [given[i] for i in order]
    ordered_lines = [lines[i] for i in order]
    if len(set(keys)) != len(keys):
        for before, after in zip(ordered, ordered[1:], strict=False):
            if before.key == after.key:
                raise SamplingError("duplicate_key", key=canonical_key(after.key).replace(KEY_SEPARATOR, "/"))
    if len({r.case_id for r in ordered}) != len(ordered):
        seen: set[str] = set()
        for record in ordered:
            if record.case_id in seen:
                raise SamplingError("duplicate_case", case_id=record.case_id)
            seen.add(record.case_id)
    return ordered, ordered_lines


def order_population(records: Iterable[PopulationRecord]) -> list[PopulationRecord]:
    """Validate records and return them ordered by stable key (see :func:`prepare_population`)."""
    return prepare_population(records)[0]


def digest_lines(lines: Iterable[str]) -> str:
    """SHA-256 (hex) over canonical lines, each followed by a newline."""
    digest = hashlib.sha256()
    batch: list[str] = []
    for line in lines:
        batch.append(line)
        if len(batch) >= 8192:
            digest.update(("\n".join(batch) + "\n").encode("utf-8"))
            batch.clear()
    if batch:
        digest.update(("\n".join(batch) + "\n").encode("utf-8"))
    return digest.hexdigest()


def population_digest(ordered: Iterable[PopulationRecord]) -> str:
    """SHA-256 (hex) over the canonical lines of an ordered population, each followed by a newline."""
    return digest_lines(canonical_line(record) for record in ordered)
