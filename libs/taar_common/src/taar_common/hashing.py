"""The one way client ids are made safe to write or log."""

from __future__ import annotations

import hashlib


def hash_client_id(client_id: str) -> str:
    """Lower-case hex sha256 of the UTF-8 client id (the key the recommender uses)."""
    return hashlib.sha256(client_id.encode("utf-8")).hexdigest()
