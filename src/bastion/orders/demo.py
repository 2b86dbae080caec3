"""The demo street's orders, so the board shows real shapes: two templates (the letter to
party members, the sealed-building checklist) and three orders in different states — the
letter to every grid chief two days ago (all acknowledged, most done), tonight's mass
testing to the building chiefs of the first community an hour ago (some acknowledged, the
rest overdue and escalated to their grid chiefs), and the sealed-building checklist to the
zone commanders ten minutes ago (still inside its half hour). Issued through the services,
as the street's commander."""

import datetime as dt
import random

from django.contrib.auth.models import User
from django.db import transaction

from bastion.accounts.models import RoleAssignment
from bastion.core.errors import DomainError
from bastion.geo.models import Node
from bastion.orders import services
from bastion.orders.models import OrderTemplate, Priority, Recipient

LETTER = (
    "全体党员同志们：疫情就是命令，防控就是责任。请各位党员立即到居住地社区报到，"
    "亮身份、作表率，服从社区统一调配，参与值守、核酸采样引导和物资配送。"
    "请各网格长于今日内将本通知传达到网格内每一名党员，并反馈报到人数。"
)
CHECKLIST = (
    "1. 单元门已加装封条、张贴封控公告；\n2. 每户已登记在家人数和特殊人群；\n"
    "3. 楼栋微信群已建立，物资需求当日收集；\n4. 垃圾清运和消杀已安排到人；\n"
    "5. 值守人员已到岗，三班轮换表已公示。"
)
TESTING = (
    "今晚19:00起开展全员核酸检测。请各楼栋长于18:30前逐户通知，按单元错峰下楼，"
    "行动不便人员报社区安排入户采样。完成后在本指令中回报已通知户数。"
)
DONE_NOTES = ["已传达到网格内全部党员，报到12人", "已在网格群和楼栋群发布，逐户电话通知", "已完成"]


def _commander(street: Node) -> User | None:
    found = (
        RoleAssignment.objects.filter(role="street_commander", node=street)
        .select_related("user")
        .first()
    )
    return found.user if found is not None else None


def _templates(street: Node) -> dict[str, OrderTemplate]:
    made = {}
    for name, title, text, roles, ack, hours, priority in (
        ("致党员的一封信", "致全体党员的一封信", LETTER, ["grid_chief"], 60, 24, Priority.URGENT),
        (
            "封控楼栋检查清单",
            "封控楼栋检查清单",
            CHECKLIST,
            ["zone_commander", "building_chief"],
            30,
            4,
            Priority.FLASH,
        ),
    ):
        template = OrderTemplate(
            node=street,
            name=name,
            title=title,
            text=text,
            roles=roles,
            ack_minutes=ack,
            complete_hours=hours,
            priority=priority,
        )
        template.locate(street)
        template.save()
        made[name] = template
    return made


def build_demo(street: Node, rng: random.Random, now: dt.datetime) -> dict:
    with transaction.atomic():
        actor = _commander(street)
        if actor is None:  # the streets without the demo logins issue nothing
            return {"orders": 0}
        templates = _templates(street)
        community = Node.objects.filter(street_id=street.pk, level="community").order_by("path")
        counts = {"templates": len(templates), "orders": 0, "recipients": 0, "escalated": 0}
        # The letter, two days ago: every grid chief acknowledged within the hour, most done.
        issued = now - dt.timedelta(days=2)
        letter = services.order_issue(
            actor=actor,
            node=street,
            title="致全体党员的一封信",
            text=LETTER,
            roles=["grid_chief"],
            priority=Priority.URGENT,
            ack_by=issued + dt.timedelta(hours=1),
            due_at=issued + dt.timedelta(hours=24),
            template=templates["致党员的一封信"],
            at=issued,
            source="demo",
        )
        rows = list(Recipient.objects.filter(order=letter).order_by("pk"))
        for i, row in enumerate(rows):
            services.order_acknowledge(
                actor=actor,
                recipient=row,
                at=issued + dt.timedelta(minutes=rng.randint(3, 50)),
                source="demo",
            )
            if i % 5:  # one in five has not reported yet
                services.order_done(
                    actor=actor,
                    recipient=row,
                    note=rng.choice(DONE_NOTES),
                    at=issued + dt.timedelta(hours=rng.randint(2, 20)),
                    source="demo",
                )
        counts["orders"] += 1
        counts["recipients"] += len(rows)
        # Tonight's testing, an hour ago: the building chiefs of the first community; about
        # two in three acknowledged, the others overdue and escalated to their grid chiefs.
        first = community.first()
        if first is not None:
            issued = now - dt.timedelta(hours=1)
            testing = services.order_issue(
                actor=actor,
                node=first,
                title="今晚全员核酸：各楼栋组织居民分批下楼",
                text=TESTING,
                roles=["building_chief"],
                priority=Priority.URGENT,
                due_at=now + dt.timedelta(hours=3),
                at=issued,
                source="demo",
            )
            rows = list(Recipient.objects.filter(order=testing).order_by("node__path", "pk"))
            for i, row in enumerate(rows):
                # The demo logins' building chief is left to acknowledge (late) on the page.
                if i % 3 != 2 and row.person.user_id is None:
                    services.order_acknowledge(
                        actor=actor,
                        recipient=row,
                        at=issued + dt.timedelta(minutes=rng.randint(2, 28)),
                        source="demo",
                    )
            counts["escalated"] += services.order_escalate(order=testing, now=now)
            counts["orders"] += 1
            counts["recipients"] += len(rows)
        # The sealed-building checklist, ten minutes ago: the zone commanders have 30 minutes.
        issued = now - dt.timedelta(minutes=10)
        checklist = templates["封控楼栋检查清单"]
        try:
            sealed = services.order_issue(
                actor=actor,
                node=street,
                title=checklist.title,
                text=checklist.text,
                roles=["zone_commander"],
                priority=checklist.priority,
                due_at=now + dt.timedelta(hours=checklist.complete_hours),
                template=checklist,
                at=issued,
                source="demo",
            )
        except DomainError:  # a street without command zones
            sealed = None
        if sealed is not None:
            first_rows = list(Recipient.objects.filter(order=sealed).order_by("pk")[:2])
            for row in first_rows:
                services.order_acknowledge(
                    actor=actor, recipient=row, at=issued + dt.timedelta(minutes=4), source="demo"
                )
            counts["orders"] += 1
            counts["recipients"] += sealed.recipient_count
    return counts
