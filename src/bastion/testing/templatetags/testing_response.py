"""Template helpers of the positive-pool response: a retest's state as a tag, a hold, a
duration in hours, and a resident's holds (for the resident page)."""

from django import template

from bastion.testing.results import response as result_response
from bastion.testing.results.models import RetestState

register = template.Library()

_STATE_CLASS = {
    RetestState.PENDING: "warm",
    RetestState.SAMPLED: "quiet",
    RetestState.NEGATIVE: "ok",
    RetestState.POSITIVE: "hot",
    RetestState.INVALID: "warn",
}


@register.inclusion_tag("testing/_retest_state.html")
def retest_state(retest):
    state = getattr(retest, "state", None) or result_response.state_of(retest)
    return {
        "retest": retest,
        "state": state,
        "label": RetestState(state).label,
        "css": _STATE_CLASS[state],
    }


@register.inclusion_tag("testing/_hold.html")
def hold(retest):
    return {"retest": retest}


@register.filter
def duration(value) -> str:
    return result_response.hours(value)


@register.inclusion_tag("testing/_resident_holds.html", takes_context=True)
def resident_holds(context, resident):
    request = context.get("request")
    user = getattr(request, "user", None)
    holds = result_response.holds_of(user, resident.pk) if user is not None else []
    return {"holds": holds}
