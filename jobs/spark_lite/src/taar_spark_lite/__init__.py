"""TAAR lite: add-on co-installation counts and install ranking from clients_daily."""

__version__ = "0.1.0"
