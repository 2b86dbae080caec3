from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TestingConfig(AppConfig):
    name = "bastion.testing"
    label = "testing"

    def ready(self):
        from bastion.notices.kinds import mark_urgent
        from bastion.testing.results.response import KIND_POSITIVE_POOL

        mark_urgent(KIND_POSITIVE_POOL)  # its people are to be held and retested now

        from bastion.reports.registry import Figure, register
        from bastion.testing.figures import FIGURES, daily_figures

        register(
            module="testing",
            order=50,
            label=_("Testing"),
            figures=[Figure(key, label) for key, label in FIGURES.items()],
            compute=daily_figures,
        )
