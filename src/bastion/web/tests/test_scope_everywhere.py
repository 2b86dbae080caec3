"""One scope test over every URL of the project (NetBox's shared view test, DESIGN.md §7).

The grid chief of `tree.grids[0]` asks for every URL that names an object, filled in with an
object of `tree.grids[1]`'s subtree, and every list page with `?node=<that grid>` — through
the web session and through a bearer token, with every method the URL answers. Each answer
must be a refusal (403/404) or hold none of the other grid's resident names, ID numbers,
place names or staff; and no request may write anything. As the negative control, each
request the grid chief was refused is repeated as a login that may see the object (the street
commander, else the other grid's own chief, else the city administrator), which must not be
refused — so a wrong id in the table below cannot make the test pass by itself.

The same sweep runs from each of VIEWPOINTS: a building chief against the sibling building
of the same grid, a community's staff against the sibling community, and a volunteer (who may
view their grid but change nothing) trying every write on their own grid: each must be
refused (403/404) with nothing written, and the grid chief must get through.

The URLs are found by walking `bastion.urls` (the ninja API included); nothing is listed by
hand. API requests get their query and body from the OpenAPI schema, ids filled from the same
table. A URL whose parameter cannot be filled fails `test_every_url_parameter_can_be_filled`
(and is left out of the sweep until it can). To extend:
- PARAMETERS: parameter name → the other grid's object of that kind (built in `OtherGrid`);
- ROUTE_PARAMETERS: one URL whose parameter names another kind than its name says;
- PAGE_QUERIES: query parameters (besides ?node=) a page reads that name an object;
- PAGE_FORMS: form fields a page's POST reads that name an object;
- EXEMPT: URLs that are their own credential (no login), with the reason."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern
from django.utils import timezone

from bastion.accounts.models import ApiToken, RevealLog
from bastion.accounts.services import token_issue
from bastion.accounts.testing import SmallTree, login
from bastion.core.models import ChangeLog, Located
from bastion.geo import services as geo_services
from bastion.geo.models import Household, Node, Resident
from bastion.people import services as people_services
from bastion.people.mobilization import services as mobilization
from bastion.people.models import Post


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Photos the setup and the requests upload go to a scratch folder."""
    settings.MEDIA_ROOT = tmp_path / "media"


# --------------------------------------------------------------------------------------------
# The objects of the other grid, one per kind of object a URL may name. Built when first used.
# --------------------------------------------------------------------------------------------


@dataclass
class OtherGrid:
    """The objects of one subtree of the small tree, `root`: the other grid (`tree.grids[1]`)
    by default, or a sibling building or community, or the volunteer's own grid. `owner` is a
    login of that subtree: it makes what a chief makes there, and owns its token and notice."""

    tree: SmallTree
    root: Node | None = None
    owner: User | None = None

    def __post_init__(self):
        self.root = self.root or self.tree.grids[1]

    def _first(self, nodes: list[Node]) -> Node:
        """The first of `nodes` in the root's subtree or above the root."""
        path = self.root.path
        return next(n for n in nodes if n.path.startswith(path) or path.startswith(n.path))

    @property
    def community(self) -> Node:
        return self._first(self.tree.communities)

    @property
    def grid(self) -> Node:
        return self._first(self.tree.grids)

    @property
    def building(self) -> Node:
        return self._first(self.tree.buildings)

    @property
    def buildings(self) -> list[Node]:
        """Up to two buildings of the subtree (a site's or a command zone's)."""
        return [b for b in self.tree.buildings if b.path.startswith(self.root.path)][:2]

    @property
    def unit(self) -> Node:
        return self._first(self.tree.units)

    @property
    def area(self) -> Node:
        """Where an object that may hang on any node goes: the root when it lies below a
        grid (a building), else its grid. (Campaigns, call lists and rounds cover a grid or
        more: they go on the grid, which a building's chief shares with the sibling.)"""
        return self.root if self.root.level == "building" else self.grid

    @property
    def chief(self):
        return self.owner or self.tree.users["other_grid"]

    @cached_property
    def household(self) -> Household:
        return Household.objects.filter(unit=self.unit).order_by("room").first()

    @cached_property
    def resident(self) -> Resident:
        return self.household.residents.order_by("id").first()

    @cached_property
    def person(self):
        return people_services.person_create(
            name="李其他", kind="cadre", phone="13900000999", home=self.household
        )

    @cached_property
    def post(self) -> Post:
        return people_services.post_assign(
            person=self.person, role="building_chief", node=self.building
        )

    @cached_property
    def zone(self):
        return geo_services.zone_create(
            street=self.tree.street,
            name="其他指挥区",
            kind="independent",
            buildings=self.buildings,
        )

    @cached_property
    def token(self) -> ApiToken:
        token_issue(user=self.chief, label="other grid's phone")
        return ApiToken.objects.filter(user=self.chief).latest("id")

    @cached_property
    def import_job(self):
        """A finished import of the other grid, rejected with its problems listed."""
        from bastion.ledgers.services import import_job_create, import_run

        content = f"姓名,身份证号\n{self.resident.name},{self.resident.id_number}\n".encode()
        job = import_job_create(
            user=self.chief, node=self.area, filename="其他.csv", content=content
        )
        job = import_run(job_id=job.pk)
        assert job.errors, "the other grid's import job should list problems"
        return job

    @cached_property
    def campaign(self):
        from bastion.screening.services import campaign_open

        today = dt.date.today()
        return campaign_open(
            actor=self.chief,
            node=self.grid,
            name="其他敲门",
            starts_on=today - dt.timedelta(days=1),
            ends_on=today + dt.timedelta(days=1),
        )

    @cached_property
    def call_list(self):
        """A pharmacy list with one row matched to the other grid's resident (it opens a
        callback) and one row nobody matches."""
        from bastion.screening.services import call_list_import

        header = "姓名,身份证号,手机号,地址,药品类别,购药时间,药店"
        rows = [
            f"{self.resident.name},{self.resident.id_number},,,退烧,,",
            "查无此人,,13600000000,,退烧,,",
        ]
        content = "\n".join([header, *rows]).encode("utf-8-sig")
        return call_list_import(
            actor=self.tree.users["street"],
            node=self.grid,
            kind="pharmacy",
            filename="药店.csv",
            content=content,
        )

    @cached_property
    def call_row(self):
        return self.call_list.rows.exclude(status="matched").order_by("id").first()

    @cached_property
    def callback(self):
        from bastion.screening.models import Callback

        return Callback.objects.get(call_row__call_list=self.call_list)

    @cached_property
    def follow_up(self):
        from bastion.screening.models import FollowUp
        from bastion.screening.services import callback_record

        callback_record(
            actor=self.chief, callback=self.callback, client_id=uuid.uuid4(), fever_now=True
        )
        return FollowUp.objects.get(callback=self.callback)

    # mass testing: a round over the other grid, a site there with one open station, and a
    # tube holding one of its residents
    @cached_property
    def testing_round(self):
        from bastion.testing.rounds.services import round_open

        now = timezone.now()
        return round_open(
            actor=self.chief,
            node=self.grid,
            name="其他轮次",
            starts_at=now - dt.timedelta(hours=1),
            ends_at=now + dt.timedelta(hours=8),
            pool_size=5,
        )

    @cached_property
    def site(self):
        from bastion.testing.rounds.services import site_create

        return site_create(
            actor=self.chief,
            node=self.area,
            name="其他采样点",
            address="其他广场",
            opens_at=dt.time(6),
            closes_at=dt.time(20),
            buildings=self.buildings,
        )

    @cached_property
    def station(self):
        from bastion.testing.rounds.services import station_add, station_open

        station = station_add(actor=self.chief, site=self.site, name="1号台")
        station_open(actor=self.chief, station=station, round=self.testing_round)
        return station

    @cached_property
    def tube(self):
        from bastion.testing.models import Tube
        from bastion.testing.scans.batch import ScanInput
        from bastion.testing.scans.services import scans_record

        [outcome] = scans_record(
            actor=self.chief,
            station=self.station,
            items=[
                ScanInput(client_id=uuid.uuid4(), tube="T-OTHER-1", code=self.resident.id_number)
            ],
        )
        assert outcome.status == "accepted", outcome
        return Tube.objects.get(barcode="T-OTHER-1")

    # chain of custody: the tube closed and packed into a sealed bag, boxed at the site
    @cached_property
    def bag(self):
        from bastion.testing.custody.services import bag_open, bag_seal, tube_pack
        from bastion.testing.scans.services import tube_close

        tube_close(actor=self.chief, tube=self.tube)
        bag = bag_open(
            actor=self.chief, round=self.testing_round, site=self.site, barcode="BAG-OTHER-1"
        )
        tube_pack(actor=self.chief, bag=bag, barcode=self.tube.barcode)
        return bag_seal(actor=self.chief, bag=bag, counted=1)

    @cached_property
    def box(self):
        from bastion.testing.custody.services import bag_box, box_open

        box = box_open(
            actor=self.chief, round=self.testing_round, site=self.site, barcode="BOX-OTHER-1"
        )
        bag_box(actor=self.chief, box=box, barcode=self.bag.barcode)
        return box

    @cached_property
    def handover(self):
        from bastion.testing.custody.handovers import Party, box_handover, party_of

        return box_handover(
            actor=self.chief,
            box=self.box,
            leg="pickup",
            giver=party_of(self.chief),
            taker=Party(name="司机", phone="13900000000"),
            client_id=uuid.uuid4(),
        )

    # requests: a household's request (with a photo) on the agenda of its community's
    # meeting, an errand, and the household's secret link
    @cached_property
    def link(self):
        from bastion.requests.services import link_issue

        return link_issue(actor=self.tree.users["street"], household=self.household)

    @cached_property
    def meeting(self):
        from bastion.requests.services import meeting_schedule

        return meeting_schedule(
            actor=self.tree.users["street"],
            community=self.community,
            title="其他议事会",
            starts_at=timezone.now() + dt.timedelta(days=7),
        )

    @cached_property
    def request(self):
        from bastion.core.photos import photos_check
        from bastion.requests.services import request_create, request_triage
        from bastion.requests.tests.conftest import png_upload

        request = request_create(
            actor=self.tree.users["street"],
            household=self.household,
            channel="phone",
            category="drainage",
            title="其他网格的下水道",
            contact_phone="13912345678",
            photos=photos_check([png_upload()]),
        )
        self.meeting  # noqa: B018 - the consult track joins the community's next meeting
        request = request_triage(actor=self.tree.users["street"], request=request, track="consult")
        assert request.meeting_id == self.meeting.pk, "the request should be on the agenda"
        return request

    @cached_property
    def photo(self):
        return self.request.photos.order_by("id").first()

    @cached_property
    def errand(self):
        from bastion.requests.services import ItemInput, errand_order

        return errand_order(
            actor=self.tree.users["street"],
            household=self.household,
            urgency="medicine",
            items=[ItemInput("布洛芬")],
        )

    # mobilization: a guard point on the
    # building with a roster, two duties on it, a deployment to the grid, a registration of
    # one of its residents, a team and an allowance month
    @cached_property
    def place(self):
        return mobilization.place_create(
            node=self.building, name="其他值守点", kind="guard_point", chief=self.person
        )

    @cached_property
    def shift(self):
        day = timezone.localdate() + dt.timedelta(days=1)
        return mobilization.roster_build(place=self.place, day=day)[0]

    @cached_property
    def colleague(self):
        return people_services.person_create(
            name="其他同事", kind="cadre", phone="13900000998", home=self.household
        )

    @cached_property
    def assignment(self):
        return mobilization.shift_assign(shift=self.shift, person=self.colleague)

    @cached_property
    def other_assignment(self):
        later = mobilization.roster_build(place=self.place, day=self.shift.day)[1]
        return mobilization.shift_assign(shift=later, person=self.person)

    @cached_property
    def deployment(self):
        today = timezone.localdate()
        dispatch = mobilization.dispatch_create(
            persons=[self.colleague],
            kind="sent_down",
            starts_on=today,
            ends_on=today,
            node=self.area,
        )
        return dispatch.deployments.get()

    @cached_property
    def report_in(self):
        row, _ = mobilization.report_in_submit(
            community=self.community,
            name=self.resident.name,
            id_number=self.resident.id_number,
            phone="13912345678",
        )
        return row

    @cached_property
    def team(self):
        team = mobilization.team_create(kind="shock_team", name="其他突击队", node=self.area)
        mobilization.team_member_add(team=team, person=self.person)
        return team

    @cached_property
    def allowance_month(self):
        return mobilization.allowance_month_open(node=self.area, month=timezone.localdate())

    # control areas: the other grid's building sealed
    @cached_property
    def control_area(self):
        from bastion.incidents.services import control_set

        return control_set(
            actor=self.tree.users["street"], node=self.building, level="sealed", reason="其他封控"
        )

    # the outbreak response: a case in the other grid's unit, confirmed into its bundle
    @cached_property
    def case(self):
        from bastion.incidents.response.services import case_record

        return case_record(actor=self.tree.users["street"], node=self.unit, name=self.resident.name)

    @cached_property
    def bundle(self):
        from bastion.incidents.response.services import case_confirm

        return case_confirm(actor=self.tree.users["street"], case=self.case)

    # daily report: a recomputation of the grid's figures, queued (the page follows it)
    @cached_property
    def recompute_task(self) -> str:
        from bastion.reports.tasks import report_recompute_enqueue

        return report_recompute_enqueue(node=self.grid)

    # notices: a notification about the other grid (naming its resident), delivered to its chief
    @cached_property
    def notification(self):
        from bastion.notices.services import Recipient, notification_send

        return notification_send(
            kind="test.alert",
            title="其他网格通知",
            body=f"{self.resident.name} 原地等待",
            node=self.area,
            recipients=[Recipient(user_id=self.chief.pk, reason="grid_chief")],
        )

    @cached_property
    def delivery(self):
        return self.notification.deliveries.get()

    # orders: the other command's order (with a file) to a unit chief there, who is the
    # owner's own person, reported done with a photo
    @cached_property
    def order(self):
        from bastion.core.photos import photos_check
        from bastion.orders.services import order_done, order_issue
        from bastion.requests.tests.conftest import png_upload

        person = people_services.person_create(
            name="赵其他", kind="cadre", phone="13900000997", home=self.household
        )
        person.user = self.chief
        person.save(update_fields=["user"])
        people_services.post_assign(person=person, role="unit_chief", node=self.unit)
        order = order_issue(
            actor=self.chief,
            node=self.area,
            title="其他网格的指令",
            roles=["unit_chief"],
            due_at=timezone.now() + dt.timedelta(hours=6),
            attachments=[png_upload("其他.png")],
        )
        order_done(
            actor=self.chief,
            recipient=order.recipients.get(),
            note="已完成",
            photo=photos_check([png_upload()])[0],
        )
        return order

    # supervision: the other command's team inspecting its guard point, a finding with its
    # evidence photo (the point chief is the owner's person)
    @cached_property
    def finding(self):
        from bastion.core.photos import photos_check
        from bastion.requests.tests.conftest import png_upload
        from bastion.supervision import services as supervision

        team = supervision.team_create(
            actor=self.chief, node=self.area, name="其他督查组", members=[self.person]
        )
        item = supervision.checklist_item_add(
            actor=self.chief, node=self.area, kind="guard_point", text="其他检查项"
        )
        inspection = supervision.inspection_record(
            actor=self.chief,
            team=team,
            place=self.place,
            findings=[
                supervision.FindingIn(
                    severity="major",
                    item=item,
                    text="其他问题",
                    photos=photos_check([png_upload()]),
                )
            ],
        )
        return inspection.findings.get()

    # checkpoints: a checkpoint and a gate of the other grid, a truck checked there whose
    # driver is the other grid's resident, and that resident through the gate
    @cached_property
    def checkpoint(self):
        return mobilization.place_create(node=self.grid, name="其他卡口", kind="checkpoint")

    @cached_property
    def gate(self):
        from bastion.checkpoints.services import PassageInput, passages_record

        gate = mobilization.place_create(node=self.grid, name="其他小区门", kind="guard_point")
        item = PassageInput(client_id=uuid.uuid4(), direction="in", resident_id=self.resident.pk)
        passages_record(actor=self.chief, gate=gate, items=[item])
        return gate

    @cached_property
    def cp_entry(self):
        from bastion.checkpoints.models import Entry
        from bastion.checkpoints.services import EntryInput, OccupantInput, entries_record

        driver = OccupantInput(
            name=self.resident.name, doc_kind="id_card", doc_number=self.resident.id_number,
            phone=self.resident.phone, health_code="green", temperature="36.5",
            decision="quarantine", driver=True,
        )  # fmt: skip
        item = EntryInput(
            client_id=uuid.uuid4(), kind="truck", plate="晋A54321", occupants=[driver]
        )
        [outcome] = entries_record(actor=self.chief, place=self.checkpoint, items=[item])
        return Entry.objects.get(pk=outcome.id)

    @cached_property
    def station_visit(self):
        """A driver's visit to the service station at the other grid's checkpoint."""
        from bastion.checkpoints.station.services import station_visit_record

        return station_visit_record(actor=self.chief, place=self.checkpoint, plate="晋A65432")

    @cached_property
    def loop_pass(self):
        """A closed-loop pass of a driver let through the other grid's checkpoint, to it."""
        from bastion.checkpoints.loop.services import loop_pass_issue
        from bastion.checkpoints.models import Occupant
        from bastion.checkpoints.services import EntryInput, OccupantInput, entries_record

        driver = OccupantInput(
            name="赵司机", doc_kind="id_card", doc_number="11010519491231002X",
            health_code="green", temperature="36.5", decision="escort", driver=True,
        )  # fmt: skip
        item = EntryInput(
            client_id=uuid.uuid4(), kind="truck", plate="晋A65432", occupants=[driver]
        )
        [outcome] = entries_record(actor=self.chief, place=self.checkpoint, items=[item])
        return loop_pass_issue(
            actor=self.chief,
            occupant=Occupant.objects.get(entry_id=outcome.id),
            destination=self.grid,
            address="其他网格仓库",
            contact_name="钱经理",
            contact_phone="13700137000",
        )

    # quarantine: a hotel on the other grid, its residents in a double room (their home the
    # other grid), one checked and with an incident, the other released (for the notice);
    # made by the street, which commands the site
    @cached_property
    def q_site(self):
        return self.hotel  # the transfers' quarantine hotel of the other grid

    @cached_property
    def q_room(self):
        from bastion.quarantine import services as quarantine

        street = self.tree.users["street"]
        [room] = quarantine.rooms_create(
            actor=street, place=self.q_site, rooms=[quarantine.RoomInput("A", 1, "101", 2)]
        )
        return room

    @cached_property
    def q_stay(self):
        from bastion.quarantine import services as quarantine

        street = self.tree.users["street"]
        stay = quarantine.stay_admit(
            actor=street, place=self.q_site, room_id=self.q_room.pk, source="positive",
            resident=self.resident,
        )  # fmt: skip
        quarantine.check_record(actor=street, stay=stay, temperature="36.5")
        quarantine.incident_record(
            actor=street, stay=stay, kind="illness", what="其他头痛", done="其他已处置"
        )
        return stay

    @cached_property
    def q_released(self):
        from bastion.quarantine import services as quarantine

        street = self.tree.users["street"]
        mate = self.household.residents.exclude(pk=self.resident.pk).order_by("id").first()
        stay = quarantine.stay_admit(
            actor=street, place=self.q_site, room_id=self.q_room.pk, source="positive",
            resident=mate,
        )  # fmt: skip
        return quarantine.stay_release(actor=street, stay=stay, reason="其他提前解除")

    # home measures: the other grid's resident at home, with a morning report
    @cached_property
    def home_measure(self):
        from bastion.quarantine.home import services as home

        street = self.tree.users["street"]
        today = timezone.localdate()
        measure = home.measure_place(
            actor=street, kind="isolation", starts_on=today - dt.timedelta(days=1),
            ends_on=today + dt.timedelta(days=6), reason="其他密接", source="close_contact",
            resident=self.resident,
        )  # fmt: skip
        home.report_record(
            actor=street, measure=measure, temperature="36.5", day=today - dt.timedelta(days=1),
            half="am",
        )  # fmt: skip
        return measure

    # transfers: someone taken from the other grid's guard point to a hospital; a quarantine
    # hotel of the other grid
    @cached_property
    def transfer(self):
        from bastion.incidents.transfers.services import transfer_plan

        return transfer_plan(
            actor=self.chief, name="其他转运人", doc_kind="id_card",
            doc_number="11010519491231002X", from_place=self.place,
            destination="hospital", to_hospital="其他医院", reason="fever", plate="晋A54321",
        )  # fmt: skip

    @cached_property
    def hotel(self):
        return mobilization.place_create(
            node=self.grid, name="其他隔离酒店", kind="quarantine_site"
        )


# How to fill each URL parameter (path, query or body field): its name → the value, taken from
# the other grid. Add a line here when a new URL names a new kind of object.
PARAMETERS: dict[str, Callable[[OtherGrid], object]] = {
    # nodes
    "node_id": lambda o: o.root.pk,
    "node": lambda o: o.root.pk,  # ?node= of lists and exports, "node" form fields
    "grid_id": lambda o: o.grid.pk,
    "building_id": lambda o: o.building.pk,
    "unit_id": lambda o: o.unit.pk,
    # rows of the tree
    "household_id": lambda o: o.link.household_id,  # a household with a secret link
    "home_household_id": lambda o: o.household.pk,
    "resident_id": lambda o: o.resident.pk,
    "zone_id": lambda o: o.zone.pk,
    # people
    "person_id": lambda o: o.person.pk,
    "post_id": lambda o: o.post.pk,
    # logins
    "token_id": lambda o: o.token.pk,
    # ledgers
    "job_id": lambda o: o.import_job.pk,
    "dataset": lambda o: "residents",
    # screening
    "campaign_id": lambda o: o.campaign.pk,
    "list_id": lambda o: o.call_list.pk,
    "row_id": lambda o: o.call_row.pk,
    "callback_id": lambda o: o.callback.pk,
    "follow_up_id": lambda o: o.follow_up.pk,
    # mass testing
    "round_id": lambda o: o.testing_round.pk,
    "site_id": lambda o: o.site.pk,
    "station_id": lambda o: o.station.pk,
    "tube_id": lambda o: o.tube.pk,
    "barcode": lambda o: o.tube.barcode,
    "bag_id": lambda o: o.bag.pk,
    "box_id": lambda o: o.box.pk,
    "handover_id": lambda o: o.handover.pk,
    "which": lambda o: "to",  # a hand-over's side
    # requests
    "request_id": lambda o: o.request.pk,
    "meeting_id": lambda o: o.meeting.pk,
    "community_id": lambda o: o.community.pk,  # the other grid's community
    "errand_id": lambda o: o.errand.pk,
    "courier_id": lambda o: o.colleague.pk,
    # mobilization
    "place_id": lambda o: o.place.pk,
    "shift_id": lambda o: o.shift.pk,
    "assignment_id": lambda o: o.assignment.pk,
    "other_assignment_id": lambda o: o.other_assignment.pk,
    "deployment_id": lambda o: o.deployment.pk,
    "report_in_id": lambda o: o.report_in.pk,
    "team_id": lambda o: o.team.pk,
    "month_id": lambda o: o.allowance_month.pk,
    "person_ids": lambda o: [o.person.pk],
    # control areas
    "area_id": lambda o: o.control_area.pk,
    # the outbreak response
    "case_id": lambda o: o.case.pk,
    "bundle_id": lambda o: o.bundle.pk,
    "task_id": lambda o: o.bundle.tasks.get(kind="delivery").pk,
    # notices
    "notification_id": lambda o: o.notification.pk,
    "delivery_id": lambda o: o.delivery.pk,
    # orders
    "order_id": lambda o: o.order.pk,
    "attachment_id": lambda o: o.order.attachments.get().pk,
    "recipient_id": lambda o: o.order.recipients.get().pk,
    # supervision
    "finding_id": lambda o: o.finding.pk,
    "photo_id": lambda o: o.finding.photos.get().pk,
    "item_id": lambda o: o.finding.item_id,
    "failed_item_ids": lambda o: [o.finding.item_id],
    "member_ids": lambda o: [o.person.pk],
    "leader_id": lambda o: o.person.pk,
    "data": lambda o: json.dumps(
        {"team_id": o.finding.inspection.team_id, "place_id": o.place.pk, "findings": []}
    ),
    # checkpoints
    "checkpoint_id": lambda o: o.cp_entry.place_id,
    "gate_id": lambda o: o.gate.pk,
    "entry_id": lambda o: o.cp_entry.pk,
    "plate": lambda o: o.cp_entry.plate,
    "occupant_id": lambda o: o.cp_entry.occupants.get().pk,
    "pass_id": lambda o: o.loop_pass.pk,
    "visit_id": lambda o: o.station_visit.pk,
    "code": lambda o: o.loop_pass.code,
    "destination_id": lambda o: o.grid.pk,
    # quarantine
    "quarantine_id": lambda o: o.q_stay.place_id,
    "room_id": lambda o: o.q_room.pk,
    "stay_id": lambda o: o.q_stay.pk,
    "home_node_id": lambda o: o.grid.pk,
    "call_row_id": lambda o: o.call_list.rows.order_by("row").first().pk,
    "measure_id": lambda o: o.home_measure.pk,
    # transfers
    "transfer_id": lambda o: o.transfer.pk,
    "from_place_id": lambda o: o.checkpoint.pk,
    "to_place_id": lambda o: o.hotel.pk,
    # values that are not objects
    "field": lambda o: "phone",
    "whose": lambda o: "household",
}

# Where one URL's parameter names another kind of object than the name says: URL name →
# {parameter: value}. (Better: name the parameter after its object, e.g. building_id.)
ROUTE_PARAMETERS: dict[str, dict[str, Callable[[OtherGrid], object]]] = {
    "geo:building": {"node_id": lambda o: o.building.pk},
    "testing:codes": {"node_id": lambda o: o.unit.pk},
    "requests:detail": {"pk": lambda o: o.request.pk},
    "requests:act": {"pk": lambda o: o.request.pk, "action": lambda o: "assign"},
    "requests:photo": {"pk": lambda o: o.photo.pk},
    "requests:meeting": {"pk": lambda o: o.meeting.pk},
    "requests:meeting_assign": {"pk": lambda o: o.meeting.pk},
    "requests:minutes": {"pk": lambda o: o.meeting.pk},
    "requests:errand": {"pk": lambda o: o.errand.pk},
    "requests:errand_act": {"pk": lambda o: o.errand.pk, "action": lambda o: "accept"},
    "requests:phone": {"pk": lambda o: o.request.pk},
    "requests:errand_phone": {"pk": lambda o: o.errand.pk},
    "requests:link_act": {"action": lambda o: "renew"},
    # daily reports are of a grid or a larger area
    **{
        name: {"node_id": lambda o: o.grid.pk}
        for name in (
            "api:report",
            "api:dashboard",
            "api:export",
            "api:recompute",
            "reports:dashboard",
            "reports:export",
            "reports:recompute",
        )
    },
    "quarantine:stay_act": {"stay_id": lambda o: o.q_stay.pk, "action": lambda o: "incident"},
    "quarantine:notice": {"stay_id": lambda o: o.q_released.pk},
    "reports:recompute_status": {
        "node_id": lambda o: o.grid.pk,
        "task_id": lambda o: o.recompute_task,
    },
}

# Query parameters a page reads that name an object (besides ?node=, which every page without
# an object in its path is asked with): URL name → {parameter: value}.
PAGE_QUERIES: dict[str, dict[str, Callable[[OtherGrid], object]]] = {
    "supervision:inspect": {
        "team": lambda o: o.finding.inspection.team_id,
        "target": lambda o: f"place:{o.place.pk}",
        "mode": lambda o: "planned",
    },
    "testing:tube_find": {"barcode": lambda o: o.tube.barcode},
    "checkpoints:loop_confirm": {"code": lambda o: o.loop_pass.code},
    "transfers:plan": {"resident": lambda o: o.resident.pk},
    "testing:custody_find": {"barcode": lambda o: o.bag.barcode},
}

# Form fields a page's POST reads that name an object: URL name → {field: value}. Without
# them the form is refused as incomplete (422) before the right to change is asked.
PAGE_FORMS: dict[str, dict[str, Callable[[OtherGrid], object]]] = {
    "supervision:patrols": {"building": lambda o: o.building.pk},
    "supervision:inspect": {
        "team": lambda o: o.finding.inspection.team_id,
        "target": lambda o: f"place:{o.place.pk}",
        "mode": lambda o: "planned",
    },
    "orders:new": {
        "node": lambda o: o.area.pk,
        "roles": lambda o: "unit_chief",
        "title": lambda o: "新指令",
        "priority": lambda o: "routine",
        "ack_minutes": lambda o: 30,
        "due_at": lambda o: (timezone.localtime() + dt.timedelta(hours=6)).strftime(
            "%Y-%m-%dT%H:%M"
        ),
    },
    "quarantine:checks": {"stay_id": lambda o: o.q_stay.pk, "temperature": lambda o: "36.6"},
    "quarantine:home_due": {
        "measure_id": lambda o: o.home_measure.pk,
        "temperature": lambda o: "36.6",
        "half": lambda o: "pm",
    },
    "transfers:plan": {
        "resident": lambda o: o.resident.pk,
        "destination": lambda o: "hospital",
        "to_hospital": lambda o: "某医院",
        "reason": lambda o: "fever",
    },
    "testing:custody_bag_open": {"site": lambda o: o.site.pk, "barcode": lambda o: "BAG-NEW-1"},
    "incidents:case_new": {"node": lambda o: o.unit.pk, "name": lambda o: "新病例"},
    "incidents:disinfection_new": {
        "node": lambda o: o.unit.pk,
        "place": lambda o: "楼道",
        "agent": lambda o: "含氯消毒液",
        "person": lambda o: "张三",
    },
    "testing:custody_box_open": {"site": lambda o: o.site.pk, "barcode": lambda o: "BOX-NEW-1"},
    "checkpoints:loop_confirm": {"code": lambda o: o.loop_pass.code},
}

# URLs this test does not ask, each with the reason: URL name → why. Only for pages whose URL is
# itself the credential (e.g. a household's secret link, used without a login): their own
# tests must show that one link never reaches another household's data.
_HOME = (
    "the household's secret link (its token in the URL, no login); that a token reaches its "
    "own household only: requests/tests/test_home.py::test_home_shows_own_household_only"
)
_MINE = (
    "the household's API (X-Household-Token, no login); that a token reaches its own "
    "household only: requests/tests/test_home.py::test_household_api"
)
_REPORT_IN = (
    "the public report-in form (no login, the community's QR token); it names no object and "
    "shows nothing back but the registrant's own receipt"
)
EXEMPT: dict[str, str] = {
    "requests:home": _HOME,
    "requests:home_request_new": _HOME,
    "requests:home_request": _HOME,
    "requests:home_errand_new": _HOME,
    "requests:home_errand": _HOME,
    "requests:home_act": _HOME,
    "requests:home_photo": _HOME,
    "api:home": _MINE,
    "api:home_request_create": _MINE,
    "api:home_request_detail": _MINE,
    "api:home_request_photos": _MINE,
    "api:home_request_rate": _MINE,
    "api:home_request_reopen": _MINE,
    "api:home_errand_order": _MINE,
    "api:home_errand_detail": _MINE,
    "api:home_errand_confirm": _MINE,
    "api:home_errand_cancel": _MINE,
    "people:report_in": _REPORT_IN,
    "quarantine:home_household": (
        "the household's secret link (requests' token, no login); that a token reaches its own "
        "household's home measures only: quarantine/home/tests/test_pages.py::"
        "test_the_household_reports_from_its_own_link"
    ),
    "api:report_in_submit": _REPORT_IN,
}

# Parameter names that say nothing of their object: a global entry for them would be a guess.
GENERIC_NAMES = {"pk", "id", "slug", "token", "key", "kind", "action"}

# Parameters that name no object: a URL with only these is also asked with ?node=.
VALUE_PARAMETERS = {"dataset", "field", "which", "whose"}

REFUSED = {401, 403, 404}

# --------------------------------------------------------------------------------------------
# The URLs
# --------------------------------------------------------------------------------------------

_PARAM_RE = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")


@dataclass(frozen=True)
class Route:
    template: str  # "geo/resident/<int:resident_id>/"
    name: str
    unfillable: str = ""  # why the test cannot build this URL, if it cannot

    @property
    def params(self) -> list[str]:
        return [m["name"] for m in _PARAM_RE.finditer(self.template)]

    @property
    def is_api(self) -> bool:
        return self.template.startswith("api/")

    @property
    def openapi_path(self) -> str:
        return "/" + _PARAM_RE.sub(lambda m: "{" + m["name"] + "}", self.template)

    def fillable(self) -> bool:
        overrides = ROUTE_PARAMETERS.get(self.name, {})
        return not self.unfillable and all(p in PARAMETERS or p in overrides for p in self.params)

    def url(self, values: dict[str, object]) -> str:
        return "/" + _PARAM_RE.sub(lambda m: str(values[m["name"]]), self.template)


def _piece(pattern) -> tuple[str, str]:
    """A URL pattern as a route template, and why it cannot be filled in (if so)."""
    if isinstance(pattern, RoutePattern):
        return str(pattern), ""
    if isinstance(pattern, RegexPattern):
        regex = pattern.regex
        text = pattern._regex.lstrip("^").rstrip("$")
        if regex.groups != len(regex.groupindex):
            return text, "an unnamed regex group"
        text = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"<\1>", text)
        return text.replace("\\", ""), ""
    return str(pattern), ""  # a language prefix


def project_routes() -> list[Route]:
    """Every URL pattern of the project, once per route template."""
    found: dict[str, Route] = {}

    def walk(patterns, prefix: str, namespace: str, unfillable: str) -> None:
        for p in patterns:
            piece, why = _piece(p.pattern)
            if isinstance(p, URLResolver):
                inner = f"{namespace}{p.namespace}:" if p.namespace else namespace
                walk(p.url_patterns, prefix + piece, inner, unfillable or why)
            elif isinstance(p, URLPattern):
                template = prefix + piece
                name = f"{namespace}{p.name or ''}"
                found.setdefault(template, Route(template, name, unfillable or why))

    walk(get_resolver().url_patterns, "", "", "")
    return list(found.values())


def _openapi() -> dict:
    """The API's OpenAPI schema, each operation with the schemas it names under "x-schemas".
    Schema names are global in OpenAPI: two routers' `AssignIn` (or `RateIn`) are one entry of
    its components, and one router's bodies would be filled from the other's, refused as
    invalid (422) before any scope check."""
    from ninja.openapi.schema import OpenAPISchema

    from bastion.api import api

    class PerOperation(OpenAPISchema):
        def methods(self, operations: list) -> dict:
            result = {}
            for op in operations:
                kept, self.schemas = self.schemas, {}
                found = super().methods([op])
                for details in found.values():
                    details["x-schemas"] = dict(self.schemas)
                self.schemas = kept | self.schemas
                result.update(found)
            return result

    return PerOperation(api, api.get_root_path({}))


# --------------------------------------------------------------------------------------------
# Requests
# --------------------------------------------------------------------------------------------


@dataclass
class Call:
    route: Route
    method: str
    path: str
    query: dict = field(default_factory=dict)
    json_body: dict | None = None
    form: dict | None = None
    carries_other: bool = True  # names an object of the other grid
    # Whether some login must get through (the negative control). Not for the ?node= tried
    # on every page without an object in its path: a page may not read it.
    control: bool = True

    def __str__(self) -> str:
        query = "?" + "&".join(f"{k}={v}" for k, v in self.query.items()) if self.query else ""
        return f"{self.method} {self.path}{query}"

    def send(self, client: Client):
        if self.form is not None:
            for value in self.form.values():
                if hasattr(value, "seek"):
                    value.seek(0)  # the same upload is sent by every login
            return client.post(self.path, self.form, query_params=self.query)
        if self.json_body is not None:
            return client.generic(
                self.method,
                self.path,
                json.dumps(self.json_body),
                content_type="application/json",
                query_params=self.query,
            )
        return client.generic(self.method, self.path, query_params=self.query)


class Filler:
    """Builds the values of a request from the other grid and an operation's schema."""

    def __init__(self, other: OtherGrid, schema: dict):
        self.other = other
        self.components = schema.get("components", {}).get("schemas", {})
        self.own: dict = {}  # the schemas of the operation being filled (see _openapi)

    def named(self, name: str):
        try:
            return PARAMETERS[name](self.other)
        except Exception as error:
            error.add_note(
                f"Building the other grid's {name!r} failed: fix its entry in "
                f"PARAMETERS or OtherGrid in {__file__}."
            )
            raise

    def _resolve(self, schema: dict) -> dict:
        while "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            schema = self.own.get(name) or self.components[name]
        for key in ("anyOf", "oneOf"):
            if key in schema:
                options = [s for s in schema[key] if s.get("type") != "null"]
                return self._resolve(options[0]) if options else {"type": "null"}
        if "allOf" in schema and len(schema["allOf"]) == 1:
            return self._resolve(schema["allOf"][0])
        return schema

    def value(self, name: str, schema: dict, *, files: bool = False):
        if name in PARAMETERS:
            return self.named(name)
        if name == "client_id":
            return str(uuid.uuid4())
        schema = self._resolve(schema)
        kind, fmt = schema.get("type"), schema.get("format")
        if "enum" in schema:
            return schema["enum"][0]
        if kind == "object":
            return self.body(schema, files=files)
        if kind == "array":  # a batch: one item, so that the batch reaches the scope check
            return [self.value("", schema.get("items", {}), files=files)]
        if kind == "integer":
            return max(1, schema.get("minimum", 1))
        if kind == "number":
            return 1
        if kind == "boolean":
            return False
        if fmt == "binary":
            return SimpleUploadedFile("名单.csv", "姓名\n某人\n".encode(), "text/csv")
        if fmt == "date":
            return dt.date.today().isoformat()
        if fmt == "date-time":
            return dt.datetime.now(dt.UTC).isoformat()
        if fmt == "time":
            return "08:00:00"
        if fmt == "uuid":
            return str(uuid.uuid4())
        return "居民"

    def body(self, schema: dict, *, files: bool = False) -> dict:
        schema = self._resolve(schema)
        required = set(schema.get("required", []))
        return {
            name: self.value(name, prop, files=files)
            for name, prop in schema.get("properties", {}).items()
            if name in required or name in PARAMETERS
        }


def _names_object(values) -> bool:
    """Whether a query, form or body (at any depth) holds an id of the other grid."""
    if isinstance(values, dict):
        return any(
            (k in PARAMETERS and k not in VALUE_PARAMETERS) or _names_object(v)
            for k, v in values.items()
        )
    if isinstance(values, list):
        return any(_names_object(v) for v in values)
    return False


def calls_for(route: Route, filler: Filler, openapi: dict) -> list[Call]:
    """The requests to make for one URL pattern."""
    overrides = ROUTE_PARAMETERS.get(route.name, {})
    values = {
        name: overrides[name](filler.other) if name in overrides else filler.named(name)
        for name in route.params
    }
    path = route.url(values)
    names_object = any(p not in VALUE_PARAMETERS for p in route.params)
    node = {"node": filler.named("node")}
    if not route.is_api:
        calls = [Call(route, "GET", path, carries_other=names_object)]
        if names_object:
            form = {k: f(filler.other) for k, f in PAGE_FORMS.get(route.name, {}).items()}
            calls.append(Call(route, "POST", path, form=form))
        else:
            calls.append(Call(route, "GET", path, query=node, control=False))
        if route.name in PAGE_QUERIES:
            query = {k: f(filler.other) for k, f in PAGE_QUERIES[route.name].items()}
            calls.append(Call(route, "GET", path, query=query))
        return calls
    calls = []
    operations = openapi["paths"].get(route.openapi_path, {})
    for method, operation in operations.items():
        filler.own = operation.get("x-schemas", {})
        query = {}
        for param in operation.get("parameters", []):
            if param["in"] == "query" and (param.get("required") or param["name"] in PARAMETERS):
                query[param["name"]] = filler.value(param["name"], param.get("schema", {}))
        content = operation.get("requestBody", {}).get("content", {})
        json_body = form = None
        if "application/json" in content:
            json_body = filler.body(content["application/json"]["schema"])
        elif "multipart/form-data" in content:
            form = filler.body(content["multipart/form-data"]["schema"], files=True)
        elif method.upper() in ("POST", "PUT", "PATCH"):
            json_body = {}
        carries = names_object or _names_object(query) or _names_object(json_body or form)
        call = Call(
            route,
            method.upper(),
            path,
            query=query,
            json_body=json_body,
            form=form,
            carries_other=carries,
        )
        calls.append(call)
        if method == "get" and not names_object and "node" not in query:
            calls.append(Call(route, "GET", path, query={**query, **node}, control=False))
    if not operations:  # the schema, the docs, the root: plain GETs
        calls = [Call(route, "GET", path, carries_other=False)]
    return calls


# --------------------------------------------------------------------------------------------
# Answers
# --------------------------------------------------------------------------------------------


def _decode(raw: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


def answer_text(response) -> str:
    """Everything a person could read in an answer: the body, or each part of a zip (.xlsx)."""
    if getattr(response, "streaming", False):
        # The test client closes the response when its iterator is used up, with Django's
        # close_old_connections unhooked. Closing it again here would fire that hook inside
        # the test's transaction, and on PostgreSQL it drops the connection.
        raw = b"".join(response.streaming_content)
    else:
        raw = response.content
    texts = [_decode(raw)]
    if raw[:2] == b"PK":
        try:
            with zipfile.ZipFile(io.BytesIO(raw)) as archive:
                texts += [_decode(archive.read(n)) for n in archive.namelist()]
        except zipfile.BadZipFile:
            pass
    return "\n".join(texts)


def secrets_of(other: OtherGrid) -> dict[str, str]:
    """What must never reach the asker: the sibling's residents' names and ID and phone
    numbers, its place names, and its staff. Each also as JSON writes it (\\uXXXX),
    mapped to the plain value for the report."""
    within = {other.root.level: other.root}
    residents = Resident.objects.filter(**within)
    values = [v for r in residents for v in (r.name, r.id_number, r.phone)]
    # Unit names repeat in every building; community names are public (the site finder
    # lists them, with no login).
    places = Node.objects.filter(**within).exclude(level__in=["unit", "community"])
    values += list(places.values_list("name", flat=True))
    values += [other.person.name, other.colleague.name, other.place.name, other.team.name]
    values += [other.q_site.name]
    return {form: v for v in values for form in (v, json.dumps(v)[1:-1])}


def found_in(text: str, secrets: dict[str, str]) -> list[str]:
    return sorted({plain for form, plain in secrets.items() if form in text})


def fingerprint() -> tuple:
    """Counts that any write the grid chief must not make would change: every located
    table, the change and reveal logs, revoked tokens and ended posts."""
    existing = set(connection.introspection.table_names())
    tables = sorted({m._meta.db_table for m in _located_models()} & existing)
    counts = ", ".join(f'(SELECT COUNT(*) FROM "{t}")' for t in tables)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {counts}")  # noqa: S608 - table names from the models
        located = cursor.fetchone()
    return (
        located,
        ChangeLog.objects.count(),
        RevealLog.objects.count(),
        ApiToken.objects.filter(revoked_at__isnull=False).count(),
        Post.objects.filter(ended_on__isnull=False).count(),
    )


def _located_models():
    from django.apps import apps

    return [m for m in apps.get_models() if issubclass(m, Located) and not m._meta.proxy]


@dataclass
class Outcome:
    status: int
    text: str
    wrote: bool
    crashed: str = ""


def attempt(call: Call, client_factory: Callable[[], Client]) -> Outcome:
    """Make one request in a savepoint that is rolled back, so requests never see each
    other's writes; tell what came back and whether anything was written."""
    with transaction.atomic():
        before = fingerprint()
        client = client_factory()
        try:
            response = call.send(client)
        except Exception as error:  # a crash is a failure, whoever asks
            transaction.set_rollback(True)
            return Outcome(500, "", False, f"{type(error).__name__}: {error}")
        outcome = Outcome(response.status_code, answer_text(response), fingerprint() != before)
        transaction.set_rollback(True)
    return outcome


# --------------------------------------------------------------------------------------------
# The tests
# --------------------------------------------------------------------------------------------


def test_every_url_parameter_can_be_filled():
    routes = project_routes()
    problems = [
        f"EXEMPT names {name!r}, which is no URL name (any more)"
        for name in set(EXEMPT) - {r.name for r in routes}
    ]
    problems += [
        f"EXEMPT gives no reason for {name!r}" for name, why in EXEMPT.items() if not why.strip()
    ]
    for route in routes:
        if route.name in EXEMPT:
            continue
        if route.unfillable:
            problems.append(f"{route.template!r} ({route.name}): {route.unfillable}")
        for param in route.params:
            if param in PARAMETERS or param in ROUTE_PARAMETERS.get(route.name, {}):
                continue
            route_entry = f"ROUTE_PARAMETERS[{route.name!r}] = {{{param!r}: ...}}"
            if param in ("action", "kind", "slug"):
                advice = f"add {route_entry} with a value the URL accepts"
            elif param in ("token", "key"):
                advice = (
                    f"add {route_entry}, or, if the URL itself is the credential (no login), "
                    f"EXEMPT[{route.name!r}] with the reason and a test of its own"
                )
            elif param in GENERIC_NAMES:
                advice = (
                    f"name the parameter after its object (e.g. <int:errand_id>), or add "
                    f"{route_entry}"
                )
            else:
                advice = (
                    f"add {param!r} to PARAMETERS (the id of such an object in "
                    f"tree.grids[1]'s subtree; build it in OtherGrid)"
                )
            problems.append(
                f"{route.template!r} ({route.name}) takes <{param}>, which the scope test "
                f"cannot fill: {advice} in {__file__}."
            )
    assert not problems, "\n".join(problems)


def _clients(users: dict[str, User], tokens: dict[str, str]):
    """Client factories per (auth mode, login)."""

    def session(username: str) -> Callable[[], Client]:
        def make() -> Client:
            client = Client()
            client.force_login(users[username])
            return client

        return make

    def bearer(username: str) -> Callable[[], Client]:
        return lambda: Client(headers={"authorization": f"Bearer {tokens[username]}"})

    return {"session": session, "bearer": bearer}


@dataclass(frozen=True)
class Viewpoint:
    """Who asks, and of which subtree. A sibling login must get nothing of the sibling; the
    volunteer, who may view their own grid, tries every write there and must be refused."""

    asker: str  # a login of the small tree
    sibling: Callable[[SmallTree], Node]  # the subtree whose ids fill the URLs
    owner: str  # a login of that subtree: makes its objects, and is a control
    owner_role: str = ""  # if set, `owner` is made here with this role on the subtree
    writes_only: bool = False


VIEWPOINTS = {
    "grid chief, sibling grid": Viewpoint("grid", lambda t: t.grids[1], "other_grid"),
    "building chief, sibling building": Viewpoint(
        "building", lambda t: t.buildings[1], "other_building", "building_chief"
    ),
    "community, sibling community": Viewpoint(
        "community", lambda t: t.communities[1], "other_community", "community_staff"
    ),
    "volunteer, every write on own grid": Viewpoint(
        "volunteer", lambda t: t.grids[0], "grid", writes_only=True
    ),
}

WRITES = {"POST", "PUT", "PATCH", "DELETE"}
# The writes a volunteer may make, each with the reason: URL name → why.
VOLUNTEER_MAY: dict[str, str] = {
    "api:token_list": "POST issues the volunteer's own API token",
}


def _a_read(call: Call, seen: Outcome, client_factory: Callable[[], Client]) -> bool:
    """Whether a page answered a POST as a page that takes no writes: 405, or the very page
    its GET shows (a view that does not look at the method), and nothing written."""
    if seen.wrote:
        return False
    if seen.status == 405:
        return True
    if seen.status != 200:
        return False
    read = attempt(Call(call.route, "GET", call.path, query=call.query), client_factory)
    token = re.compile(r"\b[A-Za-z0-9]{64}\b")  # the CSRF token, masked anew each time
    return read.status == 200 and token.sub("", read.text) == token.sub("", seen.text)


def test_volunteer_may_names_urls():
    assert set(VOLUNTEER_MAY) <= {r.name for r in project_routes()}


@pytest.mark.parametrize("viewpoint", list(VIEWPOINTS.values()), ids=list(VIEWPOINTS))
def test_no_login_reaches_what_it_may_not_anywhere(tree, viewpoint):
    users = dict(tree.users)
    if viewpoint.owner_role:
        users[viewpoint.owner] = login(
            viewpoint.owner, viewpoint.owner_role, viewpoint.sibling(tree)
        )
    other = OtherGrid(tree, root=viewpoint.sibling(tree), owner=users[viewpoint.owner])
    openapi = _openapi()
    filler = Filler(other, openapi)
    routes = [r for r in project_routes() if r.fillable() and r.name not in EXEMPT]
    if viewpoint.writes_only:
        routes = [r for r in routes if r.name not in VOLUNTEER_MAY]
    calls = [call for route in routes for call in calls_for(route, filler, openapi)]
    if viewpoint.writes_only:
        calls = [call for call in calls if call.method in WRITES]
    secrets = secrets_of(other)
    controls = tuple(dict.fromkeys(("street", viewpoint.owner, "admin")))
    tokens = {
        name: token_issue(user=users[name], label="scope test")
        for name in (viewpoint.asker, *controls)
    }
    clients = _clients(users, tokens)
    # A volunteer is refused for want of the right to change, not for want of sight: 403/404.
    refusals = {403, 404} if viewpoint.writes_only else REFUSED

    failures: list[str] = []
    control_saw_secrets = 0
    refused = 0
    for call in calls:
        for mode, client_for in clients.items():
            if mode == "bearer" and not call.route.is_api:
                continue  # pages take the session only; a token there is just anonymous
            seen = attempt(call, client_for(viewpoint.asker))
            where = f"{call} [{mode}]"
            if seen.crashed:
                failures.append(f"{where}: crashed for {viewpoint.asker}: {seen.crashed}")
                continue
            if viewpoint.writes_only:
                if not call.route.is_api and _a_read(call, seen, client_for(viewpoint.asker)):
                    continue  # a page that takes no writes (405, or POST answered as GET)
                if seen.status not in refusals:
                    failures.append(f"{where}: a volunteer's write answered {seen.status}")
                if seen.wrote:
                    failures.append(f"{where}: {seen.status} but a volunteer wrote")
            else:
                leaked = found_in(seen.text, secrets)
                if seen.status not in refusals and leaked:
                    failures.append(f"{where}: {seen.status} shows the sibling's {leaked[:3]}")
                if seen.wrote and call.carries_other:
                    failures.append(f"{where}: {seen.status} but wrote to the database")
                if not call.carries_other:
                    continue
            if seen.status not in refusals or not call.control:
                continue
            refused += 1
            tried = []
            for login_name in controls:
                control = attempt(call, client_for(login_name))
                tried.append(f"{login_name}: {control.crashed or control.status}")
                if control.status not in REFUSED and not control.crashed:
                    control_saw_secrets += bool(found_in(control.text, secrets))
                    break
            else:
                failures.append(
                    f"{where}: refused to every login ({', '.join(tried)}); the URL never "
                    f"reaches the object, so the refusal proves nothing — check its entry in "
                    f"PARAMETERS"
                )
    assert not failures, f"{len(failures)} of {len(calls)} requests:\n" + "\n".join(failures)
    # The control: the requests were real, and logins that may see the data do see it.
    api_routes = [r for r in routes if r.params and r.is_api]
    if viewpoint.writes_only:
        api_routes = [r for r in api_routes if any(c.route == r for c in calls)]
    assert refused >= len(api_routes)
    assert control_saw_secrets > 0, "no control answer showed the sibling's data"
