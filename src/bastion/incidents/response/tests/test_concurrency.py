"""Two commanders confirming the same case at the same moment make one bundle: both get it,
with one set of control areas and one task of each kind. Only meaningful on PostgreSQL (row
locks, concurrent unique checks); SQLite serialises writers. Run with scripts/with-postgres."""

import threading

import pytest
from django.db import connection

from bastion.accounts.testing import build_small_tree
from bastion.incidents.models import ControlArea
from bastion.incidents.response import services
from bastion.incidents.response.models import Bundle, Task

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="concurrent confirmations race only on PostgreSQL; run with scripts/with-postgres",
)

COMMANDERS = 4


@pytest.mark.django_db(transaction=True)
def test_commanders_confirming_at_once_make_one_bundle():
    tree = build_small_tree()
    case = services.case_record(actor=None, node=tree.units[0], name="并发病例")
    start = threading.Barrier(COMMANDERS)
    got: list[int] = []
    errors: list[Exception] = []

    def confirm(user):
        try:
            start.wait()
            got.append(services.case_confirm(actor=user, case=case).pk)
        except Exception as e:  # reported to the main thread
            errors.append(e)
        finally:
            connection.close()

    users = [tree.users["admin"], tree.users["street"], tree.users["community"], None]
    threads = [threading.Thread(target=confirm, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    [bundle] = Bundle.objects.all()
    assert got == [bundle.pk] * COMMANDERS
    assert Task.objects.filter(bundle=bundle).count() == 7
    assert ControlArea.objects.filter(lifted_at__isnull=True).count() == 3
