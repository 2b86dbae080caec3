from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QuarantineConfig(AppConfig):
    name = "bastion.quarantine"
    label = "quarantine"
    verbose_name = _("Quarantine")

    def ready(self) -> None:
        # The home measures' tables live in a sub-package that builds on this app's models
        # (so `models` cannot import them); their hook starts home monitoring at a hand-over.
        from bastion.quarantine import services as quarantine_services
        from bastion.quarantine.home import models as _home_models  # noqa: F401
        from bastion.quarantine.home import services as home_services

        if home_services.measure_from_release not in quarantine_services.HANDED_OVER:
            quarantine_services.HANDED_OVER.append(home_services.measure_from_release)
        from bastion.quarantine.queries import FIGURES, daily_figures
        from bastion.reports.registry import Figure, register

        register(
            module="quarantine",
            order=66,
            figures=[Figure(key, label) for key, label in FIGURES.items()],
            compute=daily_figures,
        )
        from bastion.quarantine.home import queries as home

        register(
            module="quarantine_home",
            order=67,
            label=_("Home measures"),
            figures=[Figure(key, label) for key, label in home.FIGURES.items()],
            compute=home.daily_figures,
        )
