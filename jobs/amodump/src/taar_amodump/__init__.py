"""amodump: the complete AMO add-on catalogue as `extended_addons_database.json`."""

__version__ = "0.1.0"
