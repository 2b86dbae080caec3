"""The response demo on the small known tree: one case confirmed with its bundle part done
(and one task overdue), one case waiting for a commander."""

import datetime as dt
import random

from django.utils import timezone

from bastion.incidents.response import queries
from bastion.incidents.response.demo import build_demo
from bastion.incidents.response.models import Bundle, Case, Disinfection


def test_demo_has_a_confirmed_case_with_its_bundle_part_done_and_a_proposal_waiting(tree):
    now = timezone.now()
    counts = build_demo(tree.street, random.Random(1), now)
    assert counts["cases"] == 2
    confirmed, waiting = Case.objects.order_by("reported_at")
    assert (confirmed.state, waiting.state) == ("confirmed", "proposed")
    assert confirmed.node.grid_id != waiting.node.grid_id
    [bundle] = Bundle.objects.all()
    board = queries.board(bundle, now=now + dt.timedelta(seconds=1))
    states = {t.kind: t.state for t in board.tasks}
    assert states["order"] == states["tracing"] == "done"
    assert states["disinfection"] == "in_progress"
    assert {t.kind for t in board.tasks if t.pk in board.overdue} == {"transfers"}
    assert Disinfection.objects.filter(bundle=bundle).count() == 2
    assert waiting.proposed.count() == 3
