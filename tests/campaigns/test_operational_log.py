"""The operational log (issue 12): a job's start and end, and a publication, reach the standard logging module."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import Any

import pytest

from evalplat.campaigns import operations as ops
from evalplat.campaigns import states
from evalplat.campaigns.models import CampaignState
from evalplat.config import ConfigError, from_environment
from evalplat.jobs.models import JobRecord, JobState
from evalplat.jobs.tracking import run_tracked


def test_a_tracked_job_logs_its_start_and_its_end_with_the_duration(db: Any, caplog: Any) -> None:
    job = JobRecord(id=uuid.uuid4().hex, task="cases.process_case", state=JobState.QUEUED, object_type="case",
                    object_id=1, message="")
    db.session.add(job)
    db.session.commit()
    with caplog.at_level(logging.INFO, logger="evalplat"):
        assert run_tracked(job.id, lambda progress: "3 documents") == "3 documents"
    lines = [r.getMessage() for r in caplog.records if r.name == "evalplat.jobs.tracking"]
    assert lines[0] == f"job {job.id} (cases.process_case): started"
    assert lines[1].startswith(f"job {job.id} (cases.process_case): done in ")
    assert lines[1].endswith(" s: 3 documents")
    db.session.expire_all()
    assert db.session.get(JobRecord, job.id).state == JobState.DONE


def test_a_failed_job_logs_a_warning_with_its_error(db: Any, caplog: Any) -> None:
    job = JobRecord(id=uuid.uuid4().hex, task="cases.process_case", state=JobState.QUEUED, object_type="case",
                    object_id=1, message="")
    db.session.add(job)
    db.session.commit()

    def work(progress: Any) -> str:
        raise LookupError("no case with id 1")

    with caplog.at_level(logging.INFO, logger="evalplat"), pytest.raises(LookupError):
        run_tracked(job.id, work)
    failed = [r for r in caplog.records if r.name == "evalplat.jobs.tracking" and r.levelno == logging.WARNING]
    assert len(failed) == 1
    assert "LookupError: no case with id 1" in failed[0].getMessage()


def test_publishing_results_is_logged(db: Any, province: Any, now: Any, caplog: Any) -> None:
    campaign = ops.create_campaign(db.session, actor=province.organiser, name="日志", year=2024, code_prefix="L2024")
    campaign.state = CampaignState.CONSOLIDATING
    campaign.appeal_closes_at = now + timedelta(days=14)
    db.session.commit()
    with caplog.at_level(logging.INFO, logger="evalplat"):
        states.transition(db.session, campaign, CampaignState.PUBLISHED, actor=province.organiser, now=now)
        db.session.commit()
    lines = [r.getMessage() for r in caplog.records if r.name == "evalplat.campaigns.states"]
    assert lines == [f"campaign {campaign.id}: consolidating -> published (results published)"]


def test_log_level_comes_from_the_environment_and_a_bad_one_is_named() -> None:
    assert from_environment({"EVALPLAT_LOG_LEVEL": "debug"})["EVALPLAT_LOG_LEVEL"] == "DEBUG"
    with pytest.raises(ConfigError, match="EVALPLAT_LOG_LEVEL='loud'"):
        from_environment({"EVALPLAT_LOG_LEVEL": "loud"})
