import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings

from bastion.accounts.services import token_issue

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())


@pytest.fixture
def token(tree):
    return token_issue(user=tree.users["street"])


@schema.parametrize()
@settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck))
def test_api(case, token):
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"})
