"""The response to a positive pool (issue 7, item 3).

When the lab's results are applied (`services._results_apply`, one call to
`results_applied`), in the same transaction:

* each positive pooled tube notifies, in the system (`bastion.notices`), the people who must act
  in the area of its people: the grid chiefs of their grids (posts, and logins holding the
  grid-chief role there), the home-sampling teams serving those grids (or their communities),
  the police liaisons of their communities, and the community staff (every login with a role
  on the community). One notification per tube, one delivery per recipient, so importing the
  same results again sends nothing new;
* the people of the pool are held — told to stay where they are — from the positive result
  (`Retest.hold_since`) until their single-tube retest is negative (`hold_until`);
* the single-tube retests resulted in the same file are closed: negative or positive, or, for
  an invalid tube (which services puts back to due), marked invalid and due again.

Reads: `with_state` (pending → sampled → negative / positive / invalid, derived in SQL),
`pool_responses` (per positive tube: people, sampled, resulted, the time from the positive
result to the last person sampled and to the last result), `round_response` (the round's
median and maximum of those times) and `holds_of` (a resident's holds).
"""

import datetime as dt
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    ExpressionWrapper,
    F,
    Max,
    Q,
    QuerySet,
    Value,
    When,
)
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from bastion.accounts.models import Role, RoleAssignment
from bastion.geo.models import Node
from bastion.incidents.response.registry import Opened
from bastion.incidents.response.services import cases_from_positive
from bastion.notices import queries as notice_queries
from bastion.notices.models import Notification
from bastion.notices.services import (
    Recipient,
    in_every_language,
    notification_send,
    source_label,
)
from bastion.people.models import Post, PostRole
from bastion.testing.results.models import Retest, RetestState
from bastion.testing.rounds.models import Round, SitePost, Station, StationKind
from bastion.testing.rounds.services import round_open
from bastion.testing.scans.models import Result, Scan, ScanKind, Tube, TubeKind

KIND_POSITIVE_POOL = "testing.positive_pool"


# Why a recipient got the notification (Delivery.reason), most specific first: a login that
# is both grid chief and community staff is told as grid chief.
GRID_CHIEF = "grid_chief"


HOME_TEAM = "home_team"


POLICE_LIAISON = "police_liaison"


COMMUNITY_STAFF = "community_staff"


RESULTED = (Result.NEGATIVE, Result.POSITIVE)


# ------------------------------------------------------------------------------------ writes


def results_applied(*, round_: Round, changes: dict[str, list[Tube]], at: dt.datetime) -> None:
    """The hook from `services._results_apply`, after the retests of positive pools are
    marked: close the retests resulted now, hold the people of the new positive pools and
    notify the area. Inside the import's transaction."""
    _retests_resulted(round_, changes, at)
    _cases_propose(changes, at)
    positives = [t for t in changes.get(Result.POSITIVE, []) if t.kind != TubeKind.SINGLE]
    if not positives:
        return
    Retest.objects.filter(round=round_, source_tube__in=positives, hold_since__isnull=True).update(
        hold_since=at
    )
    for tube in positives:
        pool_notify(tube=tube, round_=round_, at=at)


def _cases_propose(changes: dict[str, list[Tube]], at: dt.datetime) -> None:
    """Each person of a positive single tube (a retest, or a home-sampling tube) is a case:
    the outbreak response proposes control areas around them."""
    singles = [t.pk for t in changes.get(Result.POSITIVE, []) if t.kind == TubeKind.SINGLE]
    if not singles:
        return
    people = (
        Scan.objects.filter(tube_id__in=singles, kind=ScanKind.RESIDENT, resident__isnull=False)
        .order_by("tube__barcode", "resident_id")
        .values_list("resident_id", "tube__barcode")
    )
    cases_from_positive(residents=list(people), at=at)


def negative_rounds(*, node: Node, since: dt.datetime) -> int:
    """The lifting rule's count: rounds that sampled people under `node` since `since` and
    found every one of them negative (a pending or invalid result does not count yet)."""
    rows = (
        Scan.objects.filter(
            **{f"{node.level}_id": node.pk},
            kind=ScanKind.RESIDENT,
            at__gte=since,
            voided_at__isnull=True,
        )
        .values("round_id")
        .annotate(n=Count("pk"), other=Count("pk", filter=~Q(result=Result.NEGATIVE)))
        .order_by()
    )
    return sum(1 for r in rows if r["n"] and not r["other"])


def home_round_open(*, actor, bundle, task) -> Opened:
    """The outbreak response's home-sampling task: a round over the sealed area alone, a
    single tube per person at the door, due by the task's deadline."""
    now = timezone.now()
    round_ = round_open(
        actor=actor,
        node=bundle.node,
        name=(_("Home sampling: %(node)s") % {"node": bundle.node.name})[:100],
        starts_at=now,
        ends_at=max(task.deadline, now + dt.timedelta(hours=24)),
        deadline=task.deadline,
        pool_size=1,
        sealed_tube="single",
        home=True,
        source="incidents",
    )
    return Opened(ref_id=round_.pk)


def _retests_resulted(round_: Round, changes: dict[str, list[Tube]], at: dt.datetime) -> None:
    for result in RESULTED:
        ids = [t.pk for t in changes.get(result, [])]
        if not ids:
            continue
        rows = Retest.objects.filter(round=round_, tube_id__in=ids)
        rows.update(result=result, resulted_at=at)
        if result == Result.NEGATIVE:
            rows.filter(hold_since__isnull=False, hold_until__isnull=True).update(hold_until=at)
    invalid = [t.pk for t in changes.get(Result.INVALID, [])]
    if invalid:
        # services has already put these retests back to due (tube cleared); find them by
        # their voided retest scans.
        residents = Scan.objects.filter(
            tube_id__in=invalid, retest=True, kind=ScanKind.RESIDENT
        ).values("resident_id")
        Retest.objects.filter(round=round_, resident_id__in=residents).update(
            result=Result.INVALID, resulted_at=at
        )


def pool_recipients(tube: Tube) -> list[Recipient]:
    """Who is told of a positive pool, from where its people live (walk-ins: the station)."""
    area = set(Scan.objects.filter(tube=tube).values_list("community_id", "grid_id").distinct())
    communities = sorted({c for c, _g in area if c is not None})
    grids = sorted({g for _c, g in area if g is not None})
    out: list[Recipient] = []
    for person_id, user_id in (
        Post.objects.filter(role=PostRole.GRID_CHIEF, node_id__in=grids, ended_on__isnull=True)
        .order_by("node_id", "pk")
        .values_list("person_id", "person__user_id")
    ):
        out.append(Recipient(person_id, user_id, GRID_CHIEF))
    out += _logins(
        RoleAssignment.objects.filter(role=Role.GRID_CHIEF, node_id__in=grids), GRID_CHIEF
    )
    teams = Station.objects.filter(kind=StationKind.HOME).filter(
        Q(grid_id__in=grids) | Q(grid__isnull=True, community_id__in=communities)
    )
    for person_id, user_id in (
        SitePost.objects.filter(station__in=teams, ended_on__isnull=True)
        .order_by("station_id", "pk")
        .values_list("person_id", "person__user_id")
    ):
        out.append(Recipient(person_id, user_id, HOME_TEAM))
    for person_id, user_id in (
        Post.objects.filter(
            role=PostRole.POLICE_LIAISON, node_id__in=communities, ended_on__isnull=True
        )
        .order_by("node_id", "pk")
        .values_list("person_id", "person__user_id")
    ):
        out.append(Recipient(person_id, user_id, POLICE_LIAISON))
    out += _logins(RoleAssignment.objects.filter(node_id__in=communities), COMMUNITY_STAFF)
    return out


def _logins(assignments: QuerySet[RoleAssignment], reason: str) -> list[Recipient]:
    return [
        Recipient(person_id, user_id, reason)
        for user_id, person_id in assignments.filter(user__is_active=True)
        .order_by("user_id")
        .values_list("user_id", "user__person")
    ]


def _concerns(tube: Tube) -> Node:
    """The lowest node holding all the pool's people: their grid, else their community,
    else the tube's street."""
    area = set(Scan.objects.filter(tube=tube).values_list("community_id", "grid_id").distinct())
    grids = {g for _c, g in area}
    communities = {c for c, _g in area}
    if len(grids) == 1 and None not in grids:
        return Node.objects.get(pk=grids.pop())
    if len(communities) == 1 and None not in communities:
        return Node.objects.get(pk=communities.pop())
    return Node.objects.get(pk=tube.street_id)


def pool_notify(*, tube: Tube, round_: Round, at: dt.datetime | None = None) -> Notification:
    """Send (or complete: idempotent) the notification of one positive pool, written in every
    language of the UI (each reader sees theirs)."""
    people = Scan.objects.filter(tube=tube).count()
    buildings = list(
        Node.objects.filter(
            pk__in=Scan.objects.filter(tube=tube, building__isnull=False).values("building_id")
        )
        .order_by("path")
        .values_list("name", flat=True)
    )

    def write() -> tuple[str, str]:
        title = _("Positive pool %(tube)s") % {"tube": tube.barcode}
        body = _(
            "Pooled tube %(tube)s of %(round)s is positive: %(n)s people (%(places)s). "
            "They are to stay where they are until a single-tube retest is negative; "
            "retest each of them in a single tube."
        ) % {
            "tube": tube.barcode,
            "round": round_.name,
            "n": people,
            "places": "、".join(buildings[:6]) + ("…" if len(buildings) > 6 else ""),
        }
        return title, body

    texts = in_every_language(write)
    title, body = texts[settings.LANGUAGE_CODE]
    return notification_send(
        kind=KIND_POSITIVE_POOL,
        title=title,
        body=body,
        texts=texts,
        link=reverse("testing:tube", args=[tube.pk]),
        node=_concerns(tube),
        source=tube,
        recipients=pool_recipients(tube),
        at=at,
    )


# ------------------------------------------------------------------------------------- reads


def with_state(rows: QuerySet[Retest]) -> QuerySet[Retest]:
    """Retests with their `state`: pending (due), sampled (in a single tube, no result yet),
    negative / positive (the retest tube's result), invalid (the tube was invalid: due
    again)."""
    return rows.annotate(
        state=Case(
            When(tube__isnull=True, result=Result.INVALID, then=Value(RetestState.INVALID)),
            When(tube__isnull=True, then=Value(RetestState.PENDING)),
            When(result__in=RESULTED, then=F("result")),
            default=Value(RetestState.SAMPLED),
            output_field=CharField(),
        ),
        held=ExpressionWrapper(
            Q(hold_since__isnull=False, hold_until__isnull=True), output_field=BooleanField()
        ),
    )


def state_of(retest: Retest) -> str:
    """`with_state`'s state, for a retest row read without it."""
    if retest.tube_id is None:
        return RetestState.INVALID if retest.result == Result.INVALID else RetestState.PENDING
    return retest.result if retest.result in RESULTED else RetestState.SAMPLED


@dataclass
class PoolResponse:
    """How far the response to one positive pool has come."""

    tube: Tube
    people: int = 0
    sampled: int = 0
    resulted: int = 0
    positive: int = 0
    held: int = 0
    last_sampled_at: dt.datetime | None = None
    last_resulted_at: dt.datetime | None = None
    notification: Notification | None = None

    @property
    def all_sampled(self) -> bool:
        return self.people > 0 and self.sampled == self.people

    @property
    def all_resulted(self) -> bool:
        return self.people > 0 and self.resulted == self.people

    @property
    def to_sampled(self) -> dt.timedelta | None:
        """From the positive result to the last of its people retested (sampled)."""
        if not self.all_sampled or self.tube.resulted_at is None:
            return None
        return self.last_sampled_at - self.tube.resulted_at

    @property
    def to_resulted(self) -> dt.timedelta | None:
        """From the positive result to the last retest result."""
        if not self.all_resulted or self.tube.resulted_at is None:
            return None
        return self.last_resulted_at - self.tube.resulted_at


def pool_responses(user, tubes: Iterable[Tube]) -> list[PoolResponse]:
    """The response figures of positive pools (the whole pool's people, as the traceback
    counts them; the tubes come from the caller's scoped query)."""
    found = {t.pk: PoolResponse(t) for t in tubes}
    if not found:
        return []
    rows = (
        Retest.objects.filter(source_tube_id__in=list(found))
        .values("source_tube_id")
        .annotate(
            people=Count("pk"),
            sampled=Count("pk", filter=Q(tube__isnull=False)),
            resulted=Count("pk", filter=Q(tube__isnull=False, result__in=RESULTED)),
            positive=Count("pk", filter=Q(tube__isnull=False, result=Result.POSITIVE)),
            held=Count("pk", filter=Q(hold_since__isnull=False, hold_until__isnull=True)),
            last_sampled_at=Max("sampled_at"),
            last_resulted_at=Max("resulted_at", filter=Q(tube__isnull=False, result__in=RESULTED)),
        )
        .order_by()
    )
    for row in rows:
        r = found[row.pop("source_tube_id")]
        for key, value in row.items():
            setattr(r, key, value)
    notices = notice_queries.for_source(user, source_label(Tube()), list(found))
    for r in found.values():
        r.notification = notices.get(r.tube.pk)
    return list(found.values())


def _median(values: list[dt.timedelta]) -> dt.timedelta | None:
    return statistics.median(values) if values else None


@dataclass
class RoundResponse:
    """A round's figures: per positive pool, and the median and maximum times."""

    pools: list[PoolResponse] = field(default_factory=list)

    @property
    def people(self) -> int:
        return sum(p.people for p in self.pools)

    @property
    def sampled(self) -> int:
        return sum(p.sampled for p in self.pools)

    @property
    def resulted(self) -> int:
        return sum(p.resulted for p in self.pools)

    @property
    def held(self) -> int:
        return sum(p.held for p in self.pools)

    def _times(self, attr: str) -> list[dt.timedelta]:
        return [t for p in self.pools if (t := getattr(p, attr)) is not None]

    @property
    def pools_sampled(self) -> int:
        return len(self._times("to_sampled"))

    @property
    def pools_resulted(self) -> int:
        return len(self._times("to_resulted"))

    @property
    def median_to_sampled(self) -> dt.timedelta | None:
        return _median(self._times("to_sampled"))

    @property
    def max_to_sampled(self) -> dt.timedelta | None:
        return max(self._times("to_sampled"), default=None)

    @property
    def median_to_resulted(self) -> dt.timedelta | None:
        return _median(self._times("to_resulted"))

    @property
    def max_to_resulted(self) -> dt.timedelta | None:
        return max(self._times("to_resulted"), default=None)


def round_response(user, round_: Round, tubes: QuerySet[Tube]) -> RoundResponse:
    """The response figures of a round's positive pools among `tubes` (the caller's scoped
    positive tubes, e.g. `queries.positive_tubes`)."""
    pools = tubes.filter(round=round_, result=Result.POSITIVE).exclude(kind=TubeKind.SINGLE)
    return RoundResponse(pool_responses(user, pools.order_by("resulted_at", "barcode")))


def holds_of(user, resident_id: int) -> list[Retest]:
    """A resident's holds (from positive pools), newest first, as the user may see them."""
    return list(
        with_state(Retest.objects.restrict(user).filter(resident_id=resident_id))
        .filter(hold_since__isnull=False)
        .select_related("round", "source_tube", "tube")
        .order_by("-hold_since")
    )


def hours(value: dt.timedelta | None) -> str:
    """A duration as hours and minutes (“5 h 20 min”), “—” when not reached yet."""
    if value is None:
        return "—"
    minutes = max(0, int(value.total_seconds() // 60))
    h, m = divmod(minutes, 60)
    if h == 0:
        return _("%(m)s min") % {"m": m}
    return _("%(h)s h %(m)s min") % {"h": h, "m": m}
