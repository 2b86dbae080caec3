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

The number of examples per operation is bounded (`EXAMPLES`) so that the whole run stays
within a minute; set BASTION_FUZZ_EXAMPLES to search longer."""

import os

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from bastion.accounts.services import token_issue

EXAMPLES = int(os.environ.get("BASTION_FUZZ_EXAMPLES", "4"))

CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "401", "403", "404", "409", "422"]
            }
        }
    }
)
schema = schemathesis.openapi.from_wsgi(
    "/api/v1/openapi.json", get_wsgi_application(), config=CONFIG
)


@pytest.fixture
def token(tree):
    return token_issue(user=tree.users["street"])


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_holds(case, token):
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"})
