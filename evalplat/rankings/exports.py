"""The rankings, expert pool and priorities as plain records, CSV and XLSX (the API returns the same records)."""

from __future__ import annotations

from typing import Any

from evalplat.i18n import lazy_gettext as _l
from evalplat.rankings.engine import PoolEntry, Priority, RankRow
from evalplat.rankings.queries import RankingSet
from evalplat.rankings.weights import SOURCE_LABELS
from reports.spreadsheet import XlsxWriter, csv_bytes
from scoring.ranking import Reason  # bilingual reason templates

TABLES = ("lawyers", "agencies", "cities", "pool", "priorities")
ENTITY = {"lawyers": "lawyer", "agencies": "agency", "cities": "city"}

COLUMNS: dict[str, Any] = {
    "rank": _l("Rank"), "rank_low": _l("Rank interval from"), "rank_high": _l("Rank interval to"),
    "id": _l("Id"), "name": _l("Name"), "licence_no": _l("Licence number"), "firm": _l("Firm"),
    "city": _l("City"), "n": _l("Reviewed cases"), "mean": _l("Mean score"), "estimate": _l("Shrunk mean"),
    "low": _l("Interval from"), "high": _l("Interval to"), "good": _l("Cases excellent or good"),
    "share": _l("Excellent-or-good share"), "share_low": _l("Share interval from"),
    "share_high": _l("Share interval to"), "vetoes": _l("Cases with a veto"), "eligible": _l("In the expert pool"),
    "reasons": _l("Reasons"), "weight": _l("Priority weight"), "tier": _l("Tier"), "years": _l("Campaign years"),
    "weights_version": _l("Source weights version"), "evidence": _l("Combined evidence"),
}
#: per source, the columns ``<source>.<part>``
SOURCE_PARTS: dict[str, Any] = {"n": _l("count"), "value": _l("figure"), "weight": _l("weight"),
                                "contribution": _l("contribution"), "status": _l("status"),
                                "breaches": _l("breaches")}
STATUS: dict[str, Any] = {"reference": _l("reference (peer review)"), "used": _l("used"),
                          "no_weight": _l("weight 0"), "no_data": _l("no data: contributes nothing"),
                          "not_scaled": _l("cannot be put on the common scale: contributes nothing")}
#: the tier codes of scoring.ranking.tiers as words
TIERS: dict[int, Any] = {1: _l("clearly above the mean"), 0: _l("indistinguishable from the mean"),
                         -1: _l("clearly below the mean")}


def rank_record(row: RankRow, kind: str) -> dict[str, Any]:
    rec: dict[str, Any] = {"rank": row.rank, "rank_low": row.rank_low, "rank_high": row.rank_high,
                           "id": row.key, "name": row.label}
    if kind == "lawyers":
        rec["licence_no"] = row.extra.get("licence_no", "")
        rec["firm"] = row.extra.get("firm", "")
    if kind == "agencies":
        rec["city"] = row.extra.get("city", "")
    d = row.as_dict()
    rec.update({k: d[k] for k in ("n", "mean", "estimate", "low", "high", "tier", "good", "share", "share_low",
                                  "share_high", "vetoes", "years")})
    rec.update(source_columns(row))
    return rec


def source_columns(row: RankRow) -> dict[str, Any]:
    """Each source's count, own figure, effective weight, contribution and status as flat columns."""
    out: dict[str, Any] = {}
    if row.sources:
        out["evidence"] = round(row.evidence, 4)
    for share in row.sources:
        d = share.as_dict()
        for part in ("n", "value", "weight", "contribution", "status"):
            out[f"{share.name}.{part}"] = d[part]
        if share.name == "followup":
            out[f"{share.name}.breaches"] = int(share.detail.get("breaches", 0))
    return out


def pool_record(entry: PoolEntry) -> dict[str, Any]:
    rec = rank_record(entry.row, "lawyers")
    rec["eligible"] = entry.eligible
    rec["reasons"] = entry.reason_codes()
    return rec


def priority_record(p: Priority) -> dict[str, Any]:
    """One lawyer's assignment priority with the evidence behind it (cases, years, interval, tier)."""
    return {"id": p.row.key, "name": p.row.label, "licence_no": p.row.extra.get("licence_no", ""),
            "n": p.row.n, "years": list(p.row.years), "estimate": round(p.row.estimate, 4),
            "low": round(p.row.low, 4), "high": round(p.row.high, 4), "tier": p.row.tier,
            "eligible": p.in_pool, "weight": p.weight, **source_columns(p.row)}


def records(rset: RankingSet, table: str) -> list[dict[str, Any]]:
    """The rows of one table (``lawyers``, ``agencies``, ``cities``, ``pool``, ``priorities``), each naming the
    source-weights version it was computed with."""
    if table in ENTITY:
        recs = [rank_record(r, table) for r in getattr(rset, table).rows]
    elif table == "pool":
        recs = [pool_record(e) for e in rset.pool]
    elif table == "priorities":
        recs = [priority_record(p) for p in rset.priorities]
    else:
        raise KeyError(table)
    version = rset.weights.version if rset.weights is not None else 0
    return [{**rec, "weights_version": version} for rec in recs]


def _flat(field: str, value: Any, lang: str) -> Any:
    if field == "reasons":
        return "；".join(Reason(r["code"], r["params"]).message(lang) for r in value)
    if field == "years":
        return ", ".join(str(y) for y in value)
    if field == "tier":
        return str(TIERS[value])
    if field.endswith(".status"):
        return str(STATUS.get(value, value))
    return value


def _header(field: str) -> str:
    if field in COLUMNS:
        return str(COLUMNS[field])
    source, _, part = field.partition(".")
    if source in SOURCE_LABELS and part in SOURCE_PARTS:
        return str(_l("%(source)s: %(part)s", source=SOURCE_LABELS[source], part=SOURCE_PARTS[part]))
    return field


def _rows(recs: list[dict[str, Any]], lang: str) -> tuple[list[str], list[str], list[list[Any]]]:
    fields = list(recs[0]) if recs else ["id", "name"]
    return fields, [_header(f) for f in fields], [[_flat(f, r.get(f, ""), lang) for f in fields] for r in recs]


def to_csv(recs: list[dict[str, Any]], lang: str = "zh") -> bytes:
    """CSV with a translated header row, UTF-8 with BOM so that spreadsheet programs read the Chinese."""
    _, head, rows = _rows(recs, lang)
    return csv_bytes([head, *rows])


def to_xlsx(recs: list[dict[str, Any]], title: str, lang: str = "zh") -> bytes:
    fields, head, rows = _rows(recs, lang)
    book = XlsxWriter()
    sheet = book.sheet(title)
    book.append(sheet, head)
    book.append(sheet, fields)  # machine names, for scripts
    for row in rows:
        book.append(sheet, row)
    return book.to_bytes()
