"""The supervision pages: an inspection through the phone checklist (refused without the
evidence a checklist item requires, nothing written), the fix with a photo on the finding's
page, the re-check refused to the fixer and recorded by another inspector, the overview, the
ledger, the patrol and the checklists."""

import uuid

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from bastion.core.testing import png_bytes
from bastion.supervision.models import Finding, Inspection, Patrol, Status


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _png(name="p.png"):
    return SimpleUploadedFile(name, png_bytes(b"GPS"), content_type="image/png")


def _inspect(client, tree, world, **extra):
    item = world.building_items[0]
    data = {
        "team": world.team.pk,
        "target": f"building:{tree.buildings[0].pk}",
        "mode": "unannounced",
        "client_id": str(uuid.uuid4()),
        f"fail_{item.pk}": "1",
        f"severity_{item.pk}": "major",
        f"text_{item.pk}": "消杀记录缺三天",
    }
    return client.post(reverse("supervision:inspect"), data | extra)


def test_inspection_fix_recheck_through_the_pages(tree, world):
    street = _client(tree.users["street"])
    page = street.get(
        reverse("supervision:inspect"),
        {"team": world.team.pk, "target": f"building:{tree.buildings[0].pk}", "mode": "planned"},
    )
    assert page.status_code == 200
    assert "楼道消杀记录" in page.content.decode()

    # The item needs a photo: refused naming it, nothing written.
    refused = _inspect(street, tree, world)
    assert refused.status_code == 422
    assert "needs an evidence photo" in refused.content.decode()
    assert Inspection.objects.count() == 0

    item = world.building_items[0]
    done = _inspect(street, tree, world, **{f"photo_{item.pk}": _png()})
    assert done.status_code == 302
    finding = Finding.objects.get()
    assert finding.text == "消杀记录缺三天"

    # The building chief sees it as a task and reports the fix with a photo.
    chief = _client(tree.users["building"])
    overview = chief.get(reverse("supervision:index")).content.decode()
    assert "消杀记录缺三天" in overview
    # No team of the building's: the chief is offered no inspection, and may not open one.
    assert reverse("supervision:inspect") not in overview
    assert chief.get(reverse("supervision:inspect")).status_code == 403
    page = chief.get(reverse("supervision:finding", args=[finding.pk]))
    assert f'action="/supervision/findings/{finding.pk}/fix/"' in page.content.decode()
    no_photo = chief.post(reverse("supervision:fix", args=[finding.pk]), {"note": "补齐"})
    assert no_photo.status_code == 422
    fixed = chief.post(
        reverse("supervision:fix", args=[finding.pk]), {"note": "补齐", "photo": _png()}
    )
    assert fixed.status_code == 302
    finding.refresh_from_db()
    assert finding.status == Status.FIXED
    photo = finding.photos.get(kind="fix")
    served = chief.get(reverse("supervision:photo", args=[finding.pk, photo.pk]))
    assert served.status_code == 200 and b"GPS" not in b"".join(served.streaming_content)

    # The building login may change its building but fixed it: its re-check is refused.
    refused = chief.post(reverse("supervision:recheck", args=[finding.pk]), {"passed": "1"})
    assert refused.status_code == 422
    finding.refresh_from_db()
    assert finding.status == Status.FIXED
    reopened = _client(tree.users["community"]).post(
        reverse("supervision:recheck", args=[finding.pk]), {"passed": "0", "note": "仍缺"}
    )
    assert reopened.status_code == 302
    finding.refresh_from_db()
    assert (finding.status, finding.reopened) == (Status.OPEN, 1)

    # Another grid's chief sees none of it.
    other = _client(tree.users["other_grid"])
    assert other.get(reverse("supervision:finding", args=[finding.pk])).status_code == 404
    ledger = street.get(reverse("supervision:ledger"), {"node": tree.grids[0].pk})
    assert ledger.status_code == 200 and "111号楼" in ledger.content.decode()


def test_patrol_and_checklists_pages(tree, world):
    chief = _client(tree.users["building"])
    page = chief.get(reverse("supervision:patrols"))
    assert page.status_code == 200 and "111号楼" in page.content.decode()
    item = world.building_items[1]
    answer = chief.post(
        reverse("supervision:patrols"),
        {"building": tree.buildings[0].pk, f"fail_{item.pk}": "1", "client_id": str(uuid.uuid4())},
    )
    assert answer.status_code == 302
    assert Patrol.objects.get().failed == [item.pk]

    street = _client(tree.users["street"])
    added = street.post(
        reverse("supervision:checklists"),
        {"kind": "sampling_site", "text": "一米线间隔", "evidence_required": "on"},
    )
    assert added.status_code == 302
    assert "一米线间隔" in street.get(reverse("supervision:checklists")).content.decode()
    # The community's login sees the street's lines but may not retire them.
    community = _client(tree.users["community"])
    retire = community.post(reverse("supervision:checklist_item", args=[item.pk]))
    assert retire.status_code in (403, 404)
