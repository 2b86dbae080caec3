"""Shared bits of the report tests: aware moments in the project's time zone."""

import datetime as dt

from django.utils import timezone


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """`day` at `hour`:`minute` local time, aware."""
    return timezone.make_aware(
        dt.datetime.combine(day, dt.time(hour, minute)), timezone.get_default_timezone()
    )
