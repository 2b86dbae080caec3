from django.utils.translation import gettext_lazy as _

from bastion.core.subpackages import SubPackageModels


class IncidentsConfig(SubPackageModels):
    name = "bastion.incidents"
    label = "incidents"
    verbose_name = _("Control areas")
    model_modules = ("transfers.models",)
    # Django picks an app's config by itself only when its module defines one class: this
    # module also holds the imported base class, so say which one.
    default = True
