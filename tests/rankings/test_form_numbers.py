"""Form fields refuse odd numbers (NaN, infinity, superscript digits, huge values) with a field error, never a 500."""

from __future__ import annotations

from typing import Any

import pytest

from forms.rubric_admin import parse_ids

FORM = {"min_cases": "5", "lower_bound": "80", "min_share_lower_bound": "", "no_veto": "y", "level": "0.9",
        "pivot": "80", "slope": "0.05", "floor": "0.5", "cap": "2", "pool_bonus": "0.5", "window_years": "2",
        "year_decay": "0.7"}


@pytest.mark.parametrize("value", ["NaN", "sNaN", "-nan", "Infinity", "²", "1e999999999", str(2**70)])
@pytest.mark.parametrize("field", ["level", "pivot", "min_cases"])
def test_rules_form_refuses_odd_numbers_with_a_field_error(small_campaign: Any, client: Any, db: Any,
                                                          make_user: Any, login: Any, field: str, value: str) -> None:
    login(client, make_user("organiser"))
    cid = small_campaign.campaign.id
    before = dict(small_campaign.campaign.ranking_rules or {})
    response = client.post(f"/rankings/{cid}/rules", data=dict(FORM, **{field: value}))
    assert response.status_code in (200, 400, 422)
    page = response.get_data(as_text=True)
    assert page.count('class="field has-error"') == 1
    assert '<p class="error" role="alert">' in page
    db.session.expire_all()
    assert dict(db.session.get(type(small_campaign.campaign), cid).ranking_rules or {}) == before


@pytest.mark.parametrize("text", ["²", "٣", str(2**31), "1.5"])
def test_calibration_case_ids_refuse_non_ascii_digits_and_huge_ids(text: str) -> None:
    with pytest.raises(ValueError, match="^" + text.replace(".", r"\.") + "$"):
        parse_ids(f"12, {text}")
