"""Reads of mobilization shared by the pages, the API, the exports and the daily report;
everything a user asks for is narrowed by the scope first. Split by concept; callers use this
package's names."""

from bastion.people.mobilization.queries.allowances import (
    CENT,
    LedgerPerson,
    month_ledger,
    months_under,
    payers,
)
from bastion.people.mobilization.queries.common import (
    active_on,
    within,
)
from bastion.people.mobilization.queries.duty import (
    DutyRow,
    Gap,
    ShiftRow,
    access_assignment,
    access_place,
    access_shift,
    may_run,
    my_duties,
    place_figures,
    place_roster,
    places_led,
    places_under,
    roster_gaps,
)
from bastion.people.mobilization.queries.figures import (
    FIGURES,
    daily_figures,
)
from bastion.people.mobilization.queries.pool import (
    CommunityCover,
    communities_short,
    current_deployments,
    deployments_under,
    duty_candidates,
    duty_person,
    extra_cadres,
    pool,
    pool_summary,
    skills_of,
)
from bastion.people.mobilization.queries.report_in import (
    REPORT_IN_SALT,
    community_from_token,
    report_in_token,
    report_ins_under,
)
from bastion.people.mobilization.queries.teams import (
    team_counts,
    teams_under,
)

__all__ = [
    "payers",
    "within",
    "active_on",
    "pool",
    "skills_of",
    "current_deployments",
    "pool_summary",
    "deployments_under",
    "CommunityCover",
    "extra_cadres",
    "communities_short",
    "duty_candidates",
    "duty_person",
    "report_ins_under",
    "REPORT_IN_SALT",
    "report_in_token",
    "community_from_token",
    "places_under",
    "DutyRow",
    "ShiftRow",
    "place_roster",
    "Gap",
    "roster_gaps",
    "my_duties",
    "places_led",
    "place_figures",
    "may_run",
    "access_place",
    "access_shift",
    "access_assignment",
    "teams_under",
    "team_counts",
    "months_under",
    "CENT",
    "LedgerPerson",
    "month_ledger",
    "FIGURES",
    "daily_figures",
]
