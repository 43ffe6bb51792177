"""TAAR locale: per-locale top add-ons with Laplace noise from clients_daily."""

__version__ = "0.1.0"
