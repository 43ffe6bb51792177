"""Shared conventions of the taar-etl jobs: storage, publishing, checks, HTTP, CLI."""

__version__ = "0.1.0"
