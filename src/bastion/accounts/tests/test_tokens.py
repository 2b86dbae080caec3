"""A token login brings the caller's grants in the same read (every API request uses them)."""

from bastion.accounts.models import RoleAssignment
from bastion.accounts.queries import token_login
from bastion.accounts.services import token_issue
from bastion.core.scope import grants


def test_a_token_login_brings_the_callers_grants(tree):
    user = tree.users["grid"]
    raw = token_issue(user=user)
    token = token_login(raw)
    assert token.user == user
    expected = sorted(
        RoleAssignment.objects.filter(user=user).values_list("role", "node__level", "node_id")
    )
    assert sorted(token.user._bastion_grants) == expected
    assert grants(token.user) == token.user._bastion_grants
    assert token_login(raw + "x") is None


def test_a_token_of_a_login_without_roles_has_no_grants(tree):
    user = tree.users["nobody"]
    token = token_login(token_issue(user=user))
    assert token.user == user and token.user._bastion_grants == []
