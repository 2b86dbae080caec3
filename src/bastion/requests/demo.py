"""Requests and errands for the demo street, in the proportions one district reported: in the
30 days up to today (the figures page's default period) 119 requests collected, 87 of them
handled at once and 32 taken to the community's issue-talk meeting and reported back at the
next one.

Per community: a meeting 44 days ago (two of its items, taken by outside bodies, are still
not done: overdue), the meeting 16 days ago that took this month's consult-and-assign items,
the one 2 days ago that heard their results (both held, with attendees and minutes), and the
next one planned in 12 days. Today's handle-now requests are still being claimed and
handled. Errands: a
week of them, most delivered and confirmed, some open in every state (medicine first, two
medicine orders overdue), three sealed buildings delivering to the unit door. Every household
gets its link (resident-page token).

Written with bulk inserts (well under a second for the 21,345 households of the demo street);
each request and errand gets its "created" entry in the change log (source "demo").
"""

import datetime as dt
import random
import secrets
import uuid
from collections import defaultdict

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from bastion.accounts.models import RoleAssignment
from bastion.core import history
from bastion.geo.models import LEVEL_ORDER, Household, Node, Resident
from bastion.incidents.queries import active_levels
from bastion.incidents.services import control_set
from bastion.people.models import Person, PersonKind
from bastion.requests import services
from bastion.requests.models import (
    PRIORITY,
    Attendee,
    Errand,
    ErrandItem,
    ErrandStatus,
    ErrandUrgency,
    HouseholdLink,
    Meeting,
    MeetingStatus,
    Request,
    Status,
    Track,
)

MONTH_DAYS = 30
COLLECTED = 119
HANDLED_NOW = 87
CONSULTED = COLLECTED - HANDLED_NOW  # 32
COLUMNS = [f"{level}_id" for level in LEVEL_ORDER]
BATCH = 2000

# (category, title, result) of things handled at once.
HANDLE_NOW = [
    ("drainage", "厨房下水道堵塞", "已联系物业维修工上门疏通，排水恢复正常"),
    ("drainage", "单元楼下污水井冒水", "物业当天抽排并疏通管道"),
    ("power", "楼道感应灯不亮", "网格员报修，已更换灯泡"),
    ("power", "家中跳闸无法复位", "物业电工上门检查，更换了漏电保护器"),
    ("water", "自来水发黄", "联系供水公司排放管网存水，水质恢复"),
    ("heating", "暖气片不热", "物业上门放气后恢复正常"),
    ("medicine", "独居老人降压药快吃完了", "志愿者当天代购并送药上门"),
    ("medicine", "需要上门测量血压", "社区卫生服务站医生上门测量，已记录"),
    ("supplies", "封控期间缺少蔬菜", "已纳入保供清单，当天配送到户"),
    ("sanitation", "楼下垃圾未及时清运", "协调环卫车辆当天清运完毕"),
    ("sanitation", "楼道内堆放杂物", "网格员上门劝导，住户已自行清理"),
    ("repairs", "单元门闭门器损坏", "物业更换了闭门器"),
    ("epidemic", "咨询核酸检测时间地点", "已电话告知本轮采样点位和时间"),
    ("epidemic", "居家隔离人员需要上门采样", "已安排入户采样"),
    ("neighbours", "楼上装修噪音扰民", "网格长上门协调，约定施工时段"),
    ("other", "老人智能手机不会出示健康码", "志愿者上门帮助设置并教会使用"),
]
# (category, title, who took it, result) of things taken to the meeting.
CONSULT = [
    ("repairs", "小区主路路面破损积水", "街道城管科", "已完成路面修补和排水沟改造"),
    ("repairs", "楼顶防水层老化漏雨", "鹿鸣物业", "已重做顶层防水，雨后复查无渗漏"),
    ("repairs", "单元门禁系统损坏", "鹿鸣物业", "更换门禁主机，住户已录入门卡"),
    ("heating", "整栋楼供暖温度不达标", "东丰县供热公司", "更换循环泵，室温达到18°C以上"),
    ("drainage", "化粪池满溢需要清掏", "街道城管科", "已联系吸污车清掏，建立每季度清掏制度"),
    ("power", "小区路灯大面积损坏", "国网东丰县供电公司", "更换路灯12盏，全部恢复照明"),
    ("sanitation", "垃圾分类投放点设置不合理", "社区居委会", "垃圾投放点迁至北门，增设2处"),
    ("other", "电动车楼道充电安全隐患", "业主委员会", "新建集中充电棚一处，楼道充电已清理"),
    ("repairs", "外墙保温层脱落", "鹿鸣物业", "已清除脱落部分并重新固定，设置警示带"),
    ("other", "小区停车位不足乱停车", "业主委员会", "重新划线增加车位26个，制定停车公约"),
    ("water", "二次供水水箱需要清洗", "东丰县供水公司", "水箱已清洗消毒，水质检测合格"),
    ("repairs", "楼道扶手松动", "鹿鸣物业", "全楼扶手加固，更换损坏段"),
    ("epidemic", "核酸采样点排队过长", "社区居委会", "增设采样台一处，分楼栋错峰采样"),
    ("other", "老年人助餐需求", "社区居委会", "与辖区餐馆合作开设老年助餐点"),
]
OVERDUE_CONSULT = [
    ("water", "老旧管网水压不足", "东丰县供水公司"),
    ("heating", "供热管道入户段老化", "东丰县供热公司"),
]
FRESH = [  # today's handle-now requests: (status, category, title, urgency)
    ("waiting", "medicine", "家中老人发热需要退烧药", "urgent"),
    ("waiting", "power", "楼道插座冒火花", "urgent"),
    ("claimed", "water", "水表井盖丢失", "urgent"),
    ("claimed", "supplies", "隔离户需要购买米面油", "normal"),
    ("done", "heating", "暖气阀门漏水", "normal"),
    ("done", "epidemic", "咨询返乡报备流程", "low"),
]
MINUTES = {
    "old": "会议听取了居民代表反映的问题，对需要多方协调的事项逐项协商，明确了承办单位和完成时限。",
    "a": "会议通报了上月事项的办理情况。对本月收集的协商交办事项逐项讨论，"
    "明确承办单位和完成时限，承办单位当场认领。下次会议通报办理结果。",
    "b": "会议逐项通报了上次会议交办事项的办理结果，居民代表对办理情况进行了评议，"
    "总体满意。对仍未完成的事项督促承办单位加快进度。",
}
CHANNELS = [
    ("grid_chief", 30),
    ("phone", 22),
    ("chat_group", 20),
    ("walk_in", 12),
    ("resident_page", 8),
    ("party_household", 5),
    ("questionnaire", 3),
]
RATINGS = [(5, 60), (4, 28), (3, 8), (2, 3), (1, 1)]
ATTENDEES = [
    ("committee", ["社区书记", "社区主任", "社区委员"]),
    ("party", ["党员代表", "在职党员"]),
    ("property", ["物业项目经理"]),
    ("owners", ["业委会主任"]),
    ("area_units", ["街道城管科", "辖区派出所"]),
    ("part_time", ["兼职委员"]),
    ("residents", ["居民代表", "居民代表", "楼栋长代表"]),
]
ERRAND_ITEMS = {
    "medicine": [
        ("布洛芬缓释胶囊", "1盒"),
        ("连花清瘟胶囊", "2盒"),
        ("硝苯地平控释片", "1盒"),
        ("二甲双胍片", "2盒"),
        ("对乙酰氨基酚片", "1盒"),
        ("电子体温计", "1支"),
        ("医用外科口罩", "1包"),
        ("速效救心丸", "1瓶"),
    ],
    "urgent": [("婴儿奶粉", "1罐"), ("纸尿裤", "1包"), ("成人护理垫", "1包"), ("卫生巾", "2包")],
    "normal": [
        ("大米", "10斤"),
        ("挂面", "2把"),
        ("鸡蛋", "30个"),
        ("白菜", "2棵"),
        ("土豆", "5斤"),
        ("豆油", "1桶"),
        ("酱油", "1瓶"),
        ("卫生纸", "1提"),
        ("牛奶", "1箱"),
        ("苹果", "3斤"),
    ],
}
PAYMENTS = ["微信转账", "支付宝转账", "到付现金", "已预付50元", "社区代付，事后结算"]


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def _pick(rng: random.Random, weighted: list[tuple]) -> object:
    return rng.choices([w[0] for w in weighted], [w[1] for w in weighted])[0]


def _daytime(rng: random.Random, day: dt.date, now: dt.datetime) -> dt.datetime:
    moment = _local(day, 7) + dt.timedelta(minutes=rng.randint(0, 13 * 60))
    return min(moment, now - dt.timedelta(minutes=rng.randint(20, 90)))


def _locate(obj, household: tuple) -> None:
    for name, value in zip(COLUMNS, household[1:], strict=True):
        setattr(obj, name, value)


def build_demo(street: Node, rng: random.Random, now: dt.datetime) -> dict:
    """Write the street's requests, meetings, errands and household links; returns counts."""
    with transaction.atomic():
        households = list(
            Household.objects.filter(street_id=street.pk).order_by("pk").values_list("pk", *COLUMNS)
        )
        if not households:
            return {"requests": 0}
        by_community: dict[int, list[tuple]] = defaultdict(list)
        for h in households:
            by_community[h[4]].append(h)
        communities = list(Node.objects.filter(pk__in=by_community).order_by("path"))
        counts = _meetings_and_requests(street, rng, now, households, by_community, communities)
        counts |= _errands(street, rng, now, households)
        counts |= _links(households, now)
    return counts


def _meetings_and_requests(street, rng, now, households, by_community, communities) -> dict:
    today = timezone.localdate(now)
    meetings: dict[int, dict[str, Meeting]] = {}
    rows = []
    for community in communities:
        own = {}
        for key, days, status in (
            ("old", -44, MeetingStatus.HELD),
            ("a", -16, MeetingStatus.HELD),
            ("b", -2, MeetingStatus.HELD),
            ("next", 12, MeetingStatus.PLANNED),
        ):
            day = today + dt.timedelta(days=days)
            starts = _local(day, 9, 30 if key != "next" else 0)
            m = Meeting(
                node=community,
                starts_at=starts,
                status=status,
                title=f"{community.name}{day.month}月{day.day}日党日说事会",
                place=f"{community.name}党群服务中心",
                chair="社区书记" if status == MeetingStatus.HELD else "",
                recorder="社区干事" if status == MeetingStatus.HELD else "",
                notes=MINUTES[key] if status == MeetingStatus.HELD else "",
                held_at=starts + dt.timedelta(hours=2) if status == MeetingStatus.HELD else None,
                client_id=_uuid(rng),
            )
            m.locate(community)
            own[key] = m
            rows.append(m)
        meetings[community.pk] = own
    Meeting.objects.bulk_create(rows)
    attendees = []
    for own in meetings.values():
        for key in ("old", "a", "b"):
            for category, names in ATTENDEES:
                for name in names:
                    attendees.append(
                        Attendee(
                            meeting=own[key],
                            category=category,
                            name=name,
                            organisation="鹿鸣物业" if category == "property" else "",
                        )
                    )
    Attendee.objects.bulk_create(attendees)

    chiefs = dict(
        RoleAssignment.objects.filter(role="grid_chief", node__street_id=street.pk)
        .order_by("node_id", "user_id")
        .values_list("node_id", "user_id")
    )
    requests: list[Request] = []

    def new_request(
        household: tuple,
        created: dt.datetime,
        category: str,
        title: str,
        *,
        urgency: str = "normal",
    ) -> Request:
        r = Request(
            household_id=household[0],
            node_id=household[7],
            channel=_pick(rng, CHANNELS),
            category=category,
            urgency=urgency,
            title=title,
            created_at=created,
            client_id=_uuid(rng),
        )
        _locate(r, household)
        chief = chiefs.get(household[5])
        r.triaged_by_id = r.claimed_by_id = r.done_by_id = chief
        requests.append(r)
        return r

    month_start = today - dt.timedelta(days=MONTH_DAYS - 1)
    # 87 handled at once over the month: today's (FRESH) in hand, the earlier ones all done,
    # most rated and closed.
    for i in range(HANDLED_NOW - len(FRESH)):
        household = rng.choice(households)
        day = month_start + dt.timedelta(days=rng.randrange(MONTH_DAYS - 1))
        category, title, result = rng.choice(HANDLE_NOW)
        created = _daytime(rng, day, now)
        r = new_request(
            household,
            created,
            category,
            title,
            urgency="urgent" if category == "medicine" or rng.random() < 0.15 else "normal",
        )
        r.track, r.triaged_at = Track.HANDLE_NOW, created + dt.timedelta(minutes=rng.randint(5, 90))
        r.claimed_at = r.triaged_at + dt.timedelta(minutes=rng.randint(5, 240))
        r.done_at = min(
            r.claimed_at + dt.timedelta(minutes=rng.randint(30, 600)),
            now - dt.timedelta(minutes=10),
        )
        r.result, r.status = result, Status.DONE
        fate = rng.random()
        if i == 0 or i == 1:  # reopened once by the resident, then done again
            r.reopen_count, r.reopen_reason = 1, "问题没有彻底解决，又出现了"
            r.reopened_at = r.done_at
            r.done_at = min(
                r.done_at + dt.timedelta(hours=rng.randint(4, 20)), now - dt.timedelta(minutes=5)
            )
            r.result += "；复查后再次处理"
        if r.done_at > now - dt.timedelta(days=2) and fate < 0.5:
            continue  # waiting for the resident's rating
        if fate < 0.09:
            r.status, r.closed_at = Status.CLOSED, r.done_at + dt.timedelta(days=2)
        else:
            r.rating = _pick(rng, RATINGS)
            r.rated_at = min(r.done_at + dt.timedelta(hours=rng.randint(1, 36)), now)
            r.status, r.closed_at = Status.CLOSED, r.rated_at
            if r.rating <= 3:
                r.rating_comment = rng.choice(["处理有点慢", "希望以后及时一些", "还可以"])

    # 32 taken to meeting A and reported back at meeting B (by community, as the households).
    community_ids = [c.pk for c in communities]
    weights = [len(by_community[c]) for c in community_ids]
    for i in range(CONSULTED):
        cid = rng.choices(community_ids, weights)[0]
        household = rng.choice(by_community[cid])
        m_a, m_b = meetings[cid]["a"], meetings[cid]["b"]
        day = month_start + dt.timedelta(days=rng.randrange(MONTH_DAYS - 16 - 1))  # before A
        category, title, assignee, result = rng.choice(CONSULT)
        created = _daytime(rng, day, now)
        r = new_request(household, created, category, title)
        r.track, r.triaged_at, r.meeting = Track.CONSULT, created + dt.timedelta(hours=2), m_a
        r.assignee, r.assigned_at = assignee, m_a.starts_at + dt.timedelta(minutes=30 + i)
        r.due_on = timezone.localdate(m_a.starts_at) + dt.timedelta(days=rng.randint(7, 12))
        r.done_at = m_a.starts_at + dt.timedelta(days=rng.randint(3, 12), hours=rng.randint(0, 8))
        r.result = result
        r.report_meeting, r.report_note = m_b, "已在会上向居民代表通报结果"
        r.reported_at = m_b.starts_at + dt.timedelta(minutes=20 + i)
        r.status = Status.REPORTED
        if i % 5 != 4:
            r.rating = _pick(rng, RATINGS[:3])
            r.rated_at = min(r.reported_at + dt.timedelta(hours=rng.randint(2, 30)), now)
            r.status, r.closed_at = Status.CLOSED, r.rated_at

    # Two items from the meeting before, taken by outside bodies and still not done.
    for i, (category, title, assignee) in enumerate(OVERDUE_CONSULT):
        cid = community_ids[i % len(community_ids)]
        household = rng.choice(by_community[cid])
        m_old = meetings[cid]["old"]
        created = _local(timezone.localdate(m_old.starts_at) - dt.timedelta(days=6), 10)
        r = new_request(household, created, category, title, urgency="urgent")
        r.track, r.triaged_at, r.meeting = Track.CONSULT, created + dt.timedelta(hours=3), m_old
        r.assignee, r.assigned_at = assignee, m_old.starts_at + dt.timedelta(minutes=40)
        r.due_on = timezone.localdate(m_old.starts_at) + dt.timedelta(days=20)
        r.status = Status.ASSIGNED

    # Today's handle-now requests, still in hand.
    for status, category, title, urgency in FRESH:
        household = rng.choice(households)
        created = now - dt.timedelta(minutes=rng.randint(30, 8 * 60))
        r = new_request(household, created, category, title, urgency=urgency)
        r.track, r.triaged_at = Track.HANDLE_NOW, created + dt.timedelta(minutes=10)
        r.status, r.claimed_by_id = Status.WAITING, None
        if status in ("claimed", "done"):
            r.claimed_at, r.status = r.triaged_at + dt.timedelta(minutes=5), Status.CLAIMED
        if status == "done":
            r.done_at, r.status = r.claimed_at + dt.timedelta(minutes=15), Status.DONE
            r.result = "已电话答复并上门处理"

    members = defaultdict(list)
    for pk, household_id in (
        Resident.objects.filter(household_id__in={r.household_id for r in requests})
        .order_by("pk")
        .values_list("pk", "household_id")
    ):
        members[household_id].append(pk)
    for r in requests:
        if members[r.household_id]:
            r.raised_by_id = rng.choice(members[r.household_id])
    Request.objects.bulk_create(requests, batch_size=BATCH)
    history.record_many(
        None, requests, "create", ["title", "category", "channel", "status"], source="demo"
    )
    month = [r for r in requests if r.created_at >= _local(month_start, 0)]
    return {
        "requests": len(requests),
        "requests_month": len(month),
        "requests_handled_now_month": sum(1 for r in month if r.track == Track.HANDLE_NOW),
        "requests_reported_back_month": sum(
            1
            for r in month
            if r.status in (Status.REPORTED, Status.CLOSED) and r.track == Track.CONSULT
        ),
        "requests_open": sum(1 for r in requests if r.status != Status.CLOSED),
        "meetings": len(rows),
    }


def _errands(street, rng, now, households) -> dict:
    today = timezone.localdate(now)
    couriers_by_grid = defaultdict(list)
    for pk, grid_id in (
        Person.objects.filter(street_id=street.pk, grid_id__isnull=False)
        .filter(Q(kind__in=[PersonKind.VOLUNTEER, PersonKind.PARTY_MEMBER]) | Q(party_member=True))
        .order_by("pk")
        .values_list("pk", "grid_id")[:5000]
    ):
        if len(couriers_by_grid[grid_id]) < 4:
            couriers_by_grid[grid_id].append(pk)
    every_courier = [pk for pks in couriers_by_grid.values() for pk in pks]
    buildings = sorted({h[6] for h in households})
    sealed = rng.sample(buildings, min(3, len(buildings)))
    # Sealed through `incidents` (what errands read), unless a building already has a level.
    seal_rows = []
    taken = set(active_levels(sealed))
    for building in Node.objects.filter(pk__in=sealed).exclude(pk__in=taken).order_by("pk"):
        seal_rows.append(
            control_set(
                actor=None,
                node=building,
                level="sealed",
                reason="密接者所在楼栋，临时封控",
                since=now - dt.timedelta(days=3),
                source="demo",
            )
        )
    sealed_households = [h for h in households if h[6] in set(sealed)]

    plan = []  # (status, days ago, urgency, minutes ago for today's)
    for _ in range(48):
        plan.append(
            (
                "confirmed",
                rng.randint(1, 7),
                _pick(rng, [("medicine", 4), ("urgent", 2), ("normal", 5)]),
                None,
            )
        )
    plan += [
        ("delivered", 0, "normal", 200),
        ("delivered", 0, "medicine", 100),
        ("delivered", 1, "normal", None),
    ]
    plan += [
        ("ordered", 0, "medicine", 170),
        ("ordered", 0, "medicine", 25),
        ("ordered", 0, "normal", 40),
        ("ordered", 0, "urgent", 15),
    ]
    plan += [
        ("accepted", 0, "medicine", 140),
        ("accepted", 0, "normal", 90),
        ("accepted", 0, "normal", 60),
    ]
    plan += [
        ("assigned", 0, "medicine", 70),
        ("assigned", 0, "urgent", 80),
        ("assigned", 0, "normal", 120),
        ("assigned", 0, "normal", 30),
    ]
    plan += [
        ("picked_up", 0, "medicine", 50),
        ("picked_up", 0, "normal", 100),
        ("picked_up", 0, "urgent", 45),
    ]
    plan += [("cancelled", 2, "normal", None), ("cancelled", 4, "urgent", None)]
    errands, items = [], []
    order = ["ordered", "accepted", "assigned", "picked_up", "delivered", "confirmed"]
    for n, (status, days_ago, urgency, minutes) in enumerate(plan):
        pool = sealed_households if sealed_households and n % 9 == 4 else households
        household = rng.choice(pool)
        if minutes is not None:
            created = now - dt.timedelta(minutes=minutes)
        else:
            created = _daytime(rng, today - dt.timedelta(days=days_ago), now)
        e = Errand(
            household_id=household[0],
            urgency=urgency,
            priority=PRIORITY[ErrandUrgency(urgency)],
            status=status,
            payment_note=rng.choice(PAYMENTS),
            delivery_code=f"{rng.randrange(10_000):04d}",
            created_at=created,
            to_unit_door=household[6] in set(sealed),
            client_id=_uuid(rng),
        )
        _locate(e, household)
        reached = order.index(status) if status in order else 1
        step = dt.timedelta(minutes={"medicine": 12, "urgent": 20}.get(urgency, 45))
        moments = [created + step * k for k in range(1, 6)]
        if reached >= 1:
            e.accepted_at = min(moments[0], now)
        if reached >= 2:
            grid_couriers = couriers_by_grid.get(household[5]) or every_courier
            e.courier_id = rng.choice(grid_couriers) if grid_couriers else None
            e.assigned_at = min(moments[1], now)
        if reached >= 3:
            e.picked_up_at = min(moments[2], now)
        if reached >= 4:
            e.delivered_at, e.proof = min(moments[3], now), "code"
        if reached >= 5:
            e.confirmed_at = min(moments[4], now)
            if rng.random() < 0.8:
                e.rating = _pick(rng, RATINGS)
        if status == ErrandStatus.CANCELLED:
            e.cancelled_at, e.cancel_reason = created + dt.timedelta(hours=1), "家人已买到"
        if e.courier_id is None and reached >= 2:
            e.status = ErrandStatus.ACCEPTED
            e.assigned_at = e.picked_up_at = e.delivered_at = e.confirmed_at = None
            e.proof, e.rating = "", None
        errands.append(e)
    Errand.objects.bulk_create(errands, batch_size=BATCH)
    for e in errands:
        for name, quantity in rng.sample(ERRAND_ITEMS[e.urgency], rng.randint(1, 3)):
            items.append(ErrandItem(errand=e, name=name, quantity=quantity))
        if e.urgency == "medicine" and rng.random() < 0.4:
            items.append(ErrandItem(errand=e, name="医用外科口罩", quantity="1包"))
    ErrandItem.objects.bulk_create(items, batch_size=BATCH)
    history.record_many(None, errands, "create", ["status", "urgency"], source="demo")
    return {
        "errands": len(errands),
        "errands_open": sum(
            1 for e in errands if e.status in ("ordered", "accepted", "assigned", "picked_up")
        ),
        "errands_delivered": sum(1 for e in errands if e.delivered_at is not None),
        "sealed_buildings": len(seal_rows),
    }


def _links(households, now) -> dict:
    """A link for every household: one multi-row executemany (no model instance per row)."""
    table = HouseholdLink._meta.db_table
    names = ["household_id", "nonce", "created_at", *COLUMNS]
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(table)} ({', '.join(quote(n) for n in names)}) "
        f"VALUES ({', '.join(['%s'] * len(names))})"
    )
    created = connection.ops.adapt_datetimefield_value(now)
    rows = [(h[0], secrets.token_hex(16), created, *h[1:]) for h in households]
    with connection.cursor() as cursor:
        for start in range(0, len(rows), BATCH):
            cursor.executemany(sql, rows[start : start + BATCH])
    first = HouseholdLink.objects.filter(household_id=households[0][0]).first()
    return {
        "household_links": len(rows),
        "sample_household_page": f"/requests/h/{services.link_token(first)}/",
    }
