"""The mobilization pages under /people/ (the people app's URL names: `people:pool`...)."""

from django.urls import path

from bastion.people.mobilization.views import allowances, duty, overview, pool, report_in, teams

# Mobilization (issue 6): the pool, deployments, report-in, places and rosters, teams,
# allowances. The report-in form is public (no login).
urlpatterns = [
    path("mobilization/", overview.overview, name="mobilization"),
    path("mobilization/pool/", pool.pool, name="pool"),
    path("mobilization/persons/pick/", duty.person_pick, name="person_pick"),
    path("mobilization/persons/<int:person_id>/", pool.person_duty, name="person_duty"),
    path("mobilization/deployments/", pool.deployments, name="deployments"),
    path(
        "mobilization/deployments/<int:deployment_id>/recall/",
        pool.deployment_recall,
        name="deployment_recall",
    ),
    path("mobilization/coverage/", pool.coverage, name="coverage"),
    path("report-in/", report_in.report_in, name="report_in"),
    path("mobilization/report-ins/", report_in.report_ins, name="report_ins"),
    path("mobilization/report-ins/qr/", report_in.report_in_qr, name="report_in_qr"),
    path(
        "mobilization/report-ins/<int:report_in_id>/",
        report_in.report_in_decide,
        name="report_in_decide",
    ),
    path("mobilization/places/", duty.places, name="places"),
    path("mobilization/places/new/", duty.place_create, name="place_create"),
    path("mobilization/places/<int:place_id>/", duty.place_detail, name="place"),
    path("mobilization/places/<int:place_id>/edit/", duty.place_edit, name="place_edit"),
    path("mobilization/places/<int:place_id>/roster/", duty.roster_build, name="roster_build"),
    path("mobilization/shifts/<int:shift_id>/assign/", duty.shift_assign, name="shift_assign"),
    path("mobilization/assignments/<int:assignment_id>/", duty.assignment_page, name="assignment"),
    path(
        "mobilization/assignments/<int:assignment_id>/remove/",
        duty.assignment_remove,
        name="assignment_remove",
    ),
    path(
        "mobilization/assignments/<int:assignment_id>/swap/",
        duty.assignment_swap,
        name="assignment_swap",
    ),
    path(
        "mobilization/assignments/<int:assignment_id>/transfer/",
        duty.assignment_transfer,
        name="assignment_transfer",
    ),
    path("mobilization/assignments/<int:assignment_id>/check-in/", duty.check_in, name="check_in"),
    path(
        "mobilization/assignments/<int:assignment_id>/check-out/", duty.check_out, name="check_out"
    ),
    path("mobilization/gaps/", duty.gaps, name="gaps"),
    path("mobilization/duty/", duty.my_duty, name="my_duty"),
    path("mobilization/teams/", teams.teams, name="teams"),
    path("mobilization/teams/new/", teams.team_create, name="team_create"),
    path("mobilization/teams/<int:team_id>/", teams.team_detail, name="team"),
    path(
        "mobilization/teams/<int:team_id>/members/<int:person_id>/remove/",
        teams.team_member_remove,
        name="team_member_remove",
    ),
    path("mobilization/allowances/", allowances.allowances, name="allowances"),
    path(
        "mobilization/allowances/<int:month_id>/",
        allowances.allowance_month,
        name="allowance_month",
    ),
    path(
        "mobilization/allowances/<int:month_id>/rates/",
        allowances.allowance_rate,
        name="allowance_rate",
    ),
    path(
        "mobilization/allowances/<int:month_id>/awards/",
        allowances.allowance_award,
        name="allowance_award",
    ),
    path(
        "mobilization/allowances/<int:month_id>/compute/",
        allowances.allowance_compute,
        name="allowance_compute",
    ),
    path(
        "mobilization/allowances/<int:month_id>/close/",
        allowances.allowance_close,
        name="allowance_close",
    ),
    path(
        "mobilization/allowances/<int:month_id>/export/",
        allowances.allowance_export,
        name="allowance_export",
    ),
]
