"""Logging in to the API (bearer token or the web session), the caller's own login and tokens,
the error shapes, and the OpenAPI schema."""

import pytest
from django.test import Client

from bastion.accounts.models import ApiToken
from bastion.accounts.services import token_issue, token_revoke_all
from bastion.core.testing import PASSWORD

ME = "/api/v1/accounts/me"
TOKENS = "/api/v1/accounts/tokens"


def bearer(raw: str) -> Client:
    return Client(headers={"authorization": f"Bearer {raw}"})


def test_a_token_logs_in_as_its_user(tree):
    response = bearer(token_issue(user=tree.users["grid"])).get(
        ME, headers={"accept-language": "en"}
    )
    assert response.status_code == 200
    assert response.json() == {
        "id": tree.users["grid"].pk,
        "username": "grid",
        "is_superuser": False,
        "person_id": None,
        "roles": [
            {
                "role": "grid_chief",
                "role_label": "Grid chief",
                "node_id": tree.grids[0].pk,
                "node_name": "网格1-1",
                "node_level": "grid",
            },
        ],
    }


@pytest.mark.parametrize("header", [None, "Bearer bst_not-a-token", "Basic Z3JpZDp4", "Bearer"])
def test_no_or_a_bad_token_is_401(tree, header):
    headers = {"authorization": header} if header else {}
    client = Client(enforce_csrf_checks=True, headers=headers)
    assert client.get(ME).status_code == 401
    assert client.get(f"/api/v1/geo/nodes/{tree.grids[0].pk}").status_code == 401
    # A write without a login is 401 too, not a CSRF refusal: no session cookie came.
    response = client.post(TOKENS, {"label": "x"}, content_type="application/json")
    assert response.status_code == 401
    assert not ApiToken.objects.exists()


def test_a_revoked_token_is_refused(tree):
    raw = token_issue(user=tree.users["grid"])
    assert bearer(raw).get(ME).status_code == 200
    token_revoke_all(user=tree.users["grid"])
    assert bearer(raw).get(ME).status_code == 401


def test_an_inactive_users_token_is_refused(tree):
    user = tree.users["grid"]
    raw = token_issue(user=user)
    user.is_active = False
    user.save()
    assert bearer(raw).get(ME).status_code == 401


def test_tokens_are_listed_issued_and_revoked_by_their_owner(tree):
    raw = token_issue(user=tree.users["grid"], label="phone")
    other = token_issue(user=tree.users["other_grid"], label="theirs")
    client = bearer(raw)

    issued = client.post(TOKENS, {"label": "scanner"}, content_type="application/json")
    assert issued.status_code == 201
    new = issued.json()
    assert new["label"] == "scanner" and new["token"].startswith("bst_")
    assert bearer(new["token"]).get(ME).json()["username"] == "grid"

    listed = client.get(TOKENS).json()
    assert [(t["label"], t["current"], t["revoked_at"]) for t in listed] == [
        ("scanner", False, None),
        ("phone", True, None),
    ]
    assert all("token" not in t and "key_hash" not in t for t in listed)

    assert client.delete(f"{TOKENS}/{new['id']}").status_code == 204
    assert bearer(new["token"]).get(ME).status_code == 401
    assert client.delete(f"{TOKENS}/{new['id']}").status_code == 204  # again: still revoked

    # Another login's token is as absent as a missing one, and stays valid.
    theirs = ApiToken.objects.get(user=tree.users["other_grid"])
    assert client.delete(f"{TOKENS}/{theirs.pk}").status_code == 404
    assert bearer(other).get(ME).status_code == 200


def test_the_web_session_logs_in_and_writes_need_the_csrf_token(tree):
    client = Client(enforce_csrf_checks=True)
    assert client.login(username="grid", password=PASSWORD)
    assert client.get(ME).json()["username"] == "grid"

    refused = client.post(TOKENS, {"label": "x"}, content_type="application/json")
    assert refused.status_code == 403
    assert not ApiToken.objects.exists()

    client.get("/login/")  # any page that sets the CSRF cookie
    csrf = client.cookies["csrftoken"].value
    accepted = client.post(
        TOKENS, {"label": "x"}, content_type="application/json", headers={"x-csrftoken": csrf}
    )
    assert accepted.status_code == 201
    assert ApiToken.objects.filter(user=tree.users["grid"]).count() == 1


def test_a_bad_token_does_not_fall_back_to_nothing_but_the_session(tree):
    client = Client()
    client.force_login(tree.users["street"])
    client.defaults["HTTP_AUTHORIZATION"] = "Bearer bst_wrong"
    assert client.get(ME).json()["username"] == "street"


def test_the_openapi_schema_builds_and_lists_every_endpoint(db):
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    paths = schema["paths"]
    for path in [
        "/api/v1/accounts/me",
        "/api/v1/accounts/tokens",
        "/api/v1/accounts/tokens/{token_id}",
        "/api/v1/geo/nodes",
        "/api/v1/geo/nodes/{node_id}",
        "/api/v1/geo/nodes/{node_id}/children",
        "/api/v1/geo/buildings/{building_id}/grid",
        "/api/v1/geo/residents",
        "/api/v1/geo/residents/{resident_id}",
        "/api/v1/geo/residents/{resident_id}/reveal",
        "/api/v1/geo/households/{household_id}",
        "/api/v1/geo/households/{household_id}/residents",
        "/api/v1/geo/units/{unit_id}/households",
        "/api/v1/geo/zones",
        "/api/v1/geo/zones/{zone_id}",
        "/api/v1/people/persons",
        "/api/v1/people/persons/{person_id}",
        "/api/v1/people/persons/{person_id}/reveal",
        "/api/v1/people/posts",
        "/api/v1/people/posts/{post_id}",
        "/api/v1/people/posts/{post_id}/end",
        "/api/v1/people/nodes/{node_id}/vacancies",
    ]:
        assert path in paths, path
    assert set(paths["/api/v1/geo/residents/{resident_id}"]) == {"get", "patch"}
    # Both ways in are documented, and writes document their problem lists.
    assert {"BearerAuth", "SessionAuth"} <= set(schema["components"]["securitySchemes"])
    create = paths["/api/v1/geo/households/{household_id}/residents"]["post"]
    assert {"200", "201", "403", "404", "409", "422"} <= set(create["responses"])
