"""Every background task the platform registers has a label for the job pages, in both languages."""

from __future__ import annotations

import json
import re

from flask_babel import force_locale

from evalplat.cases.labels import LABELS
from evalplat.cases.operations import zero_counts
from evalplat.jobs.base import _tasks

HAN = re.compile(r"[\u4e00-\u9fff]")


def test_every_registered_task_has_a_label(app) -> None:
    names = {name for name, task in _tasks.items() if task.module.startswith("evalplat.")}
    assert {"cases.redact_campaign", "cases.process_document", "results.reliability"} <= names
    missing = sorted(n for n in names if n not in LABELS)
    assert not missing, f"tasks without a label in evalplat/cases/labels.py: {missing}"
    with app.test_request_context():
        for name in names:
            with force_locale("zh_Hans"):
                assert HAN.search(str(LABELS[name])), name
            with force_locale("en"):
                assert not HAN.search(str(LABELS[name])), name


def test_a_finished_jobs_summary_reads_as_labelled_counts(app) -> None:
    from evalplat.cases.views import _job_summary

    with app.test_request_context(), force_locale("zh_Hans"):
        assert _job_summary('{"extracted": 0, "failed": 1, "redacted": 12}') == [
            ("已提取文本", 0), ("失败", 1), ("已脱敏文件", 12)]
        assert _job_summary("page 3 of 10") is None
        # every count the redaction job reports has a label
        summary = _job_summary(json.dumps(zero_counts()))
        assert summary is not None
        assert all(HAN.search(text) for text, _n in summary), summary
        assert _job_summary("[1, 2]") is None
