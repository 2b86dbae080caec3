"""Notifications in the system: one `Notification` (what happened, where on the tree, what it
is about) delivered to each of its recipients as one `Delivery` with its own read time, so the
sender sees who has read it and who has not.

A notification is `Located` on the node it concerns, so the command sees (and only sees) the
notifications of its area. A delivery goes to a person (who may have no login yet: a grid
chief is notified by post) and to their login where there is one; the inbox of a login is its
own deliveries and those of its person. A source object (`source_type` as "app.model",
`source_id`) makes a notification idempotent: one per kind per source, one delivery per
recipient."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from bastion.core.models import Located
from bastion.notices.kinds import is_urgent


class Notification(Located):
    kind = models.CharField(_("kind"), max_length=40)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), blank=True)
    link = models.CharField(_("link"), max_length=300, blank=True)
    node = models.ForeignKey(
        "geo.Node", models.PROTECT, related_name="+", verbose_name=_("concerns")
    )
    source_type = models.CharField(max_length=60, blank=True)  # "testing.tube"
    source_id = models.BigIntegerField(null=True, blank=True)
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("sent at"), default=timezone.now)
    # A notification the system writes carries its text in every language of the UI
    # ({"en": [title, body], ...}), each reader sees their own; a person's message has none.
    texts = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "source_type", "source_id"],
                condition=Q(source_id__isnull=False),
                name="notification_once_per_source",
            ),
            models.CheckConstraint(condition=~Q(title=""), name="notification_has_title"),
        ]
        indexes = [models.Index(fields=["source_type", "source_id"])]

    def __str__(self) -> str:
        return self.title

    def _shown(self) -> tuple[str, str]:
        language = translation.get_language() or settings.LANGUAGE_CODE
        text = self.texts.get(language) or self.texts.get(language.split("-")[0])
        return tuple(text) if text else (self.title, self.body)

    @property
    def shown_title(self) -> str:
        """The title in the reader's language (the active one), where the system wrote it so."""
        return self._shown()[0]

    @property
    def shown_body(self) -> str:
        return self._shown()[1]

    @property
    def urgent(self) -> bool:
        """A kind that must stand out from routine ones (`notices.kinds`)."""
        return is_urgent(self.kind)


class Delivery(models.Model):
    """One recipient of a notification, and when they read it (null: unread)."""

    notification = models.ForeignKey(Notification, models.CASCADE, related_name="deliveries")
    person = models.ForeignKey(
        "people.Person", models.PROTECT, null=True, blank=True, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(_("as"), max_length=40, blank=True)  # why they got it
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        ordering = ["notification_id", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(person__isnull=False) | Q(user__isnull=False),
                name="delivery_has_recipient",
            ),
            models.UniqueConstraint(
                fields=["notification", "person"],
                condition=Q(person__isnull=False),
                name="delivery_once_per_person",
            ),
            models.UniqueConstraint(
                fields=["notification", "user"],
                condition=Q(user__isnull=False),
                name="delivery_once_per_user",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "read_at"], name="delivery_user_read"),
            models.Index(fields=["person", "read_at"], name="delivery_person_read"),
        ]

    def __str__(self) -> str:
        return f"{self.notification_id} → {self.person_id or ''}/{self.user_id or ''}"
