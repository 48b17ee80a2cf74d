"""Case intake pages: case list, case page, import, uploads, job status and the redaction review."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import FileStorage

from evalplat.accounts.models import Role
from evalplat.cases import corrections, importer, operations, page_ocr, queries, queue
from evalplat.cases.evidence import evidence_panel
from evalplat.cases.labels import case_label
from evalplat.cases.models import FACT_FIELDS, Case, Document, DocumentKind, DocumentPage
from evalplat.confirm import require_confirmation
from evalplat.errors import flash_form_errors
from evalplat.extensions import db
from evalplat.i18n import lazy_gettext as _l
from evalplat.jobs.models import JobRecord
from evalplat.jobs.tracking import parts_progress, submit_job
from evalplat.labels import label
from evalplat.organisations.jurisdiction import runs_campaign
from evalplat.params import int_arg, page_arg
from evalplat.reviews.views import register_case_panel
from evalplat.security import filter_id, load_or_404, roles
from evalplat.services import get_storage
from evalplat.signals import events_committed
from forms.cases import (
    AddSpanForm,
    BulkApproveForm,
    CaseCorrectionForm,
    DismissFlagForm,
    EvidenceReasonForm,
    ImportForm,
    RemoveSpanForm,
    UploadForm,
)

bp = Blueprint("cases", __name__, url_prefix="/cases", template_folder="templates")
bp.context_processor(lambda: {"case_label": case_label})
register_case_panel(evidence_panel)  # reviewers who scored a case are told when its frozen file changes

STAFF = (Role.ORGANISER, Role.AGENCY_STAFF)
PER_PAGE = 50


def _lang() -> str:
    return str(get_locale() or "zh")


def _case(case_id: int) -> Case:
    return load_or_404(Case, case_id, lambda c: c.can_view_original(current_user))


def _document(document_id: int) -> Document:
    return load_or_404(Document, document_id, lambda d: d.case.can_view_original(current_user))


@bp.get("/")
@roles(*STAFF)
def index() -> Any:
    page = page_arg()
    filters = {"agency_id": filter_id("agency", current_user.can_view_agency), "year": int_arg("year", high=9999),
               "case_type": request.args.get("type") or None, "q": request.args.get("q") or None,
               "redaction": request.args.get("redaction") or None,
               "campaign_id": filter_id("campaign", lambda found: runs_campaign(current_user, found))}
    rows, total = queries.case_list(current_user, page=page, per_page=PER_PAGE, after=int_arg("after"), **filters)
    return render_template("cases/index.html", rows=rows, total=total, page=page, per_page=PER_PAGE,
                           agencies=queries.agencies_for(current_user), campaigns=queries.campaigns_for(current_user),
                           filters=filters)


@bp.get("/<int:case_id>")
@roles(*STAFF)
def detail(case_id: int) -> Any:
    _case(case_id)
    case = queries.case_detail(case_id)
    if case is None:  # deleted since _case loaded it
        abort(404)
    pages = page_ocr.progress_for(db.session, [d.id for d in case.documents])
    return render_template("cases/detail.html", case=case, jobs=queries.case_jobs(case), form=UploadForm(),
                           frozen=case.evidence_frozen(), can_change=case.can_change_evidence(current_user),
                           remove_form=EvidenceReasonForm(),
                           lang=_lang(), document_error=queries.document_error_text,
                           job_error=queries.job_error_text, pages=pages)


@contextmanager
def _saved(upload: FileStorage | None, suffix: str) -> Iterator[Path | None]:
    """An upload spooled to a temporary file (removed afterwards); None if nothing was sent."""
    if upload is None or not upload.filename:
        yield None
        return
    fd, name = tempfile.mkstemp(suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as fh:
            upload.save(fh)
        yield Path(name)
    finally:
        os.unlink(name)


def _import_page(form: ImportForm, report: importer.ImportReport | None = None, status: int = 200) -> Any:
    from evalplat.extract import ocr_available

    return render_template("cases/import.html", form=form, report=report, columns=importer.describe_columns(),
                           ocr=ocr_available()), status


@bp.get("/import")
@roles(*STAFF)
def import_page() -> Any:
    return _import_page(ImportForm())


@bp.post("/import")
@roles(*STAFF)
def import_upload() -> Any:
    form = ImportForm()
    if not form.validate_on_submit():
        return _import_page(form, status=400)
    options = importer.ImportOptions(on_bad_file=form.on_bad_file.data)
    with _saved(form.cases_file.data, ".data") as source, _saved(form.files_zip.data, ".zip") as archive:
        assert source is not None
        report = importer.import_cases(db.session, actor=current_user, source=source,
                                       filename=form.cases_file.data.filename, files_zip=archive,
                                       storage=get_storage(), options=options)
    if not report.ok:
        db.session.rollback()
        return _import_page(form, report, status=422)
    db.session.commit()
    operations.process_documents(actor_id=current_user.id, document_ids=report.document_ids)
    flash(_("%(created)d case(s) imported, %(unchanged)d already present; %(docs)d file(s) queued for text "
            "extraction.", created=report.created, unchanged=report.unchanged, docs=report.documents_added),
          "success")
    return _import_page(ImportForm(formdata=None), report)


@bp.get("/import/template.<fmt>")
@roles(*STAFF)
def template(fmt: str) -> Any:
    if fmt == "csv":
        return Response(importer.template_csv(), mimetype="text/csv; charset=utf-8",
                        headers={"Content-Disposition": "attachment; filename=cases-template.csv"})
    if fmt == "xlsx":
        return Response(importer.template_xlsx(),
                        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": "attachment; filename=cases-template.xlsx"})
    abort(404)


@bp.post("/<int:case_id>/documents")
@roles(*STAFF)
def upload(case_id: int) -> Any:
    case = _case(case_id)
    form = UploadForm()
    if not form.validate_on_submit():
        flash(_("Choose at least one file to upload."), "error")
        return redirect(url_for("cases.detail", case_id=case.id))
    files = [(f.filename or "", f.read()) for f in form.files.data if f and f.filename]
    result = operations.upload_documents(db.session, actor=current_user, case=case, files=files,
                                         storage=get_storage(), kind=DocumentKind(form.kind.data) if form.kind.data
                                         else None, stop_on_bad=form.on_bad_file.data == "stop",
                                         reason=form.reason.data)
    db.session.commit()
    operations.process_documents(actor_id=current_user.id, document_ids=[d.id for d in result.added])
    if result.added and case.evidence_frozen():
        events_committed.send()  # reviewers who began scoring the case are told
    for problem in result.problems:
        flash(problem.message(), "error")
    flash(_("%(n)d file(s) added and queued for text extraction.", n=len(result.added)), "success")
    return redirect(url_for("cases.detail", case_id=case.id))


@bp.post("/<int:case_id>/process")
@roles(*STAFF)
def process(case_id: int) -> Any:
    case = _case(case_id)
    job_id = submit_job(db.session, "cases.process_case", actor_id=current_user.id, object_type="case",
                        object_id=case.id, args=(case.id,))
    db.session.commit()
    return redirect(url_for("cases.job", job_id=job_id))


@bp.post("/documents/<int:document_id>/retry")
@roles(*STAFF)
def retry(document_id: int) -> Any:
    document = _document(document_id)
    operations.retry_document(db.session, actor=current_user, document=document)
    db.session.commit()
    operations.process_documents(actor_id=current_user.id, document_ids=[document.id])
    flash(_("The document is queued again."), "success")
    return redirect(url_for("cases.detail", case_id=document.case_id))


@bp.get("/documents/<int:document_id>/pages")
@roles(*STAFF)
def pages(document_id: int) -> Any:
    document = _document(document_id)
    return render_template("cases/pages.html", document=document, pages=document.pages,
                           progress=page_ocr.page_progress(db.session, document.id), lang=_lang(),
                           error_text=queries.document_error_text)


@bp.post("/documents/<int:document_id>/pages/<int:number>/retry")
@roles(*STAFF)
def retry_page(document_id: int, number: int) -> Any:
    document = _document(document_id)
    page = next((p for p in document.pages if p.number == number), None)
    if page is None:
        abort(404)
    page_ocr.retry_page(db.session, actor=current_user, page=page)
    flash(_("Page %(number)s is queued again.", number=number), "success")
    return redirect(url_for("cases.pages", document_id=document.id))


@bp.post("/documents/<int:document_id>/delete")
@roles(*STAFF)
def delete_document(document_id: int) -> Any:
    document = _document(document_id)
    operations.ensure_can_change_evidence(current_user, document.case)
    require_confirmation()
    case_id = document.case_id
    form = EvidenceReasonForm()
    frozen = document.case.evidence_frozen()
    operations.delete_document(db.session, actor=current_user, document=document,
                               reason=form.reason.data if form.validate_on_submit() else None)
    db.session.commit()
    if frozen:
        events_committed.send()  # reviewers who began scoring the case are told
    flash(_("The document was removed."), "success")
    return redirect(url_for("cases.detail", case_id=case_id))


@bp.route("/<int:case_id>/correct", methods=["GET", "POST"])
@roles(Role.ORGANISER)
def correct(case_id: int) -> Any:
    """The organiser corrects a case's fields with a reason (frozen cases included; see evalplat.cases.corrections)."""
    case = load_or_404(Case, case_id, lambda c: c.can_correct(current_user))
    form = CaseCorrectionForm(data=corrections.current_values(case))
    status = 400 if request.method == "POST" else 200
    if form.validate_on_submit():
        try:
            done = corrections.correct_case(db.session, actor=current_user, case=case,
                                            values={name: form[name].data for name in corrections.CORRECTABLE},
                                            reason=form.reason.data)
        except corrections.CorrectionInvalid as exc:
            db.session.rollback()
            if exc.field:
                form[exc.field].errors = [*form[exc.field].errors, str(exc.message)]
            else:
                flash(str(exc.message), "error")
        else:
            db.session.commit()
            if done.reviewers_told:
                events_committed.send()
            _flash_correction(done)
            return redirect(url_for("cases.detail", case_id=case.id))
    return render_template("cases/correct.html", case=case, form=form, frozen=case.evidence_frozen(),
                           fixed=corrections.FIXED, label=corrections.field_label), status


def _flash_correction(done: corrections.Correction) -> None:
    sep = "、" if _lang().startswith("zh") else ", "
    flash(_("Corrected: %(fields)s.", fields=sep.join(corrections.field_label(name) for name in done.changed)),
          "success")
    if done.redaction_rerun:
        flash(_("The redaction was computed again from the corrected fields: approve or reject the proposed "
                "texts on the redaction review before reviewers read them."), "info")
    if done.reviewers_told:
        flash(_("%(n)d reviewer(s) who began scoring the case are notified.", n=done.reviewers_told), "info")
    for item in done.conflicts:
        flash(_("Reviewer %(reviewer)s (case %(code)s) now has a conflict with this case: %(why)s. Withdraw the "
                "assignment and reassign the case.", reviewer=item["reviewer"], code=item["code"],
                why=sep.join(label(c) for c in item["conflicts"])), "error")


def _can_view_job(job: JobRecord) -> bool:
    if job.object_type == "case":
        case = db.session.get(Case, job.object_id)
        return case is not None and case.can_view_original(current_user)
    if job.object_type == "document":
        document = db.session.get(Document, job.object_id)
        return document is not None and document.case.can_view_original(current_user)
    if job.object_type == "document_page":
        page = db.session.get(DocumentPage, job.object_id)
        return page is not None and page.document.case.can_view_original(current_user)
    if job.object_type == "campaign":
        from evalplat.campaigns.models import Campaign

        campaign = db.session.get(Campaign, job.object_id)
        return campaign is not None and campaign.can_manage(current_user)
    # an import or another job of no object: whoever started it
    return current_user.is_organiser and job.created_by_id == current_user.id


@bp.get("/jobs/<job_id>")
@roles(*STAFF)
def job(job_id: str) -> Any:
    record = load_or_404(JobRecord, job_id, _can_view_job)
    return render_template("cases/job.html", job=record, error=queries.job_error_text(record, _lang()),
                           summary=_job_summary(record.message), parts=parts_progress(db.session, record.id))


# What a finished job's summary counts, for people (the summary is stored as JSON).
SUMMARY_LABELS = {"extracted": _l("Texts extracted"), "redacted": _l("Documents redacted"),
                  "failed": _l("Failed"), "paged": _l("Scans read page by page"), "pages": _l("Pages queued for OCR"),
                  "reviews": _l("Reviews"), "seconds": _l("Seconds")}


def _job_summary(message: str | None) -> list[tuple[str, Any]] | None:
    """A JSON summary of counts as (label, value) pairs; None when the message is plain text."""
    import json

    try:
        counts = json.loads(message or "")
    except ValueError:
        return None
    if not isinstance(counts, dict):
        return None
    return [(str(SUMMARY_LABELS.get(key, key)), value) for key, value in counts.items()]


@bp.post("/campaigns/<int:campaign_id>/redact")
@roles(Role.ORGANISER)
def redact_campaign(campaign_id: int) -> Any:
    campaign = _campaign(campaign_id)
    job_id = submit_job(db.session, "cases.redact_campaign", actor_id=current_user.id, object_type="campaign",
                        object_id=campaign.id, args=(campaign.id,))
    db.session.commit()
    return redirect(url_for("cases.job", job_id=job_id))


# --- redaction review (organisers) -------------------------------------------------------------------------
def _facts_panel(case: Case) -> list[dict[str, Any]]:
    """Per free-text field: the original, what reviewers read (approved or not), its flags and proposal."""
    row = case.facts_redaction
    if row is None:
        return []
    proposed = (row.proposed or {}).get("fields", {})
    out = []
    for name in FACT_FIELDS:
        original = (getattr(case, name) or "").strip()  # as redacted: the offsets refer to it
        if not original:
            continue
        spans = (row.spans or {}).get(name, [])
        flags = [f for f in row.flags or [] if f.get("field") == name]
        out.append({"field": name, "original": queries.highlight(original, spans, redacted=False, flags=flags),
                    "redacted": (row.fields or {}).get(name, ""), "proposed": proposed.get(name),
                    "flags": [dict(f, text=original[f["start"]:f["end"]]) for f in flags if not f.get("dismissed")],
                    "spans": [dict(s, text=original[s["start"]:s["end"]]) for s in spans if s.get("source") != "removed"],
                    "length": len(original)})
    return out


@bp.get("/<int:case_id>/redaction")
@roles(Role.ORGANISER)
def review(case_id: int) -> Any:
    _case(case_id)
    case = queries.case_detail(case_id)
    if case is None:  # deleted since _case loaded it
        abort(404)
    panels = []
    for document in case.documents:
        text = document.extracted_text
        redaction = document.redaction
        spans = redaction.spans if redaction else []
        flags = [f for f in (redaction.flags or []) if not f.get("dismissed")] if redaction else []
        panels.append({"document": document, "ready": text is not None and redaction is not None,
                       "original": queries.highlight(text or "", spans, redacted=False, flags=flags),
                       "redacted": queries.highlight(text or "", spans, redacted=True),
                       "proposed": queries.highlight(text or "", redaction.proposed_spans, redacted=True)
                       if redaction is not None and redaction.proposed_spans is not None else None,
                       "flags": [dict(f, text=(text or "")[f["start"]:f["end"]]) for f in flags],
                       "spans": [s for s in spans if s.get("source") != "removed"],
                       "length": len(text or "")})
    campaign_id = int_arg("campaign")
    return render_template("cases/review.html", case=case, panels=panels, add_form=AddSpanForm(),
                           facts=_facts_panel(case), dismiss_form=DismissFlagForm(), campaign_id=campaign_id,
                           lang=_lang(), document_error=queries.document_error_text)


def _back_to_review(case_id: int, anchor: str | None = None) -> Any:
    return redirect(url_for("cases.review", case_id=case_id, campaign=int_arg("campaign", source=request.values),
                            _anchor=anchor))


@bp.post("/<int:case_id>/redaction/flags/dismiss")
@roles(Role.ORGANISER)
def dismiss_flags(case_id: int) -> Any:
    case = _case(case_id)
    form = DismissFlagForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
        return _back_to_review(case.id)
    n = operations.dismiss_flags(db.session, actor=current_user, case=case, target=form.target.data or None,
                                 start=form.start.data, end=form.end.data)
    db.session.commit()
    flash(_("%(n)d flag(s) marked as looked at.", n=n), "success")
    return _back_to_review(case.id)


def _settle(case_id: int, accept: bool) -> Any:
    case = _case(case_id)
    n = operations.settle_proposals(db.session, actor=current_user, case=case, accept=accept)
    db.session.commit()
    flash(_("%(n)d proposed change(s) accepted; reviewers now read the new text.", n=n) if accept
          else _("%(n)d proposed change(s) rejected; reviewers keep reading the approved text.", n=n), "success")
    return _back_to_review(case.id)


@bp.post("/<int:case_id>/redaction/proposals/accept")
@roles(Role.ORGANISER)
def accept_proposals(case_id: int) -> Any:
    return _settle(case_id, True)


@bp.post("/<int:case_id>/redaction/proposals/reject")
@roles(Role.ORGANISER)
def reject_proposals(case_id: int) -> Any:
    return _settle(case_id, False)


# --- the campaign's redaction queue (organisers) ------------------------------------------------------------
def _campaign(campaign_id: int) -> Any:
    from evalplat.campaigns.models import Campaign

    return load_or_404(Campaign, campaign_id, lambda c: c.can_manage(current_user))


@bp.get("/campaigns/<int:campaign_id>/redaction")
@roles(Role.ORGANISER)
def redaction_queue(campaign_id: int) -> Any:
    campaign = _campaign(campaign_id)
    page = page_arg()
    filters: dict[str, Any] = {"state": request.args.get("state") or None, "flags": request.args.get("flags") or None,
               "agency_id": filter_id("agency", current_user.can_view_agency)}
    rows, total = queue.queue(campaign.id, page=page, per_page=PER_PAGE, **filters)
    return render_template("cases/queue.html", campaign=campaign, rows=rows, total=total, page=page,
                           per_page=PER_PAGE, filters=filters, counts=queue.queue_counts(campaign.id),
                           states=list(queue.QueueState), agencies=queries.agencies_for(current_user),
                           approvable=len(queue.bulk_approvable(campaign.id)), ocr=queue.ocr_waiting(campaign.id))


@bp.get("/campaigns/<int:campaign_id>/redaction/next")
@roles(Role.ORGANISER)
def next_in_queue(campaign_id: int) -> Any:
    campaign = _campaign(campaign_id)
    case_id = queue.next_case(campaign.id, int_arg("after"))
    if case_id is None:
        flash(_("No case of this campaign is waiting for the checker."), "success")
        return redirect(url_for("cases.redaction_queue", campaign_id=campaign.id))
    return redirect(url_for("cases.review", case_id=case_id, campaign=campaign.id))


@bp.route("/campaigns/<int:campaign_id>/redaction/approve", methods=["GET", "POST"])
@roles(Role.ORGANISER)
def bulk_approve(campaign_id: int) -> Any:
    campaign = _campaign(campaign_id)
    case_ids = queue.bulk_approvable(campaign.id)
    form = BulkApproveForm(data={"expected": len(case_ids)} if request.method == "GET" else None)
    status = 200
    if request.method == "POST":
        if form.validate_on_submit() and form.expected.data == len(case_ids):
            cases = [queries.case_detail(i) for i in case_ids]
            n = operations.approve_redactions(db.session, actor=current_user, cases=[c for c in cases if c])
            db.session.commit()
            flash(_("%(cases)d case(s) approved (%(docs)d document(s)); their reviewers can now be offered them.",
                    cases=len(case_ids), docs=n), "success")
            return redirect(url_for("cases.redaction_queue", campaign_id=campaign.id))
        if not form.errors:
            flash(_("The queue changed meanwhile: %(n)d case(s) can be approved now. Confirm again.",
                    n=len(case_ids)), "error")
            form = BulkApproveForm(formdata=None, data={"expected": len(case_ids)})
        status = 422
    rows, _total = queue.queue(campaign.id, state=queue.QueueState.TO_CHECK.value, flags="none", per_page=20)
    return render_template("cases/bulk_approve.html", campaign=campaign, form=form, count=len(case_ids),
                           rows=rows), status


@bp.post("/documents/<int:document_id>/spans")
@roles(Role.ORGANISER)
def add_span(document_id: int) -> Any:
    document = _document(document_id)
    form = AddSpanForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
        return _back_to_review(document.case_id, f"doc-{document.id}")
    added = operations.add_span(db.session, actor=current_user, document=document,
                                start=form.start.data, end=form.end.data, text=(form.text.data or "").strip(),
                                kind=form.kind.data)
    db.session.commit()
    flash(_("%(n)d stretch(es) redacted; the case needs approval again.", n=added), "success")
    return _back_to_review(document.case_id, f"doc-{document.id}")


@bp.post("/documents/<int:document_id>/spans/remove")
@roles(Role.ORGANISER)
def remove_span(document_id: int) -> Any:
    document = _document(document_id)
    form = RemoveSpanForm()
    if not form.validate_on_submit():
        abort(400)
    operations.remove_span(db.session, actor=current_user, document=document, start=form.start.data,
                           end=form.end.data)
    db.session.commit()
    flash(_("The stretch is shown again; the case needs approval again."), "success")
    return _back_to_review(document.case_id, f"doc-{document.id}")


def _fact_field(field: str) -> str:
    if field not in FACT_FIELDS:
        abort(404)
    return field


@bp.post("/<int:case_id>/facts/<field>/spans")
@roles(Role.ORGANISER)
def add_fact_span(case_id: int, field: str) -> Any:
    case = _case(case_id)
    form = AddSpanForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
        return _back_to_review(case.id, "facts")
    added = operations.add_fact_span(db.session, actor=current_user, case=case, field=_fact_field(field),
                                     start=form.start.data, end=form.end.data,
                                     text=(form.text.data or "").strip(), kind=form.kind.data)
    db.session.commit()
    flash(_("%(n)d stretch(es) redacted; the case needs approval again.", n=added), "success")
    return _back_to_review(case.id, "facts")


@bp.post("/<int:case_id>/facts/<field>/spans/remove")
@roles(Role.ORGANISER)
def remove_fact_span(case_id: int, field: str) -> Any:
    case = _case(case_id)
    form = RemoveSpanForm()
    if not form.validate_on_submit():
        abort(400)
    operations.remove_fact_span(db.session, actor=current_user, case=case, field=_fact_field(field),
                                start=form.start.data, end=form.end.data)
    db.session.commit()
    flash(_("The stretch is shown again; the case needs approval again."), "success")
    return _back_to_review(case.id, "facts")


@bp.post("/<int:case_id>/redaction/approve")
@roles(Role.ORGANISER)
def approve(case_id: int) -> Any:
    case = _case(case_id)
    require_confirmation()
    operations.approve_redaction(db.session, actor=current_user, case=case)
    db.session.commit()
    flash(_("The redaction of all documents is approved; reviewers can now read them."), "success")
    campaign = int_arg("campaign", source=request.values)
    if campaign is not None:  # working through a campaign's queue: on to the next case
        return redirect(url_for("cases.next_in_queue", campaign_id=campaign, after=case.id))
    return redirect(url_for("cases.review", case_id=case.id))
