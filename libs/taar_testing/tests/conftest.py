"""Enables pytester, to check how the plugin reports a missing service."""

pytest_plugins = ["pytester"]
