"""The change log: who changed what, when, written by the services themselves."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from bastion.geo.models import Located


class ChangeLog(Located):
    """One recorded change to a resident, household, post or status (NetBox's ObjectChange).
    Located on the changed row's place so that history is scoped like the row."""

    CREATE, UPDATE, DELETE = "create", "update", "delete"

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+"
    )
    action = models.CharField(max_length=10)
    object_type = models.CharField(max_length=40)  # "<app>.<model>"
    object_id = models.BigIntegerField()
    object_repr = models.CharField(max_length=200)
    changes = models.JSONField(default=dict)  # {field: [old, new]}
    source = models.CharField(max_length=20, default="web")  # web, api, import, demo

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(action__in=["create", "update", "delete"]), name="changelog_action"
            )
        ]
