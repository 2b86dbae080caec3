"""The inbox link with its unread count, for the top bar."""

from django import template

from bastion.notices.queries import unread_count

register = template.Library()


@register.inclusion_tag("notices/_badge.html", takes_context=True)
def inbox_badge(context):
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"show": False}
    return {"show": True, "unread": unread_count(user)}
