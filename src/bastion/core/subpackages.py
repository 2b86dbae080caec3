"""An app whose tables live in its sub-packages as well as in its own `models.py`."""

from importlib import import_module

from django.apps import AppConfig


class SubPackageModels(AppConfig):
    """Django imports an app's `models` module only; an app split into sub-packages names the
    others in `model_modules` (relative to the app), so their tables are registered under the
    app's label without `models.py` importing the sub-packages that stand on it."""

    model_modules: tuple[str, ...] = ()
    # Django takes an app's config by itself only when its apps module holds one AppConfig
    # class; this base is imported there beside the app's own, so it steps aside and every
    # subclass is the default.
    default = False

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        cls.default = cls.__dict__.get("default", True)

    def import_models(self) -> None:
        super().import_models()
        for name in self.model_modules:
            import_module(f"{self.name}.{name}")
