"""The JSON API under /api/v1/: one NinjaAPI, one router per module, bearer-token auth."""

from ninja import NinjaAPI

from bastion.accounts.api import BearerAuth

api = NinjaAPI(
    title="Bastion API",
    version="1",
    urls_namespace="api",
    auth=BearerAuth(),
    docs_url="/docs",
)


def _mount() -> None:
    from bastion.geo.api import router as geo_router
    from bastion.ledgers.api import router as ledgers_router
    from bastion.people.api import router as people_router
    from bastion.reports.api import router as reports_router
    from bastion.screening.api import router as screening_router

    api.add_router("/geo", geo_router)
    api.add_router("/people", people_router)
    api.add_router("/ledgers", ledgers_router)
    api.add_router("/screening", screening_router)
    api.add_router("/reports", reports_router)


_mount()
