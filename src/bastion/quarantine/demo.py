"""The demo street's quarantine hotel: the street's quarantine site (made by the mobilization
demo, or made here) with 120 rooms (two buildings, floors 2–7, ten rooms a floor, a few
doubles), and 30 days of arrivals — returnees by flight and train, people handed over at the
street's checkpoint (received here, so the checkpoint's board clears), a few from positive
responses — their twice-daily checks, releases at the planned end (a few early, with the
reason) handed over to their home community, transfers out after an abnormal check, and
incidents with what was done. Admissions, releases, transfers and incidents go through the
services; the checks of 30 days are written in one multi-row insert (the demo's only
shortcut: the same rows `check_record` writes)."""

import datetime as dt
import random

from django.utils import timezone

from bastion.accounts.models import RoleAssignment
from bastion.checkpoints.models import Decision, Occupant
from bastion.geo.identity import make_id_number
from bastion.geo.models import Node, Resident
from bastion.people.mobilization import services as mobilization
from bastion.people.mobilization.models import Place, PlaceKind
from bastion.quarantine import services
from bastion.quarantine.models import HealthCheck, Room, Stay, StayState

DAYS = 30
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = ["建国", "秀英", "志强", "丽", "军", "海燕", "伟", "桂兰", "强", "敏", "磊", "红梅"]
FLIGHTS = ["CA1234", "MU5102", "CZ3101", "HU7181", "3U8881", "MF8101"]
TRAINS = ["G123", "G81", "D2511", "G1261", "K1178", "Z62"]
SYMPTOMS = ["cough", "sore_throat", "fatigue"]
INCIDENTS = [
    ("refusal", "拒绝配合采样", "耐心劝导后完成采样"),
    ("illness", "自述胸闷不适", "驻点医生问诊，测血氧正常，继续观察"),
    ("leaving", "擅自离开房间到走廊", "劝返房间，加强楼层巡查"),
    ("other", "家属送来物品", "经消杀后转交"),
    ("illness", "血压偏高", "按时服药，每日加测一次血压"),
]


def _actor(street: Node):
    found = (
        RoleAssignment.objects.filter(role="street_commander", node_id=street.pk)
        .select_related("user")
        .first()
    )
    return found.user if found else None


def _site(street: Node, actor, now: dt.datetime) -> Place:
    place = Place.objects.filter(street_id=street.pk, kind=PlaceKind.QUARANTINE_SITE).first()
    if place is not None:
        return place
    grid = Node.objects.filter(street_id=street.pk, level="grid").order_by("code", "pk").first()
    return mobilization.place_create(
        node=grid or street,
        name=f"{street.name}集中隔离酒店",
        kind=PlaceKind.QUARANTINE_SITE,
        address="迎宾路88号",
        opened_on=(now - dt.timedelta(days=DAYS + 5)).date(),
        actor=actor,
    )


def build_demo(street: Node, rng: random.Random, now: dt.datetime) -> dict:
    actor = _actor(street)
    if actor is None or Stay.objects.filter(street_id=street.pk).exists():
        return {}
    place = _site(street, actor, now)
    if not Room.objects.filter(place=place).exists():
        rooms = services.rooms_pattern(buildings=["A", "B"], floors=(2, 7), per_floor=10)
        rooms = [
            services.RoomInput(r.block, r.floor, r.number, 2 if r.number.endswith("10") else 1)
            for r in rooms
        ]
        services.rooms_create(actor=actor, place=place, rooms=rooms, source="demo")
    residents = list(Resident.objects.filter(street_id=street.pk).order_by("pk")[:2000])
    handed = list(
        Occupant.objects.filter(
            district_id=street.district_id, decision=Decision.QUARANTINE, received_at__isnull=True
        ).order_by("arrived_at")
    )
    start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    start -= dt.timedelta(days=DAYS)
    counts = {"rooms": Room.objects.filter(place=place).count(), "admitted": 0, "released": 0,
              "transferred": 0, "incidents": 0, "checks": 0}  # fmt: skip
    seq = 0
    stays: list[Stay] = []
    for day_index in range(DAYS + 1):
        day_start = start + dt.timedelta(days=day_index)
        if day_start > now:
            break
        # yesterday's emptied rooms disinfected in the morning
        for room in Room.objects.filter(place=place, state="to_disinfect"):
            services.room_disinfected(actor=actor, room=room)
        # the day's ends first: releases at the planned end, beds freed for the arrivals
        for stay in [s for s in stays if s.state == StayState.IN]:
            early = rng.random() < 0.01
            if stay.planned_end <= day_start.date() or early:
                at = day_start + dt.timedelta(hours=10, minutes=rng.randint(0, 90))
                if at > now:
                    continue
                services.stay_release(
                    actor=actor,
                    stay=stay,
                    at=at,
                    reason="" if not early else "核酸阴性，经评估提前解除",
                )
                stay.state = StayState.RELEASED
                if stay.home_node_id:
                    services.stay_hand_over(actor=actor, stay=stay, at=at + dt.timedelta(hours=1))
                counts["released"] += 1
        arrivals = [
            h for h in handed if timezone.localtime(h.arrived_at).date() == day_start.date()
        ]
        arrivals = [("checkpoint", h) for h in arrivals]
        arrivals += [("returnee", None)] * rng.randint(2, 5)
        if rng.random() < 0.15:
            arrivals.append(("positive", None))
        free = list(
            Room.objects.filter(place=place, state="ready").order_by("block", "floor", "number")
        )
        rng.shuffle(free)
        for source, occupant in arrivals:
            if not free:
                break
            room = free.pop()
            at = day_start + dt.timedelta(hours=rng.randint(9, 21), minutes=rng.randint(0, 59))
            if occupant is not None:
                at = max(at, occupant.arrived_at + dt.timedelta(hours=2))
            if at > now:
                continue
            seq += 1
            kw: dict = {}
            if source == "checkpoint":
                kw["occupant"] = occupant
            elif source == "positive" and residents:
                kw["resident"] = residents[rng.randrange(len(residents))]
            else:
                birth = dt.date(rng.randint(1955, 2005), rng.randint(1, 12), rng.randint(1, 28))
                kw["person"] = services.PersonInput(
                    rng.choice(SURNAMES) + rng.choice(GIVEN),
                    "id_card",
                    make_id_number(
                        rng.choice(["110105", "310104", "440305", "510107"]), birth, 700 + seq % 300
                    ),
                    f"1{rng.choice('3589')}{rng.randint(100000000, 999999999)}",
                )
                kw["travel_no"] = rng.choice(FLIGHTS + TRAINS)
                kw["arrival_at"] = at - dt.timedelta(hours=rng.randint(1, 5))
                if residents and rng.random() < 0.6:  # coming home to the street
                    kw["home_node"] = residents[rng.randrange(len(residents))].unit
            try:
                stay = services.stay_admit(
                    actor=actor, place=place, room_id=room.pk, source=source, at=at, **kw
                )
            except Exception:  # a resident drawn twice, already in: the next arrival
                continue
            stays.append(stay)
            counts["admitted"] += 1
            if rng.random() < 0.06:
                what = INCIDENTS[rng.randrange(len(INCIDENTS))]
                services.incident_record(
                    actor=actor, stay=stay, kind=what[0], what=what[1], done=what[2],
                    at=at + dt.timedelta(days=rng.randint(0, 3), hours=2),
                )  # fmt: skip
                counts["incidents"] += 1
    checks, transfers = _checks(stays, rng, now, actor)
    HealthCheck.objects.bulk_create(checks, batch_size=2000)
    counts["checks"] = len(checks)
    for stay, at in transfers:
        services.stay_transfer(
            actor=actor, stay=stay, to="市第一人民医院（定点医院）", vehicle="京A12120",
            escort="驻点医生", at=at,
        )  # fmt: skip
        counts["transferred"] += 1
    return counts


def _checks(stays, rng, now, actor):
    """Every check of every stay up to now (the latest half-day left due for the phone's
    list), a fever here and there; a few abnormal ones lead to a transfer out."""
    rows, transfers = [], []
    today = timezone.localdate(now)
    for stay in Stay.objects.filter(pk__in=[s.pk for s in stays]).order_by("pk"):
        end = stay.ended_at or now
        day = timezone.localdate(stay.admitted_at)
        transfer_at = None
        while day <= timezone.localdate(end) and transfer_at is None:
            for half, hour in (("am", 8), ("pm", 15)):
                at = timezone.make_aware(
                    dt.datetime.combine(day, dt.time(hour, rng.randint(0, 40)))
                )
                if at < stay.admitted_at or at > end or (day == today and half == "pm"):
                    continue
                if day == today and now - at < dt.timedelta(hours=1):
                    continue
                fever = rng.random() < 0.01
                temp = (
                    round(rng.uniform(37.4, 38.6), 1)
                    if fever
                    else round(rng.uniform(36.0, 37.1), 1)
                )
                symptoms = rng.choice(SYMPTOMS) if rng.random() < 0.02 else ""
                rows.append(HealthCheck(
                    stay_id=stay.pk, day=day, half=half, temperature=temp, symptoms=symptoms,
                    abnormal=fever or bool(symptoms), checked_at=at, checked_by=actor,
                ))  # fmt: skip
                if fever and stay.state == StayState.IN and transfer_at is None:
                    transfer_at = at + dt.timedelta(hours=2)
                    if transfer_at < now:
                        transfers.append((stay, transfer_at))
                    break
            day += dt.timedelta(days=1)
    return rows, transfers
