"""The national pipeline benchmark (bench/pipeline/run.py) at a tiny size, so that it cannot silently rot.

Runs every stage on a fresh SQLite file with two anonymisation processes and checks what the stages left in
the database and on disk (speed is measured by the benchmark itself, never here).
"""

from __future__ import annotations

import importlib.util
import sqlite3
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SIZES = {"cases": 600, "agencies": 5, "cities": 4, "lawyers": 60, "reviewers": 40}


def _load(name: str, path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any, Path]:
    bench = _load("evalplat_bench_pipeline", ROOT / "bench" / "pipeline" / "run.py")
    folder = tmp_path_factory.mktemp("pipeline")
    source = folder / "cases.csv"
    bench._bench_import().generate(source, SIZES["cases"], SIZES["agencies"], SIZES["lawyers"])
    lines: list[str] = []
    run = bench.run_pipeline("sqlite", dict(SIZES), 2, folder, source, lines.append)
    return bench, run, folder


@pytest.mark.nodb
def test_every_stage_ran_in_order(pipeline: tuple[Any, Any, Path]) -> None:
    _bench, run, _folder = pipeline
    assert [s.name.split(" (")[0] for s in run.stages] == [
        "import cases", "sample", "import files", "anonymise", "assign", "reviews", "consolidate + adjudicate",
        "reliability panel", "calibrate + publish", "rankings", "annual report"]
    assert run.peak_bytes > 0


@pytest.mark.nodb
def test_database_holds_the_whole_year(pipeline: tuple[Any, Any, Path]) -> None:
    _bench, _run, folder = pipeline
    db = sqlite3.connect(folder / "pipeline.db")
    try:
        one = lambda sql: db.execute(sql).fetchone()[0]  # noqa: E731
        assert one("SELECT count(*) FROM cases") == SIZES["cases"]
        samples = one("SELECT count(*) FROM samples")
        # 5 % per agency × case type stratum, at least one each: never fewer than 5 %, never every case
        assert SIZES["cases"] * 0.05 <= samples < SIZES["cases"] * 0.2
        assert one("SELECT count(*) FROM documents") == 6 * samples
        assert one("SELECT count(*) FROM documents WHERE status != 'approved'") == 0
        assert one("SELECT count(*) FROM documents WHERE redacted_text IS NULL") == 0
        assert one("SELECT count(*) FROM assignments WHERE round = 'initial'") == 3 * samples
        assert one("SELECT count(*) FROM reviews JOIN assignments ON assignments.id = reviews.assignment_id "
                   "WHERE reviews.state = 'submitted' AND assignments.round = 'initial'") == 3 * samples
        assert one("SELECT count(*) FROM assignments WHERE state IN ('offered', 'accepted')") == 0
        assert one("SELECT count(DISTINCT sample_id) FROM results WHERE current") == samples
        assert one("SELECT state FROM campaigns") == "published"
        assert one("SELECT count(*) FROM reliability_snapshots") == 1
    finally:
        db.close()


@pytest.mark.nodb
def test_reports_are_written(pipeline: tuple[Any, Any, Path]) -> None:
    _bench, _run, folder = pipeline
    assert (folder / "report.pdf").read_bytes().startswith(b"%PDF")
    assert zipfile.is_zipfile(folder / "report.xlsx")
    assert "<html" in (folder / "report.html").read_text(encoding="utf-8").lower()


@pytest.mark.nodb
def test_table_has_a_row_per_stage_and_the_total(pipeline: tuple[Any, Any, Path]) -> None:
    bench, run, _folder = pipeline
    lines = bench.table([run])
    assert len(lines) == 2 + len(run.stages) + 1
    assert lines[-1].startswith("| **pipeline total** |")


@pytest.mark.nodb
def test_scale_is_checked() -> None:
    bench = _load("evalplat_bench_pipeline_sizes", ROOT / "bench" / "pipeline" / "run.py")
    with pytest.raises(SystemExit):
        bench.sizes_for(0)
    sizes = bench.sizes_for(1.0)
    assert sizes["cases"] == 1_400_000
    assert sizes["agencies"] % 2 == 1
