"""Times and counts in the short forms the interface shows."""

from __future__ import annotations

from datetime import datetime, timedelta


def relative_time(moment: datetime | None, now: datetime) -> str:
    """'just now', '5m ago', '3h ago', '2d ago', then the date: short enough for a sidebar row."""
    if moment is None:
        return ""
    age = now - moment
    if age < timedelta(minutes=1):
        # A moment in the future (a clock skew, a fixed test clock) reads as now too.
        return "just now"
    if age < timedelta(hours=1):
        return f"{int(age.total_seconds() // 60)}m ago"
    if age < timedelta(days=1):
        return f"{int(age.total_seconds() // 3600)}h ago"
    if age < timedelta(days=7):
        return f"{age.days}d ago"
    return moment.astimezone().strftime("%Y-%m-%d")


def message_time(moment: datetime | None, now: datetime) -> str:
    """A message header's time: the clock time today, the date and time before."""
    if moment is None:
        return ""
    # Shown in the local time zone; the store keeps UTC.
    local = moment.astimezone()
    if local.date() == now.astimezone().date():
        return local.strftime("%H:%M")
    return local.strftime("%Y-%m-%d %H:%M")


def count(number: int | None) -> str:
    """1234 -> '1,234'; 1_250_000 -> '1.2M'."""
    number = number or 0
    if number >= 1_000_000:
        return f"{number / 1_000_000:.1f}M"
    return f"{number:,}"
