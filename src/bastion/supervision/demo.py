"""The demo street's supervision: the street's inspection team, the checklists of each kind
of place (what the field reports list: registers, staff on duty, one-metre lines,
disinfection), and a week of inspections of its checkpoints, sampling sites, guard points
and buildings — findings closed after a re-check, fixed and waiting for one, reopened,
open within their deadline, overdue, and one building failing the same item twice; and
today's patrols by most of the building chiefs. Written through the services, as the
street's commander; the fixes by the person responsible (or the staff over them)."""

import datetime as dt
import random
import struct
import zlib

from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from bastion.accounts.models import RoleAssignment
from bastion.core import scope
from bastion.core.errors import DomainError
from bastion.core.photos import photos_check
from bastion.geo.models import Node
from bastion.people.mobilization.models import Place
from bastion.people.models import Person, Post
from bastion.supervision import services
from bastion.supervision.models import BUILDING, Finding

CHECKLISTS = {
    "checkpoint": [
        ("进出车辆、人员登记台账完整", True),
        ("值守人员在岗、防护到位", True),
        ("测温设备正常、查验健康码行程码", False),
        ("三班轮换表公示", False),
    ],
    "sampling_site": [
        ("一米线间隔、排队有序", True),
        ("采样台消毒记录完整", True),
        ("医废处置规范", True),
        ("引导员、扫码员到岗", False),
    ],
    "guard_point": [
        ("出入人员登记", True),
        ("值守人员在岗", False),
        ("门口张贴防控公告", True),
    ],
    "quarantine_site": [
        ("隔离人员每日两次健康监测记录", True),
        ("房间门磁、监控正常", True),
        ("污染区、缓冲区、清洁区分区明确", True),
    ],
    BUILDING: [
        ("楼道消杀记录完整", True),
        ("单元门管控到位", True),
        ("垃圾日产日清", True),
        ("特殊人群台账更新", False),
        ("楼栋长公示牌张贴", False),
    ],
}
PROBLEMS = {
    "checkpoint": "晚班登记台账缺两页，部分车辆未登记车牌",
    "sampling_site": "排队人员间距不足一米，无人引导",
    "guard_point": "值守人员脱岗二十分钟",
    "quarantine_site": "三楼两间房健康监测记录缺下午一次",
    BUILDING: "楼道消杀记录缺两天",
}
FIX_NOTES = ["已整改到位，补齐记录并拍照留存", "已重新安排人员，张贴公示", "已督促整改完毕"]


def demo_photo(rng: random.Random) -> list:
    """A small PNG of one colour, checked and cleaned as a phone's photo would be."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    width = height = 8
    pixel = bytes(rng.randrange(60, 220) for _ in range(3))
    rows = b"".join(b"\x00" + pixel * width for _ in range(height))
    data = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
    return photos_check([SimpleUploadedFile("photo.png", data, content_type="image/png")])


def _commander(street: Node) -> User | None:
    found = (
        RoleAssignment.objects.filter(role="street_commander", node=street)
        .select_related("user")
        .first()
    )
    return found.user if found is not None else None


def _fixer(finding: Finding, staff: list[User], commander: User) -> User | None:
    """Who reports the fix: the person responsible's login, else staff over the row."""
    user = finding.responsible.user
    if user is not None and user != commander:
        return user
    return next((u for u in staff if scope.allows(u, scope.CHANGE, finding)), None)


def build_demo(street: Node, rng: random.Random, now: dt.datetime) -> dict:
    with transaction.atomic():
        commander = _commander(street)
        if commander is None:
            return {"inspections": 0}
        members = list(
            Person.objects.filter(street_id=street.pk, kind="cadre", user__isnull=True)
            .exclude(pk__in=Post.objects.values("person_id"))
            .order_by("pk")[:3]
        )
        if not members:
            return {"inspections": 0}
        team = services.team_create(
            actor=commander,
            node=street,
            name="街道第一督查组",
            members=members,
            leader=members[0],
            formed_on=(now - dt.timedelta(days=8)).date(),
            source="demo",
        )
        items = {
            kind: [
                services.checklist_item_add(
                    actor=commander, node=street, kind=kind, text=text, evidence_required=photo,
                    source="demo",
                )
                for text, photo in lines
            ]
            for kind, lines in CHECKLISTS.items()
        }  # fmt: skip
        staff = [
            a.user
            for a in RoleAssignment.objects.filter(
                node__street_id=street.pk, role__in=["community_staff", "grid_chief"]
            )
            .select_related("user")
            .order_by("pk")
            if a.user != commander
        ]
        places = list(
            Place.objects.filter(street_id=street.pk, closed_on__isnull=True)
            .select_related("node", "chief")
            .order_by("kind", "pk")
        )
        chiefs = set(
            Post.objects.filter(
                street_id=street.pk, role="building_chief", ended_on__isnull=True
            ).values_list("node_id", flat=True)
        )
        buildings = list(
            Node.objects.filter(street_id=street.pk, level=BUILDING, pk__in=chiefs).order_by(
                "path"
            )[:12]
        )
        by_kind: dict[str, list[Place]] = {}
        for p in places:  # three of each kind: checkpoints, sampling sites, guard points
            if len(by_kind.setdefault(p.kind, [])) < 3:
                by_kind[p.kind].append(p)
        chosen = [p for group in by_kind.values() for p in group]
        targets = [("place", p) for p in chosen] + [("building", b) for b in buildings]
        rng.shuffle(targets)
        counts = {"inspections": 0, "findings": 0, "closed": 0, "fixed": 0, "reopened": 0}
        # Seven days, three inspections a day; the first building again on the last day.
        plan = [(days, targets[(days * 3 + k) % len(targets)]) for days in range(7, 0, -1)
                for k in range(3)]  # fmt: skip
        first = buildings[0] if buildings else None
        if first is not None:  # the same item failed twice: a repeat
            plan += [(6, ("building", first)), (1, ("building", first))]
        for days, (kind, target) in plan:
            at = now - dt.timedelta(days=days, hours=rng.randint(0, 5))
            place = target if kind == "place" else None
            building = target if kind == "building" else None
            lines = items[place.kind if place else BUILDING]
            failed = (
                [lines[0]] if building is buildings[0] else rng.sample(lines, rng.randint(0, 2))
            )
            severity = rng.choice(["minor", "major", "major", "critical"])
            findings = [
                services.FindingIn(
                    severity=severity,
                    item=item,
                    text=PROBLEMS[place.kind if place else BUILDING] if i == 0 else "",
                    photos=demo_photo(rng) if item.evidence_required else [],
                )
                for i, item in enumerate(failed)
            ]
            try:
                inspection = services.inspection_record(
                    actor=commander, team=team, place=place, building=building,
                    mode=rng.choice(["planned", "unannounced"]), findings=findings, at=at,
                    source="demo",
                )  # fmt: skip
            except DomainError:  # nobody responsible there on the posts
                continue
            counts["inspections"] += 1
            for finding in inspection.findings.all():
                counts["findings"] += 1
                _rectify(finding, rng, now=now, commander=commander, staff=staff, counts=counts)
    return counts


def _rectify(finding: Finding, rng, *, now, commander, staff, counts) -> None:
    """Older findings mostly fixed and re-checked (some reopened); recent ones open."""
    age = now - finding.found_at
    fixer = _fixer(finding, staff, commander)
    roll = rng.random()
    if fixer is None or age < dt.timedelta(days=2) or roll < 0.25:
        return  # open: within the deadline, or overdue
    fixed_at = finding.found_at + (finding.due_at - finding.found_at) * rng.uniform(0.3, 0.9)
    fixed_at = min(fixed_at, now - dt.timedelta(hours=2))
    services.finding_fix(
        actor=fixer, finding=finding, note=rng.choice(FIX_NOTES), photos=demo_photo(rng),
        at=fixed_at, source="demo",
    )  # fmt: skip
    if roll < 0.4:
        counts["fixed"] += 1  # waiting for the re-check
        return
    checked_at = min(fixed_at + dt.timedelta(hours=rng.randint(4, 20)), now - dt.timedelta(hours=1))
    passed = roll >= 0.55
    services.finding_recheck(
        actor=commander, finding=finding, passed=passed,
        note="" if passed else "回头看发现仍未整改到位", at=checked_at, source="demo",
    )  # fmt: skip
    if passed:
        counts["closed"] += 1
    else:
        counts["reopened"] += 1
