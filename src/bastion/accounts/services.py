"""Writes about logins: roles, tokens, and revealing masked personal data."""

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from bastion.accounts import scope
from bastion.accounts.models import ApiToken, RevealLog, Role, RoleAssignment
from bastion.core.errors import DomainError
from bastion.geo.models import Node

# A person's numbers, and the mobiles of a sample box's hand-over (a driver, a lab clerk).
REVEALABLE_FIELDS = ("id_number", "doc_number", "phone", "from_phone", "to_phone")


def role_assign(*, user: User, role: str, node: Node) -> RoleAssignment:
    if role not in Role.values:
        raise DomainError(f"Unknown role {role!r}.", field="role")
    assignment, _created = RoleAssignment.objects.get_or_create(user=user, role=role, node=node)
    return assignment


def token_issue(*, user: User, label: str = "") -> str:
    """A new API token for `user`; the raw value is returned once and never stored."""
    return ApiToken.issue(user, label=label)


def token_revoke_all(*, user: User) -> int:
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


@transaction.atomic
def personal_data_reveal(
    *, user: User, subject, field: str, via: str = "web", whose: str = ""
) -> str:
    """Show one full ID or phone number of a resident, person or hand-over the user may
    reveal; log it, under `whose` name when the subject is not the person (a hand-over)."""
    if field not in REVEALABLE_FIELDS or field not in {f.name for f in subject._meta.fields}:
        raise DomainError(f"{field!r} cannot be revealed.", field="field")
    if not scope.allows(user, scope.REVEAL, subject):  # the row in hand: no query
        raise PermissionDenied("Your role may not see this number in full.")
    entry = RevealLog(
        user=user,
        subject_type=subject._meta.model_name,
        subject_id=subject.pk,
        subject_name=(whose or str(subject))[:50],
        field=field,
        via=via,
    )
    entry.locate(subject)
    entry.save()
    return getattr(subject, field) or ""
