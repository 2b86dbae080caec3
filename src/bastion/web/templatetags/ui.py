"""Template helpers shared by every page: the main navigation, node links, masked numbers."""

from dataclasses import dataclass

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from bastion.accounts.queries import user_name
from bastion.core import scope
from bastion.geo.identity import mask_document, mask_id_number, mask_mobile
from bastion.geo.models import Level
from bastion.incidents.models import WHAT_APPLIES, ControlLevel
from bastion.incidents.queries import level_over_rows

register = template.Library()


# The nav's groups, in the order the phone menu lists them.
WORK, PEOPLE, DATA, ADMIN = _("Field work"), _("People and posts"), _("Data"), _("Administration")


@dataclass(frozen=True)
class NavItem:
    url_name: str
    label: str
    action: str | None = scope.VIEW  # shown only to logins holding a role that grants it
    group: str = WORK


# Pages of other modules appear as soon as their URL names exist; until then they are skipped.
NAV = (
    NavItem("web:home", _("Home"), None),
    NavItem("geo:search", _("Find resident")),
    NavItem("reports:index", _("Daily report")),
    NavItem("screening:index", _("Door-knock")),
    NavItem("testing:index", _("Testing")),
    NavItem("requests:index", _("Requests")),
    NavItem("orders:index", _("Orders")),
    NavItem("supervision:index", _("Supervision")),
    NavItem("checkpoints:index", _("Checkpoints")),
    NavItem("quarantine:index", _("Quarantine")),
    NavItem("quarantine:home_index", _("Home measures")),
    NavItem("transfers:index", _("Transfers")),
    NavItem("people:posts", _("Posts"), group=PEOPLE),
    NavItem("people:vacancies", _("Vacancies"), group=PEOPLE),
    NavItem("people:mobilization", _("Mobilization"), group=PEOPLE),
    NavItem("ledgers:import", _("Import"), scope.CHANGE, group=DATA),
    NavItem("ledgers:export", _("Export"), group=DATA),
    NavItem("accounts:changes", _("Changes"), scope.ADMIN, group=ADMIN),
    NavItem("accounts:reveal_log", _("Reveal log"), scope.ADMIN, group=ADMIN),
)


def nav_links(user, path: str, items: tuple[NavItem, ...] = NAV) -> list[dict]:
    """The links of `items` this login may follow, skipping pages that do not exist yet."""
    links = []
    for item in items:
        if item.action and not scope.has_action(user, item.action):
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        active = path == url if url == "/" else path.startswith(url)
        links.append({"url": url, "label": item.label, "active": active, "group": item.group})
    return links


@register.inclusion_tag("web/_nav.html", takes_context=True)
def main_nav(context):
    """On a wide screen the field-work and people pages in a bar, data and administration
    under "More"; on a phone one "Menu" button opening the grouped list, so a dozen links do
    not scroll sideways under a thumb."""
    request = context["request"]
    links = nav_links(request.user, request.path)
    groups: dict[str, list[dict]] = {}
    for link in links:
        groups.setdefault(link["group"], []).append(link)
    current = next((link["label"] for link in links if link["active"]), "")
    primary = [link for link in links if link["group"] in (WORK, PEOPLE)]
    more = [link for link in links if link["group"] not in (WORK, PEOPLE)]
    return {
        "primary": primary,
        "more": more,
        "more_active": any(link["active"] for link in more),
        "groups": groups.items(),
        "current": current,
    }


@register.filter
def node_url(node) -> str:
    """A node's page: the building view for a building, the node page for the rest."""
    name = "geo:building" if node.level == "building" else "geo:node"
    return reverse(name, args=[node.pk])


@register.filter
def masked_id(number: str) -> str:
    return mask_id_number(number or "")


@register.filter
def masked_phone(number: str) -> str:
    return mask_mobile(number or "")


@register.filter
def masked_doc(number: str) -> str:
    """Any identity document number, masked (ID numbers as `masked_id`)."""
    return mask_document(number or "")


@register.simple_tag
def optional_url(url_name: str, *args) -> str:
    """The URL of a page another module may not provide yet; empty when it does not exist."""
    try:
        return reverse(url_name, args=args)
    except NoReverseMatch:
        return ""


@register.filter
def level_label(level: str | None) -> str:
    """The translated name of a tree level ("grid" → 网格)."""
    return Level(level).label if level else ""


@register.filter
def who(user) -> str:
    """A login as people know it: its person's name, else its full name, else the login."""
    return user_name(user)


# --------------------------------------------------------------------------- control levels
# The control level (sealed / controlled / precaution) over a person, household, building or
# errand, wherever one appears. A list reads the levels of all its rows in one query first
# (`{% control_levels rows %}`); a badge then uses what was read, or reads its one row.


def _located(row):
    return row[0] if isinstance(row, (tuple, list)) else row


@register.simple_tag
def control_levels(rows) -> str:
    """Read the level over each of `rows` (located rows, or tuples led by one) in one query
    and keep it on the row for `control_badge` / `control_level_of`."""
    located = [_located(r) for r in rows]
    for row, level in zip(located, level_over_rows(located), strict=True):
        row.control_level = level
    return ""


@register.simple_tag
def control_level_of(row) -> ControlLevel | None:
    """The level over one located row (read before by `control_levels`, else now)."""
    if not hasattr(row, "control_level"):
        row.control_level = level_over_rows([row])[0]
    return ControlLevel(row.control_level) if row.control_level else None


@register.inclusion_tag("incidents/_badge.html")
def control_badge(row):
    """A small tag in the level's colour (nothing when no level applies)."""
    return {"level": control_level_of(row)}


@register.filter
def what_applies(level) -> str:
    """What a control level means for the people under it."""
    return WHAT_APPLIES.get(level, "") if level else ""
