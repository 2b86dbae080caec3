from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RequestsConfig(AppConfig):
    name = "bastion.requests"
    label = "requests"
    verbose_name = _("Requests and errands")

    def ready(self) -> None:
        from bastion.incidents.response.registry import register_opener
        from bastion.reports.registry import Figure, register
        from bastion.requests.queries import FIGURES, daily_figures
        from bastion.requests.services import response_delivery_open

        # The outbreak response's delivery task: the sealed area's open errands to the door.
        register_opener("delivery", response_delivery_open)

        register(
            module="requests",
            order=40,
            figures=[Figure(key, label) for key, label in FIGURES.items()],
            compute=daily_figures,
        )
