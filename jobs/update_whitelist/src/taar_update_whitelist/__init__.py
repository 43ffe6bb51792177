"""update_whitelist: the editorial (recommended) add-on GUIDs as `only_guids_top_200.json`."""

__version__ = "0.1.0"
