"""The demo street's checkpoints: a traffic checkpoint on the street's main road (in the first
community's first grid) and a gate per community, with 30 days of entries at realistic rates —
trucks and cars through the day, fewer at night; most people pass, a few are turned back,
fevers sent to a fever clinic, red codes handed to quarantine; residents in and out of their
compound, visitors with a reason and a host, sealed units' residents turned back. Written
through the services in batches (multi-row INSERTs, `core.bulk`), as a crew's phones would."""

import datetime as dt
import random
import uuid
from dataclasses import replace

from django.contrib.auth.models import User
from django.utils import timezone

from bastion.accounts.models import RoleAssignment
from bastion.checkpoints.loop.models import LoopPass
from bastion.checkpoints.loop.services import loop_pass_issue, loop_passes_escalate_due
from bastion.checkpoints.models import Entry, Occupant
from bastion.checkpoints.services import (
    MAX_BATCH,
    EntryInput,
    OccupantInput,
    PassageInput,
    entries_record,
    passages_record,
)
from bastion.checkpoints.station.models import StationVisit
from bastion.geo.identity import make_id_number
from bastion.geo.models import Node, Resident
from bastion.people.mobilization import services as mobilization

DAYS = 30
# Vehicles an hour at the checkpoint, midnight first: a night lull, a morning and an
# afternoon peak of lorries to the wholesale market.
HOURLY = (2, 1, 1, 1, 2, 4, 7, 9, 9, 8, 7, 6, 5, 6, 7, 8, 8, 7, 6, 5, 4, 3, 3, 2)
GATE_HOURLY = (0, 0, 0, 0, 0, 1, 4, 8, 6, 4, 3, 3, 3, 2, 3, 3, 4, 6, 7, 4, 3, 2, 1, 0)
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = [
    "建国",
    "秀英",
    "志强",
    "丽",
    "军",
    "海燕",
    "伟",
    "桂兰",
    "强",
    "敏",
    "磊",
    "红梅",
    "勇",
    "静",
]
PLACES = ["石家庄", "保定", "廊坊", "天津", "唐山", "济南", "郑州", "太原", "沧州", "张家口"]
CARGO = ["蔬菜", "生猪", "冷链水产", "防疫物资", "快递包裹", "建材", "粮油", "药品", ""]
DESTINATIONS = ["新发地市场", "物流园", "社区保供点", "医院", "超市配送中心", "工地"]
AREAS = ["130102", "130602", "131002", "120101", "130203", "370102", "410102", "140105"]
KINDS = (["truck"] * 6) + (["car"] * 3) + ["van", "bus", "two_wheeler", "on_foot"]
VISITS = ["探亲", "送药", "维修", "快递外卖", "家政", "送菜", "看望老人"]


def _crew(street: Node) -> User | None:
    found = (
        RoleAssignment.objects.filter(role__in=["street_commander", "community_staff"])
        .filter(node__path__startswith=street.path)
        .select_related("user")
        .first()
    )
    return found.user if found is not None else None


def _plate(rng: random.Random) -> str:
    province = rng.choice("冀冀冀京津晋鲁豫")
    office = rng.choice("ABCDEFGH")
    if rng.random() < 0.15:
        return f"{province}{office}D{rng.randint(10000, 99999)}"
    if rng.random() < 0.1:
        return f"{province}{office}{rng.randint(1000, 9999)}挂"
    return f"{province}{office}{rng.randint(10000, 99999)}"


def _person(rng: random.Random, seq: int, driver: bool, day: dt.date) -> OccupantInput:
    roll = rng.random()
    if roll < 0.012:
        decision, code, temp = "fever_clinic", "green", round(rng.uniform(37.3, 38.9), 1)
    elif roll < 0.02:
        decision, code, temp = "quarantine", rng.choice(["red", "yellow"]), 36.5
    elif roll < 0.05:
        decision, code, temp = "turned_back", "yellow", round(rng.uniform(36.0, 36.9), 1)
    elif roll < 0.07:
        decision, code, temp = "escort", "green", round(rng.uniform(36.0, 36.9), 1)
    else:
        decision, code, temp = "pass", "green", round(rng.uniform(36.0, 37.1), 1)
    birth = dt.date(rng.randint(1960, 2000), rng.randint(1, 12), rng.randint(1, 28))
    return OccupantInput(
        name=rng.choice(SURNAMES) + rng.choice(GIVEN),
        doc_kind="id_card",
        doc_number=make_id_number(rng.choice(AREAS), birth, seq % 1000),
        phone=f"1{rng.choice('3589')}{rng.randint(100000000, 999999999)}",
        health_code=code,
        temperature=temp,
        decision=decision,
        driver=driver,
        travel_places="、".join(rng.sample(PLACES, rng.randint(1, 2))),
        last_test_at=dt.datetime.combine(day, dt.time(8), tzinfo=dt.UTC) - dt.timedelta(days=1),
    )


def _checkpoint_entries(place, rng, now, actor) -> int:
    regulars = [_plate(rng) for _ in range(40)]  # lorries on a daily run: seen before
    items, seq = [], 0
    for back in range(DAYS - 1, -1, -1):
        day = timezone.localdate(now) - dt.timedelta(days=back)
        for hour, rate in enumerate(HOURLY):
            for _ in range(rng.randint(rate * 4 // 5, rate * 6 // 5 + 1)):
                at = dt.datetime.combine(
                    day, dt.time(hour, rng.randint(0, 59)), tzinfo=timezone.get_current_timezone()
                )
                if at > now:
                    continue
                kind = rng.choice(KINDS)
                seq += 1
                people = [_person(rng, seq, True, day)]
                for _ in range(
                    rng.choice([0, 0, 1, 1, 2]) if kind != "bus" else rng.randint(5, 20)
                ):
                    seq += 1
                    people.append(_person(rng, seq, False, day))
                if kind == "on_foot":
                    people = [replace(p, driver=False) for p in people]
                plate = (
                    ""
                    if kind in ("on_foot", "two_wheeler")
                    else (rng.choice(regulars) if rng.random() < 0.4 else _plate(rng))
                )
                items.append(
                    EntryInput(
                        client_id=uuid.UUID(int=rng.getrandbits(128)),
                        kind=kind,
                        plate=plate,
                        cargo=rng.choice(CARGO) if kind in ("truck", "van") else "",
                        origin=rng.choice(PLACES),
                        destination=rng.choice(DESTINATIONS),
                        arrived_at=at,
                        left_at=at + dt.timedelta(minutes=rng.randint(2, 8)),
                        occupants=people,
                    )
                )
    stored = 0
    for start in range(0, len(items), MAX_BATCH):
        out = entries_record(
            actor=actor, place=place, items=items[start : start + MAX_BATCH], at=now
        )
        stored += sum(1 for o in out if o.status == "accepted")
    return stored


def _gate_passages(gate, rng, now, actor) -> int:
    residents = list(
        Resident.objects.filter(community_id=gate.community_id).values_list("pk", "household_id")
    )
    if not residents:
        return 0
    items = []
    for back in range(DAYS - 1, -1, -1):
        day = timezone.localdate(now) - dt.timedelta(days=back)
        for hour, rate in enumerate(GATE_HOURLY):
            for _ in range(rng.randint(rate, rate * 2)):
                at = dt.datetime.combine(
                    day, dt.time(hour, rng.randint(0, 59)), tzinfo=timezone.get_current_timezone()
                )
                if at > now:
                    continue
                direction = "out" if hour < 13 and rng.random() < 0.7 else "in"
                if rng.random() < 0.85:
                    resident, _household = rng.choice(residents)
                    item = PassageInput(
                        client_id=uuid.UUID(int=rng.getrandbits(128)), direction=direction,
                        resident_id=resident, at=at, temperature=round(rng.uniform(36.0, 37.0), 1),
                    )  # fmt: skip
                else:
                    item = PassageInput(
                        client_id=uuid.UUID(int=rng.getrandbits(128)),
                        direction="in",
                        visitor_name=rng.choice(SURNAMES) + rng.choice(GIVEN),
                        phone=f"13{rng.randint(100000000, 999999999)}",
                        purpose=rng.choice(VISITS),
                        host_id=rng.choice(residents)[1],
                        at=at,
                        temperature=round(rng.uniform(36.0, 37.6), 1),
                    )
                items.append(item)
    stored = 0
    for start in range(0, len(items), MAX_BATCH):
        out = passages_record(
            actor=actor, gate=gate, items=items[start : start + MAX_BATCH], at=now
        )
        stored += sum(1 for o in out if o.status == "accepted")
    return stored


def build_demo(street: Node, rng: random.Random, now: dt.datetime) -> dict:
    communities = list(
        Node.objects.filter(street_id=street.pk, level="community").order_by("code", "pk")
    )
    if not communities or Entry.objects.filter(street_id=street.pk).exists():
        return {}
    actor = _crew(street)
    opened = (now - dt.timedelta(days=DAYS)).date()

    def first_grid(community: Node) -> Node:
        return (
            Node.objects.filter(community_id=community.pk, level="grid")
            .order_by("code", "pk")
            .first()
            or community
        )

    checkpoint = mobilization.place_create(
        node=first_grid(communities[0]),
        name=f"{street.name}主干道卡口",
        kind="checkpoint",
        address="主干道进城方向",
        opened_on=opened,
        actor=actor,
    )
    entries = _checkpoint_entries(checkpoint, rng, now, actor)
    passes = _loop_passes(checkpoint, communities, rng, now, actor)
    entries = Entry.objects.filter(place=checkpoint).count()  # with the recent escorted ones
    visits = _station_visits(checkpoint, rng, now, actor)
    passages = 0
    for community in communities:
        gate = mobilization.place_create(
            node=first_grid(community),
            name=f"{community.name}南门卡点",
            kind="guard_point",
            address="小区南门",
            opened_on=opened,
            actor=actor,
        )
        passages += _gate_passages(gate, rng, now, actor)
    return {
        "checkpoints": 1,
        "gates": len(communities),
        "entries": entries,
        "passages": passages,
        **passes,
        "station_visits": visits,
    }


def _escorted_truck(place, rng, at, actor) -> None:
    """A lorry whose driver is let through under escort at `at` (the demo's recent ones)."""
    driver = replace(_person(rng, rng.randint(0, 999), True, at.date()), decision="escort")
    item = EntryInput(
        client_id=uuid.UUID(int=rng.getrandbits(128)), kind="truck", plate=_plate(rng),
        cargo=rng.choice(CARGO[:-1]), origin=rng.choice(PLACES),
        destination=rng.choice(DESTINATIONS), arrived_at=at, occupants=[driver],
    )  # fmt: skip
    entries_record(actor=actor, place=place, items=[item], at=at)


def _loop_passes(place, communities, rng, now, actor) -> dict:
    """A closed-loop pass for every driver let through under escort: those older than ten
    hours confirmed one to three hours after, the last hours' still on the way, and those
    past their four hours overdue (escalated)."""
    _escorted_truck(place, rng, now - dt.timedelta(hours=1), actor)
    _escorted_truck(place, rng, now - dt.timedelta(hours=2), actor)
    _escorted_truck(place, rng, now - dt.timedelta(hours=6), actor)
    _escorted_truck(place, rng, now - dt.timedelta(hours=9), actor)
    escorted = Occupant.objects.filter(entry__place=place, decision="escort").select_related(
        "entry"
    )
    contacts = ["李经理", "王主任", "张站长", "刘师傅", "陈主任"]
    made = confirmed = 0
    for occupant in escorted.order_by("arrived_at", "pk"):
        at = occupant.arrived_at + dt.timedelta(minutes=rng.randint(3, 10))
        if at > now:
            continue
        loop_pass = loop_pass_issue(
            actor=actor,
            occupant=occupant,
            destination=rng.choice(communities),
            address=occupant.entry.destination or rng.choice(DESTINATIONS),
            contact_name=rng.choice(contacts),
            contact_phone=f"13{rng.randint(100000000, 999999999)}",
            client_id=uuid.UUID(int=rng.getrandbits(128)),
            at=at,
        )
        made += 1
        if now - at < dt.timedelta(hours=10):
            continue  # the last hours': on the way, or overdue past their four hours
        arrived = at + dt.timedelta(minutes=rng.randint(50, 200))
        LoopPass.objects.filter(pk=loop_pass.pk).update(arrived_at=arrived, confirmed_by=actor)
        confirmed += 1
    overdue = loop_passes_escalate_due(now=now)
    return {"loop_passes": made, "loop_confirmed": confirmed, "loop_overdue": overdue}


def _station_visits(place, rng, now, actor) -> int:
    """The drivers' service station beside the checkpoint: 30 days of visits, most by the
    plate of a lorry checked that day, some by a pass code; rest, meals, a test in one of
    five with its result six to twelve hours later."""
    trucks = list(
        Entry.objects.filter(place=place, kind="truck").values_list("plate", "arrived_at")
    )
    codes = list(LoopPass.objects.filter(checkpoint=place).values_list("pk", "issued_at"))
    rows = []
    for plate, arrived in trucks:
        if rng.random() > 0.3:
            continue
        at = arrived + dt.timedelta(minutes=rng.randint(10, 40))
        if at > now:
            continue
        stay = dt.timedelta(minutes=rng.randint(20, 240))
        tested = rng.random() < 0.2
        result = at + dt.timedelta(hours=rng.randint(6, 12)) if tested else None
        rows.append(
            StationVisit(
                place=place,
                plate=plate,
                arrived_at=at,
                left_at=at + stay if at + stay <= now - dt.timedelta(minutes=30) else None,
                rested=rng.random() < 0.7,
                meals=rng.choice([0, 1, 1, 1, 2, 2, 3]),
                tested=tested,
                result_at=result if result and result <= now else None,
                entered_by=actor,
                client_id=uuid.UUID(int=rng.getrandbits(128)),
            )  # fmt: skip
        )
    for pk, issued in codes[:: max(1, len(codes) // 10)]:
        at = issued + dt.timedelta(minutes=30)
        if at <= now:
            rows.append(
                StationVisit(
                    place=place,
                    loop_pass_id=pk,
                    arrived_at=at,
                    rested=True,
                    meals=1,
                    entered_by=actor,
                    client_id=uuid.UUID(int=rng.getrandbits(128)),
                )  # fmt: skip
            )
    for row in rows:
        row.locate(place)
    StationVisit.objects.bulk_create(rows)
    return len(rows)
