"""The supervision tests' world on the small known tree: chiefs (the first grid's chief is
the `grid` login, the first building's chief the `building` login), a checkpoint in the first
grid with its point chief, a street inspection team whose leader is the `street` login, and
the checklists of a checkpoint and a building (the first items need an evidence photo)."""

import datetime as dt
import io
from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from bastion.core.photos import photos_check
from bastion.core.testing import png_bytes
from bastion.geo.models import Household
from bastion.people import services as people
from bastion.people.mobilization.models import Place
from bastion.people.mobilization.services.duty import place_create
from bastion.people.models import Person
from bastion.supervision import services
from bastion.supervision.models import ChecklistItem, SupervisionTeam


def _person(name, phone, user=None, node=None):
    home = Household.objects.order_by("pk").first()
    person = people.person_create(name=name, kind="cadre", phone=phone, home=home)
    if user is not None:
        person.user = user
        person.save(update_fields=["user"])
    return person


@dataclass
class World:
    checkpoint: Place
    point_chief: Person
    team: SupervisionTeam
    cp_items: list[ChecklistItem]
    building_items: list[ChecklistItem]
    grid_chief: Person
    building_chief: Person


@pytest.fixture
def world(tree, settings, tmp_path) -> World:
    settings.MEDIA_ROOT = tmp_path
    admin = tree.users["admin"]
    grid_chief = _person("网格长一", "13900000011", tree.users["grid"])
    people.post_assign(person=grid_chief, role="grid_chief", node=tree.grids[0], actor=admin)
    building_chief = _person("楼长一", "13900000021", tree.users["building"])
    people.post_assign(
        person=building_chief, role="building_chief", node=tree.buildings[0], actor=admin
    )
    point_chief = _person("点长甲", "13900000031")
    checkpoint = place_create(
        node=tree.grids[0],
        name="东门卡口",
        kind="checkpoint",
        chief=point_chief,
        opened_on=dt.date(2026, 12, 1),
        actor=admin,
    )
    leader = _person("督查组长", "13900000041", tree.users["street"])
    inspector = _person("督查员", "13900000042", tree.users["community"])
    team = services.team_create(
        actor=tree.users["street"],
        node=tree.street,
        name="第一督查组",
        members=[inspector],
        leader=leader,
    )
    street = tree.users["street"]
    cp_items = [
        services.checklist_item_add(
            actor=street, node=tree.street, kind="checkpoint", text="登记台账完整"
        ),
        services.checklist_item_add(
            actor=street,
            node=tree.street,
            kind="checkpoint",
            text="人员在岗",
            evidence_required=False,
        ),
    ]
    building_items = [
        services.checklist_item_add(
            actor=street, node=tree.street, kind="building", text="楼道消杀记录"
        ),
        services.checklist_item_add(
            actor=street,
            node=tree.street,
            kind="building",
            text="门岗值守",
            evidence_required=False,
        ),
    ]
    return World(
        checkpoint, point_chief, team, cp_items, building_items, grid_chief, building_chief
    )


def photo(text: bytes = b"") -> list:
    upload = SimpleUploadedFile("p.png", png_bytes(text), content_type="image/png")
    return photos_check([upload])


__all__ = ["io", "photo"]
