"""Every write of the daily report: computing a day, freezing it, a grid submitting it.

Computing is one pass over all grids (or those under one node) in chunks: every registered
module's `compute(day, grid_ids)` is called once per chunk, and the chunk's rows go in as one
multi-row upsert. A frozen day is never written again: compute and freeze lock the day's
`ReportDay` row, and compute writes nothing once `frozen_at` is set.
"""

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from bastion.accounts.models import Role, RoleAssignment
from bastion.core import history
from bastion.core.bulk import upsert_rows
from bastion.core.errors import DomainError
from bastion.core.figcache import figures_changed
from bastion.geo.models import Node
from bastion.notices.services import Recipient, in_every_language, notification_send
from bastion.reports import registry
from bastion.reports.models import DailyFigure, GridReport, ReportDay

ANCESTORS = ("city", "district", "street", "community", "grid")
# The dashboard's figures in the figures cache (`core.figcache`): every write here that
# changes what the dashboard draws starts a new generation of them.
FIGURES = "reports.dashboard"
CHUNK_GRIDS = 1000
UPSERT_ROWS = 500  # × 10 columns: within SQLite's 32,766 and PostgreSQL's 65,535 parameters

Progress = Callable[[int, int], None]


def freeze_hour() -> int:
    """The local hour at which a day's report freezes (setting BASTION_REPORT_FREEZE_HOUR)."""
    return int(getattr(settings, "BASTION_REPORT_FREEZE_HOUR", 20))


def freeze_moment(day: dt.date) -> dt.datetime:
    """When `day`'s report freezes, as an aware datetime in the project's time zone."""
    hour = freeze_hour()
    naive = dt.datetime.combine(day, dt.time(0)) + dt.timedelta(hours=hour)
    return timezone.make_aware(naive, timezone.get_default_timezone())


def local_today(now: dt.datetime | None = None) -> dt.date:
    return timezone.localdate(now or timezone.now())


@dataclass
class ComputeResult:
    day: dt.date
    grids: int = 0
    rows: int = 0
    frozen: bool = False  # the day was frozen: nothing was written


def _grids(node: Node | None) -> list[tuple[int, ...]]:
    """(id, city_id, district_id, street_id, community_id) of the grids under `node`."""
    qs = Node.objects.filter(level="grid")
    if node is not None:
        if node.level in ("building", "unit"):
            qs = qs.filter(pk=node.grid_id)
        else:
            qs = qs.filter(**{f"{node.level}_id": node.pk})
    return list(qs.order_by("id").values_list("id", *(f"{a}_id" for a in ANCESTORS[:-1])))


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _module_values(day: dt.date, grid_ids: list[int]) -> dict[int, dict[str, int]]:
    """Every registered module's figures for these grids; absent values are 0."""
    keys = registry.figure_keys()
    values = {gid: dict.fromkeys(keys, 0) for gid in grid_ids}
    for module in registry.modules():
        own = {f.key for f in module.figures}
        for gid, figures in module.compute(day, grid_ids).items():
            if gid not in values:
                continue
            unknown = set(figures) - own
            if unknown:
                raise ValueError(f"{module.name} computed unregistered figures {sorted(unknown)}")
            values[gid].update({k: int(v) for k, v in figures.items()})
    return values


def _day_locked(day: dt.date) -> ReportDay:
    """The day's state row, locked until the transaction ends (a no-op lock on SQLite, whose
    immediate transactions already serialise writers)."""
    ReportDay.objects.get_or_create(day=day)
    return ReportDay.objects.select_for_update().get(day=day)


def _write_chunk(
    day: dt.date, grids: list[tuple[int, ...]], values: dict, now: dt.datetime, keys: list[str]
) -> int | None:
    """Upsert one chunk's rows; None when the day froze meanwhile (nothing written)."""
    ancestors = [f"{a}_id" for a in ANCESTORS]
    figure_rows = [
        (*located, gid, day, key, values[gid][key]) for gid, *located in grids for key in keys
    ]
    report_rows = [(*located, gid, day, now, False) for gid, *located in grids]
    with transaction.atomic():
        state = _day_locked(day)
        if state.frozen:
            return None
        grid_ids = [g[0] for g in grids]
        DailyFigure.objects.filter(day=day, grid_id__in=grid_ids).exclude(key__in=keys).delete()
        upsert_rows(
            DailyFigure,
            [*ancestors, "day", "key", "value"],
            figure_rows,
            conflict=["grid_id", "day", "key"],
            update=["value", *ancestors[:-1]],
            batch=UPSERT_ROWS,
        )
        upsert_rows(
            GridReport,
            [*ancestors, "day", "computed_at", "late"],
            report_rows,
            conflict=["grid_id", "day"],
            update=["computed_at", *ancestors[:-1]],
            batch=UPSERT_ROWS,
        )
        state.computed_at = now
        state.save(update_fields=["computed_at"])
        figures_changed(name=FIGURES)
    return len(figure_rows)


def report_compute(
    *,
    day: dt.date,
    node: Node | None = None,
    now: dt.datetime | None = None,
    progress: Progress | None = None,
) -> ComputeResult:
    """Compute `day`'s figures for every grid (or the grids under `node`) and store them.
    A frozen day is left as it is (`result.frozen`)."""
    now = now or timezone.now()
    if day > local_today(now):
        raise DomainError(_("A day that has not begun has no report yet."), field="day")
    keys = registry.figure_keys()
    result = ComputeResult(day=day)
    state = ReportDay.objects.filter(day=day).first()
    if state is not None and state.frozen:
        result.frozen = True
        return result
    grids = _grids(node)
    for chunk in _chunks(grids, CHUNK_GRIDS):
        values = _module_values(day, [g[0] for g in chunk])
        written = _write_chunk(day, chunk, values, now, keys)
        if written is None:
            result.frozen = True
            return result
        result.grids += len(chunk)
        result.rows += written
        if progress:
            progress(result.grids, len(grids))
    if not grids:
        ReportDay.objects.get_or_create(day=day)
    return result


def report_freeze(
    *, day: dt.date, now: dt.datetime | None = None, progress: Progress | None = None
) -> ComputeResult:
    """Compute `day` one last time and freeze it; its rows never change again. Freezing a
    frozen day changes nothing."""
    now = now or timezone.now()
    result = report_compute(day=day, now=now, progress=progress)
    if result.frozen:
        return result
    with transaction.atomic():
        state = _day_locked(day)
        if not state.frozen:
            state.frozen_at = now
            state.save(update_fields=["frozen_at"])
            figures_changed(name=FIGURES)
    result.frozen = True
    return result


def report_freeze_due(
    *, now: dt.datetime | None = None, progress: Progress | None = None
) -> list[dt.date]:
    """Freeze every computed day whose freeze moment has passed (and today, once its freeze
    hour has struck). Returns the days frozen now."""
    now = now or timezone.now()
    today = local_today(now)
    days = set(
        ReportDay.objects.filter(frozen_at__isnull=True, day__lte=today).values_list(
            "day", flat=True
        )
    )
    if (
        freeze_moment(today) <= now
        and not ReportDay.objects.filter(day=today, frozen_at__isnull=False).exists()
    ):
        days.add(today)
    due = sorted(d for d in days if freeze_moment(d) <= now)
    for day in due:
        report_freeze(day=day, now=now, progress=progress)
    return due


def report_tick(*, now: dt.datetime | None = None, progress: Progress | None = None) -> dict:
    """What the periodic task does: freeze what is due, then refresh today's live report."""
    now = now or timezone.now()
    frozen = report_freeze_due(now=now, progress=progress)
    today = local_today(now)
    live = report_compute(day=today, now=now, progress=progress)
    return {
        "frozen": [d.isoformat() for d in frozen],
        "today": today.isoformat(),
        "today_frozen": live.frozen,
        "grids": live.grids,
    }


def submission_stands(*, report: GridReport | None, frozen: bool, now: dt.datetime) -> bool:
    """Whether a grid's submission is final: made, and its day frozen or its freeze moment
    past. Submitting again then changes nothing."""
    return (
        report is not None
        and report.submitted_at is not None
        and (frozen or now > freeze_moment(report.day))
    )


@transaction.atomic
def grid_report_submit(
    *, grid: Node, day: dt.date, actor, now: dt.datetime | None = None, source: str = "web"
) -> GridReport:
    """A grid chief confirms the grid's figures of `day`. Before the freeze the figures are
    recomputed first, so the chief confirms what is current, and the chief may confirm again;
    after the freeze moment the submission is recorded as late and the frozen figures stay as
    they are. Once the freeze moment has passed (or the day is frozen) a submission stands:
    submitting again returns it unchanged, so a device may retry."""
    now = now or timezone.now()
    if grid.level != "grid":
        raise DomainError(_("Only a grid submits a daily report."), field="grid")
    if day > local_today(now):
        raise DomainError(_("A day that has not begun has no report yet."), field="day")
    state = ReportDay.objects.filter(day=day).first()
    frozen = state is not None and state.frozen
    if not frozen:
        report_compute(day=day, node=grid, now=now)
    report = GridReport.objects.select_for_update().filter(grid=grid, day=day).first()
    if report is None:  # a grid made after its day froze
        report = GridReport(day=day, computed_at=now)
        report.locate(grid)
    if submission_stands(report=report, frozen=frozen, now=now):
        return report
    before = report.submitted_at
    report.submitted_at = now
    report.submitted_by = actor if actor is not None and actor.is_authenticated else None
    report.late = now > freeze_moment(day)
    report.save()
    figures_changed(name=FIGURES)
    history.record(
        actor,
        report,
        "update",
        {
            "submitted_at": [before and before.isoformat(), now.isoformat()],
            "late": [False, report.late],
        },
        source=source,
    )
    return report


# ------------------------------------------------------------------------- reminding a grid

KIND_REMIND = "reports.remind"


def grid_chief_logins(grid_ids: list[int]):
    """The active logins holding the grid chief's role on these grids: whom a reminder reaches."""
    return RoleAssignment.objects.filter(
        role=Role.GRID_CHIEF, node_id__in=grid_ids, user__is_active=True
    )


def grid_report_remind(*, grid: Node, day: dt.date, actor, now: dt.datetime | None = None):
    """Remind a grid that has not submitted its report of `day`: an inbox notice to the logins
    of its grid chiefs, sent once per grid and day (a second reminder returns the first, with
    no new notice). The notice and who sent it are in the change log (`notices`)."""
    now = now or timezone.now()
    report = GridReport.objects.filter(grid_id=grid.pk, day=day).first()
    if grid.level != "grid" or report is None:
        raise DomainError(_("This grid has no report of that day to remind of."), field="grid")
    if report.submitted_at is not None:
        raise DomainError(
            _("%(grid)s has already submitted this day's report.") % {"grid": grid.name},
            field="grid",
        )
    chiefs = grid_chief_logins([grid.pk]).order_by("user_id").values_list("user_id", "user__person")
    recipients = [Recipient(person_id, user_id, "grid_chief") for user_id, person_id in chiefs]
    if not recipients:
        raise DomainError(
            _("%(grid)s has no grid chief with a login to remind.") % {"grid": grid.name},
            field="grid",
        )

    def write() -> tuple[str, str]:
        title = _("Reminder: the daily report of %(grid)s") % {"grid": grid.name}
        body = _(
            "The daily report of %(grid)s for %(day)s has not been submitted. Check the "
            "figures and submit it by %(freeze)s."
        ) % {
            "grid": grid.name,
            "day": day.isoformat(),
            "freeze": timezone.localtime(freeze_moment(day)).strftime("%H:%M"),
        }
        return title, body

    texts = in_every_language(write)
    title, body = texts[settings.LANGUAGE_CODE]
    return notification_send(
        kind=KIND_REMIND,
        title=title,
        body=body,
        texts=texts,
        link=f"{reverse('reports:dashboard', args=[grid.pk])}?day={day.isoformat()}",
        node=grid,
        source=report,
        recipients=recipients,
        sender=actor,
        at=now,
    )
