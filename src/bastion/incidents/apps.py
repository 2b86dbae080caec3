from django.utils.translation import gettext_lazy as _

from bastion.core.subpackages import SubPackageModels


class IncidentsConfig(SubPackageModels):
    name = "bastion.incidents"
    label = "incidents"
    verbose_name = _("Control areas")
    # The outbreak response's tables (cases, bundles, tasks, disinfections) stand on the
    # control areas of models.py.
    model_modules = ("response.models",)
