"""The reveal log says which numbers were shown and where, in words (issue 14 item 9): an
export's entry for one resident names both numbers ("身份证号、手机号", not "id_number,phone")
and is an export's, not a web page's; a search that pinned a number is a search's."""

from django.test import Client
from django.urls import reverse

from bastion.accounts.models import RevealLog
from bastion.geo.models import Resident


def test_each_reveal_says_its_numbers_and_where_in_chinese(tree):
    resident = Resident.objects.filter(grid=tree.grids[0]).order_by("pk").first()
    cases = (
        ("request", "contact_phone", "web"),  # the phone a request was raised with
        ("resident", "id_number,phone", "export"),
        ("resident", "phone", "search"),
        ("resident", "id_number", "api"),
    )
    for subject_type, field, via in cases:
        entry = RevealLog(
            user=tree.users["street"],
            subject_type=subject_type,
            subject_id=resident.pk,
            subject_name=resident.name,
            field=field,
            via=via,
        )
        entry.locate(resident)
        entry.save()
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(tree.users["admin"])
    response = client.get(reverse("accounts:reveal_log"))
    assert response.status_code == 200
    shown = [(e.fields_shown, e.via_shown) for e in response.context["entries"]]
    assert shown == [
        ("身份证号", "API"),
        ("手机号", "按号码搜索"),
        ("身份证号、手机号", "导出表格"),
        ("手机号", "网页"),
    ]
    html = response.content.decode()
    assert "id_number" not in html and "身份证号、手机号" in html and "导出表格" in html
    assert ">request<" not in html and "诉求" in html
