"""Persons, posts and vacancies over JSON (mounted at /api/v1/people).

Thin: rows are fetched through the scope, reads come from people.queries, writes go through
people.services. A chief post already held is refused with 409 naming its holder."""

import datetime as dt
from uuid import UUID

from django.db.models import Q
from ninja import Field, Query, Router, Schema, Status

from bastion.core import scope
from bastion.core.api_support import READ_ERRORS, WRITE_ERRORS, Conflict, get_for_change
from bastion.core.errors import DomainError
from bastion.core.idempotency import create_once
from bastion.core.privacy import personal_data_reveal
from bastion.geo import queries as geo_queries
from bastion.geo.api import NodeRef, RevealIn, RevealOut
from bastion.geo.identity import mask_id_number, mask_mobile
from bastion.geo.models import CommandZone, Household, Node
from bastion.people import queries, services
from bastion.people.models import (
    CHIEF_OF_LEVEL,
    Person,
    PersonKind,
    Post,
    PostRole,
    post_phone,
)

router = Router(tags=["people"])

# Posts of which a node (or a zone) has at most one holder at a time.
SINGLE_HOLDER_ROLES = {*CHIEF_OF_LEVEL.values(), PostRole.ZONE_COMMANDER}
MAX_PAGE = 500


# --------------------------------------------------------------------------------------------
# Schemas
# --------------------------------------------------------------------------------------------


class PersonRef(Schema):
    id: int
    name: str
    phone: str = Field(
        description="Masked, but for a current chief's (street, grid, building, unit), which "
        "the building notice publishes; POST …/persons/{id}/reveal shows the rest in full."
    )


class PersonOut(Schema):
    id: int
    name: str
    kind: str
    phone: str = Field(description="Masked; POST …/reveal shows it in full.")
    id_number: str = Field(description="Masked; empty when unknown.")
    party_member: bool
    employer: str
    home_household_id: int | None
    grid_id: int | None
    place: str
    can_reveal: bool
    client_id: UUID | None


class PostOut(Schema):
    id: int
    role: str
    role_label: str
    person: PersonRef
    node: NodeRef
    zone_id: int | None
    title: str
    started_on: dt.date
    ended_on: dt.date | None
    place: str
    client_id: UUID | None


class PersonPageOut(Schema):
    count: int
    items: list[PersonOut]


class PostPageOut(Schema):
    count: int
    items: list[PostOut]


class PersonDetailOut(PersonOut):
    posts: list[PostOut] = Field(description="The person's current posts the caller may see.")


class PersonIn(Schema):
    name: str
    kind: PersonKind
    phone: str
    id_number: str | None = None
    party_member: bool = False
    home_household_id: int | None = Field(None, description="Where the person lives.")
    node_id: int | None = Field(None, description="Where the person serves, if no home.")
    client_id: UUID | None = Field(
        None, description="Made by the device; a retry with the same id returns the same row."
    )


class PostIn(Schema):
    person_id: int
    role: PostRole
    node_id: int
    zone_id: int | None = Field(None, description="For zone commanders and deputies.")
    title: str = ""
    started_on: dt.date | None = None
    client_id: UUID | None = Field(
        None, description="Made by the device; a retry with the same id returns the same row."
    )


class PostEndIn(Schema):
    ended_on: dt.date | None = Field(None, description="Today when not given.")


class VacantNodeOut(Schema):
    id: int
    name: str
    level: str
    place: str


class VacancyLevelOut(Schema):
    level: str
    role: str
    expected: int
    held: int
    vacant: int
    not_listed: int = Field(description="Vacant nodes beyond the listed ones.")
    nodes: list[VacantNodeOut]


class ZoneRef(Schema):
    id: int
    name: str


class VacanciesOut(Schema):
    node: NodeRef
    levels: list[VacancyLevelOut]
    zones_without_commander: list[ZoneRef]


# --------------------------------------------------------------------------------------------
# Shaping rows
# --------------------------------------------------------------------------------------------


def _node_ref(node: Node) -> dict:
    return {"id": node.pk, "name": node.name, "level": node.level}


def _persons_out(user, persons) -> list[dict]:
    persons = list(persons)
    revealable = queries.revealable_person_ids(user, [p.pk for p in persons])
    places = queries.place_paths(user, persons)
    return [
        {
            "id": p.pk,
            "name": p.name,
            "kind": p.kind,
            "phone": mask_mobile(p.phone),
            "id_number": mask_id_number(p.id_number or ""),
            "party_member": p.party_member,
            "employer": p.employer.name if p.employer else "",
            "home_household_id": p.home_id,
            "grid_id": p.grid_id,
            "place": places[p.pk],
            "can_reveal": p.pk in revealable,
            "client_id": p.client_id,
        }
        for p in persons
    ]


def _posts_out(user, posts) -> list[dict]:
    posts = list(posts)
    places = queries.place_paths(user, posts)
    return [
        {
            "id": p.pk,
            "role": p.role,
            "role_label": str(PostRole(p.role).label),
            "person": {
                "id": p.person_id,
                "name": p.person.name,
                "phone": post_phone(p),
            },
            "node": _node_ref(p.node),
            "zone_id": p.zone_id,
            "title": p.title,
            "started_on": p.started_on,
            "ended_on": p.ended_on,
            "place": places[p.pk],
            "client_id": p.client_id,
        }
        for p in posts
    ]


def _post(user, post_id: int, action: str = scope.VIEW) -> Post:
    qs = Post.objects.select_related("person", "node")
    if action == scope.CHANGE:
        return get_for_change(qs, user, pk=post_id)
    return scope.get_scoped_or_404(qs, user, action, pk=post_id)


# --------------------------------------------------------------------------------------------
# Persons
# --------------------------------------------------------------------------------------------


@router.get("/persons", response={200: PersonPageOut, **READ_ERRORS})
def person_list(
    request,
    node: int | None = None,
    q: str = "",
    limit: int = Query(50, ge=1, le=MAX_PAGE),
    offset: int = Query(0, ge=0),
):
    """Persons the caller may see, by name; optionally in one node's subtree, or matching `q`
    (part of the name, or the last digits of the mobile number: past the last four, what the
    mask shows, only persons the caller may reveal, and logged as a reveal)."""
    persons = Person.objects.restrict(request.user).select_related("employer")
    if node is not None:
        place = geo_queries.node_for(request.user, node)
        persons = persons.filter(**{f"{place.level}_id": place.pk})
    if text := q.strip():
        persons = queries.person_match(request.user, persons, text)
    persons = persons.order_by("name", "id")
    return {
        "count": persons.count(),
        "items": _persons_out(request.user, persons[offset : offset + limit]),
    }


@router.get("/persons/{person_id}", response={200: PersonDetailOut, **READ_ERRORS})
def person_detail(request, person_id: int):
    person = scope.get_scoped_or_404(
        Person.objects.select_related("employer"), request.user, pk=person_id
    )
    posts = queries.current_posts(request.user).filter(person=person).order_by("node__path")
    return {**_persons_out(request.user, [person])[0], "posts": _posts_out(request.user, posts)}


@router.post("/persons", response={201: PersonOut, 200: PersonOut, **WRITE_ERRORS})
def person_create(request, payload: PersonIn):
    """Register a person at their home household (or the node they serve), which the caller
    must be able to change. A retry with the same `client_id` returns the same person (200)."""
    home = node = None
    if payload.home_household_id is not None:
        home = get_for_change(Household, request.user, pk=payload.home_household_id)
    if payload.node_id is not None:
        node = get_for_change(Node, request.user, pk=payload.node_id)
    person, created = create_once(
        Person,
        payload.client_id,
        request.user,
        lambda: services.person_create(
            name=payload.name,
            kind=payload.kind,
            phone=payload.phone,
            id_number=payload.id_number,
            party_member=payload.party_member,
            home=home,
            node=node,
            actor=request.user,
            source="api",
        ),
    )
    return Status(201 if created else 200, _persons_out(request.user, [person])[0])


@router.post("/persons/{person_id}/reveal", response={200: RevealOut, **WRITE_ERRORS})
def person_reveal(request, person_id: int, payload: RevealIn):
    """Show a person's phone or ID number in full (roles that need it only; logged)."""
    person = scope.get_scoped_or_404(Person, request.user, pk=person_id)
    value = personal_data_reveal(user=request.user, subject=person, field=payload.field, via="api")
    return {"field": payload.field, "value": value}


# --------------------------------------------------------------------------------------------
# Posts
# --------------------------------------------------------------------------------------------


@router.get("/posts", response={200: PostPageOut, **READ_ERRORS})
def post_list(
    request,
    node: int | None = None,
    role: PostRole | None = None,
    q: str = "",
    limit: int = Query(50, ge=1, le=MAX_PAGE),
    offset: int = Query(0, ge=0),
):
    """The current posts the caller may see, by place then role; optionally in one node's
    subtree, of one role, or of persons whose name contains `q`."""
    if node is not None:
        place = geo_queries.node_for(request.user, node)
        posts = queries.posts_under(request.user, place, role=role or "", text=q)
    else:
        posts = queries.current_posts(request.user)
        if role:
            posts = posts.filter(role=role)
        if q.strip():
            posts = posts.filter(person__name__contains=q.strip())
        posts = posts.order_by("node__path", "role", "id")
    return {
        "count": posts.count(),
        "items": _posts_out(request.user, posts[offset : offset + limit]),
    }


@router.get("/posts/{post_id}", response={200: PostOut, **READ_ERRORS})
def post_detail(request, post_id: int):
    return _posts_out(request.user, [_post(request.user, post_id)])[0]


def _holder_exists(role: str, node: Node, zone: CommandZone | None) -> bool:
    if role not in SINGLE_HOLDER_ROLES:
        return False
    held = Post.objects.filter(role=role, ended_on__isnull=True)
    where = Q(zone=zone) if role == PostRole.ZONE_COMMANDER and zone else Q(node=node)
    return held.filter(where).exists()


@router.post("/posts", response={201: PostOut, 200: PostOut, **WRITE_ERRORS})
def post_assign(request, payload: PostIn):
    """Bind a person to a node in a role. A post someone already holds is refused with 409
    naming the holder (end that post first); a post that does not fit the node with 422.
    A retry with the same `client_id` returns the same post (200)."""
    node = get_for_change(Node, request.user, pk=payload.node_id)
    person = scope.get_scoped_or_404(Person, request.user, pk=payload.person_id)
    zone = None
    if payload.zone_id is not None:
        zone = scope.get_scoped_or_404(CommandZone, request.user, pk=payload.zone_id)

    def assign() -> Post:
        try:
            return services.post_assign(
                person=person,
                role=payload.role,
                node=node,
                zone=zone,
                title=payload.title,
                started_on=payload.started_on,
                actor=request.user,
                source="api",
            )
        except DomainError as error:
            if _holder_exists(payload.role, node, zone):
                raise Conflict(error.problems) from None
            raise

    post, created = create_once(Post, payload.client_id, request.user, assign)
    post = Post.objects.select_related("person", "node").get(pk=post.pk)
    return Status(201 if created else 200, _posts_out(request.user, [post])[0])


@router.post("/posts/{post_id}/end", response={200: PostOut, **WRITE_ERRORS})
def post_end(request, post_id: int, payload: PostEndIn):
    """End a post (today unless `ended_on` is given). Ending it again on the same day is
    answered with the ended post; a post already ended on another day with 409."""
    post = _post(request.user, post_id, scope.CHANGE)
    ended_on = payload.ended_on or dt.date.today()
    if post.ended_on is None:
        post = services.post_end(post=post, ended_on=ended_on, actor=request.user, source="api")
    elif post.ended_on != ended_on:
        try:
            services.post_end(post=post, ended_on=ended_on, actor=request.user, source="api")
        except DomainError as error:
            raise Conflict(error.problems) from None
    return _posts_out(request.user, [post])[0]


# --------------------------------------------------------------------------------------------
# Vacancies
# --------------------------------------------------------------------------------------------


@router.get("/nodes/{node_id}/vacancies", response={200: VacanciesOut, **READ_ERRORS})
def vacancies(request, node_id: int, limit: int = Query(200, ge=1, le=1000)):
    """Chief posts expected, held and vacant at each chief level of a node's subtree, with the
    first `limit` vacant nodes of each level, and the zones without a commander."""
    node = geo_queries.node_for(request.user, node_id)
    levels = queries.vacancy_report(request.user, node, limit=limit)
    listed = [n for level in levels for n in level.nodes]
    places = queries.place_paths(request.user, listed)
    return {
        "node": _node_ref(node),
        "levels": [
            {
                "level": lv.level,
                "role": lv.role,
                "expected": lv.expected,
                "held": lv.held,
                "vacant": lv.vacant,
                "not_listed": lv.not_listed,
                "nodes": [{**_node_ref(n), "place": places[n.pk]} for n in lv.nodes],
            }
            for lv in levels
        ],
        "zones_without_commander": [
            {"id": z.pk, "name": z.name}
            for z in queries.zones_without_commander(request.user, node)
        ],
    }
