from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "bastion.orders"
    label = "orders"
    verbose_name = _("Orders")

    def ready(self) -> None:
        from bastion.notices.kinds import mark_urgent
        from bastion.orders.queries import FIGURES, daily_figures
        from bastion.orders.services import ESCALATION_KIND
        from bastion.reports.registry import Figure, register

        mark_urgent(ESCALATION_KIND)  # a call to make now: first in the chief's inbox

        register(
            module="orders",
            order=60,
            figures=[Figure(key, label) for key, label in FIGURES.items()],
            compute=daily_figures,
        )
