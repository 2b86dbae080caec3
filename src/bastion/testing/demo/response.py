"""The demo's positive-pool response, after the finished round's results (testing.demo.rounds):

* a police liaison on every community of the street (a police officer living there), told of
  the positive pools like the rest of the area (sending again only adds them);
* the pools' retests partly done: the first pool retested and resulted to the last person,
  the second retested with some results (one invalid tube, due again), the third half
  retested — so the retest page shows every state, the holds and the time figures;
* about half of the notifications read, at believable times after they were sent;
* a few notices of the street command to every demo login, some read.

Service calls for what the services do (sending, scanning, results); then the clock is set
to a believable night and morning after the round (the services stamp `now`)."""

import datetime as dt
import random
import uuid

from django.contrib.auth.models import User
from django.db.models import Q

from bastion.accounts.models import RoleAssignment
from bastion.geo.models import Node, Presence, Resident
from bastion.notices.models import Delivery, Notification
from bastion.notices.services import Recipient, notification_send
from bastion.people import services as people
from bastion.people.models import Person, PersonKind, PostRole
from bastion.testing.results import response as result_response
from bastion.testing.results import services as result_services
from bastion.testing.results.models import Retest
from bastion.testing.rounds.models import Round
from bastion.testing.scans import batch as scan_batch
from bastion.testing.scans.codes import resident_code
from bastion.testing.scans.models import Result, Scan, Tube, TubeKind
from bastion.testing.scans.services import scans_record

# Share of each positive pool retested, and of those the results back (first pool: all).
RETESTED = (1.0, 1.0, 0.5)


RESULTED = (1.0, 0.6, 0.0)


COMMAND_NOTICES = (
    (
        "加快单管复核进度",
        "各网格请组织入户采样队，对混管阳性人员逐一单管复核，结果出来前一律原地等待。",
    ),
    (
        "明日全员核酸检测安排",
        "明日6:00起开展新一轮全员核酸检测，请各社区提前公布采样点位和时段，做好秩序维护。",
    ),
    (
        "关于做好独居老人保障的通知",
        "请各网格长逐户核实独居、失能老人的生活物资和用药需求，当日反馈。",
    ),
)


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _liaisons(street: Node, rng: random.Random, today: dt.date) -> int:
    """A police officer living in each community (a resident, as every demo person is)."""
    communities = list(Node.objects.filter(street_id=street.pk, level="community").order_by("path"))
    taken = set(
        Person.objects.filter(street_id=street.pk, id_number__isnull=False).values_list(
            "id_number", flat=True
        )
    )
    posted = 0
    for community in communities:
        candidates = [
            r
            for r in Resident.objects.filter(
                community_id=community.pk,
                presence=Presence.HOME,
                birth_date__range=(
                    today - dt.timedelta(days=365 * 50),
                    today - dt.timedelta(days=365 * 26),
                ),
            )
            .exclude(phone="")
            .order_by("pk")[:400]
            if r.id_number not in taken
        ]
        if not candidates:
            continue
        resident = rng.choice(candidates)
        officer = people.person_create(
            name=resident.name,
            kind=PersonKind.POLICE,
            phone=resident.phone,
            id_number=resident.id_number,
            home=resident.household,
            source="demo",
        )
        people.post_assign(
            person=officer,
            role=PostRole.POLICE_LIAISON,
            node=community,
            started_on=today - dt.timedelta(days=30),
            source="demo",
        )
        posted += 1
    return posted


def _retest(finished: Round, pools: list[Tube], rng: random.Random) -> list[tuple[str, str]]:
    """Scan the chosen people of each pool into single tubes; the lab rows to import."""
    results: list[tuple[str, str]] = []
    at = finished.ends_at - dt.timedelta(minutes=5)  # inside the stations' shifts
    for p, tube in enumerate(pools):
        retests = list(
            Retest.objects.filter(source_tube=tube).select_related("resident").order_by("pk")
        )
        chosen = retests[: round(len(retests) * RETESTED[p % len(RETESTED)])]
        resulted = round(len(chosen) * RESULTED[p % len(RESULTED)])
        for i, retest in enumerate(chosen):
            barcode = f"{tube.barcode}-R{i + 1:02d}"
            outcome = scans_record(
                actor=None,
                station=tube.station,
                items=[
                    scan_batch.ScanInput(
                        client_id=_uuid(rng),
                        tube=barcode,
                        code=resident_code(retest.resident_id),  # any document, or none
                        at=at,
                        single=True,
                    )
                ],
                source="demo",
            )[0]
            assert outcome.retest, outcome
            if i < resulted:
                # The second pool's last result is an invalid tube: due again.
                invalid = p == 1 and i == resulted - 1
                results.append((barcode, Result.INVALID if invalid else Result.NEGATIVE))
    return results


def _clock(finished: Round, pools: list[Tube], now: dt.datetime, rng: random.Random) -> None:
    """A believable night: results at 23:00, retests through the night and morning."""
    positive_at = min(finished.ends_at + dt.timedelta(hours=3), now - dt.timedelta(hours=10))
    latest = now - dt.timedelta(minutes=10)
    # Never before the lab had the tubes: an hour after the last of them was closed at the
    # earliest (the pools keep their order, 17 minutes apart).
    received = max((t.closed_at or t.opened_at for t in pools), default=positive_at)
    positive_at = max(positive_at, received + dt.timedelta(hours=1))
    for p, tube in enumerate(pools):
        t0 = min(positive_at + dt.timedelta(minutes=17 * p), latest)
        Tube.objects.filter(pk=tube.pk).update(resulted_at=t0)
        Retest.objects.filter(source_tube=tube).update(hold_since=t0)
        Notification.objects.filter(source_type="testing.tube", source_id=tube.pk).update(
            created_at=t0
        )
        step = dt.timedelta(minutes=rng.randint(25, 50))
        for i, retest in enumerate(
            Retest.objects.filter(source_tube=tube, tube__isnull=False).order_by("pk")
        ):
            sampled = min(t0 + dt.timedelta(minutes=40) + step * i, latest)
            Retest.objects.filter(pk=retest.pk).update(sampled_at=sampled)
            Scan.objects.filter(tube_id=retest.tube_id).update(at=sampled, recorded_at=sampled)
            Tube.objects.filter(pk=retest.tube_id).update(opened_at=sampled, closed_at=sampled)
            if retest.result:
                done = min(sampled + dt.timedelta(hours=rng.uniform(3, 5)), latest)
                Retest.objects.filter(pk=retest.pk).update(resulted_at=done)
                Tube.objects.filter(pk=retest.tube_id).update(resulted_at=done)
                if retest.result == Result.NEGATIVE:
                    Retest.objects.filter(pk=retest.pk).update(hold_until=done)
        # Invalid retests (tube cleared): their result came back with the others.
        Retest.objects.filter(source_tube=tube, tube__isnull=True, result=Result.INVALID).update(
            resulted_at=min(t0 + dt.timedelta(hours=6), latest)
        )


def _read_some(now: dt.datetime, rng: random.Random) -> None:
    for d in Delivery.objects.select_related("notification").order_by("pk"):
        if rng.random() < 0.55:
            read = d.notification.created_at + dt.timedelta(minutes=rng.randint(2, 180))
            Delivery.objects.filter(pk=d.pk).update(read_at=min(read, now))


def _command_notices(street: Node, now: dt.datetime) -> int:
    logins = list(
        RoleAssignment.objects.filter(
            Q(node__street_id=street.pk) | Q(node_id__in=[street.district_id, street.city_id])
        )
        .order_by("user_id")
        .values_list("user_id", flat=True)
        .distinct()
    )
    sender = (
        User.objects.filter(roles__role="street_commander", roles__node=street).first()
        if logins
        else None
    )
    for i, (title, body) in enumerate(COMMAND_NOTICES):
        notification_send(
            kind="command.notice",
            title=title,
            body=body,
            node=street,
            sender=sender,
            recipients=[Recipient(user_id=u, reason="command") for u in logins],
            at=now - dt.timedelta(hours=2 + 5 * i),
        )
    return len(COMMAND_NOTICES) if logins else 0


def build_response_demo(street: Node, rng: random.Random, now: dt.datetime, finished: Round):
    """The response to the finished round's positive pools (see the module's docstring)."""
    rng = random.Random(rng.random())
    today = now.date()
    liaisons = _liaisons(street, rng, today)
    pools = list(
        Tube.objects.filter(round=finished, result=Result.POSITIVE, kind=TubeKind.POOL)
        .select_related("station")
        .order_by("barcode")
    )
    for tube in pools:
        result_response.pool_notify(tube=tube, round_=finished)  # adds the liaisons
    lab = _retest(finished, pools, rng)
    if lab:
        result_services.results_import(
            actor=None,
            round=finished,
            filename="单管复核结果.xlsx",
            source="demo",
            rows=[result_services.ResultRow(i + 2, b, r) for i, (b, r) in enumerate(lab)],
        )
    _clock(finished, pools, now, rng)
    command = _command_notices(street, now)
    _read_some(now, rng)
    return {
        "police_liaisons": liaisons,
        "notifications": Notification.objects.filter(street_id=street.pk).count(),
        "command_notices": command,
        "retests_sampled": Retest.objects.filter(round=finished, tube__isnull=False).count(),
    }
