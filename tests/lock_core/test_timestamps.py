"""ISO 8601 timestamps parse alike on every Python: Python 3.11's forms, on 3.10 too."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from naga.lock.record import iso
from naga.lock.timestamps import parse_timestamp

PLUS_2 = timezone(timedelta(hours=2))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # naga's own form, which every version's fromisoformat reads
        (
            "2026-11-21T06:30:00.123456+00:00",
            datetime(2026, 11, 21, 6, 30, 0, 123456, timezone.utc),
        ),
        # forms only Python 3.11's fromisoformat reads
        ("2026-11-21T08:30:00.5+02:00", datetime(2026, 11, 21, 8, 30, 0, 500000, PLUS_2)),
        ("2026-11-21T06:30:00Z", datetime(2026, 11, 21, 6, 30, tzinfo=timezone.utc)),
        ("2026-11-21T06:30Z", datetime(2026, 11, 21, 6, 30, tzinfo=timezone.utc)),
        ("20261121T083000+0200", datetime(2026, 11, 21, 8, 30, tzinfo=PLUS_2)),
        ("2026-11-21T08:30:00+02", datetime(2026, 11, 21, 8, 30, tzinfo=PLUS_2)),
        ("2026-11-21 08:30:00 +0200", datetime(2026, 11, 21, 8, 30, tzinfo=PLUS_2)),  # git
        ("2026-11-21T08:30:00,25", datetime(2026, 11, 21, 8, 30, 0, 250000)),
        ("2026-11-21T08:30:00.123456789", datetime(2026, 11, 21, 8, 30, 0, 123456)),
        ("2026-11-21T0830", datetime(2026, 11, 21, 8, 30)),
        ("2026-W47-6", datetime(2026, 11, 21)),
        ("2026W476T08", datetime(2026, 11, 21, 8)),
        ("2026-W01", datetime(2025, 12, 29)),
        (
            "2026-11-21T08:30:00-02:30:15.5",
            datetime(
                2026, 11, 21, 8, 30, tzinfo=timezone(-timedelta(hours=2, minutes=30, seconds=15.5))
            ),
        ),
        ("2026-11-21", datetime(2026, 11, 21)),
    ],
)
def test_parses_the_forms_of_python_3_11(text: str, expected: datetime) -> None:
    parsed = parse_timestamp(text)
    assert parsed == expected
    assert parsed.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize(
    "text",
    [
        "",
        "yesterday",
        " 2026-11-21",
        "2026-11-21T",
        "2026-1121",
        "2026-11-21T08:3000",
        "2026-11-21T08:30:00.",
        "2026-11-21T08:30:00+",
        "2026-11-21Z",
        "\u0662\u0660\u0662\u0666-11-21",  # Arabic-Indic digits are not ISO 8601 digits
    ],
)
def test_rejects_what_is_not_a_timestamp(text: str) -> None:
    with pytest.raises(ValueError, match="invalid ISO 8601 timestamp: "):
        parse_timestamp(text)


@pytest.mark.parametrize(
    "text",
    ["2026-11-21T24:00:00", "2026-02-30", "2026-W01-0", "2026-W54", "2026-11-21T08:30:00+24:00"],
)
def test_rejects_impossible_dates_and_times(text: str) -> None:
    with pytest.raises(ValueError, match=r"must be|out of range|Invalid|strictly between"):
        parse_timestamp(text)


offsets = st.integers(-(24 * 3600 - 1), 24 * 3600 - 1).map(lambda s: timezone(timedelta(seconds=s)))


@given(moment=st.datetimes(timezones=st.none() | offsets))
def test_reads_back_what_isoformat_writes(moment: datetime) -> None:
    assert parse_timestamp(moment.isoformat()) == moment
    assert parse_timestamp(moment.isoformat(" ", "milliseconds")) == moment.replace(
        microsecond=moment.microsecond // 1000 * 1000
    )
    if moment.tzinfo is not None:
        assert parse_timestamp(iso(moment) or "") == moment


@st.composite
def iso_texts(draw: st.DrawFn) -> str:
    """Timestamps in the forms Python 3.11's fromisoformat documents, basic or extended."""
    moment = draw(st.datetimes(min_value=datetime(1, 1, 8), max_value=datetime(9999, 12, 24)))
    basic = draw(st.booleans())
    dash, colon = ("", "") if basic else ("-", ":")
    if draw(st.booleans()):
        year, week, weekday = moment.isocalendar()
        text = f"{year:04d}{dash}W{week:02d}"
        if draw(st.booleans()):
            text += f"{dash}{weekday}"
    else:
        text = f"{moment.year:04d}{dash}{moment.month:02d}{dash}{moment.day:02d}"
    precision = draw(st.sampled_from(["date", "hour", "minute", "second", "fraction"]))
    if precision == "date":
        return text
    text += draw(st.sampled_from("T t"))
    text += f"{moment.hour:02d}"
    if precision != "hour":
        text += f"{colon}{moment.minute:02d}"
    if precision in ("second", "fraction"):
        text += f"{colon}{moment.second:02d}"
    if precision == "fraction":
        text += draw(st.sampled_from(".,")) + draw(st.text("0123456789", min_size=1, max_size=9))
    offset = draw(st.none() | st.just("Z") | st.integers(-(24 * 60 - 1), 24 * 60 - 1))
    if isinstance(offset, int):
        hours, minutes = divmod(abs(offset), 60)
        text += ("-" if offset < 0 else "+") + f"{hours:02d}"
        if minutes or draw(st.booleans()):
            text += f"{colon}{minutes:02d}"
    elif offset is not None:
        text += offset
    return text


@pytest.mark.skipif(sys.version_info < (3, 11), reason="compares with 3.11's fromisoformat")
@given(text=iso_texts())
def test_agrees_with_python_3_11(text: str) -> None:
    expected = datetime.fromisoformat(text)
    parsed = parse_timestamp(text)
    assert parsed == expected
    assert parsed.utcoffset() == expected.utcoffset()
