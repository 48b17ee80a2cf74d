"""rubric_form.js computes the same running total and grade as Rubric.evaluate (run under Node)."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from forms.rubrics import GradeBands, Rubric

SCRIPT = Path(__file__).resolve().parents[2] / "forms" / "static" / "rubric_form.js"
NODE = shutil.which("node")

pytestmark = pytest.mark.skipif(NODE is None, reason="Node.js is not installed; the browser-script check needs it")

RUNNER = """
const api = require(process.argv[1]);
let input = "";
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", () => {
  const cases = JSON.parse(input);
  const out = cases.map((c) => ({
    summary: api.compute(c.data, c.state),
    levels: c.probes.map((p) => { const l = api.levelFor(c.data.items[p[0]], p[1]); return l ? l.code : null; }),
  }));
  process.stdout.write(JSON.stringify(out));
});
"""


def client_data(rubric: Rubric, bands: GradeBands | None = None) -> dict[str, Any]:
    """The same shape ReviewForm.client_data() sends to the browser (labels are irrelevant here)."""
    return {
        "step": rubric.points_step,
        "items": [{"code": i.code, "max": i.max_points, "na": i.allows_na, "veto": i.veto,
                   "levels": [{"code": lv.code, "low": lv.low, "high": lv.high} for lv in i.levels]}
                  for i in rubric.items],
        "bands": [{"grade": b.grade, "min": b.low, "max": b.high} for b in (bands or rubric.bands).bands],
    }


def run_node(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    assert NODE is not None
    done = subprocess.run([NODE, "-e", RUNNER, str(SCRIPT)], input=json.dumps(cases), capture_output=True,
                          text=True, check=True, timeout=60)
    return json.loads(done.stdout)


def test_script_matches_evaluate_on_random_complete_reviews(rubrics: dict[str, Rubric]) -> None:
    rng = random.Random(20240601)
    odd_bands = GradeBands.from_minimums({"excellent": 86.3, "good": 75.5, "pass": 59.9})
    cases, expected = [], []
    for n in range(600):
        rubric = rubrics[("criminal", "civil", "non_litigation")[n % 3]]
        bands = odd_bands if n % 2 else None
        points: dict[str, Any] = {}
        for item in rubric.items:
            points[item.code] = None if item.allows_na and rng.random() < 0.3 else rng.randint(0, int(item.max_points))
        vetoes = [i.code for i in rubric.veto_items if points[i.code] is not None and rng.random() < 0.05]
        state = {code: {"points": value, "na": value is None, "veto": code in vetoes} for code, value in points.items()}
        probes = [[k, rng.randint(0, int(item.max_points))] for k, item in enumerate(rubric.items)]
        cases.append({"data": client_data(rubric, bands), "state": state, "probes": probes})
        result = rubric.evaluate(points, vetoes, bands=bands)
        levels = [rubric.items[k].levels[[lv.contains(p) for lv in rubric.items[k].levels].index(True)].code
                  for k, p in probes]
        expected.append((result, levels))
    for (result, levels), out in zip(expected, run_node(cases), strict=True):
        summary = out["summary"]
        assert summary["rounded"] == result.rounded_total
        assert summary["total"] == pytest.approx(result.total)
        assert summary["grade"] == result.grade
        assert summary["scoreGrade"] == result.score_grade
        assert summary["vetoes"] == list(result.vetoes)
        assert summary["complete"] is True
        assert out["levels"] == levels


def test_script_rounds_half_up_like_the_server(criminal: Rubric) -> None:
    points = {item.code: item.max_points for item in criminal.items}
    points.update(file_reading=None, investigation=None, defence_opinion=9)   # 86.25 exactly
    state = {code: {"points": value, "na": value is None, "veto": False} for code, value in points.items()}
    [out] = run_node([{"data": client_data(criminal), "state": state, "probes": []}])
    assert criminal.evaluate(points).rounded_total == 86.3
    assert out["summary"]["rounded"] == 86.3


def test_script_shows_a_provisional_total_while_items_are_open(criminal: Rubric) -> None:
    state = {"meetings": {"points": 12, "na": False, "veto": False},
             "court": {"points": None, "na": True, "veto": False},
             "outcome": {"points": 99, "na": False, "veto": False},        # out of range: ignored
             "commission": {"points": None, "na": False, "veto": True}}
    [out] = run_node([{"data": client_data(criminal), "state": state, "probes": []}])
    summary = out["summary"]
    assert summary["scored"] == 1
    assert summary["applicable"] == len(criminal.items) - 1
    assert summary["complete"] is False
    assert summary["rounded"] == 80.0          # 12 of 15 so far
    assert summary["grade"] == "fail"          # the veto already decides
    assert summary["vetoes"] == ["commission"]
