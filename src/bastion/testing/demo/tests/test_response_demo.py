"""The demo's positive-pool response has the shapes the pages show: liaisons on every
community told of every positive pool, retests in every state, the time figures of the first
pool, holds in force and lifted, notifications read and unread, a few for every login."""

import datetime as dt

from bastion.notices import queries as notice_queries
from bastion.notices.models import Delivery, Notification
from bastion.people.models import Post
from bastion.testing.results import queries as result_queries
from bastion.testing.results import response as result_response
from bastion.testing.results.models import Retest
from bastion.testing.rounds.models import Round
from bastion.testing.scans.models import Result, Tube


def test_the_demo_responds_to_its_positive_pools(tree, testing_demo):
    now, counts = testing_demo.now, testing_demo.counts

    liaisons = Post.objects.filter(role="police_liaison")
    assert counts["police_liaisons"] == liaisons.count() == len(tree.communities)
    finished = Round.objects.order_by("starts_at").first()
    pools = Tube.objects.filter(round=finished, result=Result.POSITIVE, kind="pool")
    assert pools.count() == 3
    for tube in pools:
        notification = Notification.objects.get(source_type="testing.tube", source_id=tube.pk)
        reasons = set(notification.deliveries.values_list("reason", flat=True))
        assert "police_liaison" in reasons  # added when the liaisons were posted
        assert notification.created_at == tube.resulted_at < now

    states = {r.state for r in result_response.with_state(Retest.objects.filter(round=finished))}
    assert {"pending", "negative", "invalid"} <= states
    figures = result_response.round_response(tree.users["admin"], finished, Tube.objects.all())
    first = figures.pools[0]
    assert first.all_sampled and first.all_resulted
    assert dt.timedelta(0) < first.to_sampled < first.to_resulted
    assert figures.median_to_sampled is not None and figures.max_to_resulted is not None
    assert 0 < figures.sampled < figures.people
    holds = Retest.objects.filter(round=finished, hold_since__isnull=False)
    assert holds.filter(hold_until__isnull=True).exists()
    assert holds.filter(hold_until__isnull=False).exists()

    assert Delivery.objects.filter(read_at__isnull=True).exists()
    assert Delivery.objects.filter(read_at__isnull=False, read_at__lte=now).exists()
    for name in ("admin", "street", "community", "grid", "building", "volunteer"):
        assert notice_queries.inbox(tree.users[name]).count() >= 3, name
    assert result_queries.retests(tree.users["admin"], finished).count() == figures.people
