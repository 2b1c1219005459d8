"""Governance: identities and roles, the access gate, privacy transforms, audit hooks."""

from urbanos.governance.gate import ADMIN, RELEASE_NOTES, DatasetAccess, Gate, Release
from urbanos.governance.identity import ACCESS_LEVELS, ANONYMOUS, ROLES, Identity, Membership

__all__ = ["ADMIN", "RELEASE_NOTES", "Release", "ANONYMOUS", "ACCESS_LEVELS", "ROLES", "DatasetAccess", "Gate", "Identity", "Membership"]
