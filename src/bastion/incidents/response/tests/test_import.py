"""Cases imported from the disease-control system's list, all or nothing: every bad row is
listed with its field and nothing is kept; a good list proposes its cases, once however often
it is imported; the API takes the same file."""

import pytest
from django.test import Client

from bastion.accounts.services import token_issue
from bastion.core.errors import DomainError
from bastion.geo.models import Resident
from bastion.incidents.response import services
from bastion.incidents.response.models import Case


def _csv(*rows: str) -> bytes:
    return ("病例编号,身份证号,姓名,报告时间\n" + "\n".join(rows) + "\n").encode()


def test_a_list_with_bad_rows_imports_nothing_and_names_each_row(tree):
    mine = Resident.objects.filter(grid=tree.grids[0]).order_by("pk")[:2]
    other = Resident.objects.filter(grid=tree.grids[1]).first()
    content = _csv(
        f"DC-1,{mine[0].id_number},{mine[0].name},2026-12-01 08:00",
        f"DC-2,{other.id_number},{other.name},2026-12-01 09:00",  # not the chief's area
        f"DC-3,{mine[1].id_number},{mine[1].name},昨天",
        f",12345,{mine[1].name},",
    )
    with pytest.raises(DomainError) as e:
        services.cases_import(actor=tree.users["grid"], filename="cases.csv", content=content)
    assert [(p.row, p.field) for p in e.value.problems] == [
        (3, "id_number"),
        (4, "reported_at"),
        (5, "reference"),
        (5, "id_number"),
    ]
    assert not Case.objects.exists()


def test_a_good_list_proposes_its_cases_once_and_the_api_takes_it(tree):
    mine = Resident.objects.filter(grid=tree.grids[0]).order_by("pk")[:2]
    content = _csv(
        f"DC-1,{mine[0].id_number},{mine[0].name},2026-12-01 08:00",
        f"DC-2,{mine[1].id_number},{mine[1].name},",
    )
    made = services.cases_import(actor=tree.users["grid"], filename="c.csv", content=content)
    assert [(c.reference, c.resident_id, c.source, c.state) for c in made] == [
        ("DC-1", mine[0].pk, "import", "proposed"),
        ("DC-2", mine[1].pk, "import", "proposed"),
    ]
    assert made[0].proposed.count() == 3
    token = token_issue(user=tree.users["grid"])
    api = Client(headers={"authorization": f"Bearer {token}"})
    from django.core.files.uploadedfile import SimpleUploadedFile

    again = api.post(
        "/api/v1/incidents/cases/import",
        {"file": SimpleUploadedFile("c.csv", content, content_type="text/csv")},
    )
    assert again.status_code == 201, again.content
    assert [c["id"] for c in again.json()] == [c.pk for c in made]
    assert Case.objects.count() == 2
    volunteer = Client(
        headers={"authorization": f"Bearer {token_issue(user=tree.users['volunteer'])}"}
    )
    refused = volunteer.post(
        "/api/v1/incidents/cases/import",
        {"file": SimpleUploadedFile("c.csv", content, content_type="text/csv")},
    )
    assert refused.status_code == 403
