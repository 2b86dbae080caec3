"""Each of our apps runs under its own config (its `ready` registers the app's daily figures
and hooks): an apps module that also imports a base config must not leave Django to fall
back to a plain AppConfig, silently skipping `ready`."""

from django.apps import AppConfig, apps


def test_every_app_runs_under_its_own_config():
    ours = [c for c in apps.get_app_configs() if c.name.startswith("bastion.")]
    assert ours
    plain = [c.name for c in ours if type(c) is AppConfig]
    assert plain == []
    for config in ours:
        assert type(config).__module__ == f"{config.name}.apps", config.name
