"""Reads shared by the screening views, API and the daily report. Every read of rows goes
through the scope (`restrict` / `get_scoped_or_404`).

A campaign or a call list hangs on a large node (a street, say), yet a grid chief must see
the campaign that covers their grid, and only their grid's households in it: so a campaign
(or list) is visible to whoever may see it or any of its household rows (or call rows), and
everything counted inside it is counted over the rows the user may see.
"""

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import (
    Case,
    Count,
    IntegerField,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bastion.core.errors import DomainError
from bastion.core.scope import (
    CHANGE,
    VIEW,
    get_scoped_or_404,
    seen_through_q,
)
from bastion.geo.identity import normalise_mobile, parse_id_number
from bastion.geo.models import Node, Resident, child_level
from bastion.people.models import Post, PostRole
from bastion.screening.models import (
    CLEARED_STATUSES,
    Callback,
    CallbackStatus,
    CallList,
    CallRow,
    Campaign,
    CampaignHousehold,
    Finding,
    FollowUp,
    HouseholdStatus,
    RowStatus,
    Visit,
)

STATUSES = [s.value for s in HouseholdStatus]

# --------------------------------------------------------------------------- cleared
# THE definition of a household "cleared" (已查清) by door-knock: reached, or found away
# (moved out, not living there). The screening pages, the dashboard's building board and the
# daily report's figure all count through these two, so one grid shows one number.
CLEARED = CLEARED_STATUSES
CLEARED_LABEL = gettext_lazy("Households cleared")


def cleared_q() -> Q:
    """Campaign households cleared now."""
    return Q(status__in=CLEARED)


def cleared_by_q(day: dt.date) -> Q:
    """Campaign households cleared by the end of `day`: reached by then, or found away by
    then (and not reached by then). On today it counts what `cleared_q` counts."""
    return Q(reached_on__lte=day) | (Q(away_on__lte=day) & _unset_by(day, "reached_on"))


# --------------------------------------------------------------------------- campaigns


def campaigns_for(user, action: str = VIEW) -> QuerySet[Campaign]:
    """Campaigns the user may see: over their area, or covering part of it."""
    seen = seen_through_q(user, action, CampaignHousehold.objects.all(), link="campaign")
    return Campaign.objects.filter(seen).select_related("node")


def _one(queryset: QuerySet, pk):
    """One row of an already scoped queryset; absent and out of scope are the same 404."""
    try:
        return queryset.get(pk=pk)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def campaign_for(user, pk: int, action: str = VIEW) -> Campaign:
    return _one(campaigns_for(user, action), pk)


def entry_for(user, campaign: Campaign, household_id: int, action: str = VIEW) -> CampaignHousehold:
    """One household's status row in a campaign, if the user may act on it."""
    return get_scoped_or_404(
        CampaignHousehold.objects.select_related("campaign", "household", "building", "unit"),
        user,
        action,
        campaign=campaign,
        household_id=household_id,
    )


def _status_counts(rows: QuerySet, group_by: str | None = None):
    aggregates = {"total": Count("id")} | {
        status: Count("id", filter=Q(status=status)) for status in STATUSES
    }
    if group_by is None:
        return rows.aggregate(**aggregates)
    return {row.pop(group_by): row for row in rows.values(group_by).annotate(**aggregates)}


def _with_shares(counts: dict) -> dict:
    total = counts["total"] or 0
    cleared = sum(counts[status] for status in CLEARED)
    return counts | {
        "cleared": cleared,
        "left": total - cleared,
        "percent": round(100 * cleared / total) if total else 0,
    }


@dataclass
class Coverage:
    node: Node  # the node the figures are for
    totals: dict  # total, not_yet, reached, not_reachable, away, cleared, left, percent
    # The node's children with households in the campaign: (child, counts, grid chief's post
    # when the children are grids).
    children: list[tuple[Node, dict, Post | None]]


def coverage(user, campaign: Campaign, node: Node) -> Coverage:
    """Households total / not yet / reached / not reachable / away at `node` and each of its
    children: one GROUP BY on the child level's column over the rows the user may see."""
    rows = CampaignHousehold.objects.restrict(user).filter(
        campaign=campaign, **{f"{node.level}_id": node.pk}
    )
    totals = _with_shares(_status_counts(rows))
    children: list[tuple[Node, dict, Post | None]] = []
    level = child_level(node.level)
    if level:
        by_child = _status_counts(rows, f"{level}_id")
        kids = list(Node.objects.filter(pk__in=by_child).order_by("code", "name"))
        chiefs = grid_chiefs([kid.pk for kid in kids]) if level == "grid" else {}
        children = [(kid, _with_shares(by_child[kid.pk]), chiefs.get(kid.pk)) for kid in kids]
    return Coverage(node, totals, children)


def grid_chiefs(grid_ids: list[int]) -> dict[int, Post]:
    """The current grid chief of each grid (the five-chief post), by grid id."""
    posts = Post.objects.filter(
        node_id__in=grid_ids, role=PostRole.GRID_CHIEF, ended_on__isnull=True
    ).select_related("person")
    return {post.node_id: post for post in posts}


def _left_today(today: dt.date) -> Q:
    """Not cleared, and not tried yet today: what is on a chief's list for today."""
    return Q(status__in=[HouseholdStatus.NOT_YET, HouseholdStatus.NOT_REACHABLE]) & (
        Q(last_attempt_on__isnull=True) | Q(last_attempt_on__lt=today)
    )


def active_grids(user, today: dt.date) -> list[tuple[Campaign, Node, dict]]:
    """(campaign, grid, counts) for each grid the user may see in each campaign running today:
    what a chief's "today" page offers."""
    rows = CampaignHousehold.objects.restrict(user).filter(
        campaign__starts_on__lte=today, campaign__ends_on__gte=today
    )
    by_pair = {
        (r["campaign_id"], r["grid_id"]): r
        for r in rows.values("campaign_id", "grid_id").annotate(
            total=Count("id"),
            left_today=Count("id", filter=_left_today(today)),
            done_today=Count("id", filter=Q(last_attempt_on=today)),
        )
    }
    campaigns = Campaign.objects.in_bulk({c for c, _g in by_pair})
    grids = Node.objects.in_bulk({g for _c, g in by_pair})
    return sorted(
        ((campaigns[c], grids[g], counts) for (c, g), counts in by_pair.items()),
        key=lambda t: (t[0].starts_on, t[0].pk, t[1].code, t[1].name),
    )


# The walking order of a grid: building, unit, floor, room.
WALKING_ORDER = (
    "building__code",
    "building__name",
    "unit__code",
    "unit__name",
    "household__floor",
    "household__room",
)


def left_today(user, campaign: Campaign, grid: Node, today: dt.date) -> QuerySet:
    """Daily check-and-clear: the grid's households not cleared and not yet tried today.
    What was tried before today and not cleared comes first (the longest waiting first, the
    most tried first), then those never tried, in walking order."""
    return (
        CampaignHousehold.objects.restrict(user)
        .filter(_left_today(today), campaign=campaign, grid_id=grid.pk)
        .annotate(
            carried=Case(
                When(status=HouseholdStatus.NOT_REACHABLE, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .select_related("household", "building", "unit")
        .prefetch_related(Prefetch("household__residents", Resident.objects.order_by("id")))
        .order_by("carried", "last_attempt_on", "-attempts", *WALKING_ORDER)
    )


def grid_progress(user, campaign: Campaign, grid: Node, today: dt.date) -> dict[str, int]:
    """The head of a chief's list: households total and cleared, left today (of which carried
    over from earlier days), tried today. One aggregate."""
    counts = (
        CampaignHousehold.objects.restrict(user)
        .filter(campaign=campaign, grid_id=grid.pk)
        .aggregate(
            total=Count("id"),
            cleared=Count("id", filter=cleared_q()),
            left_today=Count("id", filter=_left_today(today)),
            carried=Count(
                "id", filter=Q(status=HouseholdStatus.NOT_REACHABLE, last_attempt_on__lt=today)
            ),
            done_today=Count("id", filter=Q(last_attempt_on=today)),
        )
    )
    total = counts["total"]
    return counts | {"percent": round(100 * counts["cleared"] / total) if total else 0}


def done_today(user, campaign: Campaign, grid: Node, today: dt.date) -> QuerySet:
    return (
        CampaignHousehold.objects.restrict(user)
        .filter(campaign=campaign, grid_id=grid.pk, last_attempt_on=today)
        .select_related("household", "building", "unit")
        .order_by("-last_attempt_at")
    )


def household_residents(entry: CampaignHousehold) -> list[Resident]:
    return list(Resident.objects.filter(household_id=entry.household_id).order_by("id"))


def household_visits(entry: CampaignHousehold) -> QuerySet[Visit]:
    return (
        Visit.objects.filter(campaign_id=entry.campaign_id, household_id=entry.household_id)
        .select_related("by")
        .prefetch_related("findings__resident")
    )


def fever_findings(user, campaign: Campaign, node: Node, *, limit: int = 20) -> QuerySet[Finding]:
    """The latest residents found with fever in the campaign, at and below `node`."""
    return (
        Finding.objects.restrict(user)
        .filter(campaign=campaign, fever=True, **{f"{node.level}_id": node.pk})
        .select_related("resident__household", "building", "unit")
        .order_by("-day", "-id")[:limit]
    )


# --------------------------------------------------------------------------- call lists


def call_lists_for(user, action: str = VIEW) -> QuerySet[CallList]:
    """Lists the user may see: imported into their area, or with rows matched into it."""
    seen = seen_through_q(user, action, CallRow.objects.all(), link="call_list")
    return CallList.objects.filter(seen).select_related("node")


def call_list_for(user, pk: int, action: str = VIEW) -> CallList:
    return _one(call_lists_for(user, action), pk)


def call_list_counts(user, lists: list[CallList]) -> dict[int, dict[str, int]]:
    """Rows by status and callbacks done of each list, over what the user may see: one
    GROUP BY per table for all the lists."""
    keys = ["total", *RowStatus.values, "callbacks", "done"]
    result = {cl.pk: dict.fromkeys(keys, 0) for cl in lists}
    for row in (
        CallRow.objects.restrict(user)
        .filter(call_list__in=lists)
        .values("call_list_id")
        .annotate(
            total=Count("id"), **{s: Count("id", filter=Q(status=s)) for s in RowStatus.values}
        )
    ):
        result[row.pop("call_list_id")].update(row)
    for row in (
        Callback.objects.restrict(user)
        .filter(call_row__call_list__in=lists)
        .values("call_row__call_list_id")
        .annotate(callbacks=Count("id"), done=Count("id", filter=Q(status=CallbackStatus.DONE)))
    ):
        result[row.pop("call_row__call_list_id")].update(row)
    return result


def call_rows(user, call_list: CallList, statuses: list[str]) -> QuerySet[CallRow]:
    return (
        CallRow.objects.restrict(user)
        .filter(call_list=call_list, status__in=statuses)
        .select_related(
            "resident", "resident__building", "resident__unit", "resident__household", "resolved_by"
        )
        .order_by("row")
    )


def call_row_for(user, pk: int, action: str = VIEW) -> CallRow:
    return get_scoped_or_404(CallRow.objects.select_related("call_list__node"), user, action, pk=pk)


def candidates_of(user, rows: list[CallRow]) -> dict[int, list[Resident]]:
    """The residents offered for each ambiguous or unmatched row (one query for all rows)."""
    wanted = {pk for row in rows for pk in row.candidates}
    residents = (
        Resident.objects.restrict(user)
        .filter(pk__in=wanted)
        .select_related("building", "unit", "household")
        .in_bulk()
    )
    return {row.pk: [residents[pk] for pk in row.candidates if pk in residents] for row in rows}


RESIDENT_RELATED = ("resident__household", "resident__building", "resident__unit")
CALLBACK_RELATED = ("call_row__call_list", "building", "unit", *RESIDENT_RELATED)


def resident_by_number(user, text: str) -> Resident:
    """The one resident the user may change whose full ID number or mobile number is `text`;
    DomainError (field "lookup") when there is none, or several share a mobile."""
    text = text.strip().upper()
    try:
        match = Q(id_number=parse_id_number(text).number)
    except ValidationError:
        try:
            match = Q(phone=normalise_mobile(text))
        except ValidationError:
            raise DomainError(
                _("Give a full ID number or mobile number."), field="lookup"
            ) from None
    found = list(Resident.objects.restrict(user, CHANGE).filter(match)[:2])
    if len(found) != 1:
        raise DomainError(
            _("Several residents share this number; pick one.")
            if found
            else _("No single resident in your area has this number."),
            field="lookup",
        )
    return found[0]


def callbacks_for(
    user, *, status: str | None = None, grid_id: int | None = None
) -> QuerySet[Callback]:
    qs = Callback.objects.restrict(user).select_related(*CALLBACK_RELATED)
    if status:
        qs = qs.filter(status=status)
    if grid_id:
        qs = qs.filter(grid_id=grid_id)
    return qs.order_by("-status", "created_on", "call_row__event_at", "id")


def callback_for(user, pk: int, action: str = VIEW) -> Callback:
    return get_scoped_or_404(
        Callback.objects.select_related(*CALLBACK_RELATED), user, action, pk=pk
    )


def follow_ups_for(
    user, *, open_only: bool = True, grid_id: int | None = None
) -> QuerySet[FollowUp]:
    qs = FollowUp.objects.restrict(user).select_related(
        "building", "unit", "grid", "finding", "callback", *RESIDENT_RELATED
    )
    if open_only:
        qs = qs.filter(closed_on__isnull=True)
    if grid_id:
        qs = qs.filter(grid_id=grid_id)
    return qs.order_by("closed_on", "opened_on", "id")


def follow_up_for(user, pk: int, action: str = VIEW) -> FollowUp:
    return get_scoped_or_404(
        FollowUp.objects.select_related(*RESIDENT_RELATED), user, action, pk=pk
    )


# --------------------------------------------------------------------------- daily figures


def daily_figures(day: dt.date, grid_ids: list[int]) -> dict[int, dict[str, int]]:
    """The screening figures of each grid for `day`, as at the end of that day: one GROUP BY on
    grid_id per table (campaign households, findings, callbacks, follow-ups).

    households_screened (key kept for the stored rows): households *cleared* by that day
    (`cleared_by_q`, the screening pages' "cleared"), in campaigns running that day;
    households_left: not cleared; households_not_reachable: tried, not cleared;
    fever_found: residents found with fever that day (door-knock) plus callbacks that day
    finding fever; callbacks_done (cumulative) / callbacks_open; follow_ups_open."""
    result = {gid: dict.fromkeys(FIGURES, 0) for gid in grid_ids}
    for row in (
        CampaignHousehold.objects.filter(
            grid_id__in=grid_ids, campaign__starts_on__lte=day, campaign__ends_on__gte=day
        )
        .values("grid_id")
        .annotate(
            total=Count("id"),
            cleared=Count("id", filter=cleared_by_q(day)),
            not_reachable=Count(
                "id",
                filter=Q(first_attempt_on__lte=day)
                & _unset_by(day, "reached_on")
                & _unset_by(day, "away_on"),
            ),
        )
    ):
        figures = result[row["grid_id"]]
        figures["households_screened"] = row["cleared"]
        figures["households_left"] = row["total"] - row["cleared"]
        figures["households_not_reachable"] = row["not_reachable"]
    for row in (
        Finding.objects.filter(grid_id__in=grid_ids, day=day, fever=True)
        .values("grid_id")
        .annotate(n=Count("resident", distinct=True))
    ):
        result[row["grid_id"]]["fever_found"] += row["n"]
    for row in (
        Callback.objects.filter(grid_id__in=grid_ids, created_on__lte=day)
        .values("grid_id")
        .annotate(
            done=Count("id", filter=Q(done_on__lte=day)),
            open=Count("id", filter=_unset_by(day, "done_on")),
            fever=Count("id", filter=Q(done_on=day, fever_now=True)),
        )
    ):
        figures = result[row["grid_id"]]
        figures["callbacks_done"] = row["done"]
        figures["callbacks_open"] = row["open"]
        figures["fever_found"] += row["fever"]
    for row in (
        FollowUp.objects.filter(
            _unset_by(day, "closed_on"), grid_id__in=grid_ids, opened_on__lte=day
        )
        .values("grid_id")
        .annotate(n=Count("id"))
    ):
        result[row["grid_id"]]["follow_ups_open"] = row["n"]
    return result


def _unset_by(day: dt.date, field: str) -> Q:
    """The date `field` was still empty at the end of `day` (empty, or later)."""
    return Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__gt": day})


FIGURES = {
    "households_screened": CLEARED_LABEL,
    "households_left": gettext_lazy("Households left"),
    "households_not_reachable": gettext_lazy("Households not reachable"),
    "fever_found": gettext_lazy("Fever found"),
    "callbacks_done": gettext_lazy("Callbacks done"),
    "callbacks_open": gettext_lazy("Callbacks open"),
    "follow_ups_open": gettext_lazy("Follow-ups open"),
}


def building_completion(building_ids: list[int]) -> dict[int, float]:
    """For the dashboard's building board: the share of each building's households cleared
    (reached or away) in campaigns running today."""
    today = timezone.localdate()
    rows = (
        CampaignHousehold.objects.filter(
            building_id__in=building_ids,
            campaign__starts_on__lte=today,
            campaign__ends_on__gte=today,
        )
        .values("building_id")
        .annotate(
            total=Count("id"),
            cleared=Count("id", filter=cleared_q()),
        )
    )
    return {r["building_id"]: r["cleared"] / r["total"] for r in rows if r["total"]}
