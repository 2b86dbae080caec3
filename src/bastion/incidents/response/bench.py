"""`bastion bench response`: confirming the response bundle for a sealed building of 500
people (its areas set, the seven tasks opened through their modules: the home-sampling round,
the delivery mode, the tracing list, the reserve cadres, the chiefs' order), beside a plain
read of the building's 500 residents in the same run. The web command opens the scratch
database and calls these two.

The street: one community, one grid, `RUNS` buildings of 10 units × 25 households × 2
residents, a chief on each building and unit, and a reserve pool of cadres; written through
the services (a few thousand rows)."""

import datetime as dt
import statistics
import time

from django.contrib.auth.models import User
from django.db import connection
from django.utils import timezone

from bastion.accounts.services import role_assign
from bastion.geo import services as geo
from bastion.geo.identity import make_id_number
from bastion.geo.models import Household, Node, Resident
from bastion.incidents.response import services
from bastion.people import services as people

RUNS = 3
UNITS, HOUSEHOLDS, MEMBERS = 10, 25, 2
TARGETS = {"confirm_ms": 1000.0}


def bench_build() -> dict:
    """Write the street, its buildings of 500 people, chiefs and reserve; answers the ids of
    the buildings' first units (where each run's case lives)."""
    city = geo.node_create(parent=None, name="基准市", code="RC")
    district = geo.node_create(parent=city, name="基准区", code="RD")
    street = geo.node_create(parent=district, name="处置街道", code="RS")
    community = geo.node_create(parent=street, name="处置社区", code="RC1")
    grid = geo.node_create(parent=community, name="处置网格", code="RG1")
    seq = 0
    first_units = []
    for b in range(RUNS):
        building = geo.node_create(parent=grid, name=f"{b + 1}号楼", code=f"B{b + 1}", floors=25)
        for u in range(UNITS):
            unit = geo.node_create(parent=building, name=f"{u + 1}单元", code=f"U{u + 1}")
            if u == 0:
                first_units.append(unit.pk)
            for h in range(HOUSEHOLDS):
                household = geo.household_create(unit=unit, room=f"{h + 1:02d}01", floor=h + 1)
                for m in range(MEMBERS):
                    seq += 1
                    geo.resident_create(
                        household=household,
                        name=f"居民{seq}",
                        id_number=make_id_number(
                            "110101",
                            dt.date(1950 + seq % 50, 1 + seq % 12, 1 + seq % 28),
                            seq % 1000,
                        ),
                        phone=f"139{seq:08d}",
                        relation="head" if m == 0 else "spouse",
                    )
            home = Household.objects.filter(unit=unit).first()
            chief = people.person_create(
                name=f"单元长{b}{u}", kind="cadre", phone=f"1370{b:03d}{u:04d}", home=home
            )
            people.post_assign(person=chief, role="unit_chief", node=unit)
        home = Household.objects.filter(building=building).first()
        chief = people.person_create(
            name=f"楼栋长{b}", kind="cadre", phone=f"1360000{b:04d}", home=home
        )
        people.post_assign(person=chief, role="building_chief", node=building)
    home = Household.objects.filter(community=community).first()
    for r in range(3 * RUNS):
        reserve = people.person_create(
            name=f"机动{r}", kind="cadre", phone=f"1350000{r:04d}", home=home
        )
        people.post_assign(person=reserve, role="reserve", node=community)
    user = User.objects.create_user("response-bench", email="bench@bench.invalid")
    role_assign(user=user, role="street_commander", node=street)
    return {"units": first_units, "residents": seq}


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def bench_measure(*, units: list[int]) -> dict:
    """For each building: a case in its first unit, then its confirmation timed (the areas
    and the seven tasks); the median. Beside it, a plain read of a building's residents."""
    user = User.objects.get(username="response-bench")
    times = []
    tasks = 0
    for unit_id in units:
        unit = Node.objects.get(pk=unit_id)
        resident = Resident.objects.filter(unit=unit).order_by("pk").first()
        case = services.case_record(actor=user, node=unit, name=resident.name, resident=resident)
        started = time.perf_counter()
        bundle = services.case_confirm(actor=user, case=case)
        times.append(time.perf_counter() - started)
        tasks = bundle.tasks.filter(ref_id__isnull=False).count()
    building_id = Node.objects.get(pk=units[0]).building_id
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, name, household_id FROM {Resident._meta.db_table} WHERE building_id = %s",
            [building_id],
        )
        people_read = len(cursor.fetchall())
    raw = time.perf_counter() - started
    return {
        "people": people_read,
        "confirm_ms": _ms(statistics.median(times)),
        "confirm_max_ms": _ms(max(times)),
        "tasks_opened": tasks,
        "raw_read_ms": _ms(raw),
        "at": timezone.now().isoformat(timespec="seconds"),
    }
