"""Labels for the audit log's action codes, in both languages.

Actions are stored as language-neutral codes (``user.login``); the audit page shows these labels.
``tests/foundation/test_audit_actions.py`` reads every ``record(…, action=…)`` in evalplat and fails on a code
that has no label here, and on a label whose code is no longer emitted.
"""

from __future__ import annotations

from typing import Any

from evalplat.i18n import lazy_gettext as _l

ACTIONS: dict[str, Any] = {
    "api_token.issue": _l("API token issued"),
    "api_token.lifetime_set": _l("API token lifetime set"),
    "api_token.revoke": _l("API token revoked"),
    "appeal.accepted": _l("Appeal accepted for re-review"),
    "appeal.decided": _l("Appeal decided"),
    "appeal.filed": _l("Appeal filed"),
    "appeal.rejected": _l("Appeal rejected"),
    "assignment.accepted": _l("Case accepted by the reviewer"),
    "assignment.committed": _l("Assignment run committed"),
    "assignment.created": _l("Reviewer assigned"),
    "assignment.declined": _l("Case declined by the reviewer"),
    "assignment.discarded": _l("Assignment preview discarded"),
    "assignment.overridden": _l("Assignment changed by hand"),
    "assignment.previewed": _l("Assignment run previewed"),
    "assignment.reassign_failed": _l("No replacement reviewer found"),
    "assignment.undone": _l("Assignment run undone"),
    "assignment.withdrawn": _l("Assignment withdrawn"),
    "calibration.reference_recorded": _l("Calibration reference scores recorded"),
    "calibration.started": _l("Calibration round started"),
    "campaign.created": _l("Campaign created"),
    "campaign.plan_set": _l("Sampling plan set"),
    "campaign.population_frozen": _l("Population frozen"),
    "campaign.ranking_rules": _l("Ranking rules changed"),
    "campaign.rubrics_pinned": _l("Rubric versions pinned"),
    "campaign.sample_drawn": _l("Sample drawn"),
    "campaign.seed_fixed": _l("Random seed fixed"),
    "campaign.settings_changed": _l("Campaign settings changed"),
    "campaign.transition": _l("Campaign stage changed"),
    "cases.document_delete": _l("Document removed"),
    "cases.document_extract": _l("Document text extracted"),
    "cases.document_pages": _l("Scanned pages queued for OCR"),
    "cases.document_retry": _l("Document processing retried"),
    "cases.documents_upload": _l("Documents uploaded"),
    "cases.fields_corrected": _l("Case fields corrected"),
    "cases.frozen_evidence_changed": _l("File of a frozen case changed"),
    "cases.import": _l("Cases imported"),
    "cases.page_names_corrected": _l("Known names put back into an OCR'd page"),
    "cases.page_retry": _l("OCR of a page retried"),
    "cases.page_requeued": _l("Scanned page queued again after its worker died"),
    "cases.redact_campaign": _l("Campaign's cases redacted"),
    "cases.facts_redaction_add": _l("Case-fact redaction added by hand"),
    "cases.facts_redaction_remove": _l("Case-fact redaction removed"),
    "cases.redaction_add": _l("Redaction added by hand"),
    "cases.redaction_approve": _l("Redaction approved"),
    "cases.redaction_approve_batch": _l("Redactions approved in bulk"),
    "cases.redaction_flags_dismiss": _l("Redaction flags dismissed"),
    "cases.redaction_proposal_accept": _l("Re-run redaction proposal accepted"),
    "cases.redaction_proposal_reject": _l("Re-run redaction proposal rejected"),
    "cases.redaction_remove": _l("Redaction removed"),
    "closing.confirmed": _l("Closing file confirmed by the second level"),
    "closing.first_level": _l("Closing file checked at the first level"),
    "closing.returned": _l("Closing file returned for completion"),
    "conflict.confirmed": _l("Conflict of interest confirmed"),
    "conflict.declared": _l("Conflict of interest declared"),
    "conflict.dismissed": _l("Conflict of interest dismissed"),
    "conflicts.computed": _l("Conflicts of interest computed"),
    "demo.generated": _l("Demo data generated"),
    "demo.postcase": _l("Demo post-case supervision generated"),
    "followup.attempt": _l("Follow-up call recorded"),
    "followup.complaint_handled": _l("Follow-up complaint handled"),
    "followup.complaint_opened": _l("Follow-up complaint opened"),
    "followup.contact_set": _l("Client contact recorded"),
    "followup.plan_drawn": _l("Follow-up plan drawn"),
    "followup.visit": _l("Follow-up visit recorded"),
    "login_throttle.cleared": _l("Sign-in wait cleared"),
    "ranking.weights": _l("Ranking source weights set"),
    "result.adjudicated": _l("Result decided by the adjudicator"),
    "result.adjudicator_missing": _l("No adjudicator available"),
    "result.appeal": _l("Result decided on appeal"),
    "result.consensus": _l("Consensus result recorded"),
    "result.escalated": _l("Disagreement sent to adjudication"),
    "results.circular_published": _l("Results and circular published"),
    "results.official_scores": _l("Official scores chosen"),
    "results.reliability_computed": _l("Reliability panel computed"),
    "review.draft_saved": _l("Review draft saved"),
    "review.submitted": _l("Review submitted"),
    "reviewer.activated": _l("Reviewer activated"),
    "reviewer.deactivated": _l("Reviewer deactivated"),
    "reviewer.updated": _l("Reviewer profile changed"),
    "reviewers.imported": _l("Reviewer pool imported"),
    "rubric.version_created": _l("Rubric version created"),
    "rubric.version_frozen": _l("Rubric version frozen"),
    "rubric.version_revised": _l("Rubric version revised"),
    "selfeval.recorded": _l("Self-evaluation recorded"),
    "selfeval.revised": _l("Self-evaluation revised"),
    "user.activated": _l("User activated"),
    "user.created": _l("User created"),
    "user.deactivated": _l("User deactivated"),
    "user.login": _l("Signed in"),
    "user.password_set": _l("Password set"),
    "user.roles_set": _l("Roles changed"),
    "user.totp_disabled": _l("Two-step sign-in switched off"),
    "user.totp_enabled": _l("Two-step sign-in switched on"),
}

# The part of a code before its dot, for grouping the audit page's filter.
DOMAINS: dict[str, Any] = {
    "api_token": _l("API tokens"),
    "appeal": _l("Appeals"),
    "assignment": _l("Assignments"),
    "calibration": _l("Calibration"),
    "campaign": _l("Campaigns"),
    "cases": _l("Cases and files"),
    "closing": _l("Closing review"),
    "conflict": _l("Conflicts of interest"),
    "conflicts": _l("Conflicts of interest"),
    "demo": _l("Demo data"),
    "followup": _l("Follow-up visits"),
    "login_throttle": _l("Sign-in"),
    "ranking": _l("Rankings"),
    "result": _l("Results"),
    "results": _l("Results"),
    "review": _l("Scoring of cases"),
    "reviewer": _l("Reviewer pool"),
    "reviewers": _l("Reviewer pool"),
    "rubric": _l("Rubrics"),
    "selfeval": _l("Self-evaluation"),
    "user": _l("Users"),
}


def action_label(code: str | None) -> str:
    """The label of an action code; a code without one (written by an older version) as it is."""
    if not code:
        return ""
    text = ACTIONS.get(code)
    return str(text) if text is not None else code


def action_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """The filter's options: (domain label, [(code, label) …]) sorted by label, domains sorted by label."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for code, text in ACTIONS.items():
        domain = code.split(".", 1)[0]
        groups.setdefault(str(DOMAINS.get(domain, domain)), []).append((code, str(text)))
    return sorted((name, sorted(items, key=lambda item: item[1])) for name, items in groups.items())
