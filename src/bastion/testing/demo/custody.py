"""The chain of custody of the demo street's two rounds, as the sites ran it: every 90
minutes the transport comes by each site; the site seals the bag(s) of the tubes closed since
the last run (up to BAG_SIZE tubes a bag), boxes them, hands the box to the driver, and the
lab receives it about 50 minutes later.

* The finished round: every tube packed, sealed, boxed, handed over and received; one box
  received with a tube fewer than sent (recorded as a mismatch).
* The round in progress: earlier runs received, the last run's box in transport, full bags
  sealed in an open box at the site, the current bag open, the last minutes' tubes not yet
  packed; and a few sites late at each step (a box stuck in transport, a packer away so
  closed tubes wait, a bag left open since the first run), so the overdue list is not empty.

`build_custody(rng, now, finished, running)` runs after the rounds' tubes are written. It is
deterministic for a given `rng` and `now`, and writes with bulk_create (a few hundred bags
and boxes, one row per packed tube).
"""

import datetime as dt
import random
import uuid
from collections import defaultdict

from django.utils import timezone

from bastion.testing.custody.models import (
    Bag,
    BagStatus,
    BagTube,
    Box,
    BoxReceipt,
    BoxStatus,
    Handover,
    HandoverLeg,
)
from bastion.testing.rounds.models import Round, Site, SitePost, StaffRole
from bastion.testing.scans.models import Tube, TubeStatus

# The path before the split: the demo seeds its random numbers with it (same data).
DEMO_SEED = "bastion.testing.demo_custody"

RUN_EVERY = dt.timedelta(minutes=90)  # the transport's round of the sites


TO_LAB = dt.timedelta(minutes=40)  # a run's drive from the sites to the lab


AT_LAB = dt.timedelta(minutes=10)  # from the lab's door to its receipt


BAG_SIZE = 15  # tubes per bag at most


PACK_AFTER = dt.timedelta(minutes=3)  # a closed tube reaches the packer's table


NOT_YET = dt.timedelta(minutes=10)  # tubes closed this recently are still on the table


SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"


GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚"


STUCK_FOR = dt.timedelta(hours=2, minutes=30)  # a late site's box in transport this long


LATE_BOX, STALLED, LEFT_OPEN = 1, 4, 7  # index % 10 of a site with tubes: the late ones


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _located(row, site: Site) -> None:
    for level in ("city", "district", "street", "community", "grid", "building", "unit"):
        setattr(row, f"{level}_id", getattr(site, f"{level}_id"))


class _Writer:
    """Collects the rows of one round, then writes them in dependency order."""

    def __init__(self, rng: random.Random, round_: Round, code: str):
        self.rng, self.round, self.code = rng, round_, code
        self.boxes: list[Box] = []
        self.bags: list[tuple[Bag, int | None]] = []  # bag, index of its box
        self.items: list[tuple[int, Tube, dt.datetime]] = []  # bag index, tube, packed at
        self.handovers: list[tuple[int, Handover]] = []
        self.receipts: list[tuple[int, BoxReceipt]] = []
        self.drivers = [(_name(rng), f"139{rng.randrange(10**8):08d}") for _ in range(6)]
        self.lab = [(_name(rng), f"137{rng.randrange(10**8):08d}") for _ in range(3)]

    def bag(self, site: Site, tubes: list[Tube], opened: dt.datetime) -> int:
        bag = Bag(
            round=self.round,
            site=site,
            barcode=f"{self.code}-B{len(self.bags) + 1:04d}",
            created_at=opened,
            tubes=len(tubes),
            client_id=_uuid(self.rng),
        )
        _located(bag, site)
        self.bags.append((bag, None))
        index = len(self.bags) - 1
        for tube in tubes:
            self.items.append((index, tube, max(opened, tube.closed_at + PACK_AFTER)))
        return index

    def seal(self, index: int, at: dt.datetime) -> None:
        bag = self.bags[index][0]
        bag.status, bag.counted, bag.sealed_at = BagStatus.SEALED, bag.tubes, at

    def box(self, site: Site, bag_indexes: list[int], at: dt.datetime) -> int:
        box = Box(
            round=self.round,
            site=site,
            barcode=f"{self.code}-X{len(self.boxes) + 1:04d}",
            created_at=at,
            bags=len(bag_indexes),
            tubes=sum(self.bags[i][0].tubes for i in bag_indexes),
            client_id=_uuid(self.rng),
        )
        _located(box, site)
        self.boxes.append(box)
        for i in bag_indexes:
            bag = self.bags[i][0]
            bag.boxed_at = max(at, bag.sealed_at + dt.timedelta(minutes=2))
            self.bags[i] = (bag, len(self.boxes) - 1)
        return len(self.boxes) - 1

    def _handover(self, index: int, leg: str, at: dt.datetime, giver, taker) -> None:
        h = Handover(leg=leg, at=at, recorded_at=at, client_id=_uuid(self.rng))
        for side, party in (("from", giver), ("to", taker)):
            if isinstance(party, tuple):
                setattr(h, f"{side}_name", party[0])
                setattr(h, f"{side}_phone", party[1])
            else:
                setattr(h, f"{side}_person", party)
                setattr(h, f"{side}_name", party.name)
        _located(h, self.boxes[index])
        self.handovers.append((index, h))

    def pick_up(self, index: int, at: dt.datetime, leader, driver) -> None:
        box = self.boxes[index]
        box.status, box.dispatched_at = BoxStatus.IN_TRANSIT, at
        self._handover(index, HandoverLeg.PICKUP, at, leader or (_name(self.rng), ""), driver)

    def receive(self, index: int, at: dt.datetime, driver, *, short: bool = False) -> None:
        box = self.boxes[index]
        clerk = self.rng.choice(self.lab)
        self._handover(index, HandoverLeg.DELIVERY, at - AT_LAB, driver, clerk)
        box.status, box.received_at = BoxStatus.RECEIVED, at
        counted = box.tubes - 1 if short else box.tubes
        receipt = BoxReceipt(
            at=at,
            recorded_at=at,
            received_by=clerk[0],
            bags_expected=box.bags,
            bags_counted=box.bags,
            tubes_expected=box.tubes,
            tubes_counted=counted,
            mismatch=short,
            note="1管标签污损，单独登记" if short else "",
            client_id=_uuid(self.rng),
        )
        _located(receipt, box)
        self.receipts.append((index, receipt))
        for bag, box_index in self.bags:
            if box_index == index:
                bag.received_at = at

    def write(self) -> dict:
        Box.objects.bulk_create(self.boxes)
        for bag, box_index in self.bags:
            if box_index is not None:
                bag.box = self.boxes[box_index]
        Bag.objects.bulk_create([bag for bag, _i in self.bags])
        BagTube.objects.bulk_create(
            [
                BagTube(bag=self.bags[i][0], tube=tube, packed_at=at, client_id=_uuid(self.rng))
                for i, tube, at in self.items
            ],
            batch_size=2000,
        )
        for index, h in self.handovers:
            h.box = self.boxes[index]
        Handover.objects.bulk_create([h for _i, h in self.handovers])
        for index, r in self.receipts:
            r.box = self.boxes[index]
        BoxReceipt.objects.bulk_create([r for _i, r in self.receipts])
        return {"bags": len(self.bags), "boxes": len(self.boxes), "packed": len(self.items)}


def _closed_tubes(round_: Round) -> dict[int, list[Tube]]:
    """The round's closed tubes per site (home teams' tubes go to a site of their street,
    here the first by id), oldest first."""
    by_site: dict[int, list[Tube]] = defaultdict(list)
    tubes = (
        Tube.objects.filter(round=round_, status=TubeStatus.CLOSED)
        .select_related("station")
        .order_by("closed_at", "pk")
    )
    first_site = Site.objects.filter(street_id=round_.street_id).order_by("pk").first()
    for tube in tubes:
        site_id = tube.station.site_id or (first_site.pk if first_site else None)
        if site_id is not None:
            by_site[site_id].append(tube)
    return by_site


def _bags_of(w: _Writer, site: Site, tubes: list[Tube], seal_at: dt.datetime | None) -> list[int]:
    """Pack `tubes` into bags of BAG_SIZE; seal every bag at `seal_at`, or, when None, only
    the full ones (when their last tube is packed) and leave the last one open."""
    made = []
    for start in range(0, len(tubes), BAG_SIZE):
        chunk = tubes[start : start + BAG_SIZE]
        index = w.bag(site, chunk, chunk[0].closed_at + PACK_AFTER)
        if seal_at is not None:
            w.seal(index, seal_at)
        elif len(chunk) == BAG_SIZE:
            w.seal(index, chunk[-1].closed_at + PACK_AFTER + dt.timedelta(minutes=2))
        made.append(index)
    return made


def _runs(start: dt.datetime, until: dt.datetime) -> list[dt.datetime]:
    runs, at = [], start + RUN_EVERY
    while at <= until:
        runs.append(at)
        at += RUN_EVERY
    return runs


def _finished(w: _Writer, sites: dict[int, Site], leaders: dict, round_: Round) -> None:
    tubes = _closed_tubes(round_)
    short_done = False
    for site_id, own in tubes.items():
        site = sites[site_id]
        runs = [*_runs(round_.starts_at, round_.ends_at), round_.ends_at + dt.timedelta(minutes=15)]
        previous = round_.starts_at
        for run in runs:
            window = [t for t in own if previous < t.closed_at + PACK_AFTER <= run - NOT_YET]
            if run == runs[-1]:
                window = [t for t in own if previous < t.closed_at + PACK_AFTER]
            previous = run - NOT_YET
            if not window:
                continue
            bags = _bags_of(w, site, window, run - NOT_YET)
            box = w.box(site, bags, run - dt.timedelta(minutes=5))
            driver = w.rng.choice(w.drivers)
            w.pick_up(box, run, leaders.get(site_id), driver)
            w.receive(box, run + TO_LAB + AT_LAB, driver, short=not short_done)
            short_done = True


def _running(
    w: _Writer, sites: dict[int, Site], leaders: dict, round_: Round, now: dt.datetime
) -> None:
    tubes = _closed_tubes(round_)
    order = {site_id: k for k, site_id in enumerate(sorted(tubes))}
    moving: list[tuple] = []  # boxes that could have reached the lab by now
    for site_id, own in tubes.items():
        site, kind = sites[site_id], order[site_id] % 10
        runs = _runs(round_.starts_at, now)
        if kind == STALLED and runs:
            runs = runs[:1]  # the packer left after the first run: closed tubes wait
        previous, stuck = round_.starts_at, False
        for k, run in enumerate(runs):
            window = [t for t in own if previous < t.closed_at + PACK_AFTER <= run - NOT_YET]
            previous = run - NOT_YET
            if not window:
                continue
            if kind == LEFT_OPEN and k >= 1:
                # this site missed the driver and kept packing into one bag since
                late = [t for t in own if t.closed_at + PACK_AFTER > runs[0] - NOT_YET]
                late = [t for t in late if t.closed_at + PACK_AFTER <= now - NOT_YET]
                if late:
                    w.bag(site, late, late[0].closed_at + PACK_AFTER)
                break
            bags = _bags_of(w, site, window, run - NOT_YET)
            box = w.box(site, bags, run - dt.timedelta(minutes=5))
            driver = w.rng.choice(w.drivers)
            w.pick_up(box, run, leaders.get(site_id), driver)
            arrives = run + TO_LAB + AT_LAB
            if arrives <= now:
                moving.append((run, kind == LATE_BOX and not stuck, box, arrives, driver))
                stuck = stuck or kind == LATE_BOX
        else:
            if kind == STALLED:
                continue
            # Since the last run: full bags sealed into the next box, the last bag open,
            # the last minutes' tubes on the table.
            current = [t for t in own if previous < t.closed_at + PACK_AFTER <= now - NOT_YET]
            if not current:
                continue
            bags = _bags_of(w, site, current, None)
            last = w.bags[bags[-1]][0]
            if order[site_id] % 3 and last.status == BagStatus.OPEN:
                # ready for the driver: the last bag sealed too (and boxed at some sites)
                w.seal(bags[-1], min(now, current[-1].closed_at + PACK_AFTER * 2))
            sealed = [i for i in bags if w.bags[i][0].status == BagStatus.SEALED]
            if sealed and order[site_id] % 3 != 2:
                w.box(site, sealed, w.bags[sealed[-1]][0].sealed_at)
    # A late site's first box that left long ago never reached the lab (if no late site has
    # one, the round's first box): the rest are received.
    eligible = sorted((m for m in moving if m[0] <= now - STUCK_FOR), key=lambda m: m[0])
    stuck = {m[2] for m in eligible if m[1]} or {m[2] for m in eligible[:1]}
    for _run, _late, box, arrives, driver in moving:
        if box not in stuck:
            w.receive(box, arrives, driver)


def round_custody(rng: random.Random, now: dt.datetime, round_: Round) -> dict:
    """The custody of one round's closed tubes: as finished if the round has ended by
    `now`, else as in progress."""
    sites = {s.pk: s for s in Site.objects.filter(street_id=round_.street_id)}
    leaders = {
        p.site_id: p.person
        for p in SitePost.objects.filter(
            site__in=list(sites), role=StaffRole.SITE_LEADER, ended_on__isnull=True
        ).select_related("person")
    }
    w = _Writer(rng, round_, f"{timezone.localtime(round_.starts_at):%m%d}-{round_.pk}")
    if round_.ends_at <= now:
        _finished(w, sites, leaders, round_)
    else:
        _running(w, sites, leaders, round_, timezone.localtime(now))
    return w.write()


def build_custody(rng: random.Random, now: dt.datetime, *rounds: Round) -> dict:
    counts: dict[str, int] = defaultdict(int)
    for round_ in rounds:
        for key, n in round_custody(rng, now, round_).items():
            counts[f"custody_{key}"] += n
    return dict(counts)


def build_demo(street, rng: random.Random, now: dt.datetime) -> dict:
    """The custody of the street's round in progress, drawn after the pooling demo has packed
    its tubes by control level (the finished round's is drawn by the testing demo)."""
    running = Round.objects.filter(node=street, starts_at__lte=now, ends_at__gte=now).first()
    return build_custody(rng, now, running) if running is not None else {}
