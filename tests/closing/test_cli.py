"""The command line of the post-case packages: flask closing …, flask followups …, flask quality …."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path
from typing import Any

from evalplat.accounts.models import Role
from evalplat.closing import operations
from evalplat.closing.checklist import load_checklists
from evalplat.db import utcnow


def test_closing_followups_and_quality_commands(runner: Any, db: Any, make_agency: Any, make_user: Any,
                                                make_case: Any, tmp_path: Path) -> None:
    agency = make_agency()
    staff = make_user(Role.AGENCY_STAFF, agency=agency)
    cases = [make_case(agency=agency, case_type="civil", closed_on=date(2024, 6, 1 + i)) for i in range(6)]
    codes = load_checklists().for_case("civil", "").codes
    operations.check_first_level(db.session, actor=staff, case=cases[0],
                                 marks={c: ("missing" if c == "judgment" else "present") for c in codes}, now=utcnow())
    db.session.commit()

    shown = runner.invoke(args=["closing", "show", str(cases[0].id)])
    assert json.loads(shown.output)["state"] == "returned"
    summary = runner.invoke(args=["closing", "summary", "--lang", "en"]).output
    assert "first level:  0/1 passed" in summary
    assert "1  Judgment" in summary
    assert runner.invoke(args=["closing", "show", "999999"]).exit_code != 0

    drawn = runner.invoke(args=["followups", "draw", agency.code, "2024", "--mode", "count", "--count", "3",
                                "--seed", "s1", "--user", staff.username])
    assert drawn.exit_code == 0, drawn.output
    assert "6 closed cases" in drawn.output
    verified = runner.invoke(args=["followups", "verify", drawn.output.split()[1].rstrip(":")])
    assert verified.exit_code == 0
    assert "reproduced" in verified.output
    again = runner.invoke(args=["followups", "draw", agency.code, "2024", "--seed", "s1", "--user", staff.username])
    assert again.exit_code != 0  # one plan per agency and year

    out = tmp_path / "risk.csv"
    sample = runner.invoke(args=["quality", "risk-sample", "2024", "--size", "2", "--seed", "r", "--out", str(out)])
    assert sample.exit_code == 0, sample.output
    rows = list(csv.DictReader(out.read_text(encoding="utf-8-sig").splitlines()))
    assert len(rows) == 2
    assert all(0 < float(r["inclusion_probability"]) <= 1 for r in rows)
