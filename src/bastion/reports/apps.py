from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "bastion.reports"
    label = "reports"

    def ready(self) -> None:
        from bastion.reports import figures

        figures.register_foundation()
