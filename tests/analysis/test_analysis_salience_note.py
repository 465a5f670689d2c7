"""The salient head's note does not oversell a negligible effect ("most" of nothing)."""

from interp.analysis.salience import NEGLIGIBLE, top_head


def test_a_negligible_largest_effect_is_called_so():
    pick = top_head({"L0H0": 9.19e-07})
    assert pick.name == "L0H0" and "barely" in pick.reason and "most" not in pick.reason


def test_a_real_effect_is_the_largest():
    pick = top_head({"L0H0": 0.1, "L0H1": 2 * NEGLIGIBLE + 0.5})
    assert pick.name == "L0H1" and "most" in pick.reason and "next L0H0 0.1" in pick.reason
