"""A database outage answers 503 "retry later", never a 500: JSON on the API
(`{"detail": ..., "retry": true}`), a plain page elsewhere, both with `Retry-After`.

A lost connection, a server restarting or shutting down, a deadlock broken by PostgreSQL:
Django raises `OperationalError` or `InterfaceError`, and nothing was committed by the request
unless it had finished its transaction. A device retries with the same client id (see
`core.idempotency`), so a write stored just before the outage is answered as a replay.

The middleware stands first in MIDDLEWARE. A view's exception reaches `process_exception`;
one raised by another middleware was already turned into a 500 by Django, which tells the
`got_request_exception` signal first: the request is marked there and the 500 replaced.
"""

import sys

from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

RETRY_AFTER = 5  # seconds a client waits before retrying
OUTAGE_ERRORS = (OperationalError, InterfaceError)


def outage_response(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(
            {
                "detail": _("The database is unavailable for a moment: retry."),
                "retry": True,
            },
            status=503,
        )
    else:
        # A page of its own, needing neither the database nor a context (like 500.html).
        response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER)
    return response


def _noted(sender, request=None, **kwargs) -> None:
    exc = sys.exc_info()[1]
    if request is not None and isinstance(exc, OUTAGE_ERRORS):
        request.database_outage = True


got_request_exception.connect(_noted, dispatch_uid="bastion.core.outage")


class DatabaseOutageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if getattr(request, "database_outage", False):
            return outage_response(request)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception):
        if isinstance(exception, OUTAGE_ERRORS):
            return outage_response(request)
        return None
