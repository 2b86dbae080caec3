"""Reads of tubes and of a station's state, shared by the station page and the API; every one
through the scope."""

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from bastion.core.scope import VIEW, seen_through_q
from bastion.geo.identity import mask_id_number
from bastion.geo.models import Resident
from bastion.testing.rounds.models import (
    Shift,
    Station,
)
from bastion.testing.rounds.queries import EpochSlot, one_or_404
from bastion.testing.scans.codes import barcode_text, resident_code
from bastion.testing.scans.models import Scan, Tube, TubeStatus

# ------------------------------------------------------------------------------------ tubes


def tubes_for(user) -> QuerySet[Tube]:
    """Tubes the user may see: opened at a station in their scope, or holding a scan of
    someone in it."""
    return Tube.objects.filter(seen_through_q(user, VIEW, Scan.objects.all(), link="tube"))


def tube_for(user, pk: int) -> Tube:
    return one_or_404(
        tubes_for(user).select_related("round", "round__node", "station", "station__site"), pk=pk
    )


def tube_by_barcode(user, barcode: str) -> Tube:
    return one_or_404(
        tubes_for(user).select_related("round", "station", "station__site"),
        barcode=barcode_text(barcode),
    )


# ---------------------------------------------------------------------------------- station


@dataclass
class StationState:
    station: Station
    shift: Shift | None
    tubes: list[Tube]  # open tubes, newest first
    recent: list[Scan]
    per_hour: list[tuple[dt.datetime, int]]
    today: int
    manual: int = 0  # of today's, entered by hand


def station_state(station: Station, *, recent: int = 10) -> StationState:
    """What a station's page shows: its open shift, open tubes with their fill, the last
    scans and counts per hour of the current shift."""
    shift = (
        Shift.objects.filter(station=station, closed_at__isnull=True)
        .select_related("round")
        .first()
    )
    tubes = list(
        Tube.objects.filter(station=station, status=TubeStatus.OPEN).order_by("-opened_at", "-pk")
    )
    last = (
        list(
            Scan.objects.filter(station_id=station.pk)
            .select_related("tube", "resident", "walk_in")
            .order_by("-recorded_at", "-pk")[:recent]
        )
        if shift
        else []
    )
    per_hour: list[tuple[dt.datetime, int]] = []
    today = 0
    if shift:
        counts: dict[dt.datetime, int] = defaultdict(int)
        for row in (
            Scan.objects.filter(
                round_id=shift.round_id,
                station_id=station.pk,
                at__gte=shift.opened_at - dt.timedelta(minutes=10),
            )
            .annotate(slot=EpochSlot("at", width=3600))
            .values("slot")
            .annotate(n=Count("id"))
        ):
            hour = dt.datetime.fromtimestamp(int(row["slot"]) * 3600, tz=dt.UTC)
            counts[hour] += row["n"]
        per_hour = sorted(counts.items())
        today = sum(counts.values())
        manual = Scan.objects.filter(
            round_id=shift.round_id,
            station_id=station.pk,
            at__gte=shift.opened_at - dt.timedelta(minutes=10),
            manual=True,
        ).count()
        return StationState(station, shift, tubes, last, per_hour, today, manual)
    return StationState(station, shift, tubes, last, per_hour, today)


PEOPLE_FOUND = 20


def station_people(user, station: Station, text: str) -> list[dict]:
    """Manual entry at a station: residents of its round's area (and in the user's scope)
    whose document number is `text` or whose name contains it, then the children recorded
    under them as guardian; at most PEOPLE_FOUND."""
    shift = Shift.objects.filter(station=station, closed_at__isnull=True).select_related(
        "round__node"
    )
    shift = shift.first()
    text = (text or "").strip()
    if shift is None or len(text) < 1:
        return []
    node = shift.round.node
    area = Resident.objects.restrict(user, "view").filter(**{f"{node.level}_id": node.pk})
    number = re.sub(r"\s", "", text).upper()
    exact = Q(name=text) | Q(id_number=number) | Q(doc_number=number)
    found = list(
        area.filter(exact | Q(name__contains=text))
        .select_related("household", "guardian")
        .order_by("name", "pk")[: PEOPLE_FOUND * 5]
    )
    found.sort(key=lambda r: r.name != text and number not in (r.id_number, r.doc_number))
    found = found[:PEOPLE_FOUND]
    wards: dict[int, list[Resident]] = defaultdict(list)
    shown = {r.pk for r in found}
    for ward in (
        area.filter(guardian__in=found)
        .select_related("household", "guardian")
        .order_by("name", "pk")[:PEOPLE_FOUND]
    ):
        if ward.pk not in shown:
            wards[ward.guardian_id].append(ward)
    people = [p for r in found for p in (r, *wards[r.pk])]
    sampled = set(
        Scan.objects.filter(
            round_id=shift.round_id,
            resident_id__in=[r.pk for r in people],
            voided_at__isnull=True,
            retest=False,
        ).values_list("resident_id", flat=True)
    )
    return [
        {
            "resident_id": r.pk,
            "name": r.name,
            "code": resident_code(r.pk),
            "document": mask_id_number(r.document_number) or r.get_doc_kind_display(),
            "room": f"{r.household.room}",
            "guardian": r.guardian.name if r.guardian_id else "",
            "sampled": r.pk in sampled,
        }
        for r in people
    ]
