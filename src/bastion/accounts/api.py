"""How API callers log in, and what they can ask about their own login.

Two ways in: a bearer token (`Authorization: Bearer bst_...`) for devices and other systems,
and Django's session for the web UI's htmx calls (with Django's CSRF check on writes)."""

import datetime as dt

from django.conf import settings
from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Router, Schema, Status
from ninja.security import HttpBearer
from ninja.security import SessionAuth as NinjaSessionAuth

from bastion.accounts.models import ApiToken, Role, hash_token
from bastion.accounts.queries import token_login
from bastion.accounts.services import token_issue
from bastion.core.api_support import READ_ERRORS


class BearerAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        found = token_login(token)
        if found is None:
            return None
        request.user = found.user
        request.api_token = found
        return found.user


class SessionAuth(NinjaSessionAuth):
    """Django's session login, as ninja's `django_auth`, CSRF-checked on unsafe methods the
    way ninja documents for cookie auth. The check runs only when a session cookie came with
    the request: without one there is nothing to forge, and a device that sent a wrong token
    gets 401, not a CSRF 403."""

    param_name: str = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        if self.param_name not in request.COOKIES:
            return None
        return super()._get_key(request)

    def authenticate(self, request: HttpRequest, key: str | None):
        user = request.user
        return user if user.is_authenticated and user.is_active else None


router = Router(tags=["accounts"])


class RoleOut(Schema):
    role: str
    role_label: str
    node_id: int
    node_name: str
    node_level: str


class MeOut(Schema):
    id: int
    username: str
    is_superuser: bool
    person_id: int | None
    roles: list[RoleOut]


class TokenOut(Schema):
    id: int
    label: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None
    current: bool


class TokenIn(Schema):
    label: str = ""


class TokenIssuedOut(Schema):
    id: int
    label: str
    token: str


@router.get("/me", response=MeOut)
def me(request):
    """The caller's login and the roles it holds on the tree."""
    user = request.user
    roles = user.roles.select_related("node").order_by("node__path", "role")
    return {
        "id": user.pk,
        "username": user.get_username(),
        "is_superuser": user.is_superuser,
        "person_id": getattr(getattr(user, "person", None), "pk", None),
        "roles": [
            {
                "role": r.role,
                "role_label": str(Role(r.role).label),
                "node_id": r.node_id,
                "node_name": r.node.name,
                "node_level": r.node.level,
            }
            for r in roles
        ],
    }


def _token_out(token: ApiToken, request) -> dict:
    current = getattr(request, "api_token", None)
    return {
        "id": token.pk,
        "label": token.label,
        "created_at": token.created_at,
        "revoked_at": token.revoked_at,
        "current": current is not None and current.pk == token.pk,
    }


@router.get("/tokens", response=list[TokenOut])
def token_list(request):
    """The caller's own API tokens (never their values, which are shown once)."""
    return [
        _token_out(t, request)
        for t in ApiToken.objects.filter(user=request.user).order_by("-created_at", "-id")
    ]


@router.post("/tokens", response={201: TokenIssuedOut})
def token_create(request, payload: TokenIn):
    """A new token for the caller; its value is in this answer only."""
    raw = token_issue(user=request.user, label=payload.label.strip()[:100])
    token = ApiToken.objects.get(key_hash=hash_token(raw))
    return Status(201, {"id": token.pk, "label": token.label, "token": raw})


@router.delete("/tokens/{token_id}", response={204: None, **READ_ERRORS})
def token_revoke(request, token_id: int):
    """Revoke one of the caller's tokens (e.g. of a lost phone); it is refused from then on.
    Another login's token is as absent as a missing one."""
    token = ApiToken.objects.filter(user=request.user, pk=token_id).first()
    if token is None:
        raise Http404
    if token.revoked_at is None:
        ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    return Status(204, None)
