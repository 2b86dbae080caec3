"""Issue 15's bad input, each case as it was found, held by the shared API layer
(`core.api_schema`, `core.api_support`, `core.stored`, `core.idempotency`) rather than by the
endpoint: numbers past 2^63, null flags in a partial update, bodies that are not objects or not
JSON, dates in year 138, megabyte strings and NUL characters, a client id reused for another
request, and one error shape naming the field."""

import datetime as dt
import json
import uuid

import pytest
from django.utils import timezone, translation

from bastion.api import api
from bastion.core.api_schema import component_prefix
from bastion.geo.models import Household, Resident
from bastion.incidents.models import ControlArea
from bastion.people import services as people_services
from bastion.people.mobilization import services as mobilization_services
from bastion.people.mobilization.models import AllowanceMonth, Place
from bastion.people.models import Person

BIG = 2**63  # one past SQLite's and PostgreSQL's largest integer
MEGA = "x" * 1_000_000  # a megabyte
JSON = "application/json"


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def street(tree, api_as):
    return api_as(tree.users["street"], **{"accept-language": "en"})


def send(client, method: str, path: str, body, content_type: str = JSON):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body, default=str)
    return getattr(client, method)(f"/api/v1{path}", data, content_type=content_type)


def fields(response) -> list:
    return [e.get("field") for e in response.json()["errors"]]


def a_person(tree, name="赵一") -> Person:
    home = Household.objects.filter(unit=tree.units[0]).order_by("room").first()
    return people_services.person_create(name=name, kind="cadre", phone="13700000001", home=home)


# --- 1. integers of 2^63 and more: 422 naming the field, never a 500 --------------------------


@pytest.mark.parametrize(
    "path, field",
    [
        ("/people/persons?offset={big}", "offset"),
        ("/people/posts?offset={big}", "offset"),
        ("/mobilization/pool?offset={big}", "offset"),
        ("/requests/errands?offset={big}", "offset"),
        ("/notices/inbox?offset={big}", "offset"),
        ("/screening/callbacks?grid_id={big}", "grid_id"),
        ("/requests/errands?courier_id={big}", "courier_id"),
        ("/geo/nodes/{big}", "node_id"),
    ],
)
def test_an_integer_of_2_to_the_63_in_a_query_or_path_is_422_naming_it(street, path, field):
    response = street.get("/api/v1" + path.format(big=BIG))
    assert response.status_code == 422, response.content
    assert fields(response) == [field]


def test_a_station_id_of_2_to_the_63_is_422_naming_it(street):
    for path, body in [
        (f"/testing/stations/{BIG}/scans", {"tube": "T1", "code": "x"}),
        (f"/testing/stations/{BIG}/scans/batch", {"scans": []}),
    ]:
        response = send(street, "post", path, body)
        assert response.status_code == 422, response.content
        assert "station_id" in fields(response)


def test_integers_of_2_to_the_63_in_a_body_are_422_naming_them(tree, street):
    floor = send(
        street, "post", f"/geo/units/{tree.units[0].pk}/households", {"room": "9", "floor": BIG}
    )
    assert (floor.status_code, fields(floor)) == (422, ["floor"])
    today = timezone.localdate()
    dispatch = send(
        street,
        "post",
        "/mobilization/dispatches",
        {"person_ids": [BIG], "node_id": tree.grids[0].pk, "starts_on": today, "ends_on": today},
    )
    assert (dispatch.status_code, fields(dispatch)) == (422, ["person_ids.0"])


def test_a_value_past_the_column_is_422_naming_the_field_on_every_database(tree, street):
    """2^40 fits the API's integers but not an integer column (PostgreSQL's 32 bits): the
    column's own range refuses it before the database does, on SQLite as on PostgreSQL."""
    floor = send(
        street, "post", f"/geo/units/{tree.units[0].pk}/households", {"room": "9", "floor": 2**40}
    )
    assert (floor.status_code, fields(floor)) == (422, ["floor"])
    assert not Household.objects.filter(room="9").exists()


# --- 2. null in a partial update ---------------------------------------------------------------


@pytest.mark.parametrize(
    "flag", ["immobile", "disabled", "chronic_illness", "pregnant", "infant", "no_phone"]
)
def test_a_null_flag_in_a_resident_patch_is_422_naming_it(tree, street, flag):
    resident = Resident.objects.filter(unit_id=tree.units[0].pk).first()
    response = send(street, "patch", f"/geo/residents/{resident.pk}", {flag: None})
    assert (response.status_code, fields(response)) == (422, [flag])


def test_a_null_phone_does_not_clear_the_phone(tree, street):
    resident = Resident.objects.filter(unit_id=tree.units[0].pk).first()
    phone = resident.phone
    response = send(street, "patch", f"/geo/residents/{resident.pk}", {"phone": None})
    assert (response.status_code, fields(response)) == (422, ["phone"])
    resident.refresh_from_db()
    assert resident.phone == phone and resident.no_phone is False


def test_null_clears_a_field_the_schema_says_is_nullable(tree, street):
    place = mobilization_services.place_create(
        node=tree.grids[0], name="东门", kind="guard_point", actor=tree.users["admin"]
    )
    closed = send(street, "patch", f"/mobilization/places/{place.pk}", {"closed_on": "2099-01-01"})
    assert closed.status_code == 200
    reopened = send(street, "patch", f"/mobilization/places/{place.pk}", {"closed_on": None})
    assert reopened.status_code == 200
    place.refresh_from_db()
    assert place.closed_on is None
    refused = send(street, "patch", f"/mobilization/places/{place.pk}", {"name": None})
    assert (refused.status_code, fields(refused)) == (422, ["name"])


# --- 8. bodies that are not JSON objects, or not JSON, or not sent as JSON ---------------------


def test_a_recall_with_a_list_body_recalls_nobody(tree, street):
    today = timezone.localdate()
    [deployment] = mobilization_services.dispatch_create(
        actor=tree.users["street"],
        persons=[a_person(tree)],
        kind="reserve",
        node=tree.grids[0],
        starts_on=today,
        ends_on=today + dt.timedelta(days=3),
    ).deployments.all()
    response = send(
        street, "post", f"/mobilization/deployments/{deployment.pk}/recall", "[null, null]"
    )
    assert (response.status_code, fields(response)) == (422, ["body"])
    deployment.refresh_from_db()
    assert deployment.recalled_on is None


def test_ending_a_post_with_a_number_for_a_body_ends_nothing(tree, street):
    post = people_services.post_assign(
        person=a_person(tree), role="grid_chief", node=tree.grids[0], actor=tree.users["admin"]
    )
    response = send(street, "post", f"/people/posts/{post.pk}/end", "280515")
    assert (response.status_code, fields(response)) == (422, ["body"])
    post.refresh_from_db()
    assert post.ended_on is None


@pytest.mark.parametrize("body", ["null", "[]", "123", '"immobile"'])
def test_a_resident_patch_that_is_not_an_object_is_422(tree, street, body):
    resident = Resident.objects.filter(unit_id=tree.units[0].pk).first()
    response = send(street, "patch", f"/geo/residents/{resident.pk}", body)
    assert (response.status_code, fields(response)) == (422, ["body"])


def test_a_json_body_sent_as_text_plain_is_refused_and_writes_nothing(tree, street):
    body = json.dumps({"room": "901", "floor": 9})
    response = send(street, "post", f"/geo/units/{tree.units[0].pk}/households", body, "text/plain")
    assert (response.status_code, fields(response)) == (415, ["body"])
    assert not Household.objects.filter(room="901").exists()


def test_an_unparseable_body_is_400_in_the_one_error_shape(tree, street):
    response = send(street, "post", f"/geo/units/{tree.units[0].pk}/households", "{room: 9")
    assert response.status_code == 400
    [problem] = response.json()["errors"]
    assert problem["field"] == "body" and "not valid JSON" in problem["message"]


def test_month_0_opens_no_allowance_month(tree, street):
    response = send(
        street, "post", "/mobilization/allowance-months", {"node_id": tree.street.pk, "month": 0}
    )
    assert (response.status_code, fields(response)) == (422, ["month"])
    assert not AllowanceMonth.objects.exists()


def test_a_date_in_year_138_is_refused(tree, street):
    body = {"node_id": tree.grids[0].pk, "name": "东门", "kind": "guard_point"}
    response = send(street, "post", "/mobilization/places", {**body, "opened_on": "0138-05-01"})
    assert (response.status_code, fields(response)) == (422, ["opened_on"])
    assert not Place.objects.exists()


# --- 9. length limits and NUL --------------------------------------------------------------------


def test_a_megabyte_name_is_422_naming_the_field(tree, street):
    response = send(
        street,
        "post",
        "/people/persons",
        {"name": MEGA, "kind": "cadre", "phone": "13700000009", "node_id": tree.grids[0].pk},
    )
    assert (response.status_code, fields(response)) == (422, ["name"])
    assert not Person.objects.exists()


def test_a_name_longer_than_its_column_is_422_naming_it(tree, street):
    """51 characters pass the API's bound but not the 50 of `Person.name`: refused before the
    database, which on SQLite would store it whole and on PostgreSQL fail."""
    response = send(
        street,
        "post",
        "/people/persons",
        {"name": "名" * 51, "kind": "cadre", "phone": "13700000009", "node_id": tree.grids[0].pk},
    )
    assert (response.status_code, fields(response)) == (422, ["name"])
    assert "At most" in response.json()["errors"][0]["message"]
    assert not Person.objects.exists()


def test_a_megabyte_place_name_and_room_are_422(tree, street):
    place = send(
        street,
        "post",
        "/mobilization/places",
        {"node_id": tree.grids[0].pk, "name": MEGA, "kind": "guard_point"},
    )
    assert (place.status_code, fields(place)) == (422, ["name"])
    room = send(
        street, "post", f"/geo/units/{tree.units[0].pk}/households", {"room": MEGA, "floor": 1}
    )
    assert (room.status_code, fields(room)) == (422, ["room"])
    assert not Place.objects.exists()


def test_a_body_past_the_upload_limit_is_413_in_the_one_error_shape(tree, street):
    huge = "名" * 1_000_000  # 3 MB of UTF-8, past Django's 2.5 MB for a request body
    response = send(street, "post", "/people/persons", {"name": huge, "kind": "cadre"})
    assert (response.status_code, fields(response)) == (413, ["body"])


def test_an_incident_area_with_a_megabyte_reason_is_not_created(tree, street):
    response = send(
        street,
        "post",
        "/incidents/areas",
        {"node_id": tree.grids[0].pk, "level": "controlled", "reason": MEGA},
    )
    assert (response.status_code, fields(response)) == (422, ["reason"])
    assert not ControlArea.objects.exists()


def test_a_nul_character_is_refused(tree, street):
    response = send(
        street, "post", f"/geo/units/{tree.units[0].pk}/households", {"room": "9\x000", "floor": 1}
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "room", "message": "NUL characters are not allowed."}
    ]


# --- 10. one error shape, naming the field -------------------------------------------------------


def test_an_unknown_body_field_is_refused(tree, street):
    resident = Resident.objects.filter(unit_id=tree.units[0].pk).first()
    response = send(
        street, "patch", f"/geo/residents/{resident.pk}", {"immobile": True, "imobile": True}
    )
    assert (response.status_code, fields(response)) == (422, ["imobile"])
    resident.refresh_from_db()
    assert resident.immobile is False


def test_a_missing_id_in_a_body_names_its_field(tree, street):
    resident = Resident.objects.filter(unit_id=tree.units[0].pk).first()
    response = send(street, "patch", f"/geo/residents/{resident.pk}", {"household_id": 999_999})
    assert response.status_code == 404
    assert response.json()["errors"] == [
        {"field": "household_id", "message": "No such household, or not in your area."}
    ]


def test_a_client_id_reused_for_another_payload_is_409(tree, street):
    url = f"/geo/units/{tree.units[0].pk}/households"
    key = str(uuid.uuid4())
    first = send(street, "post", url, {"room": "501", "floor": 5, "client_id": key})
    retry = send(street, "post", url, {"floor": 5, "client_id": key, "room": "501"})
    other = send(street, "post", url, {"room": "502", "floor": 5, "client_id": key})
    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.json()["id"] == first.json()["id"]
    assert (other.status_code, fields(other)) == (409, ["client_id"])
    assert "different request" in other.json()["errors"][0]["message"]
    assert not Household.objects.filter(room="502").exists()


def test_client_keys_past_the_retry_window_are_purged_on_write(tree, street, settings):
    """core.ClientKey is not kept for ever: each new key deletes those older than the retry
    window (BASTION_CLIENT_KEY_DAYS), keeping the recent ones."""
    from bastion.core.models import ClientKey

    settings.BASTION_CLIENT_KEY_DAYS = 7
    url = f"/geo/units/{tree.units[0].pk}/households"
    old, recent = str(uuid.uuid4()), str(uuid.uuid4())
    for key, room in ((old, "601"), (recent, "602")):
        assert (
            send(street, "post", url, {"room": room, "floor": 6, "client_id": key}).status_code
            == 201
        )
    now = timezone.now()
    ClientKey.objects.filter(client_id=old).update(created_at=now - dt.timedelta(days=8))
    ClientKey.objects.filter(client_id=recent).update(created_at=now - dt.timedelta(days=6))
    new = str(uuid.uuid4())
    assert (
        send(street, "post", url, {"room": "603", "floor": 6, "client_id": new}).status_code == 201
    )
    assert sorted(str(k) for k in ClientKey.objects.values_list("client_id", flat=True)) == sorted(
        [recent, new]
    )
    # A retry after the window still gets its row back, through the row's own client id.
    retry = send(street, "post", url, {"room": "601", "floor": 6, "client_id": old})
    assert retry.status_code == 200 and retry.json()["room"] == "601"


def test_every_operation_documents_the_errors_it_can_answer():
    schema = json.loads(json.dumps(api.get_openapi_schema()))
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            answers = set(operation["responses"])
            where = f"{method.upper()} {path}"
            if operation.get("requestBody", {}).get("content", {}).get(JSON):
                assert {"400", "415", "422"} <= answers, where
            if operation.get("parameters") or operation.get("requestBody"):
                assert "422" in answers, where
            if operation.get("security"):
                assert "401" in answers, where
            if "{" in path:
                assert "404" in answers, where


# --- 7. one component per schema class -----------------------------------------------------------


def _classes(annotation, found: set) -> None:
    """Every pydantic class reachable from a field's annotation."""
    from pydantic import BaseModel

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation in found:
            return
        found.add(annotation)
        for info in annotation.model_fields.values():
            _classes(info.annotation, found)
    for arg in getattr(annotation, "__args__", ()):
        _classes(arg, found)


def test_each_schema_class_has_its_own_component():
    """Classes of the same name in different modules (`CountsOut` of geo and of screening) no
    longer collapse into one component: each is named by its app or sub-package."""
    schema = json.loads(json.dumps(api.get_openapi_schema()))
    components = schema["components"]["schemas"]
    found: set = set()
    for router in api._get_bound_routers():
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                for model in [*operation.models, *operation.response_models.values()]:
                    if isinstance(model, type):
                        for info in model.model_fields.values():
                            _classes(info.annotation, found)
    names: dict[str, set] = {}
    for cls in found:
        if cls.__module__.startswith("bastion.") and not hasattr(cls, "__ninja_param_source__"):
            base = cls.__mro__[1] if cls.__name__ == cls.__mro__[1].__name__ else cls
            names.setdefault(component_prefix(cls.__module__) + cls.__name__, set()).add(base)
    assert {name for name, classes in names.items() if len(classes) > 1} == set()
    assert {
        "GeoCountsOut",
        "ScreeningCountsOut",
        "TestingScansBatchOut",
        "ScreeningBatchOut",
    } <= set(components)
    nodes = schema["paths"]["/api/v1/geo/nodes"]["get"]["responses"]["200"]
    assert nodes["content"][JSON]["schema"]["items"]["$ref"] == "#/components/schemas/GeoNodeOut"
    counts = components["GeoNodeOut"]["properties"]["counts"]
    assert counts["$ref"] == "#/components/schemas/GeoCountsOut"
    batch = schema["paths"]["/api/v1/testing/stations/{station_id}/scans/batch"]["post"]
    assert batch["responses"]["200"]["content"][JSON]["schema"]["$ref"] == (
        "#/components/schemas/TestingScansBatchOut"
    )


def test_import_status_lists_errors_as_the_docs_say():
    job = api.get_openapi_schema()["components"]["schemas"]["LedgersImportJobOut"]
    assert "errors" in job["properties"] and "problems" not in job["properties"]
