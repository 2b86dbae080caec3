"""What every module's tables stand on: the levels of the jurisdiction tree, the located row
(ancestor columns, scoped by `core.scope`) and the change log, written by the services
themselves."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from bastion.core.levels import LEVEL_ORDER
from bastion.core.scope import ScopedQuerySet


class Located(models.Model):
    """Ancestor ids copied onto a row, one column per level, so that counting and scoping
    filter on one indexed column instead of walking the tree (DESIGN.md §3). A row hanging on
    a node of level L has the columns down to L filled and the rest empty."""

    city = models.ForeignKey("geo.Node", models.PROTECT, related_name="+", null=True)
    district = models.ForeignKey("geo.Node", models.PROTECT, related_name="+", null=True)
    street = models.ForeignKey("geo.Node", models.PROTECT, related_name="+", null=True)
    community = models.ForeignKey("geo.Node", models.PROTECT, related_name="+", null=True)
    grid = models.ForeignKey("geo.Node", models.PROTECT, related_name="+", null=True)
    building = models.ForeignKey("geo.Node", models.PROTECT, related_name="+", null=True)
    unit = models.ForeignKey("geo.Node", models.PROTECT, related_name="+", null=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        abstract = True

    def locate(self, node: "Located") -> None:
        """Fill the ancestor columns from `node` (a tree node, or any located row)."""
        for level in LEVEL_ORDER:
            setattr(self, f"{level}_id", getattr(node, f"{level}_id"))


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

    def __str__(self) -> str:
        return f"{self.action} {self.object_type} #{self.object_id}"


class ClientKey(models.Model):
    """The fingerprint of the request that first used a client-made id for a row of `model`
    (`core.idempotency.create_once`): a retry with the same id and the same request gets the
    first row back; the same id with a different request is refused (409), as payment APIs do
    with idempotency keys."""

    model = models.CharField(max_length=100)  # "app_label.model"
    client_id = models.UUIDField()
    fingerprint = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["model", "client_id"], name="core_clientkey_once")
        ]
        # Keys past the retry window are deleted on each write (`core.idempotency`).
        indexes = [models.Index(fields=["created_at"], name="core_clientkey_created")]

    def __str__(self) -> str:
        return f"{self.model} {self.client_id}"
