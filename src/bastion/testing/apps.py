from django.apps import AppConfig


class TestingConfig(AppConfig):
    name = "bastion.testing"
    label = "testing"

    def ready(self):
        from bastion.notices.kinds import mark_urgent
        from bastion.testing.results.response import KIND_POSITIVE_POOL

        mark_urgent(KIND_POSITIVE_POOL)  # its people are to be held and retested now
