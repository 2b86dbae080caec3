"""The closed loop's writes: a pass issued to a person let through under escort, the arrival
confirmed by the destination (twice is once), the overdue passes escalated once through
`notices`."""

import datetime as dt
import secrets
import uuid

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from bastion.accounts.models import Role, RoleAssignment
from bastion.checkpoints.checks import phone_check
from bastion.checkpoints.loop.models import CODE_ALPHABET, CODE_LENGTH, LoopPass
from bastion.checkpoints.models import Decision, Occupant
from bastion.core import history, scope
from bastion.core.errors import DomainError, Problem
from bastion.core.idempotency import created_once
from bastion.geo.models import Node
from bastion.notices.services import Recipient, in_every_language, notification_send

ESCALATION_KIND = "checkpoints.loop_overdue"
# Levels a destination may be: a community or anything below it (a grid, a building).
DESTINATION_LEVELS = ("community", "grid", "building", "unit")


def confirm_hours() -> dt.timedelta:
    """How long a driver has to reach the destination before the pass is overdue."""
    return dt.timedelta(hours=getattr(settings, "BASTION_LOOP_CONFIRM_HOURS", 4))


def valid_hours() -> dt.timedelta:
    """How long a pass can be confirmed at all (past it, the code is expired)."""
    return dt.timedelta(hours=getattr(settings, "BASTION_LOOP_VALID_HOURS", 48))


def code_normalise(code: str) -> str:
    """A code as typed: spaces and dashes dropped, upper case."""
    return "".join(c for c in (code or "").upper() if c not in " -")


def _new_code() -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if not LoopPass.objects.filter(code=code).exists():
            return code


class _Crew:
    """Who may have a pass back for its client id: its checkpoint's crew, or its destination
    (a pass is located on its destination, so the scope alone would refuse the crew)."""

    def __init__(self, user):
        self.user = user

    def sees(self, row: LoopPass) -> bool:
        return scope.allows(self.user, scope.VIEW, row) or scope.allows(
            self.user, scope.VIEW, row.checkpoint
        )


@created_once(LoopPass, caller=lambda kw: _Crew(kw["actor"]))
@transaction.atomic
def loop_pass_issue(
    *,
    actor,
    occupant: Occupant,
    destination: Node,
    address: str,
    contact_name: str,
    contact_phone: str,
    client_id: uuid.UUID | None = None,
    at: dt.datetime | None = None,
) -> LoopPass:
    """A pass code for a person let through under escort, to `destination` (a community or
    below, seen by the actor) where `contact_name` takes them in."""
    problems: list[Problem] = []
    if occupant.decision != Decision.ESCORT:
        problems.append(
            Problem("occupant", _("Only a person let through under escort gets a pass."))
        )
    if LoopPass.objects.filter(occupant=occupant).exists():
        problems.append(Problem("occupant", _("This person has a pass already.")))
    if destination.level not in DESTINATION_LEVELS:
        problems.append(
            Problem("destination_id", _("Choose a community (or a grid or building in one)."))
        )
    address, contact_name = (address or "").strip(), (contact_name or "").strip()
    if not address:
        problems.append(Problem("address", _("Enter the address the driver goes to.")))
    if not contact_name:
        problems.append(Problem("contact_name", _("Enter who takes the driver in.")))
    try:
        contact_phone = phone_check(contact_phone)
    except ValidationError as error:
        problems.extend(Problem("contact_phone", m) for m in error.messages)
    if not contact_phone and not any(p.field == "contact_phone" for p in problems):
        problems.append(Problem("contact_phone", _("Enter the contact's phone.")))
    if problems:
        raise DomainError(problems)
    now = at or timezone.now()
    loop_pass = LoopPass(
        occupant=occupant,
        checkpoint_id=occupant.entry.place_id,
        code=_new_code(),
        destination=destination,
        address=address[:100],
        contact_name=contact_name[:50],
        contact_phone=contact_phone,
        issued_at=now,
        due_at=now + confirm_hours(),
        expires_at=now + valid_hours(),
        issued_by=actor if getattr(actor, "is_authenticated", False) else None,
        client_id=client_id or uuid.uuid4(),
    )
    loop_pass.locate(destination)
    loop_pass.save()
    history.record_created(
        actor, loop_pass, ["code", "destination_id", "address", "contact_name", "due_at"]
    )
    return loop_pass


def loop_pass_find(*, actor, code: str, at: dt.datetime | None = None) -> LoopPass:
    """The pass with this code, for a destination's staff to confirm: a code unknown, or
    outside the actor's area (answered alike), or past its validity is refused naming
    `code`."""
    found = (
        LoopPass.objects.restrict(actor, scope.VIEW)
        .select_related("occupant__entry", "checkpoint", "destination")
        .filter(code=code_normalise(code))
        .first()
    )
    if found is None:
        raise DomainError(_("No pass with this code for your area."), field="code")
    if found.arrived_at is None and (at or timezone.now()) > found.expires_at:
        raise DomainError(
            _("This pass expired at %(at)s: call the checkpoint.")
            % {"at": timezone.localtime(found.expires_at).strftime("%Y-%m-%d %H:%M")},
            field="code",
        )
    return found


@transaction.atomic
def loop_arrival_confirm(*, actor, code: str, at: dt.datetime | None = None) -> LoopPass:
    """The destination confirms the driver arrived. Twice is once: a pass confirmed already
    is answered as it is. Needs the right to change rows of the destination."""
    now = at or timezone.now()
    loop_pass = loop_pass_find(actor=actor, code=code, at=now)
    if not scope.allows(actor, scope.CHANGE, loop_pass):
        raise PermissionDenied(_("Your role may not change this."))
    if loop_pass.arrived_at is not None:
        return loop_pass
    updated = LoopPass.objects.filter(pk=loop_pass.pk, arrived_at__isnull=True).update(
        arrived_at=now, confirmed_by=actor
    )
    if updated:
        before = {"arrived_at": None}
        loop_pass.arrived_at, loop_pass.confirmed_by = now, actor
        history.record_update(actor, loop_pass, before, ["arrived_at"])
    else:
        loop_pass.refresh_from_db()
    return loop_pass


def _escalation_recipients(loop_pass: LoopPass) -> list[Recipient]:
    """The issuer, and the logins with a role (not volunteers) on the checkpoint's node or on
    the destination's community."""
    nodes = [loop_pass.checkpoint.node_id, loop_pass.community_id or loop_pass.destination_id]
    users = (
        RoleAssignment.objects.filter(node_id__in=nodes)
        .exclude(role=Role.VOLUNTEER)
        .values_list("user_id", flat=True)
    )
    ids = [loop_pass.issued_by_id] if loop_pass.issued_by_id else []
    return [Recipient(user_id=u, reason="loop") for u in dict.fromkeys([*ids, *users])]


@transaction.atomic
def loop_passes_escalate_due(*, now: dt.datetime | None = None) -> int:
    """Send one notice per pass not confirmed by its time (each pass once: `escalated_at`);
    answers how many went now. Run by the board's read and by the minute task."""
    now = now or timezone.now()
    due = list(
        LoopPass.objects.select_for_update()
        .filter(arrived_at__isnull=True, escalated_at__isnull=True, due_at__lte=now)
        .select_related("occupant__entry", "checkpoint")
        .order_by("pk")
    )
    for loop_pass in due:
        entry = loop_pass.occupant.entry

        def write(loop_pass=loop_pass, entry=entry):
            title = _("Not arrived: %(plate)s, pass %(code)s") % {
                "plate": entry.plate or entry.get_kind_display(),
                "code": loop_pass.code,
            }
            body = _(
                "Let through %(checkpoint)s at %(at)s to %(address)s (%(contact)s), due by "
                "%(due)s, not confirmed."
            ) % {
                "checkpoint": loop_pass.checkpoint.name,
                "at": timezone.localtime(loop_pass.issued_at).strftime("%m-%d %H:%M"),
                "address": loop_pass.address,
                "contact": loop_pass.contact_name,
                "due": timezone.localtime(loop_pass.due_at).strftime("%m-%d %H:%M"),
            }
            return title, body

        title, body = write()
        notification_send(
            kind=ESCALATION_KIND,
            title=title,
            body=body,
            node=loop_pass.destination,
            recipients=_escalation_recipients(loop_pass),
            link=f"/checkpoints/{loop_pass.checkpoint_id}/",
            source=loop_pass,
            at=now,
            texts=in_every_language(write),
        )
    LoopPass.objects.filter(pk__in=[p.pk for p in due]).update(escalated_at=now)
    return len(due)
