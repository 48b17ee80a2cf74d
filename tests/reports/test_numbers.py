"""One formatter for figures on pages and in reports: scores, intervals, percentages, missing values."""

from __future__ import annotations

import ast
import re
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from reports.numbers import count, interval, number, percent
from reports.text import fmt, pct

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("missing", [None, float("nan"), np.nan, float("inf"), -np.inf, "n/a", "", True])
def test_a_missing_value_is_a_dash_never_nan(missing: object) -> None:
    assert number(missing) == "—"
    assert percent(missing) == "—"
    assert interval(missing, 3.0) == "—"
    assert interval(1.0, missing) == "—"
    assert fmt(missing) == "—"  # type: ignore[arg-type]
    assert pct(missing) == "—"  # type: ignore[arg-type]


def test_a_missing_value_can_say_why() -> None:
    assert number(None, missing="too few reviews") == "too few reviews"
    assert interval(float("nan"), 1, missing="not estimable") == "not estimable"


def test_numbers_are_fixed_decimals_without_exponent_or_negative_zero() -> None:
    assert number(0.00001, 4) == "0.0000"
    assert number(1.5e-12, 3) == "0.000"
    assert number(1e20, 0) == "100000000000000000000"
    assert number(-0.04) == "0.0"
    assert number(np.float64(86.25)) == "86.3"  # half away from zero, as people round
    assert number(Decimal("82.45")) == "82.5"
    assert number("71.24") == "71.2"
    assert number(3, 0) == "3"
    assert "e" not in number(2.5e-7, 2)


def test_signs_and_trimming() -> None:
    assert number(1.234, 2, sign=True) == "+1.23"
    assert number(-1.234, 2, sign=True) == "-1.23"
    assert number(0.0, sign=True) == "0.0"
    assert number(95.0, 1, trim=True) == "95"
    assert number(0.25, 3, trim=True) == "0.25"


def test_percentages_and_intervals() -> None:
    assert percent(0.8125, 1) == "81.3%"
    assert percent(1) == "100%"
    assert percent(np.float32(0.5)) == "50%"
    assert interval(71.24, 88.5) == "71.2–88.5"
    assert interval(0.5, 0.755, share=True) == "50.0%–75.5%"
    assert interval(-2.04, 1.5) == "-2.0 … 1.5"  # a minus never sits beside the dash
    assert interval(0.2, 1.5, sign=True) == "+0.2 … +1.5"


def test_counts_have_thousands_separators_and_whole_numbers() -> None:
    assert count(1234567) == "1,234,567"
    assert count(np.int64(20000)) == "20,000"
    assert count(2315.5) == "2,316"  # a sum of sampling weights, rounded half up as people round
    assert count(-1200) == "-1,200"
    assert count(None) == count(float("nan")) == "—"
    assert count(None, missing="not yet") == "not yet"


def test_pages_show_figures_through_the_filters(app) -> None:
    source = ("{{ x|number }} {{ x|number(missing='none yet') }} {{ s|percent(1) }} {{ interval(lo, hi) }} "
              "{{ nan|number(3) }} {{ nan|percent }} {{ n|count }}")
    with app.test_request_context():
        text = app.jinja_env.from_string(source).render(x=None, s=0.8125, lo=70.0, hi=float("nan"),
                                                        nan=float("nan"), n=140000)
    assert text == "— none yet 81.3% — — — 140,000"
    assert "nan" not in text


FORMATTING = re.compile(r"""\|\s*format\s*\(|['"]%[-+ #0-9.]*[dfgeE%]['"]\s*%|['"]\.format\(|\|\s*round\b|\.strftime\(""")


def test_templates_do_not_format_numbers_or_times_themselves() -> None:
    """Figures go through number/percent/interval, times through when/day (Beijing time): a template that
    formats with '%.1f'|format(…), '%g' % …, '{:.1f}'.format(…), |round or .strftime(…) bypasses them."""
    offenders = []
    for path in sorted(ROOT.glob("evalplat/**/templates/**/*.html")) + sorted(ROOT.glob("reports/templates/**/*.html")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            # a progress bar's value attribute is a number for the browser, not text for people
            code = re.sub(r'value="\{\{[^}]*\|round\|int \}\}"', "", line)
            if FORMATTING.search(code):
                offenders.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()[:120]}")
    assert not offenders, "\n".join(offenders)


def test_report_builders_format_figures_through_the_formatter() -> None:
    """Report builders (reports/ and each domain's report module) put figures in their tables through
    number/percent/interval/count; an f-string format spec such as ``{n:,}`` or ``{x:.1f}`` bypasses them."""
    offenders = []
    for path in sorted(ROOT.glob("reports/**/*.py")) + sorted(ROOT.glob("evalplat/**/report*.py")):
        if path.relative_to(ROOT).as_posix() in ("reports/numbers.py", "reports/text.py"):  # the formatters
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FormattedValue) and node.format_spec is not None:
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node.value)}")
    assert not offenders, "\n".join(offenders)
