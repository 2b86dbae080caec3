"""Chasing the unread (issue 14 item 10): a notification's receipts name each recipient by
their real name with their role in Chinese, and give a phone to call them, masked, shown in
full through the logged reveal to a role that may, and to no other."""

from django.test import Client
from django.urls import reverse

from bastion.accounts.models import RevealLog
from bastion.geo.models import Household
from bastion.notices import services
from bastion.notices.services import Recipient


def test_the_unread_are_named_with_role_and_a_phone_to_call(tree, make_person):
    home = Household.objects.filter(unit=tree.units[0]).order_by("room").first()
    cadre = make_person(name="王干部", kind="cadre", phone="13600000011", home=home)
    chief = make_person(name="李网格", kind="cadre", phone="13600000022", home=home)
    chief.user = tree.users["grid"]
    chief.save()
    sent = services.notification_send(
        kind="test.alert",
        title="一号网格通知",
        node=tree.grids[0],
        recipients=[
            Recipient(user_id=tree.users["grid"].pk, reason="grid_chief"),
            Recipient(person_id=cadre.pk, reason="police_liaison"),
            Recipient(user_id=tree.users["community"].pk),
            Recipient(user_id=tree.users["street"].pk, reason="command"),
        ],
    )
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(tree.users["street"])
    page = client.get(reverse("notices:receipts", args=[sent.pk]))
    assert page.status_code == 200
    shown = {(r.name, r.role, r.phone, r.revealable) for r in page.context["unread_rows"]}
    assert shown == {
        ("李网格", "网格长", "136****0022", True),
        ("王干部", "社区民警", "136****0011", True),
        ("community", "社区工作人员", "", False),  # a login with no person: its role
        ("street", "街道指挥长", "", False),  # a command's notice to all: the login's role
    }
    html = page.content.decode()
    assert "13600000011" not in html and "grid_chief" not in html and ">command<" not in html
    reveal = reverse("people:person_reveal", args=[cadre.pk, "phone"])
    assert f'action="{reveal}"' in html
    assert client.post(reveal, HTTP_HX_REQUEST="true").content.decode().count("13600000011")
    assert RevealLog.objects.filter(user=tree.users["street"], subject_id=cadre.pk).count() == 1

    # Another grid's chief does not see them at all.
    grid = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    grid.force_login(tree.users["other_grid"])
    assert grid.get(reverse("notices:receipts", args=[sent.pk])).status_code == 404
