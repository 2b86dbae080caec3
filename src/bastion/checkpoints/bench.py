"""`bastion bench checkpoints`: checkpoint entries (a truck with its driver and a passenger)
and compound gate passages (visitors) written through the JSON API in batches of 100, people
per second — beside the database's plain multi-row insert of the same rows, measured in the
same run. The API is called in-process (Django's test client with a bearer token: routing,
middleware, token, schema, service, answer) on one thread, so the figure is the server's own
cost per person, without the network. The web command opens the scratch database and calls
these two."""

import datetime as dt
import time
import uuid

from django.contrib.auth.models import User
from django.db import transaction
from django.test import Client
from django.utils import timezone

from bastion.accounts.models import ApiToken
from bastion.accounts.services import role_assign
from bastion.checkpoints.models import Entry, Occupant, Passage
from bastion.core.bulk import insert_rows_returning
from bastion.core.levels import LEVEL_ORDER
from bastion.geo.identity import make_id_number
from bastion.geo.services import node_create
from bastion.people.mobilization.services import place_create

BATCH = 100
TARGETS = {"entry_people_per_s": 2000.0, "gate_people_per_s": 2000.0}
LOCATED = [f"{level}_id" for level in LEVEL_ORDER]
PROVINCES = "京津冀晋蒙辽吉黑沪苏浙皖闽赣鲁豫鄂湘粤桂琼渝川贵云藏陕甘青宁新"
LETTERS = "ABCDEFGHJKLMNPQRSTUVWXY"


def bench_build() -> dict:
    """A street with one community and grid, a checkpoint and a gate on it, and a community
    staff login with its API token."""
    city = node_create(parent=None, name="基准市", code="KC")
    district = node_create(parent=city, name="基准区", code="KD")
    street = node_create(parent=district, name="卡口街道", code="KS")
    community = node_create(parent=street, name="卡口社区", code="KQ")
    grid = node_create(parent=community, name="卡口网格", code="KG")
    checkpoint = place_create(node=grid, name="基准卡口", kind="checkpoint")
    gate = place_create(node=grid, name="基准小区南门", kind="guard_point")
    user = User.objects.create_user("checkpoints-bench")
    role_assign(user=user, role="community_staff", node=community)
    return {"checkpoint": checkpoint.pk, "gate": gate.pk, "token": ApiToken.issue(user)}


def _plate(i: int) -> str:
    return f"{PROVINCES[i % len(PROVINCES)]}{LETTERS[(i // 31) % len(LETTERS)]}{i % 100000:05d}"


def _entries(start: int, count: int, at: dt.datetime) -> list[dict]:
    out = []
    for i in range(start, start + count):
        people = [
            {
                "name": f"司机{i}",
                "doc_number": make_id_number("130102", dt.date(1980, 1, 1), i % 1000),
                "phone": f"139{i % 10**8:08d}",
                "health_code": "green",
                "temperature": 36.5,
                "decision": "pass",
                "driver": True,
            },
            {
                "name": f"乘客{i}",
                "doc_number": make_id_number("130102", dt.date(1985, 6, 1), i % 1000),
                "health_code": "green",
                "temperature": 36.6,
                "decision": "escort",
            },
        ]
        out.append(
            {
                "client_id": str(uuid.uuid4()),
                "kind": "truck",
                "plate": _plate(i),
                "cargo": "蔬菜",
                "origin": "石家庄",
                "destination": "新发地",
                "arrived_at": at.isoformat(),
                "occupants": people,
            }
        )
    return out


def _passages(start: int, count: int, at: dt.datetime) -> list[dict]:
    return [
        {
            "client_id": str(uuid.uuid4()),
            "direction": "in",
            "visitor_name": f"访客{i}",
            "phone": f"137{i % 10**8:08d}",
            "purpose": "送货",
            "temperature": 36.4,
            "at": at.isoformat(),
        }
        for i in range(start, start + count)
    ]


def _timed(client: Client, url: str, bodies: list[dict], token: str) -> tuple[float, int]:
    """Post each body; seconds taken and items accepted."""
    accepted = 0
    started = time.perf_counter()
    for body in bodies:
        r = client.post(
            url, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
        )
        if r.status_code != 200:
            raise RuntimeError(f"{url}: {r.status_code} {r.content[:300]!r}")
        accepted += r.json()["accepted"]
    return time.perf_counter() - started, accepted


def bench_measure(*, checkpoint: int, gate: int, token: str, batches: int = 20) -> dict:
    """`batches` batches of 100 entries (200 people) and of 100 gate passages through the
    API; then the same number of rows inserted plainly (multi-row INSERT, rolled back)."""
    client = Client(HTTP_HOST="localhost")
    at = timezone.now() - dt.timedelta(minutes=1)
    url = f"/api/v1/checkpoints/places/{checkpoint}/entries/batch"
    _timed(client, url, [{"entries": _entries(10**6, BATCH, at)}], token)  # warm up
    entry_bodies = [{"entries": _entries(b * BATCH, BATCH, at)} for b in range(batches)]
    entry_s, entries = _timed(client, url, entry_bodies, token)
    entry_people = entries * 2
    gate_url = f"/api/v1/checkpoints/gates/{gate}/passages/batch"
    _timed(client, gate_url, [{"passages": _passages(10**6, BATCH, at)}], token)
    gate_bodies = [{"passages": _passages(b * BATCH, BATCH, at)} for b in range(batches)]
    gate_s, gate_people = _timed(client, gate_url, gate_bodies, token)
    raw_entry_s, raw_gate_s = _raw(checkpoint, gate, batches, at)
    return {
        "batch": BATCH,
        "batches": batches,
        "entry_people": entry_people,
        "entry_people_per_s": round(entry_people / entry_s),
        "entry_raw_people_per_s": round(entry_people / raw_entry_s),
        "gate_people": gate_people,
        "gate_people_per_s": round(gate_people / gate_s),
        "gate_raw_people_per_s": round(gate_people / raw_gate_s),
    }


def _raw(checkpoint: int, gate: int, batches: int, at: dt.datetime) -> tuple[float, float]:
    """The database's own rate for the same rows: per batch one multi-row INSERT of the
    entries and one of their people, or one of the passages (`core.bulk`'s, an unnest of
    arrays on PostgreSQL), with nothing else; a transaction per batch, rolled back at the
    end."""
    entry = Entry.objects.filter(place_id=checkpoint).first()
    located = [getattr(entry, c) for c in LOCATED]
    # The columns the services write, every one (the database has no defaults).
    entry_fields = (
        "place", "plate", "kind", "cargo", "origin", "destination", "arrived_at", "left_at",
        "crew", "shift", "entered_by", "client_id", "people", "turned_back", "handed_over",
        *LOCATED,
    )  # fmt: skip
    occupant_fields = (
        "entry", "driver", "name", "doc_kind", "doc_number", "phone", "health_code",
        "travel_places", "temperature", "last_test_at", "decision", "arrived_at", *LOCATED,
    )  # fmt: skip
    passage_fields = (
        "place", "direction", "at", "resident", "visitor_name", "phone", "purpose", "host",
        "temperature", "refused", "reason", "rule", "entered_by", "client_id", *LOCATED,
    )  # fmt: skip
    entry_s = gate_s = 0.0
    try:
        with transaction.atomic():
            for b in range(batches):
                started = time.perf_counter()
                with transaction.atomic():
                    ids = insert_rows_returning(
                        Entry,
                        entry_fields,
                        [
                            (
                                checkpoint,
                                _plate(i),
                                "truck",
                                "蔬菜",
                                "石家庄",
                                "新发地",
                                at,
                                None,
                                None,
                                0,
                                None,
                                uuid.uuid4(),
                                2,
                                0,
                                0,
                                *located,
                            )  # fmt: skip
                            for i in range(b * BATCH, (b + 1) * BATCH)
                        ],
                    )
                    insert_rows_returning(
                        Occupant,
                        occupant_fields,
                        [
                            (
                                pk,
                                d,
                                "司机",
                                "id_card",
                                number,
                                "",
                                "green",
                                "",
                                36.5,
                                None,
                                "pass",
                                at,
                                *located,
                            )  # fmt: skip
                            for pk in ids
                            for d, number in ((True, "130102198001010011"), (False, "X1"))
                        ],
                    )
                entry_s += time.perf_counter() - started
                started = time.perf_counter()
                with transaction.atomic():
                    insert_rows_returning(
                        Passage,
                        passage_fields,
                        [
                            (
                                gate,
                                "in",
                                at,
                                None,
                                f"访客{i}",
                                "",
                                "送货",
                                None,
                                36.4,
                                False,
                                "",
                                "",
                                None,
                                uuid.uuid4(),
                                *located,
                            )  # fmt: skip
                            for i in range(BATCH)
                        ],
                    )
                gate_s += time.perf_counter() - started
            raise _Rollback
    except _Rollback:
        pass
    return entry_s, gate_s


class _Rollback(Exception):
    pass
