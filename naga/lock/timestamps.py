"""ISO 8601 timestamps, read the same way on every Python naga supports.

run.lock files edited by hand or written by other tools use ``Z``, fewer fraction digits
or the basic format, which ``datetime.fromisoformat`` reads only from Python 3.11 on; this
parser accepts the forms 3.11's does and gives the same result, on every version.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

_FRACTION = r"(?:[.,](?P<{}>\d+))?"
_DATE = (
    r"(?P<year>\d{4})(?:"
    r"-(?P<month>\d{2})-(?P<day>\d{2})"
    r"|(?P<month_b>\d{2})(?P<day_b>\d{2})"
    r"|-W(?P<week>\d{2})(?:-(?P<weekday>\d))?"
    r"|W(?P<week_b>\d{2})(?P<weekday_b>\d)?"
    r")"
)
_TIME = (
    r"(?P<hour>\d{2})(?:"
    r":(?P<minute>\d{2})(?::(?P<second>\d{2})" + _FRACTION.format("fraction") + r")?"
    r"|(?P<minute_b>\d{2})(?:(?P<second_b>\d{2})" + _FRACTION.format("fraction_b") + r")?"
    r")?"
)
_OFFSET = (
    r"(?P<utc>Z)|(?P<sign>[+-])(?P<off_h>\d{2})(?:"
    r":(?P<off_m>\d{2})(?::(?P<off_s>\d{2})" + _FRACTION.format("off_f") + r")?"
    r"|(?P<off_m_b>\d{2})(?:(?P<off_s_b>\d{2})" + _FRACTION.format("off_f_b") + r")?"
    r")?"
)
# A date, then optionally any one non-digit separator (usually "T" or a space), a time and
# an offset, which may follow a space as in git's "2026-11-21 08:30:00 +0200".
_TIMESTAMP = re.compile(_DATE + r"(?:[^\d]" + _TIME + r"(?: ?(?:" + _OFFSET + r"))?)?", re.ASCII)


def parse_timestamp(text: str) -> datetime:
    """Parse an ISO 8601 date or date and time, as Python 3.11's ``fromisoformat`` does.

    Accepted: calendar dates (``2026-11-21``, ``20261121``) and week dates
    (``2026-W47-6``, ``2026W476``); a time after any one separator, to the hour, minute or
    second, with a fraction of any length (``.`` or ``,``; digits past microseconds are
    dropped), in the extended (``08:30:00``) or basic (``083000``) format; an offset
    ``Z``, ``±HH``, ``±HH:MM``, ``±HH:MM:SS[.ffffff]`` or their basic forms, after an
    optional space.

    Returns:
        A datetime, aware when ``text`` has an offset.

    Raises:
        ValueError: ``text`` is not such a timestamp, or names an impossible date or time.
    """
    match = _TIMESTAMP.fullmatch(text)
    if match is None:
        raise ValueError(f"invalid ISO 8601 timestamp: {text!r}")
    part = match.groupdict()

    def first(*names: str) -> int:
        return next((int(part[name]) for name in names if part[name] is not None), 0)

    year = int(part["year"])
    if part["week"] is not None or part["week_b"] is not None:
        weekday = part["weekday"] or part["weekday_b"] or "1"  # a week alone means its Monday
        day = date.fromisocalendar(year, first("week", "week_b"), int(weekday))
    else:
        day = date(year, first("month", "month_b"), first("day", "day_b"))
    tzinfo = None
    if part["utc"] is not None:
        tzinfo = timezone.utc
    elif part["sign"] is not None:
        offset = timedelta(
            hours=int(part["off_h"]),
            minutes=first("off_m", "off_m_b"),
            seconds=first("off_s", "off_s_b"),
            microseconds=_micros(part["off_f"] or part["off_f_b"]),
        )
        tzinfo = timezone(-offset if part["sign"] == "-" else offset)
    return datetime(
        day.year,
        day.month,
        day.day,
        first("hour"),
        first("minute", "minute_b"),
        first("second", "second_b"),
        _micros(part["fraction"] or part["fraction_b"]),
        tzinfo=tzinfo,
    )


def _micros(fraction: str | None) -> int:
    """Microseconds of a fraction's digits: ``"5"`` -> 500000; digits past six are dropped."""
    return int(fraction[:6].ljust(6, "0")) if fraction else 0
