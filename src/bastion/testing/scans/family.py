"""The family code: one printed code per household. Scanned at a station, it samples every
member of the household who is at home and not yet sampled in the round into the tube.

Capacity rule (chosen): a household goes into one tube whole or not at all. If the tube has
no room for everyone still to sample, nobody is taken and the crew is told who is waiting and
how much room there is, so they open a new tube and scan the family code again. Splitting a
household over two tubes would make a positive pool's traceback cross two tubes for people
who share a flat, and in sealed areas the rule is one tube per household anyway.

Each member's scan is an ordinary scan (one row per person) under a client id derived from
the family scan's client id and the member, so sending the family scan again is a no-op.
"""

import uuid
from collections.abc import Sequence
from dataclasses import replace

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from bastion.core.errors import DomainError
from bastion.geo.models import Household, Presence, Resident
from bastion.testing.scans import batch, codes, shifts
from bastion.testing.scans.codes import is_family_code, read_scanned, resident_code
from bastion.testing.scans.models import Scan, Tube, TubeStatus
from bastion.testing.scans.shown import person_shown

FAMILY_KIND = "family"


class _TakeNone(Exception):
    def __init__(self, results: list[batch.ScanOutcome]):
        self.results = results


def member_client_id(family_client_id: uuid.UUID, resident_id: int) -> uuid.UUID:
    return uuid.uuid5(family_client_id, f"member:{resident_id}")


def scans_with_families(
    *, actor, station, items: Sequence[batch.ScanInput], source: str = "api"
) -> list[batch.ScanOutcome]:
    """A batch holding family codes, in order: the plain scans between them as runs through
    `batch.batch_record` (one transaction per run), each family code through `family_scan`."""
    outcomes: list[batch.ScanOutcome] = []
    run: list[batch.ScanInput] = []

    def flush() -> None:
        if run:
            outcomes.extend(
                batch.batch_record(actor=actor, station=station, items=run, source=source)
            )
            run.clear()

    for item in items:
        if is_family_code(item.code):
            flush()
            outcomes.append(family_scan(actor=actor, station=station, item=item, source=source))
        else:
            run.append(item)
    flush()
    return outcomes


def _free(item: batch.ScanInput, round_) -> int | None:
    """Room left in the scanned tube (a new one: the round's pool size); None when the tube
    cannot take scans here at all (the member scans then say why)."""
    try:
        barcode = codes.normalise_barcode(item.tube)
    except DomainError:
        return None
    tube = Tube.objects.filter(barcode=barcode).first()
    if tube is None:
        return 1 if item.single else round_.pool_size
    if tube.status != TubeStatus.OPEN:
        return None
    return tube.capacity - tube.filled


def family_scan(*, actor, station, item: batch.ScanInput, source: str = "api") -> batch.ScanOutcome:
    """Sample the household of a family code into `item.tube`: all who are still to sample,
    or none (see the module's capacity rule)."""

    def refused(reason: str, message: str, **extra) -> batch.ScanOutcome:
        return batch.ScanOutcome(
            client_id=item.client_id,
            status="refused",
            reason=reason,
            field="code",
            message=message,
            kind=FAMILY_KIND,
            tube=item.tube,
            **extra,
        )

    if unreadable := batch.item_unreadable(item, timezone.now()):
        return replace(unreadable, kind=FAMILY_KIND)
    household = Household.objects.filter(pk=read_scanned(item.code).household_id).first()
    if household is None:
        return refused("unknown_code", _("No household has this family code."))
    members = list(
        Resident.objects.filter(household=household, presence=Presence.HOME)
        .order_by("pk")
        .values_list("pk", "name")
    )
    # Named as every reply names a person (masked outside the actor's view).
    names = {pk: person_shown(actor, household, name=name).name for pk, name in members}
    derived = {pk: member_client_id(item.client_id, pk) for pk in names}
    stored = set(
        Scan.objects.filter(client_id__in=derived.values()).values_list("resident_id", flat=True)
    )
    shift = shifts.shift_at(station, item.at or timezone.now())
    if shift is None:
        return refused("station_closed", _("This station is not open."))
    sampled = set(
        Scan.objects.filter(
            round_id=shift.round_id,
            resident_id__in=list(names),
            voided_at__isnull=True,
            retest=False,
        ).values_list("resident_id", flat=True)
    )
    todo = [pk for pk in names if pk not in stored and pk not in sampled]
    already = [names[pk] for pk in names if pk in sampled and pk not in stored]
    if not todo and not stored:
        return refused(
            "already_sampled",
            _("Everyone at home in room %(room)s is already sampled in this round.")
            % {"room": household.room},
        )
    free = _free(item, shift.round)
    if todo and free is not None and len(todo) > free:
        return refused(
            "family_too_big",
            _(
                "Tube %(tube)s has room for %(free)s, but room %(room)s has %(n)s to sample "
                "(%(names)s): open a new tube and scan the family code again."
            )
            % {
                "tube": item.tube,
                "free": free,
                "room": household.room,
                "n": len(todo),
                "names": "、".join(names[pk] for pk in todo),
            },
        )
    sub = [
        replace(item, client_id=derived[pk], code=resident_code(pk))
        for pk in names
        if pk in stored or pk in todo
    ]
    try:
        with transaction.atomic():
            results = batch.batch_record(actor=actor, station=station, items=sub, source=source)
            if any(r.status == "refused" for r in results):
                raise _TakeNone(results)
    except _TakeNone as e:
        first = next(r for r in e.results if r.status == "refused")
        return refused(
            first.reason,
            _("Nobody of room %(room)s was taken: %(reason)s")
            % {"room": household.room, "reason": first.message},
            members=e.results,
        )
    taken = [r.name for r in results if r.status == "accepted"]
    message = _("Room %(room)s: %(n)s sampled (%(names)s).") % {
        "room": household.room,
        "n": len(results),
        "names": "、".join(r.name for r in results),
    }
    if already:
        message += " " + _("Already sampled before: %(names)s.") % {"names": "、".join(already)}
    last = results[-1]
    return batch.ScanOutcome(
        client_id=item.client_id,
        status="accepted" if taken else "replayed",
        kind=FAMILY_KIND,
        message=message,
        tube=last.tube,
        filled=last.filled,
        capacity=last.capacity,
        tube_closed=last.tube_closed,
        name=household.room,
        at=last.at,
        manual=item.manual,
        members=results,
    )
