"""The demo street's transfers (转运): a dozen over the last six days — positive cases to the
infectious-disease hospital, close contacts to the street's quarantine hotel (the mobilization
demo's place, when there is one), a fever at the checkpoint to a fever clinic, a released
person taken home — most arrived, today's planned, on the way, one called off. Written through
the services, as the crews' phones would."""

import datetime as dt
import random

from django.utils import timezone

from bastion.geo.identity import make_id_number
from bastion.geo.models import Node, Resident
from bastion.incidents.transfers import services
from bastion.incidents.transfers.models import Transfer
from bastion.people.mobilization.models import Place, PlaceKind

HOSPITALS = ["市传染病医院", "市第一人民医院发热门诊"]
ESCORTS = ["社区医生 王丽", "街道干部 张军", "民警 刘强", "120 急救员 陈伟"]
PLATES = ["冀A12J57", "冀A3C261", "冀AD28765", "冀A65120"]
# (days back, hour, who, reason, to, state): "who" is a resident, "visitor" someone stopped at
# the checkpoint, "released" someone at the hotel going home.
PLAN = (
    (5, 9, "resident", "positive", "hospital", "arrived"),
    (5, 10, "resident", "close_contact", "quarantine", "arrived"),
    (5, 10, "resident", "close_contact", "quarantine", "arrived"),
    (4, 14, "visitor", "fever", "hospital", "arrived"),
    (3, 8, "resident", "close_contact", "quarantine", "arrived"),
    (3, 16, "resident", "secondary_contact", "quarantine", "cancelled"),
    (2, 11, "resident", "abnormal_check", "hospital", "arrived"),
    (1, 9, "released", "release", "home", "arrived"),
    (1, 15, "resident", "positive", "hospital", "arrived"),
    (0, 7, "resident", "close_contact", "quarantine", "on_the_way"),
    (0, 8, "resident", "close_contact", "quarantine", "planned"),
    (0, 9, "resident", "positive", "hospital", "planned"),
)


def build_demo(street: Node, rng: random.Random, now: dt.datetime) -> dict:
    if Transfer.objects.filter(street_id=street.pk).exists():
        return {}
    residents = list(
        Resident.objects.filter(street_id=street.pk).select_related("household").order_by("pk")
    )
    if not residents:
        return {}
    actor = None  # written by the system, as an import from the transfer team's sheet
    places = Place.objects.filter(street_id=street.pk, closed_on__isnull=True)
    hotel = places.filter(kind=PlaceKind.QUARANTINE_SITE).order_by("pk").first()
    checkpoint = places.filter(kind=PlaceKind.CHECKPOINT).order_by("pk").first()
    picked = rng.sample(residents, min(len(residents), len(PLAN)))
    made = 0
    for i, (back, hour, who, reason, to, state) in enumerate(PLAN):
        at = dt.datetime.combine(
            timezone.localdate(now) - dt.timedelta(days=back),
            dt.time(hour, rng.randint(0, 59)),
            tzinfo=timezone.get_current_timezone(),
        )
        if at > now:
            at = now - dt.timedelta(minutes=30 * (len(PLAN) - i))
        resident = picked[i % len(picked)]
        if to == "quarantine" and hotel is None:
            to = "hospital"
        kw: dict = {"resident": resident}
        if who == "visitor":
            if checkpoint is None:
                continue
            birth = dt.date(rng.randint(1965, 1995), rng.randint(1, 12), rng.randint(1, 28))
            kw = {
                "name": "赵志强",
                "doc_kind": "id_card",
                "doc_number": make_id_number("130102", birth, rng.randint(1, 999)),
                "from_place": checkpoint,
                "source": "checkpoint",
            }
        elif who == "released":
            if hotel is None:
                continue
            kw = {"resident": resident, "from_place": hotel, "source": "quarantine"}
        transfer = services.transfer_plan(
            actor=actor,
            destination=to,
            reason=reason,
            to_hospital=HOSPITALS[0] if reason == "positive" else HOSPITALS[1],
            to_place=hotel if to == "quarantine" else None,
            plate=rng.choice(PLATES) if state != "planned" else "",
            escort=rng.choice(ESCORTS),
            planned_at=at,
            via="demo",
            **kw,
        )
        made += 1
        if state in ("on_the_way", "arrived"):
            left = min(at + dt.timedelta(minutes=rng.randint(10, 40)), now)
            services.transfer_depart(actor=actor, transfer=transfer, at=left, via="demo")
            if state == "arrived":
                there = min(left + dt.timedelta(minutes=rng.randint(25, 70)), now)
                services.transfer_arrive(actor=actor, transfer=transfer, at=there, via="demo")
        elif state == "cancelled":
            services.transfer_cancel(
                actor=actor, transfer=transfer, reason="复核为非密接，改为居家健康监测",
                at=at + dt.timedelta(hours=1), via="demo",
            )  # fmt: skip
    return {"transfers": made}
