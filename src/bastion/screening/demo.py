"""Screening data for the demo street: a door-knock campaign that started 13 days ago (most
households reached, some not reachable, a few away, a few grids lagging; findings with a few
fevers) and a pharmacy list every day for the last 14 days, matched with the real matcher
(`services.match_rows`), with the older lists settled and their callbacks done.

Everything is dated over the last 14 days, so the daily figures have a history, and written
with bulk inserts (a few seconds for the 21,345 households of the demo street). The demo
writes no change-log entries for these rows (the visits themselves are the log).
"""

import datetime as dt
import random
import uuid
from collections import Counter, defaultdict
from decimal import Decimal
from functools import cache
from types import SimpleNamespace
from typing import NamedTuple

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from bastion.core.bulk import insert_rows
from bastion.geo.identity import make_id_number
from bastion.geo.models import LEVEL_ORDER, Household, Node, Resident
from bastion.screening.models import (
    Callback,
    CallbackStatus,
    CallList,
    CallRow,
    Campaign,
    CampaignHousehold,
    Finding,
    FollowUp,
    FollowUpSource,
    HouseholdStatus,
    ListKind,
    MatchedBy,
    RowStatus,
    Visit,
)
from bastion.screening.services import (
    APPLIED_FIELDS,
    CallRowData,
    household_apply,
    match_rows,
)

DAYS = 14  # the campaign started DAYS - 1 days ago; one pharmacy list a day
BATCH = 2000  # rows per bulk_create
COLUMNS = [f"{level}_id" for level in LEVEL_ORDER]
PHARMACIES = (
    "益丰大药房（东丰店）",
    "老百姓大药房",
    "东丰县人民药店",
    "吉林大药房",
    "祥鹿卫生服务站药房",
    "康民大药房",
)
DRUGS = (("fever", 5), ("antibiotic", 3), ("antiviral", 2))
OUTSIDE_AREAS = ("220402", "220403", "220422", "220102", "210102")
SURNAMES = "王李张刘陈杨赵黄周吴徐孙马胡朱郭何罗高林"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"


def _located(obj, columns: tuple) -> None:
    for name, value in zip(COLUMNS, columns, strict=True):
        setattr(obj, name, value)


@cache
def _midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time()))


def _moment(day: dt.date, rng: random.Random, now: dt.datetime) -> dt.datetime:
    """A working-hours moment of `day`, never later than now."""
    start = _midnight(day)
    moment = start + dt.timedelta(minutes=rng.randint(8 * 60 + 30, 19 * 60 + 30))
    return max(start, min(moment, now))


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _days(rng: random.Random, count: int, first: int, last: int) -> list[int]:
    return sorted(rng.sample(range(first, last + 1), min(count, last - first + 1)))


def _reach_day(rng: random.Random) -> int:
    """Day of the campaign (0..13) a household is reached: most in the first days."""
    while (day := int(rng.expovariate(1 / 3.5))) >= DAYS:
        pass
    return day


def build_demo(street: Node, rng: random.Random, today: dt.date) -> dict:
    """Write the street's screening data; returns the counts written."""
    with transaction.atomic():
        counts = _campaign(street, rng, today)
        counts |= _call_lists(street, rng, today)
    return counts


def _attempts(rng: random.Random, pace: float) -> list[tuple[str, str, int]]:
    """The attempts at one household: (outcome, channel, day of the campaign)."""
    u = rng.random()
    if u < 0.015:
        day = rng.randint(0, DAYS - 1)
        failed = _days(rng, rng.randint(0, 1), 0, day - 1)
        return [*(("not_reachable", "", d) for d in failed), ("away", "", day)]
    if u < 0.055:
        return [("not_reachable", "", d) for d in _days(rng, rng.randint(1, 3), 4, DAYS - 1)]
    if u < pace:
        day = _reach_day(rng)
        # Not found at first, then cleared a day or two later (daily check-and-clear).
        failed = (
            [("not_reachable", "", rng.randint(max(0, day - 2), day - 1))]
            if (day and rng.random() < 0.15)
            else []
        )
        return [*failed, ("reached", rng.choices(("visit", "phone", "chat"), (6, 3, 1))[0], day)]
    return []


VISIT_FIELDS = [
    "client_id",
    "campaign",
    "household",
    "outcome",
    "channel",
    "day",
    "at",
    "note",
    "recorded_at",
    *COLUMNS,
]
FINDING_FIELDS = [
    "visit",
    "campaign",
    "resident",
    "day",
    "temperature",
    "fever",
    "cough",
    "sore_throat",
    "fatigue",
    "taste_smell_loss",
    "diarrhoea",
    "other_symptoms",
    "travel_place",
    "health_code",
    "needs_medicine",
    "needs_help",
    "needs_note",
    *COLUMNS,
]
FEVERS = ("37.6", "37.9", "38.2", "38.5", "39.1")


def _campaign(street: Node, rng: random.Random, today: dt.date) -> dict:
    now = timezone.now()
    start = today - dt.timedelta(days=DAYS - 1)
    campaign = Campaign(
        node=street,
        name="敲门行动（第一轮）",
        starts_on=start,
        ends_on=today + dt.timedelta(days=7),
    )
    campaign.locate(street)
    campaign.save()
    households = list(
        Household.objects.filter(street_id=street.pk).order_by("id").values_list("id", *COLUMNS)
    )
    residents: dict[int, list[tuple]] = defaultdict(list)
    for resident_id, household_id, *columns in (
        Resident.objects.filter(street_id=street.pk)
        .order_by("id")
        .values_list("id", "household_id", *COLUMNS)
    ):
        residents[household_id].append((resident_id, tuple(columns)))
    # Each grid works at its own pace: a few lag behind (what the dashboard's laggards show).
    grids = sorted({columns[4] for _pk, *columns in households})
    pace = {g: rng.uniform(0.93, 0.99) for g in grids}
    for g in rng.sample(grids, 4):
        pace[g] = rng.uniform(0.70, 0.85)

    entries, visits, reached = [], [], []
    for household_id, *columns in households:
        entry = SimpleNamespace(
            status=HouseholdStatus.NOT_YET,
            channel="",
            attempts=0,
            first_attempt_on=None,
            reached_on=None,
            away_on=None,
            last_attempt_on=None,
            last_attempt_at=None,
        )
        for outcome, channel, index in _attempts(rng, pace[columns[4]]):
            day = start + dt.timedelta(days=index)
            at = _moment(day, rng, now)
            client_id = _uuid(rng)
            visits.append(
                (client_id, campaign.pk, household_id, outcome, channel, day, at, "", now, *columns)
            )
            household_apply(entry, outcome=outcome, channel=channel, day=day, at=at)
            if outcome == "reached":
                reached.append((client_id, day, household_id))
        entries.append(
            (campaign.pk, household_id, *(getattr(entry, f) for f in APPLIED_FIELDS), *columns)
        )
    insert_rows(CampaignHousehold, ["campaign", "household", *APPLIED_FIELDS, *COLUMNS], entries)
    insert_rows(Visit, VISIT_FIELDS, visits)
    visit_ids = dict(Visit.objects.filter(campaign=campaign).values_list("client_id", "id"))
    findings = []
    for client_id, day, household_id in reached:
        for resident_id, columns in residents[household_id]:
            fever = rng.random() < 0.0012
            temperature = (
                Decimal(rng.choice(FEVERS)) if fever else Decimal(rng.randint(358, 371)) / 10
            )
            findings.append(
                (
                    visit_ids[client_id],
                    campaign.pk,
                    resident_id,
                    day,
                    temperature,
                    fever,
                    fever and rng.random() < 0.5,
                    False,
                    False,
                    False,
                    False,
                    "",
                    "",
                    "yellow" if fever else "green",
                    rng.random() < 0.01,
                    rng.random() < 0.004,
                    "",
                    *columns,
                )
            )
    insert_rows(Finding, FINDING_FIELDS, findings)
    fevers = list(Finding.objects.filter(campaign=campaign, fever=True))
    follow_ups = _follow_ups(
        [(f.resident_id, f.day, {"source": FollowUpSource.VISIT, "finding": f}, f) for f in fevers],
        rng,
        today,
        set(),
    )
    status = Counter(e[2] for e in entries)
    return {
        "campaign_households": len(entries),
        **{f"households_{s.value}": status[s] for s in HouseholdStatus},
        "visits": len(visits),
        "findings": len(findings),
        "fevers_found": len(fevers),
        "follow_ups_from_visits": len(follow_ups),
    }


def _follow_ups(
    found: list[tuple], rng: random.Random, today: dt.date, open_residents: set[int]
) -> list[FollowUp]:
    """One follow-up per fever (unless one is open); those older than two days are closed."""
    made = []
    for resident_id, day, source, located in sorted(found, key=lambda f: f[1]):
        if resident_id in open_residents:
            continue
        follow_up = FollowUp(resident_id=resident_id, opened_on=day, **source)
        _located(follow_up, tuple(getattr(located, c) for c in COLUMNS))
        if (today - day).days > 2:
            follow_up.closed_on = min(day + dt.timedelta(days=rng.randint(1, 3)), today)
            follow_up.outcome = rng.choice(
                ("复测体温正常，核酸阴性", "已退烧，居家观察结束", "转诊发热门诊，排除新冠")
            )
        else:
            open_residents.add(resident_id)
        made.append(follow_up)
    FollowUp.objects.bulk_create(made, batch_size=BATCH)
    return made


class Person(NamedTuple):
    """What the demo lists need of a resident (no model instance for 39,303 of them)."""

    id: int
    name: str
    phone: str
    id_number: str
    address: str  # building, unit and room, as a list would write it
    household_id: int
    columns: tuple


def _people(street: Node) -> list[Person]:
    rows = (
        Resident.objects.filter(street_id=street.pk)
        .order_by("id")
        .values_list(
            "id",
            "name",
            "phone",
            "id_number",
            "building__name",
            "unit__name",
            "household__room",
            "household_id",
            *COLUMNS,
        )
    )
    return [
        Person(pk, name, phone, number, f"{building}{unit}{room}", household, tuple(columns))
        for pk, name, phone, number, building, unit, room, household, *columns in rows
    ]


def _outsider(rng: random.Random, taken_phones: set[str]) -> CallRowData:
    birth = dt.date(rng.randint(1950, 2003), rng.randint(1, 12), rng.randint(1, 28))
    while (phone := f"1{rng.choice('3578')}{rng.randint(0, 999_999_999):09d}") in taken_phones:
        pass
    return CallRowData(
        row=0,
        name=rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, 2)),
        id_number=make_id_number(rng.choice(OUTSIDE_AREAS), birth, rng.randint(0, 999)),
        phone=phone if rng.random() < 0.7 else "",
    )


def _call_lists(street: Node, rng: random.Random, today: dt.date) -> dict:
    now = timezone.now()
    staff = User.objects.filter(roles__node=street, roles__role="street_commander").first()
    everyone = _people(street)
    people = [p for p in everyone if p.phone]  # buyers: adults with a mobile
    phones = {p.phone for p in people}
    # Two residents of one name in one household: a row giving name and address fits both.
    namesakes = defaultdict(list)
    for person in everyone:
        namesakes[(person.household_id, person.name)].append(person)
    twins = [group[0] for group in namesakes.values() if len(group) > 1]

    rows, answers = [], []  # answers: the resident a person would pick for a row, or None
    lists = []
    for index in range(DAYS):
        day = today - dt.timedelta(days=DAYS - 1 - index)
        call_list = CallList(
            node=street,
            kind=ListKind.PHARMACY,
            created_by=staff,
            name=f"药店购药人员名单 {day:%m-%d}",
            filename=f"药店购药人员{day:%Y%m%d}.xlsx",
        )
        call_list.locate(street)
        lists.append((call_list, day))
    CallList.objects.bulk_create([c for c, _d in lists])
    for call_list, day in lists:  # each list arrived in the morning of its day
        arrived = timezone.make_aware(dt.datetime.combine(day, dt.time(7, 30)))
        CallList.objects.filter(pk=call_list.pk).update(created_at=min(arrived, now))
    for call_list, day in lists:
        for number in range(2, 2 + rng.randint(16, 26)):
            u = rng.random()
            truth = None
            if u < 0.10:
                data = _outsider(rng, phones)
            elif u < 0.16 and twins:
                truth = rng.choice(twins)
                data = CallRowData(row=0, name=truth.name, address=truth.address)
            elif u < 0.22:  # a name only: offered the residents of that name
                truth = rng.choice(people)
                data = CallRowData(row=0, name=truth.name)
            else:
                truth = rng.choice(people)
                way = rng.random()
                data = CallRowData(
                    row=0,
                    name=truth.name,
                    id_number=truth.id_number if way < 0.7 else "",
                    phone=truth.phone if 0.7 <= way < 0.92 else "",
                    address=truth.address if way >= 0.92 else "",
                )
            data.row = number
            data.drug_category = rng.choices([d for d, _w in DRUGS], [w for _d, w in DRUGS])[0]
            data.event_at = _moment(day - dt.timedelta(days=1), rng, now)
            data.place = rng.choice(PHARMACIES)
            rows.append((call_list, day, data))
            answers.append(truth)

    made = []
    for (call_list, day, data), match in zip(
        rows, match_rows(street, [r[2] for r in rows]), strict=True
    ):
        row = CallRow(
            call_list=call_list,
            status=match.status,
            matched_by=match.matched_by,
            resident=match.resident,
            candidates=list(match.candidates),
            **{
                f: getattr(data, f)
                for f in (
                    "row",
                    "name",
                    "id_number",
                    "phone",
                    "address",
                    "drug_category",
                    "event_at",
                    "place",
                    "note",
                )
            },
        )
        row.locate(match.resident or street)
        made.append((row, day))
    # Lists older than two days have been settled by the street's staff.
    for (row, day), truth in zip(made, answers, strict=True):
        if (today - day).days <= 2 or row.status == RowStatus.MATCHED or staff is None:
            continue
        row.resolved_by = staff
        row.resolved_at = _moment(day + dt.timedelta(days=1), rng, now)
        if truth is not None:
            row.status, row.matched_by, row.resident_id = (
                RowStatus.MATCHED,
                MatchedBy.PERSON,
                truth.id,
            )
            _located(row, truth.columns)
        else:
            row.status = RowStatus.OUTSIDE
    CallRow.objects.bulk_create([r for r, _d in made], batch_size=BATCH)

    callbacks = []
    for row, day in made:
        if row.status != RowStatus.MATCHED:
            continue
        callback = Callback(call_row=row, resident_id=row.resident_id, created_on=day)
        callback.locate(row)  # the row sits where its resident lives
        age = (today - day).days
        if rng.random() < (0.97 if age > 1 else 0.75 if age == 1 else 0.3):
            done_on = min(day + dt.timedelta(days=rng.choice((0, 0, 1))), today)
            callback.status, callback.done_on = CallbackStatus.DONE, done_on
            callback.done_at, callback.done_by = _moment(done_on, rng, now), staff
            callback.client_id = _uuid(rng)
            callback.fever_now = rng.random() < 0.05
            callback.temperature = Decimal("38.3") if callback.fever_now else None
            callback.drug_user = rng.choice(("本人", "本人", "配偶", "子女", "父母"))
            callback.drug_used_on = day - dt.timedelta(days=1)
            callback.illness_history = rng.choice(("", "", "", "高血压", "糖尿病", "慢性支气管炎"))
        callbacks.append(callback)
    Callback.objects.bulk_create(callbacks, batch_size=BATCH)
    open_now = set(
        FollowUp.objects.filter(resident__street_id=street.pk, closed_on__isnull=True).values_list(
            "resident_id", flat=True
        )
    )
    follow_ups = _follow_ups(
        [
            (cb.resident_id, cb.done_on, {"source": FollowUpSource.CALLBACK, "callback": cb}, cb)
            for cb in callbacks
            if cb.fever_now
        ],
        rng,
        today,
        open_now,
    )
    status = Counter(r.status for r, _d in made)
    return {
        "call_lists": len(lists),
        "call_rows": len(made),
        **{f"call_rows_{s.value}": status[s] for s in RowStatus},
        "callbacks": len(callbacks),
        "callbacks_done": sum(cb.status == CallbackStatus.DONE for cb in callbacks),
        "follow_ups_from_callbacks": len(follow_ups),
    }
