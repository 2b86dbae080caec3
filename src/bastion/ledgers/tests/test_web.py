"""The ledgers pages: upload → job page → progress fragment, template, exports, and the scope
of every URL for a grid chief looking at another grid."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from python_calamine import CalamineWorkbook

from bastion.accounts.models import RevealLog
from bastion.core.models import ChangeLog
from bastion.core.testing import PASSWORD
from bastion.geo.models import Resident
from bastion.ledgers import services
from bastion.ledgers.models import ImportJob, ImportStatus
from bastion.ledgers.tests.ledger_files import HEADER, IDENTITY_HEADER, good_rows, xlsx_bytes

pytestmark = pytest.mark.usefixtures("immediate_tasks")


@pytest.fixture
def client_as(client):
    def log_in(user):
        assert client.login(username=user.username, password=PASSWORD)
        return client

    return log_in


def upload(client, node, content: bytes, name="台账.xlsx"):
    return client.post(
        reverse("ledgers:import"), {"node": node.pk, "file": SimpleUploadedFile(name, content)}
    )


def test_upload_runs_the_job_and_the_job_page_shows_the_result(tree, client_as):
    client = client_as(tree.users["grid"])
    page = client.get(reverse("ledgers:import"))
    assert page.status_code == 200
    options = page.context["form"].fields["node"].choices
    assert [pk for pk, _label in options] == [tree.grids[0].pk]
    response = upload(client, tree.grids[0], xlsx_bytes(good_rows(9)))
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response.url == reverse("ledgers:job", args=[job.pk])
    assert (job.status, job.imported_rows, job.created_households) == (ImportStatus.DONE, 9, 3)
    assert job.content == b"" and job.created_by == tree.users["grid"] and job.task_id
    assert ChangeLog.objects.filter(source="import", object_type="geo.resident").count() == 9
    page = client.get(response.url)
    html = page.content.decode()
    assert page.status_code == 200 and 'hx-trigger="every 1s"' not in html
    assert "Imported 9 residents; 3 new households were created." in html
    fragment = client.get(reverse("ledgers:job_progress", args=[job.pk]))
    assert fragment.status_code == 200 and b"<html" not in fragment.content


def test_a_rejected_upload_lists_the_bad_rows(tree, client_as, chinese_default):
    client = client_as(tree.users["street"])
    rows = good_rows(5)
    rows[1][2] = "12345"
    rows[3][7] = "9单元"
    upload(client, tree.street, xlsx_bytes(rows))
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.REJECTED and job.imported_rows == 0
    assert [(e["row"], e["field"]) for e in job.errors] == [(3, "phone"), (5, "unit")]
    html = client.get(reverse("ledgers:job", args=[job.pk])).content.decode()
    assert "手机号" in html and "9单元" in html
    assert Resident.objects.filter(name__startswith="导入").count() == 0
    problems = client.get(reverse("ledgers:job_problems", args=[job.pk]))
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(problems.content)).get_sheet_by_index(0)
    assert [r[0] for r in sheet.to_python()[1:]] == [3.0, 5.0]


def test_a_queued_job_polls_its_fragment_every_second(tree, client_as):
    client = client_as(tree.users["street"])
    job = services.import_job_create(
        user=tree.users["street"],
        node=tree.street,
        filename="a.xlsx",
        content=xlsx_bytes(good_rows(2)),
    )
    html = client.get(reverse("ledgers:job", args=[job.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in html and "<progress" in html
    assert reverse("ledgers:job_progress", args=[job.pk]) in html
    job.status, job.phase, job.total_rows, job.processed_rows = "running", "checking", 200, 100
    job.save()
    fragment = client.get(reverse("ledgers:job_progress", args=[job.pk])).content.decode()
    assert 'value="45"' in fragment and 'hx-trigger="every 1s"' in fragment


def test_template_download_in_both_languages(tree, client_as, chinese_default):
    client = client_as(tree.users["grid"])
    response = client.get(reverse("ledgers:template"))
    book = CalamineWorkbook.from_filelike(io.BytesIO(response.content))
    assert book.sheet_names == ["居民", "填写说明"]
    rows = book.get_sheet_by_index(0).to_python()
    assert rows[0] == HEADER + IDENTITY_HEADER and len(rows) == 2
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    content = client.get(reverse("ledgers:template")).content
    book = CalamineWorkbook.from_filelike(io.BytesIO(content))
    assert book.get_sheet_by_index(0).to_python()[0][:2] == ["Name", "ID number"]
    assert book.sheet_names[1] == "How to fill in"


def test_the_template_example_row_is_refused_not_imported(tree):
    """A template uploaded unchanged names an example community that is not in the tree."""
    with pytest.raises(services.DomainError) as caught:
        services.residents_import(
            actor=tree.users["street"],
            node=tree.street,
            filename="t.xlsx",
            content=services.template_build(),
        )
    assert [(p["row"], p["field"]) for p in caught.value.as_list()] == [(2, "community")]


def test_export_page_links_and_reveal_by_post(tree, client_as):
    client = client_as(tree.users["grid"])
    page = client.get(reverse("ledgers:export"))
    assert page.status_code == 200 and "reveal" in page.context["form"].fields
    link = reverse("ledgers:export_download", args=["residents"]) + f"?node={tree.grids[0].pk}"
    assert link in page.content.decode()
    masked = client.get(link)
    assert masked.status_code == 200 and not RevealLog.objects.exists()
    full = client.post(
        reverse("ledgers:export"),
        {"node": tree.grids[0].pk, "dataset": "residents", "reveal": "on"},
    )
    assert full.status_code == 200 and "attachment" in full["Content-Disposition"]
    b"".join(full.streaming_content)
    assert RevealLog.objects.filter(via="export").count() == 32


def test_volunteer_sees_no_reveal_option_and_cannot_import(tree, client_as):
    client = client_as(tree.users["volunteer"])
    assert "reveal" not in client.get(reverse("ledgers:export")).context["form"].fields
    page = client.get(reverse("ledgers:import"))
    assert page.context["can_import"] is False


def test_pages_need_a_login(client, tree):
    for url in (reverse("ledgers:import"), reverse("ledgers:export"), reverse("ledgers:template")):
        assert client.get(url).status_code == 302


def test_grid_chief_gets_nothing_of_another_grid_on_any_url(tree, client_as):
    """NetBox-style: every ledgers URL aimed at another grid answers 404 or offers nothing."""
    other = tree.grids[1]
    job = services.import_job_create(
        user=tree.users["other_grid"], node=other, filename="a.xlsx", content=b"x"
    )
    client = client_as(tree.users["grid"])
    for url in (
        reverse("ledgers:import") + f"?node={other.pk}",
        reverse("ledgers:export") + f"?node={other.pk}",
        reverse("ledgers:job", args=[job.pk]),
        reverse("ledgers:job_progress", args=[job.pk]),
        reverse("ledgers:job_problems", args=[job.pk]),
        reverse("ledgers:export_download", args=["residents"]) + f"?node={other.pk}",
        reverse("ledgers:export_download", args=["posts"]) + f"?node={other.pk}",
        reverse("ledgers:export_download", args=["residents"]) + f"?node={tree.street.pk}",
    ):
        assert client.get(url).status_code == 404, url
    assert job not in client.get(reverse("ledgers:import")).context["jobs"]
    response = upload(
        client, other, xlsx_bytes(good_rows(2, places=[("社区1", "网格1-2", "121号楼", "1单元")]))
    )
    assert response.status_code == 200 and "node" in response.context["form"].errors
    response = client.post(reverse("ledgers:export"), {"node": other.pk, "dataset": "residents"})
    assert response.status_code == 200 and "node" in response.context["form"].errors
    assert ImportJob.objects.count() == 1
