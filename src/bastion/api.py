"""The JSON API under /api/v1/: one NinjaAPI, one router per module. A caller logs in with a
bearer token, or with the web UI's session (CSRF-checked on writes)."""

import sys

from ninja import NinjaAPI
from ninja.operation import Operation

from bastion.accounts.api import BearerAuth, SessionAuth
from bastion.core.api_support import register_error_handlers


class BastionAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation: Operation) -> str:
        """`<prefix>_<function>`, the prefix being the API module's `OPERATION_PREFIX` where it
        sets one (a module moved into a sub-package keeps the ids clients were generated
        with), else its dotted path, as ninja names them."""
        view = operation.view_func
        module = sys.modules[view.__module__]
        prefix = getattr(module, "OPERATION_PREFIX", module.__name__.replace(".", "_"))
        return f"{prefix}_{view.__name__}"


api = BastionAPI(
    title="Bastion API",
    version="1",
    urls_namespace="api",
    auth=[BearerAuth(), SessionAuth()],
    docs_url="/docs",
)
register_error_handlers(api)


def _mount() -> None:
    from bastion.accounts.api import router as accounts_router
    from bastion.geo.api import router as geo_router
    from bastion.incidents.api import router as incidents_router
    from bastion.ledgers.api import router as ledgers_router
    from bastion.notices.api import router as notices_router
    from bastion.people.api import router as people_router
    from bastion.people.mobilization.api import router as mobilization_router
    from bastion.reports.api import router as reports_router
    from bastion.requests.api import router as requests_router
    from bastion.screening.api import router as screening_router
    from bastion.testing.custody.api import router as custody_router
    from bastion.testing.finder.api import router as finder_router
    from bastion.testing.results.api import router as results_router
    from bastion.testing.rounds.api import router as rounds_router
    from bastion.testing.scans.api import router as scans_router
    from bastion.testing.scans.api import scan_router

    api.add_router("/testing", scan_router)
    api.add_router("/accounts", accounts_router)
    api.add_router("/geo", geo_router)
    api.add_router("/people", people_router)
    api.add_router("/mobilization", mobilization_router)
    api.add_router("/ledgers", ledgers_router)
    api.add_router("/screening", screening_router)
    api.add_router("/reports", reports_router)
    api.add_router("/testing", rounds_router)
    api.add_router("/testing", results_router)
    api.add_router("/testing", scans_router)
    api.add_router("/testing", finder_router)
    api.add_router("/testing/custody", custody_router)
    api.add_router("/requests", requests_router)
    api.add_router("/incidents", incidents_router)
    api.add_router("/notices", notices_router)


_mount()
