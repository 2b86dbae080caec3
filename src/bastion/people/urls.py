from django.urls import path

from bastion.people import views
from bastion.people import views_mobilization as vm

app_name = "people"
urlpatterns = [
    path("vacancies/", views.vacancy_report, name="vacancies"),
    path("posts/", views.post_list, name="posts"),
    path("posts/assign/", views.post_assign, name="post_assign"),
    path("posts/<int:post_id>/end/", views.post_end, name="post_end"),
    path("persons/search/", views.person_search, name="person_search"),
    path("persons/<int:person_id>/reveal/<str:field>/", views.person_reveal, name="person_reveal"),
    path("buildings/<int:building_id>/notice/", views.building_notice, name="building_notice"),
]

# Mobilization (issue 6): the pool, deployments, report-in, places and rosters, teams,
# allowances. The report-in form is public (no login).
urlpatterns += [
    path("mobilization/", vm.overview, name="mobilization"),
    path("mobilization/pool/", vm.pool, name="pool"),
    path("mobilization/persons/pick/", vm.person_pick, name="person_pick"),
    path("mobilization/persons/<int:person_id>/", vm.person_duty, name="person_duty"),
    path("mobilization/deployments/", vm.deployments, name="deployments"),
    path(
        "mobilization/deployments/<int:deployment_id>/recall/",
        vm.deployment_recall,
        name="deployment_recall",
    ),
    path("mobilization/coverage/", vm.coverage, name="coverage"),
    path("report-in/", vm.report_in, name="report_in"),
    path("mobilization/report-ins/", vm.report_ins, name="report_ins"),
    path("mobilization/report-ins/qr/", vm.report_in_qr, name="report_in_qr"),
    path(
        "mobilization/report-ins/<int:report_in_id>/", vm.report_in_decide, name="report_in_decide"
    ),
    path("mobilization/places/", vm.places, name="places"),
    path("mobilization/places/new/", vm.place_create, name="place_create"),
    path("mobilization/places/<int:place_id>/", vm.place_detail, name="place"),
    path("mobilization/places/<int:place_id>/edit/", vm.place_edit, name="place_edit"),
    path("mobilization/places/<int:place_id>/roster/", vm.roster_build, name="roster_build"),
    path("mobilization/shifts/<int:shift_id>/assign/", vm.shift_assign, name="shift_assign"),
    path("mobilization/assignments/<int:assignment_id>/", vm.assignment_page, name="assignment"),
    path(
        "mobilization/assignments/<int:assignment_id>/remove/",
        vm.assignment_remove,
        name="assignment_remove",
    ),
    path(
        "mobilization/assignments/<int:assignment_id>/swap/",
        vm.assignment_swap,
        name="assignment_swap",
    ),
    path(
        "mobilization/assignments/<int:assignment_id>/transfer/",
        vm.assignment_transfer,
        name="assignment_transfer",
    ),
    path("mobilization/assignments/<int:assignment_id>/check-in/", vm.check_in, name="check_in"),
    path("mobilization/assignments/<int:assignment_id>/check-out/", vm.check_out, name="check_out"),
    path("mobilization/gaps/", vm.gaps, name="gaps"),
    path("mobilization/duty/", vm.my_duty, name="my_duty"),
    path("mobilization/teams/", vm.teams, name="teams"),
    path("mobilization/teams/new/", vm.team_create, name="team_create"),
    path("mobilization/teams/<int:team_id>/", vm.team_detail, name="team"),
    path(
        "mobilization/teams/<int:team_id>/members/<int:person_id>/remove/",
        vm.team_member_remove,
        name="team_member_remove",
    ),
    path("mobilization/allowances/", vm.allowances, name="allowances"),
    path("mobilization/allowances/<int:month_id>/", vm.allowance_month, name="allowance_month"),
    path("mobilization/allowances/<int:month_id>/rates/", vm.allowance_rate, name="allowance_rate"),
    path(
        "mobilization/allowances/<int:month_id>/awards/", vm.allowance_award, name="allowance_award"
    ),
    path(
        "mobilization/allowances/<int:month_id>/compute/",
        vm.allowance_compute,
        name="allowance_compute",
    ),
    path(
        "mobilization/allowances/<int:month_id>/close/", vm.allowance_close, name="allowance_close"
    ),
    path(
        "mobilization/allowances/<int:month_id>/export/",
        vm.allowance_export,
        name="allowance_export",
    ),
]
