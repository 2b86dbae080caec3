from django.apps import AppConfig


class GeoConfig(AppConfig):
    name = "bastion.geo"
    label = "geo"
