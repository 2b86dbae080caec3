from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "bastion.orders"
    label = "orders"
    verbose_name = _("Orders")

    def ready(self) -> None:
        from bastion.incidents.response.registry import register_opener
        from bastion.notices.kinds import mark_urgent
        from bastion.orders.queries import FIGURES, daily_figures
        from bastion.orders.services import ESCALATION_KIND, response_order_issue
        from bastion.reports.registry import Figure, register

        mark_urgent(ESCALATION_KIND)  # a call to make now: first in the chief's inbox
        register_opener("order", response_order_issue)  # the outbreak response's order

        register(
            module="orders",
            order=60,
            figures=[Figure(key, label) for key, label in FIGURES.items()],
            compute=daily_figures,
        )
