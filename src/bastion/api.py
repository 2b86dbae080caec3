"""The JSON API under /api/v1/: one NinjaAPI, one router per module. A caller logs in with a
bearer token, or with the web UI's session (CSRF-checked on writes).

`BastionAPI` applies the shared API layer to every operation once, so no router repeats it:
bounded inputs, strict JSON bodies and unique component names (`core.api_schema`), and the
error answers each operation can give, documented (`core.api_support`)."""

import functools
import sys

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.openapi.schema import OpenAPISchema
from ninja.operation import Operation

from bastion.accounts.api import BearerAuth, SessionAuth
from bastion.core.api_schema import (
    BastionJsonSchema,
    StrictJSONParser,
    bound_operation_inputs,
    is_json,
)
from bastion.core.api_support import DetailOut, ErrorsOut, NotFoundOut, register_error_handlers
from bastion.core.idempotency import fingerprinting, request_fingerprint


class _Named:
    """A model whose JSON schema is made by `BastionJsonSchema` (ninja names its own
    generator where it builds the schema of an operation's models)."""

    def __init__(self, model):
        self._model = model

    def __getattr__(self, name):
        return getattr(self._model, name)

    def model_json_schema(self, **kwargs):
        return self._model.model_json_schema(**{**kwargs, "schema_generator": BastionJsonSchema})


def _answer(model: type[Schema]) -> type[Schema]:
    return type("NinjaResponseSchema", (Schema,), {"__annotations__": {"response": model}})


# The errors any operation may answer, by what it takes (its inputs are checked by the schema,
# its body parsed, its token checked, its path ids looked up).
_BODY_ERRORS = {400: ErrorsOut, 413: ErrorsOut, 415: ErrorsOut}
_INPUT_ERRORS = {422: ErrorsOut}
_AUTH_ERRORS = {401: DetailOut}
_NOT_FOUND = {404: NotFoundOut}


class BastionOpenAPISchema(OpenAPISchema):
    def _extract_parameters(self, model):
        return super()._extract_parameters(_Named(model))

    def _create_schema_from_model(self, model, *args, **kwargs):
        return super()._create_schema_from_model(_Named(model), *args, **kwargs)

    def responses(self, operation: Operation):
        result = super().responses(operation)
        sources = {m.__ninja_param_source__ for m in operation.models}
        errors: dict[int, type[Schema]] = {}
        if "body" in sources:
            errors |= _BODY_ERRORS
        if sources:
            errors |= _INPUT_ERRORS
        if operation.auth_callbacks:
            errors |= _AUTH_ERRORS
        if sources & {"path", "query"}:  # an id looked up, in the path or as a filter
            errors |= _NOT_FOUND
        for status, model in sorted(errors.items()):
            if status not in result:
                schema = self._create_schema_from_model(_answer(model), mode="serialization")[0]
                result[status] = {
                    "description": _DESCRIPTIONS[status],
                    "content": {self.api.renderer.media_type: {"schema": schema}},
                }
        return result

    def add_schema_definitions(self, definitions: dict) -> None:
        for name, definition in definitions.items():
            if name in self.schemas and self.schemas[name] != definition:
                raise ValueError(
                    f"two schemas are named {name}: a schema both sent and answered is two"
                    " classes (ItemIn(ItemIO)), as its input is bounded and strict"
                )
        super().add_schema_definitions(definitions)


def _too_big() -> str:
    return _("The body is larger than %(mb).1f MB.") % {
        "mb": settings.DATA_UPLOAD_MAX_MEMORY_SIZE / 1_000_000
    }


_DESCRIPTIONS = {
    400: "Bad Request: the body is not JSON",
    413: "Content Too Large: the body is larger than the server takes",
    401: "Unauthorized: no token, or a token not valid",
    404: "Not Found: missing, or outside the caller's area; `errors` names the field",
    415: "Unsupported Media Type: send JSON as application/json",
    422: "Unprocessable Content: `errors` names each field refused",
}


def _fingerprinted(api: NinjaAPI, run):
    """An operation's run within its request's fingerprint, so that a client id reused for a
    different JSON request is refused (`core.idempotency`)."""

    @functools.wraps(run)
    def wrapped(request, *args, **kwargs):
        fingerprint = None
        if request.method in ("POST", "PUT", "PATCH") and is_json(request.content_type or ""):
            try:
                body = request.body
            except RequestDataTooBig:
                problem = {"field": "body", "message": _too_big()}
                return api.create_response(request, {"errors": [problem]}, status=413)
            fingerprint = request_fingerprint(request.method, request.path, body)
        with fingerprinting(fingerprint):
            return run(request, *args, **kwargs)

    return wrapped


class BastionAPI(NinjaAPI):
    def _get_bound_routers(self):
        """ninja binds each router's operations once, on first use; bound, their inputs get
        the shared bounds of `core.api_schema`, and their runs the request's fingerprint."""
        first = self._bound_routers_cache is None
        routers = super()._get_bound_routers()
        if first:
            for router in routers:
                for path_view in router.path_operations.values():
                    for operation in path_view.operations:
                        bound_operation_inputs(operation)
                        operation.run = _fingerprinted(self, operation.run)
        return routers

    def get_openapi_schema(self, *, path_prefix=None, path_params=None) -> OpenAPISchema:
        """Built once per prefix: the operations do not change after start-up, and building it
        takes a second or two of CPU that every fetch of /api/v1/openapi.json would pay."""
        if path_prefix is None:
            path_prefix = self.get_root_path(path_params or {})
        cache = self.__dict__.setdefault("_openapi_schemas", {})
        if path_prefix not in cache:
            cache[path_prefix] = BastionOpenAPISchema(self, path_prefix)
        return cache[path_prefix]

    def get_openapi_operation_id(self, operation: Operation) -> str:
        """`<prefix>_<function>`, the prefix being the API module's `OPERATION_PREFIX` where it
        sets one (a module moved into a sub-package keeps the ids clients were generated
        with), else its dotted path, as ninja names them."""
        view = operation.view_func
        module = sys.modules[view.__module__]
        prefix = getattr(module, "OPERATION_PREFIX", module.__name__.replace(".", "_"))
        return f"{prefix}_{view.__name__}"


api = BastionAPI(
    title="Bastion API",
    version="1",
    urls_namespace="api",
    auth=[BearerAuth(), SessionAuth()],
    docs_url="/docs",
    parser=StrictJSONParser(),
)
register_error_handlers(api)


def _mount() -> None:
    from bastion.accounts.api import router as accounts_router
    from bastion.checkpoints.api import router as checkpoints_router
    from bastion.geo.api import router as geo_router
    from bastion.incidents.api import router as incidents_router
    from bastion.incidents.response.api import router as response_router
    from bastion.incidents.transfers.api import router as transfers_router
    from bastion.ledgers.api import router as ledgers_router
    from bastion.notices.api import router as notices_router
    from bastion.orders.api import router as orders_router
    from bastion.people.api import router as people_router
    from bastion.people.mobilization.api import router as mobilization_router
    from bastion.quarantine.api import router as quarantine_router
    from bastion.quarantine.home.api import router as home_measures_router
    from bastion.reports.api import router as reports_router
    from bastion.requests.api import router as requests_router
    from bastion.screening.api import router as screening_router
    from bastion.supervision.api import router as supervision_router
    from bastion.testing.custody.api import router as custody_router
    from bastion.testing.finder.api import router as finder_router
    from bastion.testing.results.api import router as results_router
    from bastion.testing.rounds.api import router as rounds_router
    from bastion.testing.scans.api import router as scans_router
    from bastion.testing.scans.api import scan_router

    api.add_router("/testing", scan_router)
    api.add_router("/accounts", accounts_router)
    api.add_router("/geo", geo_router)
    api.add_router("/people", people_router)
    api.add_router("/mobilization", mobilization_router)
    api.add_router("/ledgers", ledgers_router)
    api.add_router("/screening", screening_router)
    api.add_router("/reports", reports_router)
    api.add_router("/testing", rounds_router)
    api.add_router("/testing", results_router)
    api.add_router("/testing", scans_router)
    api.add_router("/testing", finder_router)
    api.add_router("/testing/custody", custody_router)
    api.add_router("/requests", requests_router)
    api.add_router("/incidents", incidents_router)
    api.add_router("/incidents", response_router)
    api.add_router("/transfers", transfers_router)
    api.add_router("/notices", notices_router)
    api.add_router("/orders", orders_router)
    api.add_router("/supervision", supervision_router)
    api.add_router("/checkpoints", checkpoints_router)
    api.add_router("/quarantine", quarantine_router)
    api.add_router("/quarantine/home", home_measures_router)


_mount()
