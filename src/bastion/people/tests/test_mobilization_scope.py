"""The project's one scope test (web/tests/test_scope_everywhere.py) run over mobilization's
URLs alone: the grid chief of tree.grids[0] asks for every mobilization page and API
operation naming an object of tree.grids[1] — a place, a shift, a rostered duty, a
deployment, a registration, a team, an allowance month — and gets a refusal or nothing of
the other grid, and writes nothing; a login that may see the object is not refused.

The objects are built by `MobilizationOtherGrid` below and the URL parameters that name them
are added to that test's PARAMETERS for the length of this test. The same lines belong in
web/tests/test_scope_everywhere.py (its `test_every_url_parameter_can_be_filled` asks for
them): see MOBILIZATION_PARAMETERS."""

import datetime as dt
import re
from functools import cached_property

import pytest
from django.utils import timezone
from ninja.openapi.schema import OpenAPISchema
from ninja.utils import normalize_path

from bastion.accounts.services import token_issue
from bastion.people import queries, services
from bastion.web.tests import test_scope_everywhere as everywhere


class MobilizationOtherGrid(everywhere.OtherGrid):
    """The other grid's mobilization objects, on top of the shared test's."""

    @cached_property
    def place(self):
        return services.place_create(
            node=self.building, name="其他值守点", kind="guard_point", chief=self.person
        )

    @cached_property
    def shift(self):
        day = timezone.localdate() + dt.timedelta(days=1)
        return services.roster_build(place=self.place, day=day)[0]

    @cached_property
    def colleague(self):
        return services.person_create(
            name="其他同事", kind="cadre", phone="13900000998", home=self.household
        )

    @cached_property
    def assignment(self):
        return services.shift_assign(shift=self.shift, person=self.colleague)

    @cached_property
    def other_assignment(self):
        later = services.roster_build(place=self.place, day=self.shift.day)[1]
        return services.shift_assign(shift=later, person=self.person)

    @cached_property
    def deployment(self):
        today = timezone.localdate()
        dispatch = services.dispatch_create(
            persons=[self.colleague],
            kind="sent_down",
            starts_on=today,
            ends_on=today,
            node=self.grid,
        )
        return dispatch.deployments.get()

    @cached_property
    def report_in(self):
        row, _ = services.report_in_submit(
            community=self.tree.communities[0],
            name=self.resident.name,
            id_number=self.resident.id_number,
            phone="13912345678",
        )
        return row

    @cached_property
    def team(self):
        team = services.team_create(kind="shock_team", name="其他突击队", node=self.grid)
        services.team_member_add(team=team, person=self.person)
        return team

    @cached_property
    def allowance_month(self):
        return services.allowance_month_open(node=self.grid, month=timezone.localdate())


# What web/tests/test_scope_everywhere.py's PARAMETERS needs for mobilization's URLs.
MOBILIZATION_PARAMETERS = {
    "place_id": lambda o: o.place.pk,
    "shift_id": lambda o: o.shift.pk,
    "assignment_id": lambda o: o.assignment.pk,
    "other_assignment_id": lambda o: o.other_assignment.pk,
    "deployment_id": lambda o: o.deployment.pk,
    "report_in_id": lambda o: o.report_in.pk,
    "team_id": lambda o: o.team.pk,
    "month_id": lambda o: o.allowance_month.pk,
    "person_ids": lambda o: [o.person.pk],
}


class MobilizationSchema(OpenAPISchema):
    """The OpenAPI schema of the mobilization router alone (the whole API's is the shared
    test's business; this one does not depend on other routers)."""

    def get_paths(self) -> dict:
        result: dict = {}
        for router in self.api._get_bound_routers():
            if "mobilization" not in (router.prefix or ""):
                continue
            for path, view in router.path_operations.items():
                full = normalize_path(
                    "/" + self.path_prefix + "/".join(i for i in (router.prefix, path) if i)
                )
                full = re.sub(r"{[^}:]+:", "{", full)
                if methods := self.methods(view.operations):
                    result.setdefault(full, {}).update(methods)
        return result


def _openapi() -> dict:
    from bastion.api import api

    return MobilizationSchema(api, api.get_root_path({}))


def mobilization_routes() -> list:
    return [
        r
        for r in everywhere.project_routes()
        if r.name.startswith("people:")
        and ("mobilization" in r.template or "report-in" in r.template)
        or r.template.startswith("api/v1/mobilization/")
    ]


@pytest.fixture
def parameters(monkeypatch):
    for name, fill in MOBILIZATION_PARAMETERS.items():
        monkeypatch.setitem(everywhere.PARAMETERS, name, fill)


def test_every_mobilization_url_parameter_can_be_filled(parameters):
    routes = mobilization_routes()
    assert len(routes) > 60
    assert [r.template for r in routes if not r.fillable()] == []


def test_a_grid_chief_gets_nothing_of_another_grids_mobilization(tree, parameters):
    other = MobilizationOtherGrid(tree)
    openapi = _openapi()
    filler = everywhere.Filler(other, openapi)
    routes = mobilization_routes()
    calls = [call for route in routes for call in everywhere.calls_for(route, filler, openapi)]
    secrets = everywhere.secrets_of(other)
    secrets |= {
        form: v
        for v in ("其他值守点", "其他同事", "其他突击队")
        for form in (v, v.encode("unicode_escape").decode())
    }
    tokens = {
        name: token_issue(user=tree.users[name], label="scope test")
        for name in ("grid", *everywhere.CONTROL_LOGINS)
    }
    clients = everywhere._clients(tree, tokens)
    failures, refused = [], 0
    for call in calls:
        for mode, client_for in clients.items():
            if mode == "bearer" and not call.route.is_api:
                continue
            seen = everywhere.attempt(call, client_for("grid"))
            where = f"{call} [{mode}]"
            if seen.crashed:
                failures.append(f"{where}: crashed: {seen.crashed}")
                continue
            leaked = everywhere.found_in(seen.text, secrets)
            if seen.status not in everywhere.REFUSED and leaked:
                failures.append(f"{where}: {seen.status} shows {leaked[:3]}")
            if seen.wrote and call.carries_other:
                failures.append(f"{where}: {seen.status} but wrote")
            if seen.status not in everywhere.REFUSED or not call.carries_other or not call.control:
                continue
            refused += 1
            answers = []
            for login in everywhere.CONTROL_LOGINS:
                control = everywhere.attempt(call, client_for(login))
                answers.append(f"{login}: {control.crashed or control.status}")
                if control.status not in everywhere.REFUSED and not control.crashed:
                    break
            else:
                failures.append(f"{where}: refused to every login ({', '.join(answers)})")
    assert not failures, f"{len(failures)} of {len(calls)} requests:\n" + "\n".join(failures)
    assert refused >= len([r for r in routes if r.params and r.is_api])
    # The point chief's own page shows nothing of the other grid either.
    assert not queries.places_led(tree.users["grid"]).exists()
