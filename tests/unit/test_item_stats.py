"""Item statistics against values worked out by hand for small fixed data sets."""

from __future__ import annotations

import math

import pytest

from lms.reports import stats
from lms.reports.stats import ItemSums

# Data set 1: four learners, three right/wrong items of 1 point each.
#
#           item1 item2 item3 | total
#   L1        1     1     1   |   3
#   L2        1     1     0   |   2
#   L3        1     0     0   |   1
#   L4        0     0     0   |   0
#
# The rest score r is the total minus the item.
ITEMS = {
    "item1": [1, 1, 1, 0],
    "item2": [1, 1, 0, 0],
    "item3": [1, 0, 0, 0],
}
TOTALS = [3, 2, 1, 0]


def sums(name: str) -> ItemSums:
    xs = ITEMS[name]
    return ItemSums.of([(x, t - x) for x, t in zip(xs, TOTALS, strict=True)])


def test_sums_of_item1_by_hand():
    # item1: x = 1,1,1,0; r = 2,1,0,0
    # Σx = 3, Σx² = 3, Σr = 3, Σr² = 4+1 = 5, Σxr = 2+1+0+0 = 3
    assert sums("item1") == ItemSums(4, 3, 3, 3, 5, 3)


@pytest.mark.parametrize(
    ("name", "p", "r"),
    [
        # item1: Sxx = 3 − 9/4 = 0.75, Srr = 5 − 9/4 = 2.75, Sxr = 3 − 3·3/4 = 0.75
        #        r = 0.75 / √(0.75·2.75) = √(3/11) ≈ 0.522233; p = 3/4
        ("item1", 0.75, math.sqrt(3 / 11)),
        # item2: x = 1,1,0,0; r = 2,1,1,0. Σx = 2, Σx² = 2, Σr = 4, Σr² = 6, Σxr = 3
        #        Sxx = 2 − 1 = 1, Srr = 6 − 4 = 2, Sxr = 3 − 2 = 1 → r = 1/√2 ≈ 0.707107; p = 1/2
        ("item2", 0.5, 1 / math.sqrt(2)),
        # item3: x = 1,0,0,0; r = 2,2,1,0. Σx = 1, Σx² = 1, Σr = 5, Σr² = 9, Σxr = 2
        #        Sxx = 0.75, Srr = 9 − 25/4 = 2.75, Sxr = 2 − 5/4 = 0.75 → r = √(3/11); p = 1/4
        ("item3", 0.25, math.sqrt(3 / 11)),
    ],
)
def test_difficulty_and_corrected_point_biserial(name, p, r):
    analysis = stats.analyse_item(sums(name))
    assert analysis.difficulty == pytest.approx(p)
    assert analysis.discrimination == pytest.approx(r)
    assert analysis.discrimination == pytest.approx(
        {"item1": 0.522233, "item2": 0.707107, "item3": 0.522233}[name], abs=1e-6
    )
    # Four responses are far fewer than 20: no flags, however hard item3 looks.
    assert analysis.flags == ()


def test_kr20_and_sem_by_hand():
    # Totals 3,2,1,0: Σt = 6, Σt² = 14, sample variance (14 − 36/4)/3 = 5/3.
    # Item sample variances Sxx/3: 0.25 + 1/3 + 0.25 = 5/6.
    # KR-20 = 3/2 · (1 − (5/6)/(5/3)) = 3/2 · 1/2 = 0.75
    # (check with Σpq: .1875 + .25 + .1875 = .625 over the population variance 1.25 → the same 0.75)
    # SEM = √(5/3) · √(1 − 0.75) ≈ 1.290994 · 0.5 ≈ 0.645497
    result = stats.reliability([(sums(n), 1.0) for n in ITEMS], 4, 6, 14)
    assert result.method == "KR-20"
    assert result.coefficient == pytest.approx(0.75)
    assert result.sem == pytest.approx(math.sqrt(5 / 3) * 0.5)
    assert result.sem == pytest.approx(0.645497, abs=1e-6)
    assert result.mean == pytest.approx(1.5)
    assert result.sd == pytest.approx(math.sqrt(5 / 3))


# Data set 2: three learners, partial credit and unequal weights.
#
#           A (2 points)   B (1 point) | points
#   L1        1.0             1        |  2·1.0 + 1 = 3
#   L2        0.5             1        |  2·0.5 + 1 = 2
#   L3        0.0             0        |  0
def partial_sums() -> tuple[ItemSums, ItemSums]:
    a = ItemSums.of([(1.0, 1.0), (0.5, 1.0), (0.0, 0.0)])  # rest = points − 2·x
    b = ItemSums.of([(1.0, 2.0), (1.0, 1.0), (0.0, 0.0)])  # rest = points − 1·x
    return a, b


def test_partial_credit_difficulty_and_discrimination():
    a, b = partial_sums()
    # A: Σx = 1.5, Σx² = 1.25, Σr = 2, Σr² = 2, Σxr = 1.5
    #    Sxx = 1.25 − 2.25/3 = 0.5, Srr = 2 − 4/3 = 2/3, Sxr = 1.5 − 1.5·2/3 = 0.5
    #    r = 0.5 / √(0.5 · 2/3) = 0.5 · √3 ≈ 0.866025; p = 1.5/3 = 0.5 (partial credit counts)
    assert a == ItemSums(3, 1.5, 1.25, 2, 2, 1.5)
    assert stats.difficulty(a) == pytest.approx(0.5)
    assert stats.point_biserial(a) == pytest.approx(0.866025, abs=1e-6)
    assert not a.dichotomous
    # B: Σx = 2, Σx² = 2, Σr = 3, Σr² = 5, Σxr = 3 → Sxx = 2/3, Srr = 2, Sxr = 1 → r = 1/√(4/3) ≈ 0.866025
    assert stats.point_biserial(b) == pytest.approx(0.866025, abs=1e-6)
    assert stats.difficulty(b) == pytest.approx(2 / 3)


def test_cronbach_alpha_with_weights_by_hand():
    a, b = partial_sums()
    # Totals 3,2,0: Σt = 5, Σt² = 13, sample variance (13 − 25/3)/2 = 7/3.
    # Item variances in points: A 2² · 0.5/2 = 1, B 1² · (2/3)/2 = 1/3 → Σ = 4/3.
    # α = 2/1 · (1 − (4/3)/(7/3)) = 2 · 3/7 = 6/7 ≈ 0.857143
    # SEM = √(7/3) · √(1/7) = √(1/3) ≈ 0.577350
    result = stats.reliability([(a, 2.0), (b, 1.0)], 3, 5, 13)
    assert result.method == "Cronbach's α"
    assert result.coefficient == pytest.approx(6 / 7)
    assert result.sem == pytest.approx(math.sqrt(1 / 3))


def test_reliability_needs_every_item_in_every_attempt():
    # A pool: item3 was drawn by only 3 of 4 attempts, so items cannot be compared.
    drawn = ItemSums.of([(1, 2), (0, 2), (0, 1)])
    result = stats.reliability([(sums("item1"), 1.0), (sums("item2"), 1.0), (drawn, 1.0)], 4, 6, 14)
    assert result.coefficient is None and result.sem is None
    assert "pool" in result.reason


@pytest.mark.parametrize(
    ("items", "n", "t", "t2", "reason"),
    [
        ([(ItemSums.of([(1, 0)]), 1.0)], 1, 1, 1, "at least 2 graded questions"),
        ([(ItemSums.of([(1, 1)]), 1.0), (ItemSums.of([(1, 1)]), 1.0)], 1, 2, 4, "at least 2 attempts"),
        # Everybody 2 of 2: no variance at all.
        ([(ItemSums.of([(1, 1), (1, 1)]), 1.0)] * 2, 2, 4, 8, "scored the same"),
    ],
)
def test_reliability_explains_why_it_is_missing(items, n, t, t2, reason):
    result = stats.reliability(items, n, t, t2)
    assert result.coefficient is None
    assert reason in result.reason


def test_no_discrimination_when_everyone_scores_the_same():
    # Everyone right on the item (Sxx = 0): a correlation is undefined, not zero.
    assert stats.point_biserial(ItemSums.of([(1, 2), (1, 0), (1, 1)])) is None
    # Fewer than 2 responses.
    assert stats.point_biserial(ItemSums.of([(1, 2)])) is None
    assert stats.difficulty(ItemSums(0, 0, 0, 0, 0, 0)) is None


@pytest.mark.parametrize(
    ("n", "p", "r", "expected"),
    [
        (19, 0.95, -0.4, ()),  # too few responses: nothing is flagged
        (20, 0.95, 0.5, ("too_easy",)),
        (20, 0.9, 0.5, ()),  # "too easy" is strictly above 0.9
        (20, 0.25, 0.5, ("too_hard",)),
        (20, 0.3, 0.2, ()),  # the boundaries themselves are fine
        (20, 0.6, 0.19, ("poor",)),
        (20, 0.6, -0.01, ("negative",)),  # negative, not also "poor"
        (40, 0.2, -0.3, ("too_hard", "negative")),
        (40, 0.5, None, ()),  # no discrimination computed: no discrimination flag
    ],
)
def test_flags(n, p, r, expected):
    assert stats.flags(n, p, r) == expected


@pytest.mark.parametrize(
    ("score", "expected"),
    [(0.0, 0), (0.0999, 0), (0.1, 1), (0.7, 7), (0.89999, 8), (0.9, 9), (1.0, 9), (2 / 3, 6)],
)
def test_score_bins(score, expected):
    assert stats.score_bin(score) == expected


def test_histogram_svg_is_escaped_and_styled_by_classes_only():
    from lms.reports.charts import bin_labels, histogram_svg

    svg = str(histogram_svg([1, 0, 0, 3, 0, 0, 0, 0, 2, 4], "Scores <Final> & more"))
    assert svg.count('<rect class="chart-bar"') == 10
    assert "Scores &lt;Final&gt; &amp; more" in svg
    assert "style=" not in svg and "<script" not in svg
    assert 'role="img"' in svg and "10 first attempts" in svg
    # The tallest bar (4) is drawn against a round axis maximum of 5.
    assert ">5</text>" in svg
    assert bin_labels(10)[0] == "0–9%" and bin_labels(10)[-1] == "90–100%"
