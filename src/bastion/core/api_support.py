"""What every API router shares: the error shapes and their handlers, the error answers every
operation documents, and the scoped fetch for writes. (Idempotent creation keyed by a
client-made id is `core.idempotency`; the bounded input types, strict bodies and component
names are `core.api_schema`.)

Errors answer in one shape whatever raised them, `{"errors": [{"field", "message", "row"}]}`,
each problem naming its field (and row) where there is one:
- a refused write (`DomainError`, or input that fails the schema) → 422;
- a body that is not JSON → 400; JSON that is not an object → 422; a body not sent as
  `application/json` → 415 (the field is `body`);
- a write refused because of the current state (`Conflict`, e.g. a post already held, or a
  client id reused for another payload) → 409;
- a missing row or one outside the user's scope → 404, which also keeps `detail` and names
  the field (of the path or the body) that held the id;
- `PermissionDenied` → 403 {"detail": ...}; no or a bad token → 401 {"detail": ...}.
"""

import json
from typing import TypeVar

from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, NinjaAPI, Schema
from ninja.errors import HttpError, ValidationError

from bastion.core import scope
from bastion.core.api_schema import MAX_INT, NO_NUL, BodyRefused, is_json
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


class NotFoundOut(Schema):
    detail: str
    errors: list[ProblemOut] = Field(
        default_factory=list, description="The field that held the id not found, if any."
    )


class Page(Schema):
    """Paging of a list endpoint."""

    limit: int = Field(100, ge=1, le=1000)
    offset: int = Field(0, ge=0, le=MAX_INT - 1000)


# Declared on every write, so the OpenAPI schema documents the error answers. (Every operation
# also documents 400, 401, 404, 415 and 422 where it can answer them: `bastion.api`.)
WRITE_ERRORS: dict[int, type[Schema]] = {
    403: DetailOut,
    404: NotFoundOut,
    409: ErrorsOut,
    422: ErrorsOut,
}
READ_ERRORS: dict[int, type[Schema]] = {404: NotFoundOut}


def _field_of(loc: list) -> str | None:
    """The field a schema error is about: `["body", "payload", "name"]` → "name",
    `["body", "payload"]` (the body itself) → "body", `["query", "q"]` → "q"."""
    parts = [str(p) for p in loc]
    if parts and parts[0] == "body":
        parts = parts[2:] if len(parts) > 2 else ["body"]
    elif parts:
        parts = parts[1:]
    return ".".join(parts) or None


_MESSAGES = {
    # pydantic's own words for the bounds of core.api_schema, said plainly
    ("string_pattern_mismatch", NO_NUL): lambda: _("NUL characters are not allowed."),
}


def _problem(error: dict) -> dict:
    pattern = (error.get("ctx") or {}).get("pattern")
    message = _MESSAGES.get((error.get("type"), pattern))
    return {
        "field": _field_of(error.get("loc", [])),
        "message": message() if message else str(error.get("msg", "")),
    }


def _request_values(request: HttpRequest) -> list[tuple[str, object]]:
    """The (field, value) pairs of a request's path, query and JSON body, for naming the field
    that held an id that was not found."""
    pairs: list[tuple[str, object]] = []
    match = getattr(request, "resolver_match", None)
    pairs += [(k, v) for k, v in (match.kwargs if match else {}).items()]
    pairs += [(k, v) for k, values in request.GET.lists() for v in values]
    if is_json(request.content_type or "") and request.body:
        try:
            body = json.loads(request.body)
        except ValueError:
            body = None

        def walk(value, where: str) -> None:
            if isinstance(value, dict):
                for k, v in value.items():
                    walk(v, f"{where}.{k}" if where else str(k))
            elif isinstance(value, list):
                for i, v in enumerate(value):
                    walk(v, f"{where}.{i}")
            elif not isinstance(value, bool) and value is not None:
                pairs.append((where, value))

        walk(body, "")
    return pairs


def _missing_field(request: HttpRequest, exc: Http404) -> str | None:
    """The path or body field whose id named the row that was not found (or None)."""
    values = {str(v) for v in getattr(exc, "values", [])}
    if not values:
        return None
    found = [field for field, value in _request_values(request) if str(value) in values]
    named_ids = [
        f for f in found if f.rpartition(".")[2].endswith(("id", "ids")) or f[-1:].isdigit()
    ]
    return (named_ids or found or [None])[0]


def register_error_handlers(api: NinjaAPI) -> None:
    @api.exception_handler(Conflict)
    def conflict(request: HttpRequest, exc: Conflict) -> HttpResponse:
        return api.create_response(request, {"errors": exc.as_list()}, status=409)

    @api.exception_handler(DomainError)
    def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
        return api.create_response(request, {"errors": exc.as_list()}, status=422)

    @api.exception_handler(ValidationError)
    def schema_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        problems = [_problem(e) for e in exc.errors]
        return api.create_response(request, {"errors": problems}, status=422)

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        # ninja wraps whatever the body parser raises into HttpError(400); the cause says why.
        cause = exc.__cause__
        if isinstance(cause, BodyRefused):
            problem = {"field": "body", "message": cause.message}
            return api.create_response(request, {"errors": [problem]}, status=cause.status)
        if exc.status_code in (401, 403, 429):  # the login's answers keep their shape
            return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)
        problem = {"field": None, "message": str(exc)}
        return api.create_response(request, {"errors": [problem]}, status=exc.status_code)

    @api.exception_handler(PermissionDenied)
    def permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        detail = str(exc) or _("Your role may not do this.")
        return api.create_response(request, {"detail": detail}, status=403)

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        field = _missing_field(request, exc)
        model = getattr(exc, "model", None)
        if field and model is not None:
            message = _("No such %(thing)s, or not in your area.") % {
                "thing": model._meta.verbose_name
            }
        else:
            message = _("Not found.")
        body = {"detail": _("Not found."), "errors": [{"field": field, "message": message}]}
        return api.create_response(request, body, status=404)


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
