"""What the mobilization endpoints share: references to nodes and persons, the node asked for."""

from django.http import Http404
from ninja import Field, Router, Schema

from bastion.core.api_support import (
    ErrorsOut,
)
from bastion.geo import queries as geo_queries
from bastion.geo.identity import mask_mobile
from bastion.geo.models import Node
from bastion.people.models import Person

# Operation ids predate the split; generated clients keep their method names.
OPERATION_PREFIX = "bastion_people_api_mobilization"

router = Router(tags=["mobilization"])
MAX_PAGE = 500


# The public report-in: 422 names a bad field, 429 is the rate limit (applied first); there is
# no 409, so the answer never tells whether an ID number is registered.
PUBLIC_ERRORS = {422: ErrorsOut, 429: ErrorsOut}


class NodeRef(Schema):
    id: int
    name: str
    level: str


class PersonRef(Schema):
    id: int
    name: str
    phone: str = Field(description="Masked.")


def node_ref(node: Node) -> dict:
    return {"id": node.pk, "name": node.name, "level": node.level}


def person_ref(p: Person) -> dict:
    return {"id": p.pk, "name": p.name, "phone": mask_mobile(p.phone)}


def node_or_root(user, node_id: int | None) -> Node:
    if node_id is not None:
        return geo_queries.node_for(user, node_id)
    root = geo_queries.root_nodes(user).first()
    if root is None:
        raise Http404
    return root
