"""Bastion's own locale formats (settings.FORMAT_MODULE_PATH), over Django's.

Only what differs from Django's is set here; every other format falls through to Django's
module for the language.
"""
