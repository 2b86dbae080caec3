"""A resident's transfers on their page (`{% resident_transfers resident %}`)."""

from django import template

from bastion.core import scope
from bastion.incidents.transfers import queries

register = template.Library()


@register.inclusion_tag("incidents/transfers/_resident.html", takes_context=True)
def resident_transfers(context, resident):
    user = context["request"].user
    rows = queries.transfers_of(user, resident)[:20]
    return {
        "resident": resident,
        "cards": [queries.transfer_card(user, t) for t in rows],
        "can_plan": scope.allows(user, scope.CHANGE, resident),
    }
