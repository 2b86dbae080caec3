"""What every API router shares: the error shapes and their handlers, and the scoped fetch for
writes. (Idempotent creation keyed by a client-made id is `core.idempotency`.)

Errors answer in one shape whatever raised them:
- a refused write (`DomainError`, or a body that fails the schema) → 422 {"errors": [...]},
  each problem naming its field (and row);
- a write refused because of the current state (`Conflict`, e.g. a post already held) → 409
  in the same shape;
- `PermissionDenied` → 403 {"detail": ...}; `Http404` and anything outside the user's scope →
  404 {"detail": ...}; no or a bad token → 401 (ninja's own handler).
"""

from typing import TypeVar

from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, NinjaAPI, Schema
from ninja.errors import ValidationError

from bastion.core import scope
from bastion.core.errors import Conflict, DomainError

M = TypeVar("M", bound=models.Model)


class ProblemOut(Schema):
    field: str | None = None
    message: str
    row: int | None = None


class ErrorsOut(Schema):
    errors: list[ProblemOut]


class DetailOut(Schema):
    detail: str


class Page(Schema):
    """Paging of a list endpoint."""

    limit: int = Field(100, ge=1, le=1000)
    offset: int = Field(0, ge=0)


# Declared on every write, so the OpenAPI schema documents the error answers.
WRITE_ERRORS: dict[int, type[Schema]] = {
    403: DetailOut,
    404: DetailOut,
    409: ErrorsOut,
    422: ErrorsOut,
}
READ_ERRORS: dict[int, type[Schema]] = {404: DetailOut}


def _field_of(loc: list) -> str | None:
    """The field a schema error is about: `["body", "payload", "name"]` → "name",
    `["query", "q"]` → "q"."""
    parts = [str(p) for p in loc]
    if parts and parts[0] == "body":
        parts = parts[2:] if len(parts) > 2 else parts[1:]
    elif parts:
        parts = parts[1:]
    return ".".join(parts) or None


def register_error_handlers(api: NinjaAPI) -> None:
    @api.exception_handler(Conflict)
    def conflict(request: HttpRequest, exc: Conflict) -> HttpResponse:
        return api.create_response(request, {"errors": exc.as_list()}, status=409)

    @api.exception_handler(DomainError)
    def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
        return api.create_response(request, {"errors": exc.as_list()}, status=422)

    @api.exception_handler(ValidationError)
    def schema_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        problems = [
            {"field": _field_of(e.get("loc", [])), "message": str(e.get("msg", ""))}
            for e in exc.errors
        ]
        return api.create_response(request, {"errors": problems}, status=422)

    @api.exception_handler(PermissionDenied)
    def permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        detail = str(exc) or _("Your role may not do this.")
        return api.create_response(request, {"detail": detail}, status=403)

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return api.create_response(request, {"detail": _("Not found.")}, status=404)


def get_for_change(queryset, user, **lookup):
    """Fetch one row the user may change. A row the user may only see is refused with 403
    (a volunteer's write); a row outside the scope is as absent as a missing one (404)."""
    if isinstance(queryset, type):
        queryset = queryset.objects.all()
    try:
        return scope.get_scoped_or_404(queryset, user, scope.CHANGE, **lookup)
    except Http404:
        try:
            visible = queryset.restrict(user, scope.VIEW).filter(**lookup).exists()
        except (ValueError, TypeError):
            visible = False
        if visible:
            raise PermissionDenied(_("Your role may not change this.")) from None
        raise
