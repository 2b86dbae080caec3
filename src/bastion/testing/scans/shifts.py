"""Which shift of a station a scan falls in, read once per batch with the station's row."""

import datetime as dt
from collections.abc import Sequence

from django.db import (
    connection,
)
from django.utils import timezone

from bastion.core import rawsql
from bastion.geo.models import Node
from bastion.testing.rounds.models import Round, Shift, Station
from bastion.testing.rounds.services import CLOCK_SKEW, SHIFT_GRACE

# The hot path's reads are plain SQL (`core.rawsql`): the ORM spent more time compiling these
# few statements than the database spent running them.


# A shift open at some time between two moments (the parameters: the end, then the start).
_SHIFT_OPEN = "s.opened_at <= %s AND (s.closed_at IS NULL OR s.closed_at >= %s)"


# How much wider than the scans' times `station_for_scans` reads shifts: `_scans_apply` stamps
# undated scans a moment later, and any window it asks inside this one needs no second read.
_SHIFTS_MARGIN = dt.timedelta(minutes=1)


# No device scans before this; a time outside [EARLIEST, now + CLOCK_SKEW] is a broken clock
# (or a poison item: year 1 or 9999 overflows the arithmetic on times), refused by the batch.
EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def plausible(at: dt.datetime, now: dt.datetime) -> bool:
    """Whether a device's scan time can be a real one (see EARLIEST)."""
    return EARLIEST <= at <= now + CLOCK_SKEW


def _shifts_of(rows: list[list]) -> list[Shift]:
    """Shifts with their rounds and the rounds' areas, from (shift, round, node) rows."""
    shifts = []
    for shift, round_, node in rows:
        if shift.pk is None:  # a station without a shift in the window (LEFT JOIN)
            continue
        round_.node = node
        shift.round = round_
        shifts.append(shift)
    return shifts


def shifts_around(station: Station, start: dt.datetime, end: dt.datetime) -> list[Shift]:
    """The station's shifts open at some time between `start` and `end`, latest first, with
    their rounds and the rounds' areas: those read with the station when they cover it."""
    read = getattr(station, "_shifts_read", None)
    if read is not None and read[0] <= start and end <= read[1]:
        return read[2]
    stamp = connection.ops.adapt_datetimefield_value
    rows = rawsql.instances(
        f"SELECT {{columns}} FROM {rawsql.table(Shift)} s "
        f"JOIN {rawsql.table(Round)} r ON r.id = s.round_id "
        f"JOIN {rawsql.table(Node)} n ON n.id = r.node_id "
        f"WHERE s.station_id = %s AND {_SHIFT_OPEN} ORDER BY s.opened_at DESC",
        [station.pk, stamp(end), stamp(start)],
        (Shift, "s"),
        (Round, "r"),
        (Node, "n"),
    )
    return _shifts_of(rows)


def station_for_scans(pk: int, times: Sequence[dt.datetime | None]) -> Station | None:
    """A station by its id, unscoped (the caller checks the scope on the row), read in one
    statement with its shifts around the times of the scans about to be recorded there
    (None: now), which `scans_record` then takes instead of reading them again."""
    now = timezone.now()
    # Implausible times are refused scan by scan; the shifts read are around the others.
    stamped = [t for t in times if t is None or plausible(t, now)]
    stamped = [t or now for t in stamped] or [now]
    start = min(stamped) - _SHIFTS_MARGIN
    end = max(stamped) + SHIFT_GRACE + _SHIFTS_MARGIN
    stamp = connection.ops.adapt_datetimefield_value
    rows = rawsql.instances(
        f"SELECT {{columns}} FROM {rawsql.table(Station)} st "
        f"LEFT JOIN {rawsql.table(Shift)} s ON s.station_id = st.id AND {_SHIFT_OPEN} "
        f"LEFT JOIN {rawsql.table(Round)} r ON r.id = s.round_id "
        f"LEFT JOIN {rawsql.table(Node)} n ON n.id = r.node_id "
        "WHERE st.id = %s ORDER BY s.opened_at DESC",
        [stamp(end), stamp(start), pk],
        (Station, "st"),
        (Shift, "s"),
        (Round, "r"),
        (Node, "n"),
    )
    if not rows:
        return None
    station = rows[0][0]
    station._shifts_read = (start, end, _shifts_of([row[1:] for row in rows]))
    return station


def shift_among(shifts: list[Shift], at: dt.datetime) -> Shift | None:
    """The station's shift at `at`: the one whose hours hold it, else one opened a little
    after it (a device clock running behind). After a shift's close nothing counts."""
    for grace in (dt.timedelta(0), SHIFT_GRACE):
        for shift in shifts:
            if shift.opened_at - grace <= at and (shift.closed_at is None or at <= shift.closed_at):
                return shift
    return None


def shift_at(station: Station, at: dt.datetime) -> Shift | None:
    """The station's shift at `at` (see `shift_among`), with its round and the round's area."""
    return shift_among(shifts_around(station, at, at + SHIFT_GRACE), at)
