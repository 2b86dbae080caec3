"""A checkpoint on the first grid's road and a gate of its compound, on the small
known tree (`accounts.testing`); helpers to build an entry as a phone sends it."""

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from bastion.checkpoints.services import EntryInput, OccupantInput
from bastion.people.mobilization import services as mobilization

NOW = timezone.make_aware(dt.datetime(2026, 12, 7, 10, 30))


@pytest.fixture
def checkpoint(tree):
    return mobilization.place_create(
        node=tree.grids[0],
        name="幸福路卡口",
        kind="checkpoint",
        opened_on=dt.date(2026, 12, 1),
        actor=tree.users["admin"],
    )


@pytest.fixture
def gate(tree):
    return mobilization.place_create(
        node=tree.grids[0],
        name="社区1南门",
        kind="guard_point",
        opened_on=dt.date(2026, 12, 1),
        actor=tree.users["admin"],
    )


def person(**kw) -> OccupantInput:
    args = {
        "name": "王建国",
        "doc_kind": "id_card",
        "doc_number": "11010519491231002X",
        "phone": "13912345678",
        "health_code": "green",
        "temperature": "36.5",
        "decision": "pass",
        "driver": True,
        "travel_places": "河北省石家庄市",
    }
    return OccupantInput(**(args | kw))


def entry(*occupants: OccupantInput, **kw) -> EntryInput:
    args = {
        "client_id": uuid.uuid4(),
        "plate": "冀A12345",
        "kind": "truck",
        "cargo": "蔬菜",
        "origin": "石家庄",
        "destination": "新发地市场",
        "arrived_at": NOW,
        "occupants": list(occupants) or [person()],
    }
    return EntryInput(**(args | kw))
