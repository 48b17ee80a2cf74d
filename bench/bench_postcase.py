"""A province's year of post-case supervision through the operations: closing review (both levels), the
self-evaluation of every closed case, follow-up plans, and a visit for every drawn client; times and memory.

Run: ``.venv/bin/python bench/bench_postcase.py [--cases 140000] [--through N] [--commit-every 1000] [--database URL]``.
``--through N`` generates the whole province but puts only N of its cases (a seeded random choice spread over
every agency) through the per-case operations, and visits only their drawn clients: on a shared machine a
province's year of CPU-minutes does not fit, so the figures per case are measured on a database of the full
size and the totals for every case are printed as an extrapolation, marked as such.
Without ``--database`` a throw-away SQLite file is used. The cases come from the demo generator (no files);
then every case goes through :func:`evalplat.closing.operations.check_first_level` and
:func:`~evalplat.closing.operations.check_second_level` (one audited state change each; no bulk path exists:
each check is a person's decision), :func:`evalplat.selfeval.operations.evaluate_case`,
:func:`evalplat.followups.operations.draw_plan` per agency (its targets are one bulk insert) and
:func:`~evalplat.followups.operations.record_visit`. Peak memory is the process's maximum resident set size.
"""

from __future__ import annotations

import argparse
import random
import resource
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent

from bench_env import machine  # noqa: E402


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(url: str, cases: int, every: int, tmp: Path, through: int | None = None) -> None:
    from flask_migrate import upgrade

    from evalplat import create_app
    from evalplat.accounts.models import User
    from evalplat.cases.models import Case
    from evalplat.closing import operations as closing
    from evalplat.closing.checklist import load_checklists
    from evalplat.demo import command
    from evalplat.demo.postcase import _checkers
    from evalplat.extensions import db
    from evalplat.files import generate_key
    from evalplat.followups import operations as followups
    from evalplat.followups.models import FollowupTarget
    from evalplat.organisations.models import Agency
    from evalplat.selfeval import operations as selfeval
    from evalplat.selfeval.form import load_form

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "EVALPLAT_ENV": "development",
                      "SECRET_KEY": "bench-secret-key-that-is-long-enough-0123456789",
                      "EVALPLAT_DATA_KEYS": f"bench:{generate_key()}", "EVALPLAT_STORAGE_URL": f"file://{tmp}/files"})
    rng = random.Random(2024)
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        started, started_cpu = time.perf_counter(), time.process_time()
        command.generate(db.session, cases=cases, documents="none")
        from evalplat.db import utcnow

        now = utcnow()
        staff_ids, checker_ids, _ = _checkers(db.session, now)
        db.session.commit()
        print(f"province: {cases:,} cases generated in {time.perf_counter() - started:.1f} s "
              f"(CPU {time.process_time() - started_cpu:.1f} s; demo generator)")
        users = {u.id: u for u in db.session.scalars(sa.select(User).where(
            User.id.in_([*staff_ids.values(), *checker_ids.values()])))}
        book, form = load_checklists(), load_form()
        ids = list(db.session.scalars(sa.select(Case.id).order_by(Case.id)))
        if through is not None and through < len(ids):
            ids = sorted(random.Random(7).sample(ids, through))
            print(f"through the operations: {len(ids):,} of {cases:,} cases (a seeded random choice); "
                  "totals below marked 'extrapolated' scale the CPU per case to every case")
        scale = cases / len(ids) if ids else 1.0
        chosen = set(ids)

        def phase(name: str, work: object, *, per_case: bool = True) -> None:
            t0, cpu = time.perf_counter(), time.process_time()
            n = work()  # type: ignore[operator]
            seconds = time.perf_counter() - t0
            used = time.process_time() - cpu
            print(f"{name}: {n:,} in {seconds:.1f} s = {n / seconds:,.0f}/s (CPU {used:.1f} s = "
                  f"{1000 * used / max(n, 1):.2f} ms each), peak RSS {rss_mib():,.0f} MiB")
            if per_case and scale > 1:
                print(f"  extrapolated to {round(n * scale):,}: CPU {used * scale / 60:.1f} min")

        def chunks():  # type: ignore[no-untyped-def]
            for start in range(0, len(ids), every):
                batch = db.session.scalars(sa.select(Case).where(Case.id.in_(ids[start:start + every]))).all()
                yield batch
                db.session.commit()

        def first_level() -> int:
            n = 0
            for batch in chunks():
                for case in batch:
                    codes = book.for_case(case.case_type.value, case.stage_reached).codes
                    marks = {c: "present" for c in codes}
                    if rng.random() < 0.05:
                        marks[rng.choice(codes)] = "missing"
                    closing.check_first_level(db.session, actor=users[staff_ids[case.agency_id]], case=case,
                                              marks=marks, now=now)
                    n += 1
            return n

        def second_level() -> int:
            from evalplat.closing.models import ClosingReview, ClosingState

            n = 0
            for batch in chunks():
                reviews = {r.case_id: r for r in db.session.scalars(sa.select(ClosingReview).where(
                    ClosingReview.case_id.in_([c.id for c in batch]),
                    ClosingReview.state == ClosingState.AWAITING_SECOND))}
                for case in batch:
                    review = reviews.get(case.id)
                    if review is not None:
                        closing.check_second_level(db.session, actor=users[checker_ids[case.agency_id]],
                                                   review=review, confirm=True, now=now)
                        n += 1
            return n

        def self_evaluation() -> int:
            n = 0
            for batch in chunks():
                for case in batch:
                    levels = {item.code: rng.choice("AABBC") for item in form.items(case.case_type.value)}
                    selfeval.evaluate_case(db.session, actor=users[staff_ids[case.agency_id]], case=case,
                                           levels=levels, now=now)
                    n += 1
            return n

        def plans() -> int:
            organiser = db.session.scalar(sa.select(User).where(User.username == "organiser"))
            years = dict(db.session.execute(sa.select(Case.agency_id, sa.func.max(Case.year)).group_by(Case.agency_id)).all())
            n = 0
            for agency in db.session.scalars(sa.select(Agency)).all():
                if agency.id in years:
                    followups.draw_plan(db.session, actor=organiser, agency=agency, year=years[agency.id],
                                        mode="share", share="30%", seed="bench", now=now)
                    n += 1
            db.session.commit()
            return n

        def visits() -> int:
            answers = {"preparation": "yes", "evidence": "yes", "on_time": "yes", "money_or_gifts": "no",
                       "meals": "no", "private_fees": "no", "opinions_adopted": "yes", "discipline": "yes"}
            target_ids = [t for t, c in db.session.execute(sa.select(FollowupTarget.id, FollowupTarget.case_id)
                                                           .order_by(FollowupTarget.id)) if c in chosen]
            n = 0
            for start in range(0, len(target_ids), every):
                for target in db.session.scalars(sa.select(FollowupTarget).where(
                        FollowupTarget.id.in_(target_ids[start:start + every]))).all():
                    followups.record_visit(db.session, actor=users[staff_ids[target.agency_id]], target=target,
                                           visit=followups.Visit(answers, rng.choice((5, 5, 4, 3))), at=now)
                    n += 1
                db.session.commit()
            return n

        phase("closing review, first level", first_level)
        phase("closing review, second level", second_level)
        phase("self-evaluation", self_evaluation)
        phase("follow-up plans (agencies)", plans, per_case=False)
        phase("follow-up visits", visits)
        from evalplat.closing.queries import closing_summary
        from evalplat.followups.queries import rates

        t0 = time.perf_counter()
        summary = closing_summary(db.session)
        agencies = rates(db.session, by="agency")
        print(f"figures: closing summary ({summary.first_checks:,} first-level checks) and rates of "
              f"{len(agencies)} agencies in {time.perf_counter() - t0:.2f} s")
        db.session.remove()
        db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=140_000)
    parser.add_argument("--through", type=int, default=None,
                        help="put only this many cases through the per-case operations (totals extrapolated)")
    parser.add_argument("--commit-every", type=int, default=1000)
    parser.add_argument("--database", default=None, help="SQLAlchemy URL of an empty database (default: SQLite)")
    args = parser.parse_args()
    print("machine:", machine())
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        run(args.database or f"sqlite:///{tmp / 'bench-postcase.db'}", args.cases, args.commit_every, tmp,
            args.through)


if __name__ == "__main__":
    main()
