"""Governance: identities and roles, the access gate, privacy transforms, audit hooks."""

from urbanos.governance.gate import ADMIN, DatasetAccess, Gate
from urbanos.governance.identity import ACCESS_LEVELS, ANONYMOUS, ROLES, Identity, Membership

__all__ = ["ADMIN", "ANONYMOUS", "ACCESS_LEVELS", "ROLES", "DatasetAccess", "Gate", "Identity", "Membership"]
