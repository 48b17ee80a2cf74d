"""Sampling through the database: seed before freeze, digest, determinism, codes, re-draw, verification."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import sqlalchemy as sa

from evalplat.audit.models import AuditEvent
from evalplat.campaigns import operations as ops
from evalplat.campaigns.models import CampaignState, Sample
from evalplat.cases.models import Case
from evalplat.errors import DomainError
from evalplat.organisations.models import Agency
from evalplat.sampling import PopulationRecord, SamplingPlan, draw, order_population, population_digest

PLAN = {"mode": "fixed", "per_stratum": 1, "fold_administrative": True}


def _campaign(db: Any, actor: Any, prefix: str, **settings: Any) -> Any:
    campaign = ops.create_campaign(db.session, actor=actor, name=prefix, year=2024, code_prefix=prefix, **settings)
    ops.set_plan(db.session, actor=actor, campaign=campaign, plan=PLAN)
    return campaign


def _independent_population(db: Any) -> list[PopulationRecord]:
    """The population rebuilt from the case table by hand, as an agency would from the published rules."""
    rows = db.session.execute(sa.select(Case.id, Agency.code, Case.case_number, Case.case_type, Case.sequence_no,
                                        Case.closed_on).join(Agency, Agency.id == Case.agency_id)
                              .where(Case.year == 2024)).all()
    return [PopulationRecord(str(i), (code, number), code, t.value, seq, closed)
            for i, code, number, t, seq, closed in rows]


def test_published_digest_is_the_digest_of_the_ordered_population(db: Any, province: Any, now: Any) -> None:
    campaign = _campaign(db, province.organiser, "GD2024")
    ops.fix_seed(db.session, actor=province.organiser, campaign=campaign, now=now)
    frozen = ops.freeze_population(db.session, actor=province.organiser, campaign=campaign, now=now)
    expected = population_digest(order_population(_independent_population(db)))
    assert frozen.digest == campaign.population_digest == expected
    assert frozen.size == len(province.cases) == 42
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "campaign.population_frozen"))
    assert event.after == {"digest": expected, "size": 42}


def test_draw_matches_the_engine_run_independently(db: Any, sampled_campaign: Any) -> None:
    stored = set(db.session.scalars(sa.select(Sample.case_id).where(Sample.campaign_id == sampled_campaign.id)))
    independent = draw(_independent_population(db), SamplingPlan.from_dict(PLAN), "20240101-lottery")
    assert stored == {int(c) for c in independent.case_ids}
    # 6 agencies × (criminal, civil+administrative) strata, one case each
    assert len(stored) == 12
    assert sampled_campaign.state == CampaignState.SAMPLED


def test_same_seed_plan_and_population_give_the_same_cases_and_codes(db: Any, province: Any, now: Any) -> None:
    results = []
    for prefix in ("AA2024", "BB2024"):
        campaign = _campaign(db, province.organiser, prefix)
        ops.fix_seed(db.session, actor=province.organiser, campaign=campaign, seed="public-42", source="test", now=now)
        ops.freeze_population(db.session, actor=province.organiser, campaign=campaign, now=now)
        ops.draw_sample(db.session, actor=province.organiser, campaign=campaign, now=now)
        db.session.commit()
        rows = db.session.execute(sa.select(Sample.case_id, Sample.code).where(Sample.campaign_id == campaign.id)).all()
        results.append({case_id: code.split("-")[1] for case_id, code in rows})
    assert results[0] == results[1]
    other = _campaign(db, province.organiser, "CC2024")
    ops.fix_seed(db.session, actor=province.organiser, campaign=other, seed="public-43", source="test", now=now)
    ops.freeze_population(db.session, actor=province.organiser, campaign=other, now=now)
    ops.draw_sample(db.session, actor=province.organiser, campaign=other, now=now)
    drawn = set(db.session.scalars(sa.select(Sample.case_id).where(Sample.campaign_id == other.id)))
    assert drawn != set(results[0])  # 2^12-ish choices: another seed draws other cases


def test_codes_are_sequential_and_do_not_follow_agency_order(db: Any, sampled_campaign: Any) -> None:
    rows = db.session.execute(sa.select(Sample.code, Case.agency_id, Case.id).join(Case, Case.id == Sample.case_id)
                              .where(Sample.campaign_id == sampled_campaign.id).order_by(Sample.code)).all()
    assert [c for c, _a, _i in rows] == [f"GD2024-{n:05d}" for n in range(1, 13)]
    assert all(re.fullmatch(r"GD2024-\d{5}", c) for c, _a, _i in rows)
    case_order = [i for _c, _a, i in rows]
    assert case_order != sorted(case_order)


def test_seed_must_be_fixed_before_freezing_and_cannot_change(db: Any, province: Any, now: Any) -> None:
    campaign = _campaign(db, province.organiser, "GD2024")
    with pytest.raises(DomainError, match="Fix the seed before freezing"):
        ops.freeze_population(db.session, actor=province.organiser, campaign=campaign, now=now)
    with pytest.raises(DomainError, match="where a typed-in seed comes from"):
        ops.fix_seed(db.session, actor=province.organiser, campaign=campaign, seed="123", now=now)
    generated = ops.fix_seed(db.session, actor=province.organiser, campaign=campaign, now=now)
    assert len(generated) == 32
    assert campaign.plan.params["seed_source"] == "generated"
    with pytest.raises(DomainError, match="already fixed"):
        ops.fix_seed(db.session, actor=province.organiser, campaign=campaign, seed="x", source="y", now=now)
    ops.freeze_population(db.session, actor=province.organiser, campaign=campaign, now=now)
    with pytest.raises(DomainError, match="population is frozen"):
        ops.set_plan(db.session, actor=province.organiser, campaign=campaign, plan={"mode": "census"})
    with pytest.raises(DomainError, match="population is frozen"):
        ops.update_settings(db.session, actor=province.organiser, campaign=campaign, year=2023)


def test_draw_is_refused_when_cases_changed_after_the_freeze(db: Any, province: Any, now: Any,
                                                              make_case: Any) -> None:
    campaign = _campaign(db, province.organiser, "GD2024")
    ops.fix_seed(db.session, actor=province.organiser, campaign=campaign, now=now)
    ops.freeze_population(db.session, actor=province.organiser, campaign=campaign, now=now)
    db.session.commit()
    make_case(agency=province.agencies[0], case_type="civil")
    with pytest.raises(DomainError, match="changed after the population was frozen"):
        ops.draw_sample(db.session, actor=province.organiser, campaign=campaign, now=now)


def test_plan_asking_for_more_than_a_stratum_has_names_the_stratum(db: Any, province: Any, now: Any) -> None:
    campaign = ops.create_campaign(db.session, actor=province.organiser, name="x", year=2024, code_prefix="GD2024")
    ops.set_plan(db.session, actor=province.organiser, campaign=campaign, plan={"mode": "fixed", "per_stratum": 5})
    ops.fix_seed(db.session, actor=province.organiser, campaign=campaign, now=now)
    ops.freeze_population(db.session, actor=province.organiser, campaign=campaign, now=now)
    with pytest.raises(DomainError) as caught:
        ops.draw_sample(db.session, actor=province.organiser, campaign=campaign, now=now)
    message = str(caught.value.message)
    assert province.agencies[0].code in message or "administrative" in message
    assert "5" in message
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Sample)) == 0


def test_redraw_gives_the_same_sample_and_is_audited_then_refused_once_assigned(
        db: Any, sampled_campaign: Any, province: Any, now: Any) -> None:
    before = dict(db.session.execute(sa.select(Sample.case_id, Sample.code)
                                     .where(Sample.campaign_id == sampled_campaign.id)).all())
    ops.draw_sample(db.session, actor=province.organiser, campaign=sampled_campaign, now=now)
    db.session.commit()
    after = dict(db.session.execute(sa.select(Sample.case_id, Sample.code)
                                    .where(Sample.campaign_id == sampled_campaign.id)).all())
    assert before == after
    draws = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "campaign.sample_drawn")).all()
    assert len(draws) == 2
    assert draws[0].after["selected_sha256"] == draws[1].after["selected_sha256"]
    sampled_campaign.state = CampaignState.ASSIGNED
    db.session.commit()
    with pytest.raises(DomainError, match="can no longer be drawn again"):
        ops.draw_sample(db.session, actor=province.organiser, campaign=sampled_campaign, now=now)


def test_sampling_report_counts_each_stratum(db: Any, sampled_campaign: Any) -> None:
    from evalplat.campaigns import queries

    report = queries.published_draw(sampled_campaign)["report"]
    strata = [r for r in report if r["label"] != "total"]
    assert len(strata) == 12
    for row in strata:
        expected_population = 3 if row["case_type"] == "criminal" else 4  # civil + folded administrative
        assert (row["population"], row["sample"]) == (expected_population, 1)
    total = report[-1]
    assert (total["population"], total["sample"]) == (42, 12)


def test_verify_draw_cli_confirms_and_detects_a_wrong_seed(runner: Any, sampled_campaign: Any, tmp_path: Any) -> None:
    ok = runner.invoke(args=["campaign", "verify-draw", "GD2024"])
    assert ok.exit_code == 0, ok.output
    assert "verified" in ok.output
    assert sampled_campaign.population_digest in ok.output
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps(sampled_campaign.plan.params["engine"]), encoding="utf-8")
    published = runner.invoke(args=["campaign", "verify-draw", "GD2024", "--seed", "20240101-lottery", "--plan",
                                    str(plan_file), "--digest", sampled_campaign.population_digest])
    assert published.exit_code == 0
    assert "verified" in published.output
    wrong = runner.invoke(args=["campaign", "verify-draw", "GD2024", "--seed", "another-seed"])
    assert wrong.exit_code != 0
    assert "DIFFERENT" in wrong.output


def test_cli_runs_a_campaign_from_create_to_draw(runner: Any, province: Any, db: Any) -> None:
    steps = [["campaign", "create", "SZ2024", "--name", "深圳 2024", "--year", "2024", "--per-case", "2"],
             ["campaign", "plan", "SZ2024", "--mode", "proportion", "--rate", "50%", "--min", "1"],
             ["campaign", "seed", "SZ2024", "--value", "998877", "--source", "lottery"],
             ["campaign", "freeze", "SZ2024"], ["campaign", "sample", "SZ2024"], ["campaign", "report", "SZ2024"]]
    outputs = []
    for args in steps:
        result = runner.invoke(args=args)
        assert result.exit_code == 0, (args, result.output)
        outputs.append(result.output)
    assert "population 42 cases" in outputs[3]
    # criminal strata: 50% of 3 rounds half-up to 2; civil strata: 50% of 4 = 2 → 6 agencies × 4
    assert "drew 24 of 42" in outputs[4]
    listed = runner.invoke(args=["campaign", "list"])
    assert "SZ2024" in listed.output
    assert "sampled" in listed.output
