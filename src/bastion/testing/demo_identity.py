"""People without a plain ID card on the demo street, and how the round in progress samples
them: foreigners with passports and permanent residence cards, Hong Kong / Macao / Taiwan
residents with their permits, an overseas Chinese with a passport, children without an ID
under a guardian, elderly residents without a phone, people registered elsewhere — and a few
households sampled with their family code, and a few people entered by hand because their
code would not scan.

Written through the services (so history and checks are the real ones); deterministic for a
given `rng`."""

import datetime as dt
import random
import uuid

from bastion.geo import services as geo
from bastion.geo.identity import make_pr_2023_number, make_residence_permit_number
from bastion.geo.models import DocKind, Household, Node, Presence, Relation, Resident
from bastion.testing import services
from bastion.testing.codes import family_code, resident_code
from bastion.testing.family import family_scan
from bastion.testing.models import Round, Scan, Station

FOREIGNERS = [
    # name, sex, birth, document kind, number
    ("John Smith", "M", dt.date(1979, 4, 2), DocKind.PASSPORT, "583920174"),
    ("Anna Müller", "F", dt.date(1986, 9, 14), DocKind.PASSPORT, "C01X00T47"),
    ("Kim Min-jun", "M", dt.date(1991, 1, 30), DocKind.PASSPORT, "M12345678"),
    ("Tanaka Yuki", "F", dt.date(1983, 6, 8), DocKind.PR_CARD, ("11", "392", 12)),
    ("Olga Ivanova", "F", dt.date(1975, 12, 1), DocKind.PR_CARD, ("31", "643", 4)),
    ("Ahmed Hassan", "M", dt.date(1969, 3, 21), DocKind.PR_CARD, "EGY446903210013"),
]
HMT = [
    ("陈家明", "M", dt.date(1980, 5, 5), DocKind.HK_MACAO_PERMIT, "H60218834"),
    ("梁嘉欣", "F", dt.date(1994, 10, 10), DocKind.HK_MACAO_PERMIT, "M02347751"),
    ("林志豪", "M", dt.date(1972, 8, 17), DocKind.TAIWAN_PERMIT, "04518263"),
    ("黄美玲", "F", dt.date(1988, 2, 2), DocKind.HMT_RESIDENCE, ("81", 24)),
    ("郑文杰", "M", dt.date(1965, 11, 11), DocKind.HMT_RESIDENCE, ("83", 31)),
    # An overseas Chinese back for a stay, known by the passport (no hukou, no ID card).
    ("周海峰", "M", dt.date(1970, 7, 7), DocKind.PASSPORT_CN, "E58321907"),
]
CHILD_NAMES = ["小宝", "小米", "豆豆", "乐乐", "甜甜", "安安", "果果", "朵朵"]
PLACES = ["河南省信阳市浉河区", "四川省成都市武侯区", "湖北省黄冈市麻城市", "安徽省阜阳市颍州区"]
NO_PHONE_ELDERS = 12
REGISTERED_ELSEWHERE = 40
FAMILY_SCANS = 3
MANUAL_SCANS = 2


def _number(kind: str, birth: dt.date, raw) -> str:
    if kind == DocKind.PR_CARD and isinstance(raw, tuple):
        province, nationality, sequence = raw
        return make_pr_2023_number(province, nationality, birth, sequence)
    if kind == DocKind.HMT_RESIDENCE:
        region, sequence = raw
        return make_residence_permit_number(region, birth, sequence)
    return raw


def _register(household: Household, people: list, relation: str) -> list[Resident]:
    made = []
    for name, sex, birth, kind, raw in people:
        number = _number(kind, birth, raw)
        fields = {"doc_kind": kind, "doc_number": number, "birth_date": birth, "sex": sex}
        made.append(
            geo.resident_create(
                household=household, name=name, relation=relation, source="demo", **fields
            )
        )
    return made


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

    foreigners, hmt = [], []
    for person in FOREIGNERS:
        foreigners += _register(Household.objects.get(pk=next(picks)), [person], Relation.OTHER)
    for person in HMT:
        hmt += _register(Household.objects.get(pk=next(picks)), [person], Relation.OTHER)

    today = dt.date.today()
    children = []
    adult = today.replace(year=today.year - 20, day=1)
    for i, name in enumerate(CHILD_NAMES):
        adults: list[Resident] = []
        while not adults:
            household = Household.objects.get(pk=next(picks))
            adults = list(
                Resident.objects.filter(
                    household=household, doc_kind=DocKind.ID_CARD, birth_date__lte=adult
                )
            )
        guardian = min(adults, key=lambda r: abs(r.age - 35))
        children.append(
            geo.resident_create(
                household=household,
                name=name,
                doc_kind=DocKind.NONE,
                birth_date=today.replace(year=today.year - 1 - i % 5, day=1),
                sex="M" if i % 2 else "F",
                relation=Relation.CHILD if guardian.age < 50 else Relation.GRANDCHILD,
                guardian=guardian,
                source="demo",
            )
        )

    elders = [
        pk for pk, _h, birth in residents if birth <= today.replace(year=today.year - 70, day=1)
    ]
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
    family_households = [c.household_id for c in children[:FAMILY_SCANS]]
    for i, household_id in enumerate(family_households):
        family_scan(
            actor=None,
            station=station,
            item=services.ScanInput(
                client_id=uuid.UUID(int=rng.getrandbits(128), version=4),
                tube=f"FAM{now:%m%d}{i + 1:04d}",
                code=family_code(household_id),
                at=at + dt.timedelta(minutes=3 * i),
            ),
        )
    manual = services.scans_record(
        actor=None,
        station=station,
        items=[
            services.ScanInput(
                client_id=uuid.UUID(int=rng.getrandbits(128), version=4),
                tube=f"MAN{now:%m%d}0001",
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
