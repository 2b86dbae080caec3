"""Writes about logins: roles and tokens. (Revealing a number is `core.privacy`'s.)"""

from django.contrib.auth.models import User
from django.utils import timezone

from bastion.accounts.models import ApiToken, Role, RoleAssignment
from bastion.core.errors import DomainError
from bastion.geo.models import Node


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
