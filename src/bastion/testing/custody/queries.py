"""Reads of the chain of custody shared by pages and API, each through the scope: bags and
boxes are located at their site, hand-overs and receipts at their box, so a login sees the
custody of the sites in its area (a lab's login, at the district, sees all of it)."""

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from bastion.core.scope import VIEW, get_scoped_or_404, scope_q
from bastion.geo.identity import mask_mobile
from bastion.testing.custody.models import (
    Bag,
    BagStatus,
    BagTube,
    Box,
    BoxReceipt,
    BoxStatus,
    Handover,
)
from bastion.testing.custody.services import overdue_hours
from bastion.testing.rounds.models import Round
from bastion.testing.scans.codes import barcode_text
from bastion.testing.scans.models import Scan, Tube, TubeStatus

LISTED = 200  # rows per list on a page


def bags_for(user, action: str = VIEW) -> QuerySet[Bag]:
    return Bag.objects.restrict(user, action).select_related("site", "round", "box")


def bag_for(user, pk: int, action: str = VIEW) -> Bag:
    return get_scoped_or_404(
        Bag.objects.select_related("site", "round", "box"), user, action, pk=pk
    )


def boxes_for(user, action: str = VIEW) -> QuerySet[Box]:
    return Box.objects.restrict(user, action).select_related("site", "round")


def box_for(user, pk: int, action: str = VIEW) -> Box:
    return get_scoped_or_404(Box.objects.select_related("site", "round"), user, action, pk=pk)


def bag_tubes(bag: Bag) -> list[BagTube]:
    return list(BagTube.objects.filter(bag=bag).select_related("tube", "packed_by"))


def box_bags(box: Box) -> list[Bag]:
    return list(Bag.objects.filter(box=box).select_related("site").order_by("boxed_at", "pk"))


def handovers(box: Box) -> list[Handover]:
    return list(Handover.objects.filter(box=box).select_related("from_person", "to_person", "by"))


def receipt_of(box: Box) -> BoxReceipt | None:
    return BoxReceipt.objects.filter(box=box).first()


def find(user, barcode: str) -> Bag | Box | Tube:
    """The bag, box or tube with this barcode that the user may see (404 otherwise)."""
    code = barcode_text(barcode)
    if not code:
        raise Http404
    for queryset in (bags_for(user), boxes_for(user), Tube.objects.filter(scope_q(user))):
        found = queryset.filter(barcode=code).first()
        if found is not None:
            return found
    raise Http404


def side(handover: Handover, which: str) -> dict:
    """One side ("from" or "to") of a hand-over as shown: the name, the masked mobile, and
    whether a reveal can show it in full (the number given at the hand-over)."""
    person = getattr(handover, f"{which}_person")
    given = getattr(handover, Handover.PHONE_FIELDS[which])
    phone = given or (person.phone if person is not None else "")
    return {
        "name": handover.side_name(which),
        "phone": mask_mobile(phone),
        "revealable": bool(given),
    }


# ---------------------------------------------------------------------------- round summary


@dataclass
class RoundCustody:
    tubes_closed: int  # closed tubes of the round in the user's area
    tubes_packed: int
    bags: dict[str, int]  # open, sealed (not boxed), boxed, in_transit, received
    boxes: dict[str, int]
    open_bags: list[Bag] = field(default_factory=list)
    sealed_bags: list[Bag] = field(default_factory=list)  # sealed, not in a box
    open_boxes: list[Box] = field(default_factory=list)
    moving_boxes: list[Box] = field(default_factory=list)
    received_boxes: list[Box] = field(default_factory=list)
    overdue: int = 0
    # Tubes with a lab result that the lab never received through the chain (not packed, or
    # in a bag not received): a result of uncertain origin, to be checked with the lab.
    unreceived_results: list[Tube] = field(default_factory=list)
    unreceived_results_total: int = 0


def resulted_unreceived(tubes: QuerySet[Tube]) -> QuerySet[Tube]:
    """Of `tubes`, those with a lab result whose bag was never received by the lab (or that
    were never packed in a bag at all)."""
    received = BagTube.objects.filter(tube=OuterRef("pk"), bag__received_at__isnull=False)
    return tubes.exclude(result="").exclude(Exists(received))


def round_custody(user, round_: Round, now: dt.datetime | None = None) -> RoundCustody:
    tubes = Tube.objects.filter(scope_q(user), round=round_, status=TubeStatus.CLOSED)
    packed_q = Exists(BagTube.objects.filter(tube=OuterRef("pk")))
    tube_counts = tubes.aggregate(closed=Count("pk"), packed=Count("pk", filter=Q(packed_q)))
    bags = bags_for(user).filter(round=round_)
    bag_counts = bags.aggregate(
        open=Count("pk", filter=Q(status=BagStatus.OPEN)),
        sealed=Count("pk", filter=Q(status=BagStatus.SEALED, box__isnull=True)),
        boxed=Count("pk", filter=Q(box__status=BoxStatus.OPEN)),
        in_transit=Count("pk", filter=Q(box__status=BoxStatus.IN_TRANSIT)),
        received=Count("pk", filter=Q(received_at__isnull=False)),
    )
    boxes = boxes_for(user).filter(round=round_)
    unreceived = resulted_unreceived(tubes).order_by("resulted_at", "barcode")
    box_counts = {s: 0 for s in BoxStatus.values}
    for status, n in boxes.values_list("status").annotate(n=Count("pk")).order_by():
        box_counts[status] = n
    return RoundCustody(
        tubes_closed=tube_counts["closed"],
        tubes_packed=tube_counts["packed"],
        bags=bag_counts,
        boxes=box_counts,
        open_bags=list(bags.filter(status=BagStatus.OPEN).order_by("created_at")[:LISTED]),
        sealed_bags=list(
            bags.filter(status=BagStatus.SEALED, box__isnull=True).order_by("sealed_at")[:LISTED]
        ),
        open_boxes=list(boxes.filter(status=BoxStatus.OPEN).order_by("created_at")[:LISTED]),
        moving_boxes=list(
            boxes.filter(status=BoxStatus.IN_TRANSIT).order_by("dispatched_at")[:LISTED]
        ),
        received_boxes=list(
            boxes.filter(status=BoxStatus.RECEIVED)
            .select_related("receipt")
            .order_by("-received_at")[:LISTED]
        ),
        overdue=overdue(user, round_, now, limit=0).total,
        unreceived_results=list(unreceived[:LISTED]),
        unreceived_results_total=unreceived.count(),
    )


# ----------------------------------------------------------------------------------- overdue


@dataclass
class Overdue:
    hours: dict[str, int]
    tubes: list[Tube]  # closed, not packed, not resulted, closed before the limit
    tubes_total: int
    open_bags: list[Bag]  # opened before the limit, still open
    open_bags_total: int
    unreceived: list[Bag]  # sealed before the limit, not received by the lab
    unreceived_total: int

    @property
    def total(self) -> int:
        return self.tubes_total + self.open_bags_total + self.unreceived_total


def overdue(user, round_: Round, now: dt.datetime | None = None, *, limit: int = LISTED) -> Overdue:
    """What is late at each step, in the user's area: closed tubes not packed, bags not
    sealed, sealed bags not received by the lab (the oldest first)."""
    now = now or timezone.now()
    hours = overdue_hours(round_)
    tubes = (
        Tube.objects.filter(
            scope_q(user),
            round=round_,
            status=TubeStatus.CLOSED,
            result="",
            closed_at__lt=now - dt.timedelta(hours=hours["pack"]),
        )
        .filter(~Exists(BagTube.objects.filter(tube=OuterRef("pk"))))
        .select_related("station", "station__site")
        .order_by("closed_at", "pk")
    )
    bags = bags_for(user).filter(round=round_)
    open_bags = bags.filter(
        status=BagStatus.OPEN, created_at__lt=now - dt.timedelta(hours=hours["seal"])
    ).order_by("created_at", "pk")
    unreceived = bags.filter(
        status=BagStatus.SEALED,
        received_at__isnull=True,
        sealed_at__lt=now - dt.timedelta(hours=hours["receive"]),
    ).order_by("sealed_at", "pk")
    return Overdue(
        hours=hours,
        tubes=list(tubes[:limit]) if limit else [],
        tubes_total=tubes.count(),
        open_bags=list(open_bags[:limit]) if limit else [],
        open_bags_total=open_bags.count(),
        unreceived=list(unreceived[:limit]) if limit else [],
        unreceived_total=unreceived.count(),
    )


def where_is(bag: Bag) -> str:
    """Where a sealed bag is now, in words."""
    if bag.received_at:
        return _("received by the lab")
    if bag.status == BagStatus.OPEN:
        return _("open at the site")
    if bag.box_id is None:
        return _("sealed, not in a box")
    if bag.box.status == BoxStatus.OPEN:
        return _("in box %(box)s at the site") % {"box": bag.box.barcode}
    if bag.box.status == BoxStatus.RECEIVED:
        return _("missing at the lab's receipt of box %(box)s") % {"box": bag.box.barcode}
    return _("in box %(box)s, in transport") % {"box": bag.box.barcode}


# ------------------------------------------------------------------------------------- trail


@dataclass
class Step:
    at: dt.datetime | None
    what: str
    detail: str = ""
    link: tuple[str, int] | None = None  # (URL name, id)
    warn: bool = False


@dataclass
class Trail:
    tube: Tube
    steps: list[Step]
    bag: Bag | None
    box: Box | None
    next_step: str  # what is awaited, or "" when the chain is closed


def trail(user, tube: Tube) -> Trail:
    """A tube's whole chain in time order: opened, each scan, closed, packed, sealed, boxed,
    each hand-over, the lab's receipt, the result."""
    steps = [
        Step(
            tube.opened_at,
            _("Opened at the station"),
            " · ".join(
                x
                for x in (tube.station.site.name if tube.station.site else "", tube.station.name)
                if x
            ),
        )
    ]
    scans = list(
        Scan.objects.filter(tube=tube).order_by("at", "pk").values_list("at", "voided_at", "retest")
    )
    for n, (at, voided, _retest) in enumerate(scans, start=1):
        steps.append(
            Step(
                at,
                _("Sample %(n)s of %(capacity)s") % {"n": n, "capacity": tube.capacity},
                _("voided") if voided else "",
            )
        )
    if tube.closed_at:
        steps.append(Step(tube.closed_at, _("Tube closed"), f"{tube.filled}/{tube.capacity}"))
    item = BagTube.objects.filter(tube=tube).select_related("bag", "bag__box", "packed_by").first()
    bag = item.bag if item else None
    box = bag.box if bag else None
    next_step = ""
    if bag is None:
        next_step = (
            _("to be packed into a bag") if tube.closed_at else _("still open at the station")
        )
    else:
        steps.append(
            Step(
                item.packed_at,
                _("Packed into bag %(bag)s") % {"bag": bag.barcode},
                item.packed_by.get_username() if item.packed_by else "",
                ("testing:custody_bag", bag.pk),
            )
        )
        if bag.sealed_at:
            steps.append(
                Step(
                    bag.sealed_at,
                    _("Bag sealed"),
                    _("%(n)s tubes counted") % {"n": bag.counted},
                    ("testing:custody_bag", bag.pk),
                )
            )
        else:
            next_step = _("bag to be sealed")
        if box is not None:
            steps.append(
                Step(
                    bag.boxed_at,
                    _("Bag put into box %(box)s") % {"box": box.barcode},
                    "",
                    ("testing:custody_box", box.pk),
                )
            )
            for h in handovers(box):
                giver, taker = side(h, "from"), side(h, "to")
                steps.append(
                    Step(
                        h.at,
                        h.get_leg_display(),
                        _("%(giver)s to %(taker)s")
                        % {
                            "giver": f"{giver['name']} {giver['phone']}".strip(),
                            "taker": f"{taker['name']} {taker['phone']}".strip(),
                        },
                        ("testing:custody_box", box.pk),
                    )
                )
            receipt = receipt_of(box)
            if receipt is not None:
                lost = bag.barcode in receipt.missing_bags
                steps.append(
                    Step(
                        receipt.at,
                        _("Bag missing at the lab's receipt") if lost else _("Received by the lab"),
                        receipt_summary(receipt),
                        ("testing:custody_box", box.pk),
                        warn=lost or receipt.mismatch,
                    )
                )
                if lost:
                    next_step = _("bag to be found")
            elif bag.sealed_at:
                next_step = (
                    _("box to be picked up")
                    if box.status == BoxStatus.OPEN
                    else _("box to be received by the lab")
                )
        elif bag.sealed_at:
            next_step = _("bag to be put into a box")
    if tube.resulted_at:
        steps.append(
            Step(
                tube.resulted_at,
                _("Lab result"),
                tube.get_result_display(),
                warn=tube.result != "negative",
            )
        )
        next_step = ""
    elif not next_step:
        next_step = _("result awaited")
    return Trail(tube=tube, steps=steps, bag=bag, box=box, next_step=next_step)


def receipt_summary(receipt: BoxReceipt) -> str:
    text = _("%(name)s: %(bags)s/%(bags_expected)s bags, %(tubes)s/%(tubes_expected)s tubes") % {
        "name": receipt.received_by,
        "bags": receipt.bags_counted,
        "bags_expected": receipt.bags_expected,
        "tubes": receipt.tubes_counted,
        "tubes_expected": receipt.tubes_expected,
    }
    if receipt.missing_bags:
        text += " · " + _("missing: %(bags)s") % {"bags": ", ".join(receipt.missing_bags)}
    if receipt.extra_bags:
        text += " · " + _("not of this box: %(bags)s") % {"bags": ", ".join(receipt.extra_bags)}
    return text
