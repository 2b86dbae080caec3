"""The ledgers API with a bearer token: upload, job status, template, exports; scope."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from python_calamine import CalamineWorkbook

from bastion.accounts.models import RevealLog
from bastion.accounts.services import token_issue
from bastion.geo.models import Resident
from bastion.ledgers.models import ImportJob
from bastion.ledgers.tests.ledger_files import good_rows, xlsx_bytes

pytestmark = pytest.mark.usefixtures("immediate_tasks")
BASE = "/api/v1/ledgers"


@pytest.fixture
def api(client):
    class Api:
        def __init__(self):
            self.headers = {}

        def as_user(self, user):
            self.headers = {"Authorization": f"Bearer {token_issue(user=user)}"}
            return self

        def get(self, path, **params):
            return client.get(BASE + path, params, headers=self.headers)

        def post(self, path, data):
            return client.post(BASE + path, data, headers=self.headers)

    return Api()


def test_upload_then_status(tree, api):
    api.as_user(tree.users["grid"])
    response = api.post(
        "/imports",
        {"node": tree.grids[0].pk, "file": SimpleUploadedFile("a.xlsx", xlsx_bytes(good_rows(6)))},
    )
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "done" and body["imported_rows"] == 6 and body["errors"] == []
    status = api.get(f"/imports/{body['id']}").json()
    assert status["percent"] == 100 and status["created_households"] == 2


def test_rejected_upload_reports_every_problem(tree, api, chinese_default):
    api.as_user(tree.users["street"])
    rows = good_rows(3)
    rows[0][0] = ""
    rows[2][1] = "123"
    job_id = api.post(
        "/imports", {"node": tree.street.pk, "file": SimpleUploadedFile("a.xlsx", xlsx_bytes(rows))}
    ).json()["id"]
    body = api.get(f"/imports/{job_id}").json()
    assert body["status"] == "rejected"
    assert [(p["row"], p["field"], p["column"]) for p in body["errors"]] == [
        (2, "name", "姓名"),
        (4, "id_number", "身份证号"),
    ]


def test_template_and_exports(tree, api, chinese_default):
    api.as_user(tree.users["grid"])
    template = api.get("/template")
    assert template.status_code == 200
    assert CalamineWorkbook.from_filelike(io.BytesIO(template.content)).sheet_names[0] == "居民"
    masked = api.get("/exports/residents", node=tree.grids[0].pk)
    rows = (
        CalamineWorkbook.from_filelike(io.BytesIO(b"".join(masked.streaming_content)))
        .get_sheet_by_index(0)
        .to_python()
    )
    assert len(rows) == 33 and all("*" in r[1] for r in rows[1:])
    full = api.get("/exports/residents", node=tree.grids[0].pk, reveal="true")
    b"".join(full.streaming_content)
    assert RevealLog.objects.filter(via="export").count() == 32
    assert api.get("/exports/posts", node=tree.grids[0].pk).status_code == 200


def test_scope_through_the_api(tree, api):
    api.as_user(tree.users["grid"])
    other = tree.grids[1]
    response = api.post(
        "/imports",
        {"node": other.pk, "file": SimpleUploadedFile("a.xlsx", xlsx_bytes(good_rows(2)))},
    )
    assert response.status_code == 404 and not ImportJob.objects.exists()
    assert api.get("/exports/residents", node=other.pk).status_code == 404
    assert api.get("/exports/posts", node=tree.street.pk).status_code == 404
    api.as_user(tree.users["other_grid"])
    job_id = api.post(
        "/imports", {"node": other.pk, "file": SimpleUploadedFile("a.csv", b"")}
    ).json()["id"]
    api.as_user(tree.users["grid"])
    assert api.get(f"/imports/{job_id}").status_code == 404
    api.as_user(tree.users["volunteer"])
    response = api.get("/exports/residents", node=tree.grids[0].pk, reveal="true")
    assert response.status_code == 403
    assert (
        api.post(
            "/imports", {"node": tree.grids[0].pk, "file": SimpleUploadedFile("a.xlsx", b"x")}
        ).status_code
        == 404
    )
    assert Resident.objects.filter(name__startswith="导入").count() == 0


def test_no_token_no_entry(tree, client):
    assert client.get(BASE + "/template").status_code == 401
