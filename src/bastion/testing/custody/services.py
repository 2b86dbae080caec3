"""Every write of the chain of custody: bags opened at a site, closed tubes packed into them,
bags sealed on the packer's count, sealed bags put into boxes, boxes handed over from site to
transport to lab, and the lab's receipt. One keyword-only function per use case, each in one
transaction; a refusal raises `DomainError` (or `Conflict`) naming the field and the row,
and changes nothing.

Devices retry: every write takes a client-made id. A write whose id is already stored
answers with what it made and writes nothing; a state change asked again (seal a sealed bag
with the same count, pack a tube already in this bag) answers the same way.

The refusal of a seal is meant to be acted on: it gives both counts, and when the packer has
scanned the tubes that are physically in the bag it names the ones the system holds that
were not scanned (missing from the bag, or packed by mistake) and the ones scanned that the
system does not hold (to pack, or to take out).
"""

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from bastion.core import history
from bastion.core.errors import Conflict, DomainError, Problem
from bastion.testing.custody.models import (
    Bag,
    BagStatus,
    BagTube,
    Box,
    BoxStatus,
)
from bastion.testing.rounds.models import Round, Site, StationKind
from bastion.testing.rounds.services import is_user, serves
from bastion.testing.scans.codes import normalise_barcode
from bastion.testing.scans.models import Tube, TubeStatus

NAMED_AT_MOST = 30  # tubes named in a refusal, at most


def overdue_hours(round_: Round) -> dict[str, int]:
    """The hours after which each custody step of the round is overdue."""
    return {
        "pack": round_.pack_within,
        "seal": round_.seal_within,
        "receive": round_.receive_within,
    }


def user_or_none(actor):
    """The actor as a row's user (None for a system write)."""
    return actor if is_user(actor) else None


def barcode_read(raw: str, *, field: str = "barcode") -> str:
    """A bag or box barcode as stored: normalised like a tube's."""
    try:
        return normalise_barcode(raw)
    except DomainError:
        raise DomainError(
            _("A barcode is 4 to 40 letters, digits or dashes."), field=field
        ) from None


def _barcode_free(barcode: str) -> None:
    """A bag or box barcode must not be any other tube's, bag's or box's: a scan then names
    one thing only."""
    if (
        Tube.objects.filter(barcode=barcode).exists()
        or Bag.objects.filter(barcode=barcode).exists()
        or Box.objects.filter(barcode=barcode).exists()
    ):
        raise Conflict(
            _("Barcode %(code)s is already in use.") % {"code": barcode}, field="barcode"
        )


def _names(barcodes: Iterable[str]) -> str:
    ordered = sorted(barcodes)
    shown = ", ".join(ordered[:NAMED_AT_MOST])
    if len(ordered) > NAMED_AT_MOST:
        shown += " " + _("and %(n)s more") % {"n": len(ordered) - NAMED_AT_MOST}
    return shown


# ------------------------------------------------------------------------------------- bags


def _replayed_open(found, site: Site, round: Round):
    """The bag or box a retried open made: only for the same site and round, so a reused
    client id never hands back another area's container."""
    if found.site_id != site.pk or found.round_id != round.pk:
        raise Conflict(
            _("This request id was already used for another site or round."), field="client_id"
        )
    return found


def _container_open(
    model, actor, round: Round, site: Site, barcode: str, client_id, at, source, other: str
):
    """Open a bag or a box: a retry (client id) or a rescan of the same label at the same site
    and round returns the one made; a label in use elsewhere is refused."""
    barcode = barcode_read(barcode)
    if client_id and (found := model.objects.filter(client_id=client_id).first()):
        return _replayed_open(found, site, round)
    found = model.objects.filter(barcode=barcode).first()
    if found is not None:
        if found.site_id == site.pk and found.round_id == round.pk:
            return found
        raise Conflict(other % {"code": barcode}, field="barcode")
    if not serves(site, round):
        raise DomainError(_("This site is outside the round's area."), field="site")
    _barcode_free(barcode)
    made = model(
        round=round,
        site=site,
        barcode=barcode,
        created_at=at or timezone.now(),
        created_by=user_or_none(actor),
        client_id=client_id,
    )
    made.locate(site)
    try:
        with transaction.atomic():
            made.save()
    except IntegrityError:  # the same label or request, at the same moment
        found = model.objects.filter(client_id=client_id).first() if client_id else None
        if found is not None:
            return _replayed_open(found, site, round)
        raise Conflict(
            _("Barcode %(code)s is already in use.") % {"code": barcode}, field="barcode"
        ) from None
    history.record(
        actor,
        made,
        "create",
        {"barcode": [None, barcode], "site_id": [None, site.pk]},
        source=source,
    )
    return made


@transaction.atomic
def bag_open(
    *,
    actor,
    round: Round,
    site: Site,
    barcode: str,
    client_id: uuid.UUID | None = None,
    at: dt.datetime | None = None,
    source: str = "web",
) -> Bag:
    """Start a bag at a site for a round. Opening the same barcode again at the same site and
    round returns the bag (a rescan of its label)."""
    other = _("Bag %(code)s belongs to another site or round.")
    return _container_open(Bag, actor, round, site, barcode, client_id, at, source, other)


def _locked(bag: Bag) -> Bag:
    return Bag.objects.select_for_update().select_related("round").get(pk=bag.pk)


def _packable(bag: Bag, barcode: str) -> Tube:
    tube = Tube.objects.select_related("station").filter(barcode=barcode).first()
    if tube is None:
        raise DomainError(_("No tube has barcode %(tube)s.") % {"tube": barcode}, field="tube")
    if tube.round_id != bag.round_id:
        raise DomainError(_("Tube %(tube)s is of another round.") % {"tube": barcode}, field="tube")
    station = tube.station
    here = station.site_id == bag.site_id or (
        station.kind == StationKind.HOME and tube.street_id == bag.street_id
    )
    if not here:
        raise DomainError(
            _("Tube %(tube)s was sampled at another site.") % {"tube": barcode}, field="tube"
        )
    if tube.status != TubeStatus.CLOSED:
        raise DomainError(
            _("Tube %(tube)s is still open: close it at its station first.") % {"tube": barcode},
            field="tube",
        )
    return tube


@transaction.atomic
def tube_pack(
    *,
    actor,
    bag: Bag,
    barcode: str,
    client_id: uuid.UUID | None = None,
    at: dt.datetime | None = None,
    source: str = "web",
) -> BagTube:
    """Pack a closed tube of the bag's round, sampled at the bag's site (or by a home team
    of its street), into an open bag. A tube is in one bag at most."""
    barcode = normalise_barcode(barcode)
    if client_id and (found := BagTube.objects.filter(client_id=client_id).first()):
        if found.bag_id != bag.pk:
            raise Conflict(_("This client id was already used for another bag."), field="client_id")
        return found
    bag = _locked(bag)
    tube = _packable(bag, barcode)
    item = BagTube.objects.filter(tube=tube).select_related("bag").first()
    if item is not None:
        if item.bag_id == bag.pk:
            return item
        raise Conflict(
            _("Tube %(tube)s is already in bag %(bag)s.") % {"tube": barcode, "bag": item.bag},
            field="tube",
        )
    if bag.status != BagStatus.OPEN:
        raise Conflict(_("Bag %(bag)s is sealed.") % {"bag": bag.barcode}, field="bag")
    item = BagTube(
        bag=bag,
        tube=tube,
        packed_at=at or timezone.now(),
        packed_by=user_or_none(actor),
        client_id=client_id,
    )
    try:
        with transaction.atomic():
            item.save()
    except IntegrityError:  # packed into another bag at the same moment
        raise Conflict(
            _("Tube %(tube)s is already in another bag.") % {"tube": barcode}, field="tube"
        ) from None
    Bag.objects.filter(pk=bag.pk).update(tubes=F("tubes") + 1)
    history.record(actor, bag, "update", {"packed": [None, barcode]}, source=source)
    return item


@transaction.atomic
def tube_unpack(*, actor, bag: Bag, barcode: str, source: str = "web") -> Bag:
    """Take a tube out of an open bag (packed by mistake). A tube not in the bag any more is
    no error: a retry finds it out already."""
    barcode = normalise_barcode(barcode)
    bag = _locked(bag)
    item = BagTube.objects.filter(bag=bag, tube__barcode=barcode).first()
    if item is None:
        return bag
    if bag.status != BagStatus.OPEN:
        raise Conflict(_("Bag %(bag)s is sealed.") % {"bag": bag.barcode}, field="bag")
    item.delete()
    Bag.objects.filter(pk=bag.pk).update(tubes=F("tubes") - 1)
    bag.refresh_from_db()
    history.record(actor, bag, "update", {"packed": [barcode, None]}, source=source)
    return bag


@dataclass(frozen=True)
class SealCheck:
    """The packer's count against the system's, and, when the packer scanned the tubes in
    the bag, which differ."""

    packed: list[str]  # in the system, read once: a refusal names them
    counted: int
    scanned: bool  # whether the packer scanned the tubes in the bag
    missing: list[str]  # in the system, not scanned in the bag
    extra: list[str]  # scanned in the bag, not in the system

    @property
    def system(self) -> int:
        return len(self.packed)

    @property
    def ok(self) -> bool:
        return self.system == self.counted and not self.missing and not self.extra


def seal_check(bag: Bag, counted: int, scanned: Iterable[str] | None = None) -> SealCheck:
    packed = set(BagTube.objects.filter(bag=bag).values_list("tube__barcode", flat=True))
    if scanned is None:
        return SealCheck(sorted(packed), counted, False, [], [])
    seen = {normalise_barcode(code) for code in scanned if code.strip()}
    return SealCheck(sorted(packed), counted, True, sorted(packed - seen), sorted(seen - packed))


def _seal_refusal(bag: Bag, check: SealCheck) -> DomainError:
    problems = []
    if check.system != check.counted:
        problems.append(
            Problem(
                "count",
                _(
                    "Bag %(bag)s holds %(system)s tubes in the system but %(counted)s were "
                    "counted: it is not sealed."
                )
                % {"bag": bag.barcode, "system": check.system, "counted": check.counted},
            )
        )
    if check.missing:
        problems.append(
            Problem(
                "missing",
                _("Packed in the system but not scanned in the bag: %(tubes)s.")
                % {"tubes": _names(check.missing)},
            )
        )
    if check.extra:
        problems.append(
            Problem(
                "extra",
                _("Scanned in the bag but not packed in the system: %(tubes)s.")
                % {"tubes": _names(check.extra)},
            )
        )
    if not check.scanned:
        problems.append(
            Problem(
                "scanned",
                _("Scan the tubes in the bag to find the difference. The system holds: %(tubes)s.")
                % {"tubes": _names(check.packed) or "—"},
            )
        )
    return DomainError(problems)


@transaction.atomic
def bag_seal(
    *,
    actor,
    bag: Bag,
    counted: int,
    scanned: Iterable[str] | None = None,
    client_id: uuid.UUID | None = None,
    at: dt.datetime | None = None,
    source: str = "web",
) -> Bag:
    """Seal a bag when the packer's count equals the tubes packed (and, if the packer scanned
    the tubes in the bag, when they are exactly those). Otherwise refused, naming the
    difference; nothing changes."""
    if counted < 0:
        raise DomainError(_("Enter the number of tubes counted in the bag."), field="count")
    if client_id and (found := Bag.objects.filter(seal_client_id=client_id).first()):
        if found.pk != bag.pk:
            raise Conflict(_("This client id was already used for another bag."), field="client_id")
        return found
    bag = _locked(bag)
    if bag.status == BagStatus.SEALED:
        if bag.counted == counted:
            return bag  # sealed already, with this count
        raise Conflict(
            _("Bag %(bag)s was already sealed with %(n)s tubes.")
            % {"bag": bag.barcode, "n": bag.counted},
            field="count",
        )
    scanned = list(scanned) if scanned is not None else None
    try:
        check = seal_check(bag, counted, scanned or None)
    except DomainError:
        raise DomainError(
            _("A scanned code is not a barcode (4 to 40 letters, digits or dashes)."),
            field="scanned",
        ) from None
    if bag.tubes == 0:
        raise DomainError(_("An empty bag cannot be sealed."), field="count")
    if not check.ok:
        raise _seal_refusal(bag, check)
    bag.status = BagStatus.SEALED
    bag.counted = counted
    bag.sealed_at = at or timezone.now()
    bag.sealed_by = user_or_none(actor)
    bag.seal_client_id = client_id
    bag.save(update_fields=["status", "counted", "sealed_at", "sealed_by", "seal_client_id"])
    history.record(
        actor,
        bag,
        "update",
        {"status": ["open", "sealed"], "counted": [None, counted]},
        source=source,
    )
    return bag


@transaction.atomic
def bag_reopen(*, actor, bag: Bag, reason: str, source: str = "web") -> Bag:
    """Undo a mistaken seal (a tube left out, a count that matched by chance): the bag is
    packed again and sealed anew, the reason kept in its history. Only before it is boxed:
    once in a box its seal travels with it. A retry on a bag already open changes nothing."""
    reason = reason.strip()
    if not reason:
        raise DomainError(_("Say why the seal is undone."), field="reason")
    bag = _locked(bag)
    if bag.status == BagStatus.OPEN:
        return bag
    if bag.box_id is not None:
        raise Conflict(
            _("Bag %(bag)s is already in a box: its seal can no longer be undone.")
            % {"bag": bag.barcode},
            field="bag",
        )
    counted = bag.counted
    bag.status, bag.counted, bag.sealed_at, bag.sealed_by, bag.seal_client_id = (
        BagStatus.OPEN,
        None,
        None,
        None,
        None,
    )
    bag.save(update_fields=["status", "counted", "sealed_at", "sealed_by", "seal_client_id"])
    history.record(
        actor,
        bag,
        "update",
        {"status": ["sealed", "open"], "counted": [counted, None], "reason": [None, reason]},
        source=source,
    )
    return bag


# ------------------------------------------------------------------------------------ boxes


@transaction.atomic
def box_open(
    *,
    actor,
    round: Round,
    site: Site,
    barcode: str,
    client_id: uuid.UUID | None = None,
    at: dt.datetime | None = None,
    source: str = "web",
) -> Box:
    """Start a transport box at a site. The same barcode again at the same site returns it."""
    other = _("Box %(code)s belongs to another site or round.")
    return _container_open(Box, actor, round, site, barcode, client_id, at, source, other)


def locked_box(box: Box) -> Box:
    return Box.objects.select_for_update().get(pk=box.pk)


@transaction.atomic
def bag_box(
    *,
    actor,
    box: Box,
    barcode: str,
    client_id: uuid.UUID | None = None,
    at: dt.datetime | None = None,
    source: str = "web",
) -> Bag:
    """Put a sealed bag of the box's round and street into a box that has not left yet."""
    barcode = barcode_read(barcode, field="bag")
    if client_id and (found := Bag.objects.filter(box_client_id=client_id).first()):
        if found.box_id != box.pk:
            raise Conflict(_("This client id was already used for another box."), field="client_id")
        return found
    box = locked_box(box)
    bag = Bag.objects.select_for_update().filter(barcode=barcode).first()
    if box.status != BoxStatus.OPEN and not (bag is not None and bag.box_id == box.pk):
        raise Conflict(_("Box %(box)s has left the site.") % {"box": box.barcode}, field="box")
    if bag is None:
        raise DomainError(_("No bag has barcode %(bag)s.") % {"bag": barcode}, field="bag")
    if bag.box_id == box.pk:
        return bag
    if bag.box_id is not None:
        raise Conflict(
            _("Bag %(bag)s is already in box %(box)s.") % {"bag": barcode, "box": bag.box},
            field="bag",
        )
    if bag.round_id != box.round_id or bag.street_id != box.street_id:
        raise DomainError(
            _("Bag %(bag)s is of another round or street.") % {"bag": barcode}, field="bag"
        )
    if bag.status != BagStatus.SEALED:
        raise DomainError(
            _("Bag %(bag)s is not sealed: seal it first.") % {"bag": barcode}, field="bag"
        )
    bag.box = box
    bag.boxed_at = at or timezone.now()
    bag.box_client_id = client_id
    bag.save(update_fields=["box", "boxed_at", "box_client_id"])
    Box.objects.filter(pk=box.pk).update(bags=F("bags") + 1, tubes=F("tubes") + bag.tubes)
    history.record(actor, box, "update", {"bag": [None, barcode]}, source=source)
    return bag
