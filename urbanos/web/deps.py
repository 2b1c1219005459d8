"""Route helpers (kept in ``urbanos.routing`` so capabilities can share them)."""

from urbanos.routing import base_url, identity_of, json_body, platform_of

__all__ = ["platform_of", "identity_of", "json_body", "base_url"]
