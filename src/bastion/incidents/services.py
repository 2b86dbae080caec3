"""Every write of control areas: put a node under a control level, change it, lift it.
Keyword-only, transactional, recorded in the change log; a refusal raises `DomainError`
naming the field and changes nothing."""

import datetime as dt
import uuid

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from bastion.core import history
from bastion.core.errors import DomainError, Problem
from bastion.geo.models import Node
from bastion.incidents.models import AREA_LEVELS, ControlArea, ControlLevel
from bastion.incidents.queries import last_changes, replaced_by

AREA_FIELDS = ("node_id", "level", "since", "lifted_at", "reason", "reverted")


def _user(actor):
    return actor if actor is not None and getattr(actor, "is_authenticated", False) else None


@transaction.atomic
def control_set(
    *,
    actor,
    node: Node,
    level: str,
    reason: str,
    since: dt.datetime | None = None,
    client_id: uuid.UUID | None = None,
    source: str = "web",
) -> ControlArea:
    """Put `node` under `level` from `since` (now by default). A node already under another
    level has that area lifted at the same moment; under the same level, the active area is
    returned unchanged."""
    problems = []
    if level not in ControlLevel.values:
        problems.append(Problem("level", _("Choose sealed, controlled or precaution.")))
    if node.level not in AREA_LEVELS:
        problems.append(
            Problem("node", _("A control area is a community, grid, building or unit."))
        )
    if not reason.strip():
        problems.append(Problem("reason", _("Give the reason.")))
    now = timezone.now()
    since = since or now
    if since > now + dt.timedelta(minutes=5):
        problems.append(Problem("since", _("A control level starts now or in the past.")))
    if problems:
        raise DomainError(problems)
    if client_id and (found := ControlArea.objects.filter(client_id=client_id).first()):
        return found
    current = ControlArea.objects.select_for_update().filter(node=node, lifted_at__isnull=True)
    current = current.first()
    if current is not None:
        if current.level == level:
            return current
        if since < current.since:
            raise DomainError(
                _("%(node)s is %(level)s since %(since)s; a change starts after that.")
                % {
                    "node": node.name,
                    "level": current.get_level_display(),
                    "since": timezone.localtime(current.since).strftime("%Y-%m-%d %H:%M"),
                },
                field="since",
            )
        _lift(actor, current, since, source)
    area = ControlArea(
        node=node,
        level=level,
        since=since,
        reason=reason.strip()[:200],
        set_by=_user(actor),
        client_id=client_id,
    )
    area.locate(node)
    try:
        with transaction.atomic():
            area.save()
    except IntegrityError:  # set by someone else at the same moment
        raise DomainError(
            _("%(node)s was just given a control level; reload.") % {"node": node.name},
            field="node",
        ) from None
    history.record(
        actor,
        area,
        "create",
        history.diff({}, history.snapshot(area, AREA_FIELDS)),
        source=source,
    )
    return area


def _lift(
    actor, area: ControlArea, at: dt.datetime, source: str, *, reverted: bool = False
) -> None:
    before = history.snapshot(area, AREA_FIELDS)
    area.lifted_at = at
    area.lifted_by = _user(actor)
    area.reverted = reverted
    area.save(update_fields=["lifted_at", "lifted_by", "reverted"])
    history.record_update(actor, area, before, AREA_FIELDS, source=source)


def _reopen(actor, area: ControlArea, source: str) -> None:
    before = history.snapshot(area, AREA_FIELDS)
    area.lifted_at = None
    area.lifted_by = None
    area.save(update_fields=["lifted_at", "lifted_by"])
    history.record_update(actor, area, before, AREA_FIELDS, source=source)


@transaction.atomic
def control_lift(
    *, actor, area: ControlArea, at: dt.datetime | None = None, source: str = "web"
) -> ControlArea:
    """Lift a control area (now by default). Lifting it again changes nothing."""
    area = ControlArea.objects.select_for_update().get(pk=area.pk)
    if area.lifted_at is not None:
        return area
    at = at or timezone.now()
    if at < area.since:
        raise DomainError(_("A control level cannot be lifted before it started."), field="at")
    _lift(actor, area, at, source)
    return area


def revertible(area: ControlArea) -> bool:
    """Whether `area` is its node's last change: the active one, or (none active) the last
    one lifted, not itself reverted."""
    return area.pk in last_changes([area])


@transaction.atomic
def control_revert(*, actor, area: ControlArea, source: str = "web") -> ControlArea | None:
    """Undo the node's last change, made by mistake. An active area is lifted now and marked
    reverted, and the area it replaced (if any) is in force again; a lifted area that was the
    node's last change is in force again. Every step is in the change log. Returns the area in
    force on the node afterwards (None: no level)."""
    area = ControlArea.objects.select_for_update().select_related("node").get(pk=area.pk)
    if not revertible(area):
        raise DomainError(
            _("%(node)s has changed since; only its last change can be reverted.")
            % {"node": area.node.name},
            field="area",
        )
    if area.lifted_at is not None:
        _reopen(actor, area, source)
        return area
    previous = replaced_by(area)
    _lift(actor, area, max(timezone.now(), area.since), source, reverted=True)
    if previous is not None:
        _reopen(actor, previous, source)
    return previous
