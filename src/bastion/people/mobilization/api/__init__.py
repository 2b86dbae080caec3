"""Mobilization over JSON (mounted at /api/v1/mobilization): the reserve pool, dispatch and
recall, the extra-cadre rule, report-in (its submission is public), places on duty, rosters,
check-in and check-out, organisations at sites, allowances.

Thin: rows are fetched through the scope (a row outside it is 404; one the caller may see but
not act on is 403), reads come from `mobilization.queries`, writes go through
`mobilization.services`. Every write a device may retry carries a client-made id: a retried
check-in, dispatch, place, team or award returns what the first request made.

One router; each concept's module adds its endpoints to it, imported here in the order the
routes are matched."""

from importlib import import_module

from bastion.people.mobilization.api.common import router

# Operation ids predate the split; generated clients keep their method names.
OPERATION_PREFIX = "bastion_people_api_mobilization"

# Each concept adds its endpoints to the router when imported; this order is the order in which
# the routes are listed and matched.
for _concept in ("pool", "report_in", "duty", "teams", "allowances"):
    import_module(f"{__name__}.{_concept}")

__all__ = ["router"]
