"""A year of closed legal-aid cases for a demo province, as rows ready for bulk insertion (no database here).

The metadata of all cases is drawn at once with numpy (agency, type, dates, lawyer), then each case gets
its file from :func:`evalplat.demo.textgen.generate_case`. The generated file is bound to the case: the
lawyer, firm, licence number, agency and the dates of the file are replaced by those of the case record,
so metadata and documents tell the same story.

Distributions (design choices, documented here):

* agencies: a city's volume follows :attr:`geography.ProvinceGeo.city_info`; the city-level agency takes 30 % of it
  when the city has county agencies, the counties share the rest unevenly;
* case types: 45 % criminal, 40 % civil, 3 % administrative, 12 % non-litigation overall, varying by agency;
* dates: closing dates over the year (fewer around the Spring Festival and at weekends, a year-end peak);
  application to closing takes a type-dependent log-normal time; the aid decision comes 1–7 days after the
  application and the assignment 0–3 days after the decision; the first meeting 1–3 days after assignment
  for criminal cases, 1–10 days otherwise;
* sequence numbers: per agency and year of assignment, in order of assignment;
* lawyers: 90 % from the agency's own city (taking the case type), else anyone in the province who takes
  it; legal-aid work is concentrated on some lawyers (log-normal activity).
"""

from __future__ import annotations

import random
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import numpy as np

from . import geography, textgen
from .province import CASE_TYPES, Province

TYPE_SHARES = np.array([0.45, 0.40, 0.03, 0.12])
#: Median days from application to closing, and log-normal sigma, by case type.
DURATION_MEDIAN = np.array([75.0, 110.0, 120.0, 45.0])
DURATION_SIGMA = np.array([0.5, 0.55, 0.5, 0.6])
STAGES: dict[str, tuple[tuple[str, float], ...]] = {
    "criminal": (("一审", 0.9), ("二审", 0.1)),
    "civil": (("一审", 0.85), ("二审", 0.1), ("调解结案", 0.05)),
    "administrative": (("一审", 0.8), ("二审", 0.2)),
    "non_litigation": (("调解", 0.6), ("劳动仲裁", 0.25), ("协商和解", 0.15)),
}
MONTH_WEIGHTS = (0.75, 0.6, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.05, 1.35)
LOCAL_LAWYER_SHARE = 0.9
#: With ``documents="sampled"``: the first cases of every agency, year and type by sequence number (what a
#: designated-number draw reaches), plus a random share of all cases (what a proportional draw reaches).
SAMPLED_FIRST = 20
SAMPLED_SHARE = 0.10

DOCUMENT_KINDS = {"application": "application", "assignment": "assignment_letter", "meeting": "meeting_notes",
                  "opinion": "opinion", "judgment": "judgment", "closing": "closing_report"}
_DATE = re.compile(r"\d{4}年\d{1,2}月\d{1,2}日")
_DATE_ANCHORS = {"application": re.compile(r"申请日期：(\d{4}年\d{1,2}月\d{1,2}日)"),
                 "meeting": re.compile(r"时间：(\d{4}年\d{1,2}月\d{1,2}日)"),
                 "judgment": re.compile(r"(\d{4}年\d{1,2}月\d{1,2}日)\n书记员")}
_RESULT = re.compile(r"结果：(.*?)。")
_ROLE_PATTERNS: tuple[tuple[str, str], ...] = (
    ("被害人{}", "victim"), ("证人{}", "witness"), ("审判长 {}", "judge"), ("审判员 {}", "judge"),
    ("检察员{}", "prosecutor"), ("书记员 {}", "other"), ("受理人：{}", "other"),
) + tuple((f"近亲属：{relation}{{}}", "relative") for relation in textgen.RELATIONS)


@dataclass(frozen=True, slots=True)
class CaseBatch:
    """Rows of one chunk of cases."""

    cases: list[dict[str, Any]]
    parties: list[dict[str, Any]]
    documents: list[dict[str, Any]]


@dataclass(slots=True)
class CasePlan:
    """The metadata of every case, in insertion order (agency, year, sequence number)."""

    agency: np.ndarray
    case_type: np.ndarray
    year: np.ndarray
    seq: np.ndarray
    applied: np.ndarray  # proleptic ordinals
    assigned: np.ndarray
    meeting: np.ndarray
    closed: np.ndarray
    stage: np.ndarray
    lawyer: np.ndarray  # index into province.lawyers
    county: np.ndarray  # index into the agency's city's counties (the place of the case)
    with_documents: np.ndarray

    def __len__(self) -> int:
        return len(self.agency)


def _agency_weights(rng: np.random.Generator, province: Province) -> np.ndarray:
    weights = np.zeros(len(province.agency_specs))
    by_city: dict[str, list[int]] = {}
    for i, spec in enumerate(province.agency_specs):
        by_city.setdefault(spec.city.name, []).append(i)
    for city_name, members in by_city.items():
        total = province.geo.city_info[city_name][2]
        if len(members) == 1:
            weights[members[0]] = total
            continue
        weights[members[0]] = total * geography.CITY_AGENCY_SHARE
        shares = rng.lognormal(0.0, 0.35, len(members) - 1)
        weights[members[1:]] = total * (1 - geography.CITY_AGENCY_SHARE) * shares / shares.sum()
    return weights / weights.sum()


def _closing_day_weights(year: int) -> tuple[np.ndarray, np.ndarray]:
    first = date(year, 1, 1).toordinal()
    days = np.arange(first, date(year, 12, 31).toordinal() + 1)
    weights = np.array([MONTH_WEIGHTS[date.fromordinal(int(d)).month - 1]
                        * (0.15 if date.fromordinal(int(d)).weekday() >= 5 else 1.0) for d in days])
    return days, weights / weights.sum()


def _group_rank(keys: list[np.ndarray], order_key: np.ndarray) -> np.ndarray:
    """1-based rank of each element by ``order_key`` within the groups defined by ``keys``."""
    order = np.lexsort((order_key, *reversed(keys)))
    ranks = np.empty(len(order_key), dtype=np.int64)
    sorted_keys = [k[order] for k in keys]
    new_group = np.ones(len(order), dtype=bool)
    if len(order) > 1:
        new_group[1:] = np.any([k[1:] != k[:-1] for k in sorted_keys], axis=0)
    starts = np.maximum.accumulate(np.where(new_group, np.arange(len(order)), 0))
    ranks[order] = np.arange(len(order)) - starts + 1
    return ranks


def _lawyer_pools(rng: np.random.Generator, province: Province
                  ) -> tuple[dict[tuple[int, int], tuple[np.ndarray, np.ndarray]], np.ndarray]:
    activity = rng.lognormal(0.0, 1.0, len(province.lawyers))
    pools: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}
    for ti, case_type in enumerate(CASE_TYPES):
        takes = np.array([case_type in lawyer["case_types"] for lawyer in province.lawyers])
        cities = np.array(province.lawyer_city)
        for ci in range(-1, len(province.geo.cities)):
            members = np.nonzero(takes & ((cities == ci) if ci >= 0 else True))[0]
            if len(members):
                weights = activity[members]
                pools[(ci, ti)] = (members, weights / weights.sum())
    return pools, activity


def _stream(province: Province) -> tuple[int, ...]:
    """Extra seed words of a province's random streams (none for the main province, so its cases stay as they were)."""
    return () if province.geo.key == geography.GUANGDONG_DEMO.key else (int(province.geo.code),)


def plan_cases(province: Province, n: int, seed: int, year: int, documents: str) -> CasePlan:
    """Draw the metadata of ``n`` closed cases (closing dates in ``year``).

    Parameters
    ----------
    province : Province
        Agencies and lawyers to draw from.
    n : int
        Number of cases.
    seed : int
        The demo seed.
    year : int
        Calendar year of the closing dates.
    documents : {"all", "sampled", "none"}
        Which cases get their documents stored.

    Returns
    -------
    CasePlan
    """
    rng = np.random.default_rng([seed, 0x64656D6F, *_stream(province)])
    n_agencies = len(province.agency_specs)
    agency = rng.choice(n_agencies, size=n, p=_agency_weights(rng, province))
    type_cum = np.cumsum(rng.dirichlet(TYPE_SHARES * 150, size=n_agencies), axis=1)
    case_type = np.minimum((rng.random(n)[:, None] > type_cum[agency]).sum(axis=1), len(CASE_TYPES) - 1)

    days, day_p = _closing_day_weights(year)
    closed = rng.choice(days, size=n, p=day_p)
    duration = np.clip(np.rint(rng.lognormal(np.log(DURATION_MEDIAN[case_type]), DURATION_SIGMA[case_type])),
                       12, 480).astype(np.int64)
    applied = closed - duration
    assigned = applied + rng.integers(1, 8, n) + rng.integers(0, 4, n)
    meet_delay = np.where(case_type == 0, rng.integers(1, 4, n), rng.integers(1, 11, n))
    meeting = np.minimum(assigned + meet_delay, closed)
    first_of_year = date(year, 1, 1).toordinal()
    assigned_year = np.where(assigned < first_of_year, year - 1, year)
    stage = np.zeros(n, dtype=np.int64)
    for ti, case_type_name in enumerate(CASE_TYPES):
        mask = case_type == ti
        probabilities = np.array([p for _, p in STAGES[case_type_name]])
        stage[mask] = rng.choice(len(probabilities), size=int(mask.sum()), p=probabilities)

    city_of_agency = np.array([province.geo.cities.index(spec.city) for spec in province.agency_specs])
    pools, _ = _lawyer_pools(rng, province)
    local = rng.random(n) < LOCAL_LAWYER_SHARE
    lawyer = np.empty(n, dtype=np.int64)
    city = city_of_agency[agency]
    for ci in range(len(province.geo.cities)):
        for ti in range(len(CASE_TYPES)):
            for is_local in (True, False):
                mask = (city == ci) & (case_type == ti) & (local == is_local)
                count = int(mask.sum())
                if not count:
                    continue
                members, weights = pools.get((ci, ti), pools[(-1, ti)]) if is_local else pools[(-1, ti)]
                lawyer[mask] = members[rng.choice(len(members), size=count, p=weights)]
    n_counties = np.array([len(spec.city.counties) for spec in province.agency_specs])
    county = (rng.random(n) * n_counties[agency]).astype(np.int64)
    tiebreak = rng.random(n)
    extra = rng.random(n) < SAMPLED_SHARE

    seq = _group_rank([agency, assigned_year], assigned + tiebreak)
    order = np.lexsort((seq, assigned_year, agency))
    plan = CasePlan(agency[order], case_type[order], assigned_year[order], seq[order], applied[order],
                    assigned[order], meeting[order], closed[order], stage[order], lawyer[order], county[order],
                    np.ones(n, dtype=bool))
    if documents == "none":
        plan.with_documents[:] = False
    elif documents == "sampled":
        rank = _group_rank([plan.agency, plan.year, plan.case_type], plan.seq)
        plan.with_documents = (rank <= SAMPLED_FIRST) | extra[order]
    elif documents != "all":
        raise ValueError(f"documents must be all, sampled or none, not {documents!r}")
    return plan


def _cn_date(ordinal: int) -> str:
    d = date.fromordinal(ordinal)
    return f"{d.year}年{d.month}月{d.day}日"


def _file_dates(case_file: textgen.CaseFile) -> list[str] | None:
    """The six event dates of a generated file (application … closing), or None if two coincide."""
    docs = {doc.kind: doc.text for doc in case_file.documents}
    found = []
    for kind in ("application", "assignment", "meeting", "opinion", "judgment", "closing"):
        anchor = _DATE_ANCHORS.get(kind)
        match = anchor.search(docs[kind]) if anchor else None
        found.append(match.group(1) if match else _DATE.findall(docs[kind])[-1])
    return found if len(set(found)) == len(found) else None


@dataclass(frozen=True, slots=True)
class _Binding:
    """The case record's people and dates, to be written into the generated file."""

    lawyer: str
    licence: str
    firm: str
    agency: str
    dates: tuple[str, ...]  # applied, assigned, meeting, trial, judgment, closed


def _bind(case_file: textgen.CaseFile, binding: _Binding) -> list[textgen.Document] | None:
    """Rewrite the generated file with the case record's lawyer, firm, agency and dates.

    Returns None when the file cannot be rewritten unambiguously (a replaced name is part of another
    name, or the file's dates coincide); the caller then generates another file.
    """
    old_dates = _file_dates(case_file)
    if old_dates is None:
        return None
    lawyer, firm = case_file.known["lawyer"][0], case_file.known["firm"][0]
    agency = case_file.known["agency"][0]
    licence = next(p.text for p in case_file.planted if p.category == "licence")
    # Replacing a name inside another name would corrupt it; and the case's lawyer must not share a name
    # with someone else in the file.
    others = [p.text for p in case_file.planted
              if p.category in ("person", "org") and p.text not in (lawyer, firm, agency)]
    if any(lawyer in other or firm in other or binding.lawyer in other for other in others):
        return None
    if lawyer in firm or lawyer in agency:
        return None
    replacements = [(lawyer, binding.lawyer), (firm, binding.firm), (licence, binding.licence)]
    if agency != binding.agency:
        replacements.append((agency, binding.agency))
    date_map = dict(zip(old_dates, binding.dates, strict=True))

    def rewrite(text: str) -> str:
        for old, new in replacements:
            text = text.replace(old, new)
        return _DATE.sub(lambda m: date_map.get(m.group(0), m.group(0)), text)

    return [textgen.Document(doc.kind, doc.title, rewrite(doc.text)) for doc in case_file.documents]


def _parties(case_file: textgen.CaseFile, full_text: str | None) -> list[tuple[str, str]]:
    """(role, name) pairs: client and opponent always; with the documents, everyone else they name."""
    client = case_file.known["person"][0]
    out = [("client", client)]
    opponents = case_file.known["person"][1:] + case_file.known.get("org", [])
    out += [("opponent", name) for name in opponents]
    if full_text is None:
        return out
    out.append(("court", case_file.known["court"][0]))
    named = {client, *opponents, *case_file.known["lawyer"], *case_file.known["firm"], *case_file.known["agency"],
             *case_file.known["court"]}
    for planted in case_file.planted:
        if planted.category not in ("person", "org") or planted.text in named:
            continue
        role = "other"
        if planted.category == "person":
            role = next((r for pattern, r in _ROLE_PATTERNS if pattern.format(planted.text) in full_text), "other")
        out.append((role, planted.text))
    return out


def generate_batches(province: Province, plan: CasePlan, seed: int, first_case_id: int,
                     chunk: int = 10_000, now: datetime | None = None,
                     only: Collection[int] | None = None) -> Iterator[CaseBatch]:
    """Rows of the planned cases with their parties and (where planned) documents, ``chunk`` cases at a time.

    Parameters
    ----------
    province : Province
        The organisations the plan refers to.
    plan : CasePlan
        Case metadata from :func:`plan_cases`.
    seed : int
        The demo seed (each case's file comes from its own generator derived from it).
    first_case_id : int
        Id of the first case; the others follow in plan order.
    chunk : int
        Cases per batch.
    now : datetime, optional
        ``created_at`` of the rows.
    only : collection of int, optional
        Plan indices to generate (the others are skipped): the files of cases stored without them, collected
        later (:class:`FileCollector`). A case's record, parties and file are the same whether or not its file
        is stored, so a file collected later belongs to the case that was stored.

    Yields
    ------
    CaseBatch
    """
    now = now or datetime.now(UTC)
    firms = {f["id"]: f for f in province.firms}
    stream = "/".join(map(str, _stream(province)))
    batch = CaseBatch([], [], [])
    for i in (sorted(only) if only is not None else range(len(plan))):
        spec = province.agency_specs[int(plan.agency[i])]
        agency_row = province.agencies[int(plan.agency[i])]
        case_type = CASE_TYPES[int(plan.case_type[i])]
        county = spec.county or spec.city.counties[int(plan.county[i])]
        year, seq = int(plan.year[i]), int(plan.seq[i])
        lawyer = province.lawyers[int(plan.lawyer[i])]
        firm = firms[lawyer["firm_id"]]
        facts = textgen.CaseFacts(case_type, spec.city, county, year, seq)
        meeting, closed = int(plan.meeting[i]), int(plan.closed[i])
        binding = _Binding(lawyer["name"], lawyer["licence_no"], firm["name"], spec.name, (
            _cn_date(int(plan.applied[i])), _cn_date(int(plan.assigned[i])), _cn_date(meeting),
            _cn_date(meeting + (closed - meeting) // 2), _cn_date(meeting + 3 * (closed - meeting) // 4),
            _cn_date(closed)))
        for attempt in range(50):
            case_seed = seed * 10_000_019 + i * 64 + attempt
            case_file = textgen.generate_case(random.Random(f"{stream}/{case_seed}" if stream else case_seed), facts)
            # bound whether or not the file is stored: the record (cause, result, parties) then comes from the
            # same file a later collection writes
            documents = _bind(case_file, binding)
            if documents is not None:
                break
        else:  # pragma: no cover - a file that cannot be bound 50 times in a row
            raise RuntimeError(f"could not generate a consistent file for case {i}")
        case_id = first_case_id + i
        closing_text = documents[-1].text
        result = _RESULT.search(closing_text)
        batch.cases.append({
            "id": case_id, "agency_id": agency_row["id"], "case_number": f"{spec.city.abbreviation}法援〔{year}〕第{seq:04d}号",
            "year": year, "sequence_no": seq, "case_type": case_type, "cause": case_file.legal_terms[0],
            "stage_reached": STAGES[case_type][int(plan.stage[i])][0],
            "applied_on": date.fromordinal(int(plan.applied[i])), "assigned_on": date.fromordinal(int(plan.assigned[i])),
            "first_meeting_on": date.fromordinal(meeting), "closed_on": date.fromordinal(closed),
            "result": result.group(1)[:128] if result else "", "lawyer_id": lawyer["id"], "firm_id": firm["id"],
            "created_at": now})
        full_text = "\n".join(doc.text for doc in documents) if plan.with_documents[i] else None
        batch.parties.extend({"case_id": case_id, "role": role, "name": name}
                             for role, name in _parties(case_file, full_text))
        if plan.with_documents[i]:
            for position, doc in enumerate(documents, start=1):
                data = doc.text.encode("utf-8")
                batch.documents.append({
                    "case_id": case_id, "kind": DOCUMENT_KINDS[doc.kind], "title": doc.title, "position": position,
                    "original_filename": f"{position:02d}-{doc.title}.txt", "content_type": "text/plain",
                    "size": len(data), "status": "extracted", "extracted_text": doc.text, "ocr_used": False,
                    "page_count": 1, "created_at": now})
        if len(batch.cases) >= chunk:
            yield batch
            batch = CaseBatch([], [], [])
    if batch.cases:
        yield batch

