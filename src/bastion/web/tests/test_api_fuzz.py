"""The API holds against any input: schemathesis reads the served schema
(/api/v1/openapi.json), generates requests for every operation and sends them with a street
commander's token on the small known tree. Each answer must pass schemathesis's default checks
— no 5xx, a documented status code and content type, a body matching the documented schema —
on SQLite and, through `scripts/with-postgres`, on PostgreSQL.

One check is told what this API means by "refused": a schema-valid request may still be refused
by a rule the schema cannot state (an ID number's checksum, a post already held, a date before
another), with 422 or 409 naming the field; so 422 is among the statuses a valid request may
get. Everything the schema can state (bounds, lengths, required fields) it states, so the
fuzzer's requests are mostly let through to those rules.

The number of examples per operation is bounded (`EXAMPLES`, about five requests per
operation, some 1,100 in all) and schemathesis's coverage phase (every boundary and every
undeclared method, ~50 requests an operation) is off, so that the run costs about a minute of
CPU; set BASTION_FUZZ_EXAMPLES to search longer, BASTION_FUZZ_COVERAGE=1 for the boundaries.
The rows are the small tree, inserted once for the module; what each operation's requests
write is rolled back before the next."""

import os

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from bastion.accounts.services import token_issue

EXAMPLES = int(os.environ.get("BASTION_FUZZ_EXAMPLES", "4"))
COVERAGE = os.environ.get("BASTION_FUZZ_COVERAGE", "0") == "1"

CONFIG = SchemathesisConfig.from_dict(
    {
        "phases": {"coverage": {"enabled": COVERAGE}},
        "checks": {
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "401", "403", "404", "409", "422"]
            }
        },
    }
)
schema = schemathesis.openapi.from_wsgi(
    "/api/v1/openapi.json", get_wsgi_application(), config=CONFIG
)


@pytest.fixture(scope="module")
def kept_connections():
    """The requests go through Django's WSGI handler, which closes the database connection
    after each one; inside the test's transaction that would end it (PostgreSQL). Django's
    own test client keeps it the same way."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture(scope="module")
def token(kept_connections, tree_rows, django_db_blocker):
    """A street commander's token on the small tree, made once for the module: the tree is
    inserted in a transaction that ends with the module, rolled back."""
    with django_db_blocker.unblock(), transaction.atomic():
        tree = tree_rows.insert({})
        yield token_issue(user=tree.users["street"])
        transaction.set_rollback(True)


@pytest.mark.django_db  # each operation's writes are rolled back before the next one's
@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_holds(case, token):
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"})
