"""People without a plain ID card on the demo street, and how the round in progress samples
them: foreigners with passports and permanent residence cards, Hong Kong / Macao / Taiwan
residents with their permits, an overseas Chinese with a passport, children without an ID
under a guardian, elderly residents without a phone, people registered elsewhere — and a few
households sampled with their family code, and a few people entered by hand because their
code would not scan.

Written through the services (so history and checks are the real ones); deterministic for a
given `rng`."""

import datetime as dt
import itertools
import random
import uuid

from django.utils import timezone

from bastion.geo import services as geo
from bastion.geo.identity import make_pr_2023_number, make_residence_permit_number
from bastion.geo.models import DocKind, Household, Node, Presence, Relation, Resident
from bastion.people.models import Person
from bastion.testing.rounds.models import Round, Station
from bastion.testing.scans import batch as scan_batch
from bastion.testing.scans.codes import family_code, resident_code
from bastion.testing.scans.family import family_scan
from bastion.testing.scans.models import Scan
from bastion.testing.scans.services import scans_record

# Residents of the street who turn out to be known by another document: their birth date
# and sex are kept (so the street's figures stay those of the field report), their name and
# document change. (name for a man, name for a woman, document kind, number or its parts)
FOREIGNERS = [
    ("John Smith", "Mary Johnson", DocKind.PASSPORT, "583920174"),
    ("Lukas Müller", "Anna Müller", DocKind.PASSPORT, "C01X00T47"),
    ("Kim Min-jun", "Kim Ji-woo", DocKind.PASSPORT, "M12345678"),
    ("Tanaka Hiroshi", "Tanaka Yuki", DocKind.PR_CARD, ("11", "392", 12)),
    ("Ivan Petrov", "Olga Ivanova", DocKind.PR_CARD, ("31", "643", 4)),
    ("Ahmed Hassan", "Fatima Hassan", DocKind.PR_CARD, ("EGY", "44", 13)),
]


HMT = [
    ("陈家明", "陈嘉欣", DocKind.HK_MACAO_PERMIT, "H60218834"),
    ("梁志伟", "梁嘉欣", DocKind.HK_MACAO_PERMIT, "M02347751"),
    ("林志豪", "林怡君", DocKind.TAIWAN_PERMIT, "04518263"),
    ("黄俊杰", "黄美玲", DocKind.HMT_RESIDENCE, ("81", 24)),
    ("郑文杰", "郑雅婷", DocKind.HMT_RESIDENCE, ("83", 31)),
    # An overseas Chinese back for a stay, known by the passport (no hukou, no ID card).
    ("周海峰", "周海燕", DocKind.PASSPORT_CN, "E58321907"),
]


CHILD_NAMES = ["小宝", "小米", "豆豆", "乐乐", "甜甜", "安安", "果果", "朵朵"]


PLACES = ["河南省信阳市浉河区", "四川省成都市武侯区", "湖北省黄冈市麻城市", "安徽省阜阳市颍州区"]


NO_PHONE_ELDERS = 12


REGISTERED_ELSEWHERE = 40


FAMILY_SCANS = 3


MANUAL_SCANS = 2


def _number(kind: str, birth: dt.date, raw) -> str:
    if kind == DocKind.PR_CARD and raw[0].isalpha():  # a 2017 card
        nationality, province, sequence = raw
        return f"{nationality}{province}{birth:%y%m%d}{sequence:04d}"
    if kind == DocKind.PR_CARD:
        province, nationality, sequence = raw
        return make_pr_2023_number(province, nationality, birth, sequence)
    if kind == DocKind.HMT_RESIDENCE:
        region, sequence = raw
        # The permit's sequence carries the sex like an ID number's: odd for men.
        return make_residence_permit_number(region, birth, sequence)
    return raw


def _known_by(resident: Resident, entry: tuple) -> Resident:
    man, woman, kind, raw = entry
    birth = resident.birth_date
    if kind in (DocKind.HMT_RESIDENCE, DocKind.PR_CARD) and not raw[0].isalpha():
        raw = (*raw[:-1], raw[-1] * 2 + (1 if resident.sex == "M" else 0))
    return geo.resident_update(
        resident=resident,
        name=man if resident.sex == "M" else woman,
        doc_kind=kind,
        doc_number=_number(kind, birth, raw),
        birth_date=birth,
        sex=resident.sex,
        relation=resident.relation,
        source="demo",
    )


def build_identity_demo(
    street: Node, rng: random.Random, running: Round, stations: list[Station], now: dt.datetime
) -> dict:
    sampled = set(
        Scan.objects.filter(round=running, resident__isnull=False).values_list(
            "resident_id", flat=True
        )
    )
    households = list(
        Household.objects.filter(street_id=street.pk).order_by("pk").values_list("pk", flat=True)
    )
    residents = list(
        Resident.objects.filter(street_id=street.pk, presence=Presence.HOME)
        .order_by("pk")
        .values_list("pk", "household_id", "birth_date")
    )
    by_household: dict[int, list[int]] = {}
    for pk, household_id, _birth in residents:
        by_household.setdefault(household_id, []).append(pk)
    # Households nobody of which is sampled yet: the new people live there, and some of them
    # are then sampled with their family code.
    open_households = [
        h for h in households if by_household.get(h) and not sampled & set(by_household[h])
    ]
    rng.shuffle(open_households)
    rest = set(households) - set(open_households)
    picks = iter(open_households + [h for h in households if h in rest])

    linked = set(Person.objects.exclude(id_number=None).values_list("id_number", flat=True))
    today = dt.date.today()
    adult = today.replace(year=today.year - 20, day=1)

    def adults_of(household_id: int) -> list[Resident]:
        return [
            r
            for r in Resident.objects.filter(
                household_id=household_id, doc_kind=DocKind.ID_CARD, birth_date__lte=adult
            ).order_by("pk")
            if r.id_number not in linked
        ]

    def next_adult() -> Resident:
        while not (found := adults_of(next(picks))):
            pass
        return found[0]

    foreigners = [_known_by(next_adult(), entry) for entry in FOREIGNERS]
    hmt = [_known_by(next_adult(), entry) for entry in HMT]

    # Children without an ID: minors of the street (or, on a street without any, the
    # youngest of a household made a child) recorded under an adult of their household.
    children = []
    order = list(picks)  # the households not used yet, in the same order
    members_of: dict[int, list[Resident]] = {}
    for r in Resident.objects.filter(street_id=street.pk).order_by("pk"):
        members_of.setdefault(r.household_id, []).append(r)

    def candidates(made_young: bool):
        for household_id in order:
            members = [r for r in members_of.get(household_id, []) if r.id_number not in linked]
            grown = [r for r in members if r.birth_date <= adult]
            young = [r for r in members if r.age < 14]
            if made_young and len(grown) >= 2:
                guardian = min(grown, key=lambda r: abs(r.age - 35))
                yield max((r for r in grown if r.pk != guardian.pk), key=lambda r: r.pk), guardian
            elif not made_young and young and grown:
                yield young[0], min(grown, key=lambda r: abs(r.age - 35))

    # Minors of the street recorded under an adult of their household (birth date and
    # relation as they are); only a street without minors has an adult made a child.
    chosen = list(itertools.islice(candidates(False), len(CHILD_NAMES)))
    if len(chosen) < len(CHILD_NAMES):
        chosen += list(itertools.islice(candidates(True), len(CHILD_NAMES) - len(chosen)))
    for i, ((child, guardian), name) in enumerate(zip(chosen, CHILD_NAMES, strict=False)):
        made_young = child.age >= 14
        fields = {"doc_kind": DocKind.NONE, "guardian": guardian, "sex": child.sex}
        if made_young:
            fields |= {
                "name": name,
                "birth_date": today.replace(year=today.year - 1 - i % 5, day=1),
                "relation": Relation.CHILD if guardian.age < 50 else Relation.GRANDCHILD,
            }
        else:
            fields["birth_date"] = child.birth_date
        children.append(geo.resident_update(resident=child, source="demo", **fields))

    elders = list(
        Resident.objects.filter(
            street_id=street.pk,
            presence=Presence.HOME,
            birth_date__lte=today.replace(year=today.year - 70, day=1),
        )
        .exclude(doc_kind=DocKind.NONE)
        .exclude(id_number__in=linked)  # a person's phone stays the same as their resident's
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    elders = rng.sample(elders, min(NO_PHONE_ELDERS, len(elders)))
    for resident in Resident.objects.filter(pk__in=elders):
        geo.resident_update(resident=resident, phone="", no_phone=True, source="demo")
    movers = rng.sample([pk for pk, _h, _b in residents], REGISTERED_ELSEWHERE)
    for i, resident in enumerate(Resident.objects.filter(pk__in=movers).order_by("pk")):
        geo.resident_update(
            resident=resident, registered_address=PLACES[i % len(PLACES)], source="demo"
        )

    # The round in progress: households scanned with their family code, each into its own
    # new tube, and people entered by hand at a station.
    station = stations[0]
    at = now - dt.timedelta(minutes=20)
    day = f"{timezone.localtime(now):%m%d}"  # the round's local date, as a crew's barcodes
    family_households = [c.household_id for c in children[:FAMILY_SCANS]]
    for i, household_id in enumerate(family_households):
        family_scan(
            actor=None,
            station=station,
            item=scan_batch.ScanInput(
                client_id=uuid.UUID(int=rng.getrandbits(128), version=4),
                tube=f"FAM{day}{i + 1:04d}",
                code=family_code(household_id),
                at=at + dt.timedelta(minutes=3 * i),
            ),
        )
    manual = scans_record(
        actor=None,
        station=station,
        items=[
            scan_batch.ScanInput(
                client_id=uuid.UUID(int=rng.getrandbits(128), version=4),
                tube=f"MAN{day}0001",
                code=resident_code(r.pk),
                at=at + dt.timedelta(minutes=12 + i),
                manual=True,
            )
            for i, r in enumerate(foreigners[:MANUAL_SCANS])
        ],
    )
    return {
        "residents_with_other_documents": len(foreigners) + len(hmt),
        "children_under_guardian": len(children),
        "elders_without_phone": len(elders),
        "registered_elsewhere": REGISTERED_ELSEWHERE,
        "family_scans": len(family_households),
        "manual_scans": sum(o.status == "accepted" for o in manual),
    }
