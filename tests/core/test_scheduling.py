"""The daily schedule (DST-correct) and the once-per-hour manual-sync limit."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.connections.schedule import (
    ensure_manual_sync_allowed,
    is_due,
    manual_sync_allowed,
    manual_sync_refusal,
    next_scheduled_sync,
    parse_sync_time,
    scheduled_occurrence,
)
from core.errors import ConfigurationError, SyncRefused

NEW_YORK = ZoneInfo("America/New_York")
SPRING_FORWARD = date(2026, 3, 8)  # 02:00 EST -> 03:00 EDT
FALL_BACK = date(2026, 11, 1)  # 02:00 EDT -> 01:00 EST


def local(day: date, hour: int, minute: int = 0, zone: ZoneInfo = NEW_YORK) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)


def run_scheduler(
    zone: ZoneInfo, sync_time: str, start: datetime, steps: list[timedelta]
) -> list[datetime]:
    """Poll ``is_due`` at start + each step in turn; a due poll runs a sync. Returns runs."""
    last_sync = now = start.astimezone(UTC)  # absolute time: aware local + timedelta is wall time
    runs: list[datetime] = []
    for step in steps:
        now += step
        if is_due(zone, sync_time, last_sync, now):
            runs.append(now)
            last_sync = now
    return runs


# ----------------------------------------------------------------------------- sync time


@pytest.mark.parametrize("text", ["2:00", "02:00", "23:59", "00:00"])
def test_sync_time_accepts_24_hour_clock(text: str) -> None:
    assert parse_sync_time(text).strftime("%H:%M") == text.zfill(5)


def test_sync_time_defaults_to_two_in_the_morning() -> None:
    assert parse_sync_time(None).strftime("%H:%M") == "02:00"


@pytest.mark.parametrize("text", ["24:00", "2", "02:60", "two", "02:00pm", "-1:00"])
def test_sync_time_refuses_what_is_not_a_time_of_day(text: str) -> None:
    with pytest.raises(ConfigurationError, match="HH:MM"):
        parse_sync_time(text)


# ----------------------------------------------------------------------------- schedule


def test_next_sync_is_todays_local_time_when_not_yet_passed() -> None:
    zone = ZoneInfo("Asia/Singapore")
    last = local(date(2026, 5, 4), 2, 5, zone)
    now = local(date(2026, 5, 4), 20, 0, zone)
    assert next_scheduled_sync(zone, "02:00", last, now) == local(date(2026, 5, 5), 2, 0, zone)
    assert not is_due(zone, "02:00", last, now)
    assert is_due(zone, "02:00", last, local(date(2026, 5, 5), 2, 0, zone))


def test_a_sync_before_the_daily_time_does_not_replace_it() -> None:
    zone = ZoneInfo("Asia/Singapore")
    manual = local(date(2026, 5, 4), 1, 30, zone)
    assert next_scheduled_sync(zone, "02:00", manual, manual) == local(date(2026, 5, 4), 2, 0, zone)


def test_after_downtime_one_sync_catches_up_not_one_per_missed_day() -> None:
    last = local(date(2026, 5, 1), 2, 0)
    back_up = timedelta(days=7, hours=7)  # the host was down until May 8, 09:00
    runs = run_scheduler(NEW_YORK, "02:00", last, [back_up] + [timedelta(minutes=15)] * 96)
    assert runs == [local(date(2026, 5, 8), 9, 0), local(date(2026, 5, 9), 2, 0)]


def test_a_connection_that_never_synced_is_due_at_once() -> None:
    now = datetime(2026, 5, 1, 12, tzinfo=UTC)
    assert is_due("UTC", None, None, now)
    assert next_scheduled_sync("UTC", None, None, now) == now


def test_spring_forward_two_oclock_runs_once_at_three_daylight_time() -> None:
    occurrence = scheduled_occurrence(NEW_YORK, "02:00", SPRING_FORWARD)
    assert occurrence.astimezone(NEW_YORK) == local(SPRING_FORWARD, 3, 0)
    assert occurrence.astimezone(NEW_YORK).utcoffset() == timedelta(hours=-4)
    start = local(SPRING_FORWARD - timedelta(days=1), 12, 0)
    runs = run_scheduler(NEW_YORK, "02:00", start, [timedelta(minutes=10)] * (6 * 48))
    run_days = Counter(run.astimezone(NEW_YORK).date() for run in runs)
    assert run_days[SPRING_FORWARD] == 1
    assert sorted(run_days.values()) == [1, 1]


def test_fall_back_repeated_hour_runs_once_at_its_first_occurrence() -> None:
    occurrence = scheduled_occurrence(NEW_YORK, "01:30", FALL_BACK)
    assert occurrence == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 EDT
    start = local(FALL_BACK - timedelta(days=1), 12, 0)
    runs = run_scheduler(NEW_YORK, "01:30", start, [timedelta(minutes=10)] * (6 * 48))
    on_the_day = [run for run in runs if run.astimezone(NEW_YORK).date() == FALL_BACK]
    assert on_the_day == [occurrence]


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        is_due("UTC", "02:00", datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2))


# ----------------------------------------------------------------------------- properties

DST_ZONES = ["America/New_York", "Europe/London", "Australia/Sydney", "Asia/Singapore", "UTC"]
sync_times = st.builds(
    lambda hour, minute: f"{hour:02d}:{minute:02d}",
    st.integers(0, 23),
    st.sampled_from([0, 1, 15, 30, 59]),
)
transition_days = st.sampled_from(
    [SPRING_FORWARD, FALL_BACK, date(2026, 3, 29), date(2026, 10, 25), date(2026, 4, 5)]
)


@given(
    zone_name=st.sampled_from(DST_ZONES),
    sync_time=sync_times,
    around=transition_days,
    start_offset=st.integers(0, 24 * 60),
    steps=st.lists(st.integers(1, 180), min_size=40, max_size=80),
)
def test_every_local_day_syncs_exactly_once_whatever_the_polling(
    zone_name: str, sync_time: str, around: date, start_offset: int, steps: list[int]
) -> None:
    zone = ZoneInfo(zone_name)
    midnight = local(around - timedelta(days=2), 0, 0, zone).astimezone(UTC)
    start = midnight + timedelta(minutes=start_offset)
    deltas = [timedelta(minutes=m) for m in steps]
    runs = run_scheduler(zone, sync_time, start, deltas)
    end = start + sum(deltas, timedelta())
    # Every run is the first poll at or after one day's occurrence, and no day runs twice.
    day = start.astimezone(zone).date() - timedelta(days=1)
    expected: list[datetime] = []
    polls = [start + sum(deltas[: i + 1], timedelta()) for i in range(len(deltas))]
    while (occurrence := scheduled_occurrence(zone, sync_time, day)) <= end:
        if occurrence > start:
            first_poll = next(p for p in polls if p >= occurrence)
            if not expected or first_poll != expected[-1]:
                expected.append(first_poll)
        day += timedelta(days=1)
    assert runs == expected


@given(sync_time=sync_times, around=transition_days)
def test_occurrences_move_forward_one_per_local_day(sync_time: str, around: date) -> None:
    days = [around + timedelta(days=offset) for offset in range(-2, 3)]
    occurrences = [scheduled_occurrence(NEW_YORK, sync_time, day) for day in days]
    assert occurrences == sorted(set(occurrences))
    for day, occurrence in zip(days, occurrences, strict=True):
        assert occurrence.astimezone(NEW_YORK).date() == day
        wall = local(day, *map(int, sync_time.split(":"))).replace(tzinfo=None)
        shift = occurrence.astimezone(NEW_YORK).replace(tzinfo=None) - wall
        assert shift in (timedelta(0), timedelta(hours=1))  # only a skipped hour shifts it


# ----------------------------------------------------------------------------- manual sync


def test_manual_sync_allowed_when_never_run_or_an_hour_has_passed() -> None:
    now = datetime(2026, 5, 1, 12, tzinfo=UTC)
    assert manual_sync_allowed(None, now) == (True, None)
    assert manual_sync_allowed(now - timedelta(hours=1), now) == (True, None)


def test_manual_sync_refused_inside_the_hour_says_when() -> None:
    now = datetime(2026, 5, 1, 12, 0, 30, tzinfo=UTC)
    allowed, next_allowed = manual_sync_allowed(now - timedelta(minutes=20), now)
    assert not allowed
    assert next_allowed == datetime(2026, 5, 1, 12, 40, 30, tzinfo=UTC)
    text = manual_sync_refusal(next_allowed, now, "Asia/Singapore")
    assert text == (
        "Manual sync is allowed once per hour; the next is allowed at 20:40 +08 "
        "(in 40 min). Use --force to override."
    )


def test_refusal_names_the_date_when_the_next_is_tomorrow_locally() -> None:
    now = datetime(2026, 5, 1, 3, 50, tzinfo=UTC)  # 23:50 EDT
    text = manual_sync_refusal(now + timedelta(minutes=30), now, NEW_YORK)
    assert "allowed at 2026-05-01 00:20 EDT (in 30 min)" in text


def test_refusal_rounds_seconds_up_to_a_whole_minute() -> None:
    now = datetime(2026, 5, 1, 12, tzinfo=UTC)
    assert "(in 1 min)" in manual_sync_refusal(now + timedelta(seconds=5), now, "UTC")


def test_ensure_manual_sync_raises_the_refusal_and_force_overrides() -> None:
    now = datetime(2026, 5, 1, 12, tzinfo=UTC)
    last = now - timedelta(minutes=59)
    with pytest.raises(SyncRefused) as refused:
        ensure_manual_sync_allowed(last, now, "UTC")
    assert str(refused.value) == manual_sync_refusal(last + timedelta(hours=1), now, "UTC")
    assert refused.value.hint == "Use --force to override."
    ensure_manual_sync_allowed(last, now, "UTC", force=True)
    ensure_manual_sync_allowed(last, now + timedelta(minutes=1), "UTC")


@given(
    minutes_ago=st.integers(0, 180),
    seconds=st.integers(0, 59),
)
def test_manual_sync_at_most_once_per_hour(minutes_ago: int, seconds: int) -> None:
    now = datetime(2026, 5, 1, 12, tzinfo=UTC)
    last = now - timedelta(minutes=minutes_ago, seconds=seconds)
    allowed, next_allowed = manual_sync_allowed(last, now)
    assert allowed == (now - last >= timedelta(hours=1))
    if not allowed:
        assert next_allowed == last + timedelta(hours=1)
        assert next_allowed > now
