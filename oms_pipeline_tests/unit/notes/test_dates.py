"""Date extraction from notes: relative and absolute, English and German (and a little French/Spanish)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from oms_pipeline.domain.notes.dates import extract_dates, resolve_date

# Wednesday 4 March 2026, 10:00 UTC.
CREATED = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("note", "deliver_by", "hold_until"),
    [
        # English, relative
        ("need it by Friday", date(2026, 3, 6), None),
        ("must arrive by next Friday please", date(2026, 3, 6), None),
        ("needed by Wednesday", date(2026, 3, 11), None),  # same weekday means next week's
        ("please don't ship before the 12th, it's a gift", None, date(2026, 3, 12)),
        ("not before the 2nd", None, date(2026, 4, 2)),  # a day already past means next month
        ("not before next week", None, date(2026, 3, 9)),
        ("hold until next week", None, date(2026, 3, 9)),
        ("deliver in 3 days", date(2026, 3, 7), None),
        ("need it within 2 weeks", date(2026, 3, 18), None),
        ("by tomorrow please", date(2026, 3, 5), None),
        ("must arrive before Christmas", date(2026, 12, 24), None),
        ("ship after next Monday", None, date(2026, 3, 10)),
        ("arrive by end of the month", date(2026, 3, 31), None),
        ("keep it in the warehouse until the 20th", None, date(2026, 3, 20)),
        ("we're away until the 20th, then deliver by the 25th", date(2026, 3, 25), date(2026, 3, 20)),
        # English, absolute
        ("by March 20th, 2026", date(2026, 3, 20), None),
        ("deliver by 20 March", date(2026, 3, 20), None),
        ("not before 2026-04-01", None, date(2026, 4, 1)),
        ("by 3/15/2026", date(2026, 3, 15), None),
        ("by 3/15", date(2026, 3, 15), None),
        ("by Jan 10", date(2027, 1, 10), None),  # a month-day already past means next year
        # German
        ("bitte nach dem 12. liefern", None, date(2026, 3, 13)),
        ("nicht vor dem 20.03. versenden", None, date(2026, 3, 20)),
        ("bis Freitag bitte", date(2026, 3, 6), None),
        ("bis Freitag zurückhalten und dann schicken", None, date(2026, 3, 6)),
        ("Lieferung bis spätestens 15.3.", date(2026, 3, 15), None),
        ("spätestens am 10. April", date(2026, 4, 10), None),
        ("erst ab Montag liefern", None, date(2026, 3, 9)),
        ("in zwei Wochen liefern", date(2026, 3, 18), None),
        ("bitte bis Ende des Monats", date(2026, 3, 31), None),
        ("bitte vor dem 15.04.2026 liefern", date(2026, 4, 14), None),
        ("wir sind bis nächster Woche im Urlaub", None, date(2026, 3, 9)),  # "bis" + absence is a hold
        # French / Spanish
        ("pas avant le 15 mars", None, date(2026, 3, 15)),
        ("pour vendredi", date(2026, 3, 6), None),
        ("antes del 10 de abril", date(2026, 4, 9), None),
        # no dates at all
        ("Thanks! love your shop", None, None),
        ("order #1042, 3 items at $12.50", None, None),
    ],
)
def test_extract_dates(note: str, deliver_by: date | None, hold_until: date | None) -> None:
    found = extract_dates(note, CREATED)
    assert (found.deliver_by, found.hold_until) == (deliver_by, hold_until)


def test_depends_only_on_created_at_not_on_today() -> None:
    earlier = datetime(2025, 12, 30, 23, 0, tzinfo=UTC)
    assert extract_dates("need it by Friday", earlier).deliver_by == date(2026, 1, 2)
    assert extract_dates("not before the 5th", earlier).hold_until == date(2026, 1, 5)
    assert extract_dates("by 12 May", earlier).deliver_by == date(2026, 5, 12)


def test_empty_and_none() -> None:
    assert extract_dates(None, CREATED).deliver_by is None
    assert extract_dates("  ", CREATED).mentioned == ()


@pytest.mark.parametrize(
    ("expr", "english", "expected"),
    [
        ("05/04", True, date(2026, 5, 4)),  # US month/day in English notes
        ("05/04", False, date(2026, 4, 5)),  # day/month otherwise
        ("25/04", True, date(2026, 4, 25)),  # 25 cannot be a month
        ("übermorgen", False, date(2026, 3, 6)),
        ("in drei Tagen", False, date(2026, 3, 7)),
        ("Heiligabend", False, date(2026, 12, 24)),
        ("31st", True, date(2026, 3, 31)),
    ],
)
def test_resolve_date(expr: str, english: bool, expected: date) -> None:
    assert resolve_date(expr, CREATED.date(), english) == expected
