"""amowhitelist: the whitelist, featured and featured-whitelist databases from the AMO dump."""

__version__ = "0.1.0"
