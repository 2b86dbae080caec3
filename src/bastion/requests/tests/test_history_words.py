"""A request's history reads as a clerk reads it (issue 14 item 9): who claimed it by name,
not by a login's id."""

from django.test import Client
from django.urls import reverse

from bastion.people.services import person_create
from bastion.requests import services


def test_a_claim_names_the_claimer(tree, make_request, staff):
    person = person_create(name="张三", kind="cadre", phone="13900000077", node=tree.grids[0])
    person.user = staff
    person.save()
    r = services.request_triage(actor=staff, request=make_request(), track="handle_now")
    r = services.request_claim(actor=staff, request=r)
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(tree.users["street"])
    response = client.get(reverse("requests:detail", args=[r.pk]))
    assert response.status_code == 200
    [claim] = [e for e in response.context["history"] if "认领人" in {c.label for c in e.changes}]
    shown = {c.label: (c.old, c.new) for c in claim.changes}
    assert shown["认领人"] == ("—", "张三")
    assert claim.actor == "张三"
