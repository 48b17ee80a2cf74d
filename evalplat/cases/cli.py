"""``flask cases …``: import cases and files, process (extract and redact) documents, show a job."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import AppGroup
from flask_babel import force_locale

from evalplat.errors import DomainError
from evalplat.extensions import db
from evalplat.jobs.tracking import submit_job
from evalplat.tabular import estimate_rows


class _Bars:
    """Two progress bars, one per pass (validate, write), driven by the importer's progress callback."""

    def __init__(self, total: int) -> None:
        self.total = max(total, 1)
        self.phase: str | None = None
        self.bar: Any = None
        self.done = 0

    def __call__(self, done: int, phase: str) -> None:
        if phase != self.phase:
            self.close()
            label = {"validate": "validate / 校验", "write": "write / 写入"}.get(phase, phase)
            self.bar = click.progressbar(length=self.total, label=label, file=sys.stderr)
            self.bar.__enter__()
            self.phase, self.done = phase, 0
        self.bar.update(max(min(done, self.total) - self.done, 0))
        self.done = max(self.done, min(done, self.total))

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


def _actor(username: str | None) -> Any:
    from evalplat.accounts.models import User

    if not username:
        return None
    user = db.session.execute(sa.select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        raise click.ClickException(f"no user named {username!r}")
    return user


def register(app: Flask) -> None:
    group = AppGroup("cases", help="Case intake: import cases and files, extract and redact documents.")

    @group.command("import")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--files", "files_zip", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                  help="Zip with one folder per case number.")
    @click.option("--as", "username", help="Import as this user (agency staff: own agency only). "
                  "Default: as the platform (any agency).")
    @click.option("--stop-on-bad-file", is_flag=True, help="Import nothing if any file is bad "
                  "(default: skip bad files and import the rest).")
    @click.option("--process/--no-process", default=True, show_default=True,
                  help="Extract and redact the imported files now, with a progress bar.")
    @click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
                  help="Language of the error report.")
    def import_command(file: Path, files_zip: Path | None, username: str | None, stop_on_bad_file: bool,
                       process: bool, lang: str) -> None:
        """Validate and import FILE (CSV or XLSX) of closed cases; nothing is written if a row is wrong."""
        from evalplat.cases import importer, operations
        from evalplat.services import get_storage

        actor = _actor(username)
        bars = _Bars(estimate_rows(file))
        options = importer.ImportOptions(on_bad_file="stop" if stop_on_bad_file else "skip")
        try:
            report = importer.import_cases(db.session, actor=actor, source=file, files_zip=files_zip,
                                           storage=get_storage(), options=options, progress=bars)
        finally:
            bars.close()
        with force_locale("en" if lang == "en" else "zh_Hans"):
            for problem in report.file_problems:
                click.echo(f"{problem.filename}: {problem.message()}", err=True)
            if not report.ok:
                db.session.rollback()
                for error in report.errors:
                    column = f" [{error.column_label()}]" if error.column else ""
                    click.echo(f"row {error.row}{column}: {error.message()}", err=True)
                raise click.ClickException(
                    f"{report.error_count} problem(s) in {report.filename}; nothing was imported"
                    if report.error_count else "a file was bad (--stop-on-bad-file); nothing was imported")
        db.session.commit()
        click.echo(f"{report.rows} rows: {report.created} cases imported, {report.unchanged} already present, "
                   f"{report.documents_added} files added ({report.documents_unchanged} already present), "
                   f"{len(report.file_problems)} bad files skipped")
        if process and report.document_ids:
            _process_inline(operations, [report.document_ids])

    @group.command("process")
    @click.option("--case", "case_ids", type=int, multiple=True, help="A case id (repeatable).")
    @click.option("--campaign", "campaign_id", type=int, help="Every case drawn into this campaign.")
    @click.option("--retry-failed", is_flag=True, help="Also try failed documents again.")
    @click.option("--background", is_flag=True, help="Queue a job instead of working here.")
    @click.option("--wait/--no-wait", default=True, show_default=True,
                  help="Wait for the page jobs of scanned pages (shared by every job worker) with a progress bar.")
    def process_command(case_ids: tuple[int, ...], campaign_id: int | None, retry_failed: bool,
                        background: bool, wait: bool) -> None:
        """Extract the text of waiting documents and redact their cases; scanned PDF pages are OCR'd by
        page jobs (one per page) that every job worker shares, each document redacted when its pages are read."""
        from evalplat.cases import operations

        ids = list(case_ids)
        if campaign_id is not None:
            if background:
                job_id = submit_job(db.session, "cases.redact_campaign", actor_id=None, object_type="campaign",
                                    object_id=campaign_id, args=(campaign_id,))
                db.session.commit()
                click.echo(f"queued job {job_id}")
                return
            ids += operations.campaign_case_ids(db.session, campaign_id)
        if not ids:
            raise click.ClickException("name at least one --case or a --campaign")
        with click.progressbar(length=len(ids), label="cases / 案件", file=sys.stderr) as bar:
            state = {"done": 0}

            def tick(fraction: float, message: str) -> None:
                done = round(fraction * len(ids))
                bar.update(done - state["done"])
                state["done"] = done

            paged: list[int] = []
            counts = operations.process_case_documents(db.session, ids, tick, retry_failed=retry_failed,
                                                       paged=paged)
        _report(counts)
        if wait:
            _wait_for_pages(paged)

    @group.command("job")
    @click.argument("job_id")
    def job_command(job_id: str) -> None:
        """Show a background job's state and progress."""
        from evalplat.jobs.models import JobRecord

        job = db.session.get(JobRecord, job_id)
        if job is None:
            raise click.ClickException(f"no job has id {job_id!r}")
        from evalplat.jobs.tracking import parts_progress

        click.echo(f"{job.task} {job.state.value} {job.progress:.0%} {job.message}")
        parts = parts_progress(db.session, job.id)
        if parts.total and job.state.value in ("queued", "running"):
            waiting = parts.waiting
            click.echo(f"waiting for {waiting.get('cases.ocr_page', 0)} scanned page(s) being read by OCR"
                       + (f" and {waiting['cases.redact_chunk']} batch(es) of cases" if waiting.get("cases.redact_chunk")
                          else "")
                       + f"; {parts.ended} of {parts.total} part(s) ended, {parts.failed} failed")
        elif parts.total:
            click.echo(f"{parts.total} part(s), {parts.failed} failed")
        if job.error:
            click.echo(job.error, err=True)

    @group.command("pages")
    @click.argument("document_id", type=int)
    @click.option("--retry", "retry_pages", type=int, multiple=True, help="Queue this failed page again (repeatable).")
    @click.option("--wait", is_flag=True, help="Show a progress bar until every page is read or failed.")
    @click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
    def pages_command(document_id: int, retry_pages: tuple[int, ...], wait: bool, lang: str) -> None:
        """Show the OCR of a scanned document page by page; retry failed pages alone."""
        from evalplat.cases import page_ocr, queries
        from evalplat.cases.models import Document

        document = db.session.get(Document, document_id)
        if document is None:
            raise click.ClickException(f"no document has id {document_id}")
        for number in retry_pages:
            page = next((p for p in document.pages if p.number == number), None)
            if page is None:
                raise click.ClickException(f"document {document_id} has no page {number} read page by page")
            try:
                page_ocr.retry_page(db.session, actor=None, page=page)
            except DomainError as exc:
                raise click.ClickException(f"page {number}: {exc.message}") from None
            click.echo(f"page {number} queued again")
        progress = page_ocr.page_progress(db.session, document_id)
        if progress is None:
            raise click.ClickException(f"document {document_id} was not read page by page "
                                       f"(status {document.status.value})")
        if wait:
            with click.progressbar(length=progress.total, label="OCR pages / 文字识别页", file=sys.stderr) as bar:
                shown = {"pages": 0}

                def tick(finished: int) -> None:
                    bar.update(finished - shown["pages"])
                    shown["pages"] = finished

                progress = page_ocr.wait_for_documents(db.session, [document_id], tick=tick)[document_id]
            db.session.expire_all()
        for page in document.pages:
            line = f"page {page.number:>4}  {page.method:<4}  {page.state.value:<7}"
            if page.seconds is not None:
                line += f"  {page.seconds:6.1f} s"
            if page.error_code:
                line += f"  {queries.document_error_text(page, lang)}"  # type: ignore[arg-type]
            click.echo(line)
        click.echo(f"{progress.done}/{progress.total} pages read by OCR, {len(progress.failed)} failed"
                   + (f" ({', '.join(map(str, progress.failed))})" if progress.failed else "")
                   + f"; document {document.status.value}"
                   + (f"; {document.ocr_engine} {document.ocr_model}" if document.ocr_engine else ""))

    app.cli.add_command(group)


def _process_inline(operations: Any, batches: list[list[int]]) -> None:
    from evalplat.cases.models import Document

    document_ids = [i for batch in batches for i in batch]
    case_ids = sorted(set(db.session.execute(sa.select(Document.case_id).where(Document.id.in_(document_ids)))
                          .scalars()))
    with click.progressbar(length=len(case_ids), label="extract + redact / 提取并脱敏",
                           file=sys.stderr) as bar:
        state = {"done": 0}

        def tick(fraction: float, message: str) -> None:
            done = round(fraction * len(case_ids))
            bar.update(done - state["done"])
            state["done"] = done

        paged: list[int] = []
        counts = operations.process_case_documents(db.session, case_ids, tick, paged=paged)
    _report(counts)
    _wait_for_pages(paged)


def _report(counts: dict[str, int]) -> None:
    click.echo(f"{counts['extracted']} extracted, {counts['failed']} failed, "
               f"{counts['redacted']} redactions changed"
               + (f"; {counts['pages']} scanned pages of {counts['paged']} documents queued as page jobs"
                  if counts["paged"] else ""))


def _wait_for_pages(documents: list[int]) -> None:
    """A progress bar over the page jobs of the documents until each page is read or failed and each document
    assembled and redacted (or failed); then what became of them."""
    from evalplat import jobs
    from evalplat.cases import page_ocr
    from evalplat.cases.models import Document, DocumentStatus

    if not documents:
        return
    total = sum(p.total for p in page_ocr.progress_for(db.session, documents).values())
    if not isinstance(jobs.get_backend(), jobs.InProcessBackend):
        click.echo("the page jobs are on the job queue: its workers (python -m evalplat.jobs.worker) read them; "
                   "Ctrl-C stops waiting, not the jobs", err=True)
    with click.progressbar(length=total, label="OCR pages / 文字识别页", file=sys.stderr) as bar:
        shown = {"pages": 0}

        def tick(finished: int) -> None:
            bar.update(finished - shown["pages"])
            shown["pages"] = finished

        page_ocr.wait_for_documents(db.session, documents, tick=tick)
    statuses = db.session.execute(sa.select(Document.status).where(Document.id.in_(documents))).scalars().all()
    click.echo(f"{total} scanned pages read: {sum(s in (DocumentStatus.REDACTED, DocumentStatus.APPROVED) for s in statuses)} of "
               f"{len(documents)} documents redacted, {sum(s == DocumentStatus.FAILED for s in statuses)} failed "
               f"(flask cases pages DOCUMENT_ID shows which pages)")
