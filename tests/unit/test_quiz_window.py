"""A quiz's open/close window as pure rules over fixed times (no app, no clock)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from lms.quizzes.window import (
    Window,
    capped_deadline,
    closed_by_window,
    closed_reason,
    in_words,
    moment,
    quiz_window,
)

BERLIN = ZoneInfo("Europe/Berlin")


def test_a_time_with_an_offset_is_that_instant_whatever_the_site_zone():
    assert moment("2026-12-01T09:00:00+01:00", BERLIN) == datetime(2026, 12, 1, 8, 0)
    assert moment("2026-12-01T09:00:00+01:00", UTC) == datetime(2026, 12, 1, 8, 0)
    assert moment("2026-12-01T09:00:00+00:00", BERLIN) == datetime(2026, 12, 1, 9, 0)


def test_a_time_without_an_offset_is_read_in_the_site_zone_daylight_saving_included():
    assert moment("2026-12-01T09:00:00", BERLIN) == datetime(2026, 12, 1, 8, 0)  # CET, UTC+1
    assert moment("2026-07-01T09:00:00", BERLIN) == datetime(2026, 7, 1, 7, 0)  # CEST, UTC+2
    assert moment("2026-12-01T09:00:00", UTC) == datetime(2026, 12, 1, 9, 0)
    assert moment("", BERLIN) is None


def test_quiz_window_reads_the_stored_settings_and_old_quizzes_have_none():
    settings = {"opens_at": "2026-12-01T09:00:00", "closes_at": "2026-12-08T17:00:00Z", "pass_mark": 80}
    assert quiz_window(settings, BERLIN) == Window(datetime(2026, 12, 1, 8), datetime(2026, 12, 8, 17))
    assert quiz_window({"pass_mark": 80}, BERLIN) == Window()
    assert not Window().bounded


WINDOW = Window(datetime(2026, 12, 1, 8, 0), datetime(2026, 12, 8, 16, 0))  # 09:00 to 17:00 in Berlin


@pytest.mark.parametrize(
    ("now", "reason"),
    [
        (datetime(2026, 12, 1, 7, 59, 59), "This quiz opens on Tuesday 1 December 2026 at 09:00 CET."),
        (datetime(2026, 12, 1, 8, 0), None),
        (datetime(2026, 12, 8, 15, 59, 59), None),
        (datetime(2026, 12, 8, 16, 0), "This quiz closed on Tuesday 8 December 2026 at 17:00 CET."),
        (datetime(2027, 1, 1), "This quiz closed on"),
    ],
)
def test_no_attempt_starts_before_the_opening_or_from_the_closing(now, reason):
    found = closed_reason(WINDOW, now, BERLIN)
    if reason is None:
        assert found is None
    else:
        assert found is not None and found.startswith(reason)


def test_only_one_bound_and_no_bound():
    assert closed_reason(Window(opens=datetime(2026, 12, 1)), datetime(2030, 1, 1), BERLIN) is None
    assert closed_reason(Window(closes=datetime(2026, 12, 1)), datetime(2000, 1, 1), BERLIN) is None
    assert closed_reason(Window(), datetime(2026, 12, 1), BERLIN) is None


def test_the_closing_time_caps_a_deadline_and_stands_in_for_a_missing_one():
    closes = WINDOW.closes
    assert capped_deadline(None, WINDOW) == closes  # an untimed attempt ends when the quiz closes
    assert capped_deadline(datetime(2026, 12, 8, 17, 0), WINDOW) == closes  # time limit past the close
    assert capped_deadline(datetime(2026, 12, 8, 15, 0), WINDOW) == datetime(2026, 12, 8, 15, 0)
    assert capped_deadline(None, Window()) is None
    assert capped_deadline(datetime(2026, 12, 8, 17, 0), Window()) == datetime(2026, 12, 8, 17, 0)
    assert closed_by_window(closes, WINDOW) and not closed_by_window(datetime(2026, 12, 8, 15), WINDOW)


def test_times_are_written_out_in_the_site_zone():
    assert in_words(datetime(2026, 7, 1, 7, 5), BERLIN) == "Wednesday 1 July 2026 at 09:05 CEST"
    assert in_words(datetime(2026, 12, 1, 8, 0), UTC) == "Tuesday 1 December 2026 at 08:00 UTC"


def test_page_layout_clamps_the_requested_step_or_page():
    from lms.quizzes.services import page_layout

    sequential = {"navigation": "sequential"}
    assert page_layout(sequential, 5, 9, None).step == 5
    assert page_layout(sequential, 5, 0, None).step == 1
    paged = {"navigation": "one_page", "questions_per_page": 2}
    layout = page_layout(paged, 5, None, 7)
    assert (layout.step, layout.page, layout.pages, layout.per_page) == (None, 3, 3, 2)
    assert page_layout(paged, 5, None, None).page == 1
    assert page_layout({"navigation": "one_page"}, 5, None, 4) == page_layout({}, 5, None, 1)
