"""Edge cases of the reliability statistics found in use."""

import numpy as np
import pytest

from scoring.reliability import icc


@pytest.mark.parametrize("form", ["ICC1", "ICC1k", "ICC3", "ICC2"])
def test_icc_is_one_when_raters_agree_exactly_but_units_differ(form):
    # every unit's raters give the same score; units differ: all variance is between units
    data = np.array([[70.0, 70.0], [85.0, 85.0], [92.0, 92.0], [60.0, 60.0]])
    result = icc(data, form=form)
    assert result.value == 1.0
    assert np.isinf(result.f_statistic)
