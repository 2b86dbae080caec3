"""Hand-overs of a transport box (site, transport, lab) and the lab's receipt, and the reveal of
a hand-over side's phone number."""

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from bastion.core import history
from bastion.core.errors import Conflict, DomainError, Problem
from bastion.core.privacy import personal_data_reveal
from bastion.geo.identity import normalise_mobile
from bastion.people.models import Person
from bastion.testing.custody.models import (
    Bag,
    Box,
    BoxReceipt,
    BoxStatus,
    Handover,
    HandoverLeg,
)
from bastion.testing.custody.services import barcode_read, locked_box, user_or_none
from bastion.testing.rounds.services import CLOCK_SKEW


def handover_phone_reveal(*, user, handover: Handover, side: str, via: str = "web") -> str:
    """One side's mobile in full, as given at the hand-over, logged under that side's name
    (the scope and role checks are `personal_data_reveal`'s)."""
    field = Handover.PHONE_FIELDS.get(side)
    if field is None:
        raise DomainError(_("A hand-over has two sides: from and to."), field="side")
    return personal_data_reveal(
        user=user, subject=handover, field=field, via=via, whose=handover.side_name(side)
    )


@dataclass(frozen=True)
class Party:
    """One side of a hand-over: a known person, or a name with a mobile number."""

    person: Person | None = None
    name: str = ""
    phone: str = ""


def party_of(actor) -> Party:
    """The logged-in user as a side of a hand-over: their person if linked, else their
    name."""
    person = Person.objects.filter(user=actor).first() if user_or_none(actor) else None
    if person is not None:
        return Party(person=person)
    name = (actor.get_full_name() or actor.get_username()) if user_or_none(actor) else ""
    return Party(name=name[:50])


def _party(party: Party, side: str) -> tuple[Person | None, str, str]:
    if party.person is not None:
        return party.person, party.person.name[:50], party.person.phone
    name = party.name.strip()
    if not name:
        raise DomainError(_("Name who hands over and who takes over."), field=f"{side}_name")
    phone = ""
    if party.phone.strip():
        try:
            phone = normalise_mobile(party.phone)
        except ValidationError as e:
            raise DomainError(e.messages[0], field=f"{side}_phone") from None
    return None, name[:50], phone


def _name_of(party: Party) -> str:
    return party.person.name if party.person is not None else party.name


def _after_last_handover(box: Box, at: dt.datetime) -> None:
    last = box.handovers.order_by("-at").first()
    if last is not None and at < last.at:
        raise DomainError(
            _("A hand-over cannot come before the last one (%(at)s).")
            % {"at": timezone.localtime(last.at).strftime("%m-%d %H:%M")},
            field="at",
        )


NEXT_LEGS = {  # the hand-overs a box may take next, the likeliest first
    BoxStatus.OPEN: (HandoverLeg.PICKUP,),
    BoxStatus.IN_TRANSIT: (HandoverLeg.DELIVERY, HandoverLeg.RELAY),
    BoxStatus.RECEIVED: (),
}


@transaction.atomic
def box_handover(
    *,
    actor,
    box: Box,
    leg: str,
    giver: Party,
    taker: Party,
    client_id: uuid.UUID,
    at: dt.datetime | None = None,
    source: str = "web",
) -> Handover:
    """A box passes from one person to another: picked up at the site by transport (the box
    then takes no more bags), passed between drivers, or delivered to the lab."""
    now = timezone.now()
    at = at or now
    if (found := Handover.objects.filter(client_id=client_id).first()) is not None:
        if found.box_id != box.pk:
            raise Conflict(_("This client id was already used for another box."), field="client_id")
        return found
    if leg not in HandoverLeg.values:
        raise DomainError(_("Unknown hand-over."), field="leg")
    if at > now + CLOCK_SKEW:
        raise DomainError(_("The time is in the future: check the clock."), field="at")
    box = locked_box(box)
    if leg not in NEXT_LEGS[box.status]:
        if box.status == BoxStatus.RECEIVED:
            message = _("Box %(box)s was already received by the lab.")
        elif box.status == BoxStatus.OPEN:
            message = _(
                "Box %(box)s has not been picked up yet: the first hand-over is site → transport."
            )
        else:
            message = _("Box %(box)s has already left its site.")
        raise Conflict(message % {"box": box.barcode}, field="leg")
    if box.bags == 0:
        raise DomainError(_("Box %(box)s is empty.") % {"box": box.barcode}, field="box")
    _after_last_handover(box, at)
    from_person, from_name, from_phone = _party(giver, "from")
    to_person, to_name, to_phone = _party(taker, "to")
    handover = Handover(
        box=box,
        leg=leg,
        at=at,
        from_person=from_person,
        from_name=from_name,
        from_phone=from_phone,
        to_person=to_person,
        to_name=to_name,
        to_phone=to_phone,
        by=user_or_none(actor),
        recorded_at=now,
        client_id=client_id,
    )
    handover.locate(box)
    try:
        with transaction.atomic():
            handover.save()
    except IntegrityError:
        found = Handover.objects.filter(client_id=client_id).first()
        if found is None:
            raise
        return found
    if box.status == BoxStatus.OPEN:
        box.status = BoxStatus.IN_TRANSIT
        box.dispatched_at = at
        box.save(update_fields=["status", "dispatched_at"])
    history.record(
        actor,
        box,
        "update",
        {"handover": [None, leg], "from": [None, from_name], "to": [None, to_name]},
        source=source,
    )
    return handover


@transaction.atomic
def box_receive(
    *,
    actor,
    box: Box,
    bags_counted: int,
    tubes_counted: int,
    client_id: uuid.UUID,
    scanned_bags: Iterable[str] | None = None,
    received_by: str = "",
    note: str = "",
    at: dt.datetime | None = None,
    source: str = "web",
) -> BoxReceipt:
    """The lab receives a box, closing the chain: its bags and their tubes are received. A
    count that differs from the box's is recorded as a mismatch; with the bags scanned, the
    ones not scanned stay not received (they show as overdue) and the stray ones are named."""
    now = timezone.now()
    at = at or now
    if (found := BoxReceipt.objects.filter(client_id=client_id).first()) is not None:
        if found.box_id != box.pk:
            raise Conflict(_("This client id was already used for another box."), field="client_id")
        return found
    problems = []
    if bags_counted < 0:
        problems.append(Problem("bags_counted", _("Enter the bags counted.")))
    if tubes_counted < 0:
        problems.append(Problem("tubes_counted", _("Enter the tubes counted.")))
    if at > now + CLOCK_SKEW:
        problems.append(Problem("at", _("The time is in the future: check the clock.")))
    if problems:
        raise DomainError(problems)
    box = locked_box(box)
    if box.status == BoxStatus.RECEIVED:
        raise Conflict(
            _("Box %(box)s was already received by the lab.") % {"box": box.barcode}, field="box"
        )
    if box.status != BoxStatus.IN_TRANSIT:
        raise Conflict(
            _("Box %(box)s has not been picked up yet: the first hand-over is site → transport.")
            % {"box": box.barcode},
            field="box",
        )
    _after_last_handover(box, at)
    bags = {b.barcode: b for b in Bag.objects.filter(box=box)}
    missing: list[str] = []
    extra: list[str] = []
    if scanned_bags is not None:
        seen = {barcode_read(code, field="scanned_bags") for code in scanned_bags if code.strip()}
        if seen:
            missing = sorted(set(bags) - seen)
            extra = sorted(seen - set(bags))
    arrived = [b for code, b in bags.items() if code not in missing]
    receipt = BoxReceipt(
        box=box,
        at=at,
        by=user_or_none(actor),
        received_by=(received_by.strip() or _name_of(party_of(actor)) or _("Lab"))[:50],
        bags_expected=box.bags,
        bags_counted=bags_counted,
        tubes_expected=box.tubes,
        tubes_counted=tubes_counted,
        missing_bags=missing,
        extra_bags=extra,
        note=note.strip()[:200],
        recorded_at=now,
        client_id=client_id,
    )
    receipt.mismatch = bool(
        missing or extra or bags_counted != box.bags or tubes_counted != box.tubes
    )
    receipt.locate(box)
    try:
        with transaction.atomic():
            receipt.save()
    except IntegrityError:
        found = BoxReceipt.objects.filter(client_id=client_id).first()
        if found is None:
            raise
        return found
    Bag.objects.filter(pk__in=[b.pk for b in arrived]).update(received_at=at)
    box.status = BoxStatus.RECEIVED
    box.received_at = at
    box.save(update_fields=["status", "received_at"])
    changes = {"status": [BoxStatus.IN_TRANSIT, BoxStatus.RECEIVED]}
    if receipt.mismatch:
        changes["mismatch"] = [
            None,
            {
                "bags": [box.bags, bags_counted],
                "tubes": [box.tubes, tubes_counted],
                "missing": missing,
                "extra": extra,
            },
        ]
    history.record(actor, box, "update", changes, source=source)
    return receipt
