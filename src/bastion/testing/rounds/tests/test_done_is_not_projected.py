"""A unit everyone of whom is sampled is not "projected to finish" after the deadline: the
round page says it is done (issue 14 item 10)."""

import datetime as dt

from django.test import Client
from django.urls import reverse

from bastion.core.testing import PASSWORD
from bastion.geo.models import Presence
from bastion.testing.conftest import scan


def test_a_unit_sampled_in_full_after_the_deadline_is_done_not_projected(testing):
    round_ = testing.round
    round_.deadline = round_.starts_at + dt.timedelta(minutes=1)  # passed an hour ago
    round_.save(update_fields=["deadline"])
    unit = testing.tree.units[0]
    people = [r for r in testing.residents_of(unit) if r.presence == Presence.HOME]
    assert people
    for i, r in enumerate(people):
        assert scan(testing.stations[0], f"U-{i // 5:04d}", r.id_number).ok
    client = Client(headers={"accept-language": "en"})
    assert client.login(username="grid", password=PASSWORD)
    html = client.get(reverse("testing:round", args=[round_.pk]), {"node": unit.pk})
    html = html.content.decode()
    assert f"Everyone expected in {unit.name} has been sampled." in html
    assert "the area is done by" not in html
    assert "will miss the deadline" not in html
    # A unit with people left is still projected.
    other = testing.tree.units[1]
    html = client.get(reverse("testing:round", args=[round_.pk]), {"node": other.pk})
    assert "At the last hour" in html.content.decode()
