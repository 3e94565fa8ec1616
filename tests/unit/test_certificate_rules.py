"""Certificate rules in isolation: serials, time spent, claim eligibility, hours, states, reminders."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from lms.certificates import rules, serials


def test_serial_shape_and_check_character():
    for _ in range(200):
        s = serials.new_serial()
        assert len(s) == 16 and set(s) <= set(serials.ALPHABET)
        assert serials.parse(s).valid
        shown = serials.display(s)
        assert len(shown) == 19 and shown.count("-") == 3


def test_serial_read_leniently():
    s = serials.new_serial()
    messy = " " + serials.display(s).lower().replace("-", " - ") + " "
    assert serials.parse(messy).canonical == s
    # I and L read as 1, O as 0, as people copy them off paper.
    body = "1" + s[1:]
    if serials.parse(body).valid:
        assert serials.parse("I" + s[1:]).canonical == body
        assert serials.parse("l" + s[1:]).canonical == body
    zero = "0" + s[1:]
    if serials.parse(zero).valid:
        assert serials.parse("O" + s[1:]).canonical == zero


def test_every_single_character_typo_is_caught():
    s = serials.new_serial()
    for i in range(16):
        for ch in serials.ALPHABET:
            if ch != s[i]:
                typo = s[:i] + ch + s[i + 1 :]
                parsed = serials.parse(typo)
                assert parsed.typo and not parsed.valid, typo


def test_not_a_serial_at_all():
    assert serials.parse("hello").canonical == ""
    assert not serials.parse("hello").typo
    assert not serials.parse("U" * 16).valid  # U is not in Crockford's alphabet


def test_known_check_character():
    # Luhn mod 32 worked by hand for "1": factor 2 → 2; check = (32 - 2) % 32 = 30 → "Y".
    assert serials.check_character("1") == "Y"
    assert serials.check_character("0") == "0"


def test_time_spent_caps_each_gap():
    t = datetime(2026, 11, 20, 9, 0)
    stamps = [t, t + timedelta(minutes=10), t + timedelta(minutes=25), t + timedelta(hours=5)]
    assert rules.time_spent_minutes(stamps) == 10 + 15 + 30
    assert rules.time_spent_minutes([]) == 0
    assert rules.time_spent_minutes([t]) == 0
    assert rules.time_spent_minutes(reversed(stamps)) == 55  # order does not matter


def _facts(**kw):
    base = dict(
        complete=True,
        missing=[],
        email_confirmed=True,
        release=date(2026, 1, 1),
        termination=date(2027, 12, 31),
        completed_on=date(2026, 11, 20),
        today=date(2026, 12, 1),
        min_minutes=0,
        minutes_spent=60,
        open_claim=False,
    )
    base.update(kw)
    return rules.ClaimFacts(**base)


def test_claim_blockers():
    assert rules.claim_blockers(_facts()) == []
    assert rules.claim_blockers(_facts(complete=False, missing=["Final"])) == ["Still to do: Final."]
    assert "opens for credit" in rules.claim_blockers(_facts(today=date(2025, 12, 31)))[0]
    assert "already claimed" in rules.claim_blockers(_facts(open_claim=True))[0]
    assert "Confirm your email" in rules.claim_blockers(_facts(email_confirmed=False))[0]
    assert "minutes of recorded activity" in rules.claim_blockers(_facts(min_minutes=90))[0]


def test_claim_after_termination_only_for_earlier_completions():
    after = date(2028, 1, 10)
    assert rules.claim_blockers(_facts(today=after, completed_on=date(2027, 12, 30))) == []
    assert "closed for credit" in rules.claim_blockers(_facts(today=after, completed_on=date(2028, 1, 2)))[0]
    assert rules.closed_for_credit(date(2026, 1, 1), date(2027, 12, 31), after)
    assert not rules.closed_for_credit(date(2026, 1, 1), date(2027, 12, 31), date(2027, 12, 31))


@pytest.mark.parametrize(
    ("hours", "ok"), [(0.25, True), (2.0, True), (1.75, True), (0, False), (2.25, False), (1.1, False)]
)
def test_hours_steps(hours, ok):
    assert (rules.hours_problem(hours, 2.0) is None) is ok


def test_over_time_flag():
    assert rules.over_recorded_time(2.0, 119)
    assert not rules.over_recorded_time(2.0, 120)


def test_states_from_dates():
    exp = date(2028, 11, 20)
    assert rules.certificate_state(False, False, exp, date(2028, 9, 20)) == "valid"
    assert rules.certificate_state(False, False, exp, date(2028, 9, 21)) == "expiring soon"
    assert rules.certificate_state(False, False, exp, exp) == "expired"
    assert rules.certificate_state(True, False, exp, date(2027, 1, 1)) == "revoked"
    assert rules.certificate_state(False, True, exp, date(2027, 1, 1)) == "superseded"
    assert rules.certificate_state(False, False, None, date(2099, 1, 1)) == "valid"


def test_expiry_and_month_ends():
    assert rules.expiry_date(date(2026, 11, 20), 24) == date(2028, 11, 20)
    assert rules.add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert rules.expiry_date(date(2026, 11, 20), 0) is None


def test_reminders_due_once_per_threshold():
    exp = date(2028, 11, 20)
    assert rules.reminders_due(exp, date(2028, 9, 20), []) == []
    assert rules.reminders_due(exp, date(2028, 9, 21), []) == [60]
    assert rules.reminders_due(exp, date(2028, 9, 22), [60]) == []
    assert rules.reminders_due(exp, date(2028, 11, 6), [60]) == [14]
    assert rules.reminders_due(exp, date(2028, 11, 10), []) == [60, 14]
    assert rules.reminders_due(exp, exp, []) == []
