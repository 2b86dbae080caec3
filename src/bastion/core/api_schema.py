"""The shared API schema layer: what every input of every endpoint inherits, set once here and
applied by `bastion.api.BastionAPI` to each operation's path, query, form and body models, so
no endpoint declares it again (and none can forget it).

* **Integers** are bounded: ids, offsets, counts, floors, anything typed `int`, lie within
  ±`MAX_INT` (2^53 − 1, the largest integer every JSON client reads exactly, so far inside
  SQLite's and PostgreSQL's 64-bit integers that no sum of two overflows). A field may bound
  itself tighter (`Field(ge=1, le=50)`); a value outside is a 422 naming the field, never a
  database error.
* **Strings** are bounded to `MAX_TEXT` characters unless the field says less, and never hold
  a NUL character. A column's own `max_length` is checked on every save by
  `core.stored`, so a 101-character name for a 100-character column is a
  422 naming the field on SQLite and PostgreSQL alike.
* **Dates** are written out (`month: 0` is not read as 1970-01-01) and lie between
  `EARLIEST_YEAR` and `LATEST_YEAR` (a birth date in year 138 is a typo, refused).
* **Bodies** are strict: a JSON object where an object is documented (`null`, `[]`, `123`
  refused), sent as `application/json` (`StrictJSONParser`), and an unknown field is refused
  rather than silently ignored (`extra="forbid"`).
* **Partial updates** (`Patch`): a field left out is unchanged; `null` is refused unless the
  field's type admits it (`X | None`), which then clears it.
* **Batch items** a service judges one by one (`judged_per_item = True` on the item's
  schema, e.g. a station's scans) keep only their own declared bounds, so one unreadable item is
  refused alone with its reason while the rest of the batch is stored.
* **Component names** in the OpenAPI schema are prefixed by the app or sub-package that
  defines them (`GeoCountsOut`, `TestingScansBatchOut`, `CoreErrorsOut`), so two classes with
  the same name in different modules never collapse into one (`BastionJsonSchema`).
"""

import copy
import datetime as dt
import json
import re
import sys
import types
import typing
from typing import Annotated, Any, Union, get_args, get_origin

import annotated_types
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Schema
from ninja.parser import Parser
from ninja.schema import NinjaGenerateJsonSchema
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)
from pydantic.fields import FieldInfo
from pydantic.json_schema import DefsRef
from pydantic_core import PydanticCustomError, PydanticUndefined

MAX_INT = 2**53 - 1
MAX_TEXT = 10_000
EARLIEST_YEAR = 1900
LATEST_YEAR = 2100
NO_NUL = r"^[^\x00]*$"

# ---------------------------------------------------------------------------------------------
# The bounded types
# ---------------------------------------------------------------------------------------------


def _in_years(value: dt.date) -> dt.date:
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise PydanticCustomError(
            "date_out_of_range",
            _("Give a date between the years {earliest} and {latest}."),
            {"earliest": EARLIEST_YEAR, "latest": LATEST_YEAR},
        )
    return value


def _written(value: Any) -> Any:
    """A date is written out (`2026-11-24`); a number is not a date (pydantic would read
    `0` as 1970-01-01, seconds since the epoch)."""
    if isinstance(value, (int, float)) or (isinstance(value, str) and value.strip().isdigit()):
        raise PydanticCustomError(
            "date_written", _("Write the date out, as 2026-11-24 (or 2026-11-24T08:00:00+08:00).")
        )
    return value


BoundedInt = Annotated[int, Field(ge=-MAX_INT, le=MAX_INT)]
BoundedDate = Annotated[dt.date, BeforeValidator(_written), AfterValidator(_in_years)]
BoundedDateTime = Annotated[dt.datetime, BeforeValidator(_written), AfterValidator(_in_years)]


def bounded_text(max_length: int = MAX_TEXT):
    """A string of at most `max_length` characters and no NUL."""
    return Annotated[str, StringConstraints(max_length=max_length, pattern=NO_NUL)]


def _has(metadata: list, *kinds: type) -> bool:
    return any(isinstance(m, kinds) for m in metadata)


def _bounded(annotation: Any, metadata: list, forbid_extra: bool, seen: dict) -> Any:
    """`annotation` with every int, str, date and nested schema in it bounded; `metadata`
    holds the field's own constraints on the outer type (kept, never loosened)."""
    origin = get_origin(annotation)
    if annotation is int:
        bounds = []
        if not _has(metadata, annotated_types.Ge, annotated_types.Gt):
            bounds.append(annotated_types.Ge(-MAX_INT))
        if not _has(metadata, annotated_types.Le, annotated_types.Lt):
            bounds.append(annotated_types.Le(MAX_INT))
        return Annotated[int, *bounds] if bounds else int
    if annotation is str:
        limited = _has(metadata, annotated_types.MaxLen)
        pattern = any(getattr(m, "pattern", None) for m in metadata)
        constraints = StringConstraints(
            max_length=None if limited else MAX_TEXT, pattern=None if pattern else NO_NUL
        )
        return Annotated[str, constraints]
    if annotation is dt.datetime:
        return BoundedDateTime
    if annotation is dt.date:
        return BoundedDate
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return bounded_model(annotation, forbid_extra=forbid_extra, seen=seen)
    if origin is Annotated:
        inner, *extra = get_args(annotation)
        inner_meta = [m for e in extra for m in (e.metadata if isinstance(e, FieldInfo) else [e])]
        new = _bounded(inner, inner_meta, forbid_extra, seen)
        return annotation if new is inner else Annotated[new, *extra]
    if origin in (Union, types.UnionType):
        args = get_args(annotation)
        new_args = tuple(_bounded(a, metadata, forbid_extra, seen) for a in args)
        if all(n is a for n, a in zip(new_args, args, strict=True)):
            return annotation
        return Union[new_args]  # noqa: UP007 (built from a tuple)
    if origin in (list, set, frozenset, tuple, dict) or origin is typing.Sequence:
        args = get_args(annotation)
        new_args = tuple(a if a is Ellipsis else _bounded(a, [], forbid_extra, seen) for a in args)
        if all(n is a for n, a in zip(new_args, args, strict=True)):
            return annotation
        return origin[new_args if len(new_args) > 1 else new_args[0]]
    return annotation  # bool, float, UUID, Literal, enums, files: bounded by their own type


def _kept(info: FieldInfo) -> FieldInfo:
    """A copy of a field's info that keeps its default when pydantic merges it with the new
    annotation (ninja's `Form`, `Query` params set theirs without marking it as set)."""
    kept = copy.copy(info)
    attributes = dict(getattr(info, "_attributes_set", {}))
    if info.default is not PydanticUndefined:
        attributes["default"] = info.default
    if info.default_factory is not None:
        attributes["default_factory"] = info.default_factory
    kept._attributes_set = attributes
    return kept


def bounded_model(model: type[BaseModel], *, forbid_extra: bool, seen: dict | None = None):
    """A subclass of `model` (same name, same module) whose fields are bounded as this module
    says; with `forbid_extra`, it and every schema nested in it refuse unknown fields. The
    same model is answered with the same subclass each time."""
    seen = {} if seen is None else seen
    key = (model, forbid_extra)
    if key in _CACHE:
        return _CACHE[key]
    if key in seen:  # a recursive schema: its own fields are being bounded further up
        return model
    seen[key] = model
    overrides = {}
    # An item of a batch the service judges one by one (`judged_per_item`) keeps its own
    # bounds only: a year-1 time or a NUL in one scan is that scan's refusal, not a 422 that
    # fails the other 199 (issue 16's poison items).
    fields = {} if getattr(model, "judged_per_item", False) else model.model_fields
    for name, info in fields.items():
        new = _bounded(info.annotation, info.metadata, forbid_extra, seen)
        if new is not info.annotation:
            overrides[name] = (new, info)
    forbid = forbid_extra and model.model_config.get("extra") != "forbid"
    if not overrides and not forbid:
        _CACHE[key] = model
        return model
    namespace: dict[str, Any] = {
        "__module__": model.__module__,
        "__qualname__": model.__qualname__,
        "__doc__": model.__doc__,
        "__annotations__": {name: new for name, (new, _info) in overrides.items()},
        **{name: _kept(info) for name, (_new, info) in overrides.items()},
    }
    if forbid:
        namespace["model_config"] = ConfigDict(extra="forbid")
    bounded = type(model)(model.__name__, (model,), namespace)
    _CACHE[key] = bounded
    return bounded


_CACHE: dict[tuple[type, bool], type] = {}


def bound_operation_inputs(operation) -> None:
    """Replace a ninja operation's input models (path, query, form, body) with bounded ones;
    a JSON body's schemas also refuse unknown fields."""
    operation.models = [
        bounded_model(m, forbid_extra=m.__ninja_param_source__ == "body")
        if m.__ninja_param_source__ != "file"
        else m
        for m in operation.models
    ]


# ---------------------------------------------------------------------------------------------
# Partial updates
# ---------------------------------------------------------------------------------------------


def _admits_none(annotation: Any) -> bool:
    if annotation is None or annotation is type(None):
        return True
    if get_origin(annotation) is Annotated:
        return _admits_none(get_args(annotation)[0])
    if get_origin(annotation) in (Union, types.UnionType):
        return any(_admits_none(a) for a in get_args(annotation))
    return annotation is Any


class Patch(Schema):
    """A partial update (PATCH): every field is optional and a field left out keeps its value.
    Declare a field that may not be cleared without `None` in its type (`immobile: bool =
    None`): `{"immobile": null}` is then refused with 422 naming it. A field that may be
    cleared says so (`closed_on: date | None = None`), and null clears it. Views read the
    changes with `payload.model_dump(exclude_unset=True)`."""

    @field_validator("*", mode="before")
    @classmethod
    def _null_only_where_admitted(cls, value, info):
        if value is None and not _admits_none(cls.model_fields[info.field_name].annotation):
            raise PydanticCustomError(
                "null_not_allowed",
                _("May not be null: leave the field out to keep its value."),
            )
        return value


# ---------------------------------------------------------------------------------------------
# Strict JSON bodies
# ---------------------------------------------------------------------------------------------


class BodyRefused(Exception):
    """A request body the API cannot read: its status (400, 415, 422) and the message."""

    def __init__(self, status: int, message: str):
        self.status = status
        self.message = message
        super().__init__(message)


def is_json(content_type: str) -> bool:
    return content_type == "application/json" or bool(
        re.fullmatch(r"application/[\w.+-]+\+json", content_type)
    )


class StrictJSONParser(Parser):
    """Bodies are JSON objects sent as `application/json`: any other media type is 415, text
    that is not JSON is 400, and JSON that is not an object (`null`, `[]`, `280515`) is 422 —
    each naming the field `body`. (ninja wraps what this raises into a 400 `HttpError`;
    `core.api_support` answers it from the cause.)"""

    def parse_body(self, request: HttpRequest):
        if not is_json(request.content_type or ""):
            raise BodyRefused(
                415, _("Send the body as JSON with the header Content-Type: application/json.")
            )
        try:
            data = json.loads(request.body)
        except (ValueError, UnicodeDecodeError) as e:
            raise BodyRefused(400, _("The body is not valid JSON: %(error)s") % {"error": e}) from e
        if not isinstance(data, dict):
            raise BodyRefused(422, _("The body must be a JSON object."))
        return data


# ---------------------------------------------------------------------------------------------
# Component names
# ---------------------------------------------------------------------------------------------


def component_prefix(module_name: str) -> str:
    """`bastion.geo.api` → "Geo"; `bastion.testing.scans.api` → "TestingScans";
    `bastion.people.mobilization.api.pool` → "PeopleMobilization"; not ours → ""."""
    if not module_name.startswith("bastion."):
        return ""
    module = sys.modules.get(module_name)
    package = getattr(module, "__package__", None) or module_name.rpartition(".")[0]
    if module is not None and getattr(module, "__path__", None):
        package = module_name  # the class lives in a package's __init__
    parts = package.split(".")[1:]
    if "api" in parts:
        parts = parts[: parts.index("api")]
    return "".join(p.title().replace("_", "") for p in parts)


class BastionJsonSchema(NinjaGenerateJsonSchema):
    """ninja's JSON schema generator with one naming rule: a component is named by its app or
    sub-package and its class (`component_prefix`). ninja builds the schema operation by
    operation, so pydantic's own way of telling two `CountsOut` apart never sees both."""

    def get_defs_ref(self, core_mode_ref):
        defs_ref = super().get_defs_ref(core_mode_ref)
        core_ref = core_mode_ref[0]
        if "[" not in core_ref:  # not a generic: its module is the one before the class
            prefix = component_prefix(core_ref.rsplit(":", 1)[0].rpartition(".")[0])
            choices = self._prioritized_defsref_choices[defs_ref]
            choices[0] = DefsRef(prefix + choices[0])
            choices[1] = DefsRef(prefix + choices[1])
        return defs_ref


__all__ = [
    "MAX_INT",
    "MAX_TEXT",
    "BastionJsonSchema",
    "BodyRefused",
    "BoundedDate",
    "BoundedDateTime",
    "BoundedInt",
    "Patch",
    "StrictJSONParser",
    "bound_operation_inputs",
    "bounded_model",
    "bounded_text",
]
