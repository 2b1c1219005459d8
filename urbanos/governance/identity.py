"""Who is calling: identities, roles and their organisation scope."""

from __future__ import annotations

from dataclasses import dataclass, field

ROLES = ("reader", "publisher", "steward", "admin")
_RANK = {r: i for i, r in enumerate(ROLES)}
ACCESS_LEVELS = ("open", "registered", "internal", "confidential")


@dataclass(frozen=True)
class Membership:
    role: str
    org: str | None = None  # None: not limited to one organisation


@dataclass(frozen=True)
class Identity:
    """An authenticated caller, or the anonymous public reader.

    ``subject`` is stable per caller ("token:12", "oidc:<sub>", "admin-token");
    ``application`` names a registered application (the token's name) for usage
    statistics; it is never personal data.
    """

    subject: str = "anonymous"
    kind: str = "anonymous"  # anonymous | token | oidc | admin-token
    memberships: frozenset[Membership] = field(default_factory=frozenset)
    name: str = ""
    token_id: int | None = None

    @property
    def is_anonymous(self) -> bool:
        return self.kind == "anonymous"

    @property
    def is_admin(self) -> bool:
        return any(m.role == "admin" and m.org is None for m in self.memberships)

    @property
    def application(self) -> str | None:
        return self.name or None if not self.is_anonymous else None

    def has_role(self, role: str, org: str | None = None) -> bool:
        """True when the caller holds ``role`` (or a higher one) for ``org``.

        A membership without organisation applies everywhere. A check without organisation (``org=None``:
        something no organisation owns, or a platform-wide action) needs a membership without organisation:
        a role scoped to one organisation never passes it.
        """
        need = _RANK[role]
        for m in self.memberships:
            if _RANK.get(m.role, -1) < need:
                continue
            if m.org is None or (org is not None and m.org == org):
                return True
        return False

    def has_role_somewhere(self, role: str) -> bool:
        """True when the caller holds ``role`` (or a higher one) for at least one organisation, or globally.
        Only for an early refusal (a reader posting data): it never grants anything by itself."""
        need = _RANK[role]
        return any(_RANK.get(m.role, -1) >= need for m in self.memberships)

    def orgs_with(self, role: str) -> list[str | None]:
        """The scopes where the caller holds ``role`` or a higher one, sorted: ``[None]`` first for a
        membership without organisation (it covers every organisation), then organisation names."""
        need = _RANK[role]
        scopes = {m.org for m in self.memberships if _RANK.get(m.role, -1) >= need}
        return sorted(scopes, key=lambda o: (o is not None, o or ""))

    def home_org(self, role: str = "publisher") -> str | None:
        """The organisation that owns what this caller creates without naming a dataset: ``None`` (no
        organisation, so only global roles may change it) for a caller with a global ``role``, otherwise
        its organisation holding ``role`` (the first in alphabetical order when it holds several)."""
        scopes = self.orgs_with(role)
        return scopes[0] if scopes else None

    @property
    def user_names(self) -> frozenset[str]:
        """Names under which a member list may record this caller: the subject ("token:12",
        "oidc:<sub>"), the OIDC ``sub`` claim itself, and the name of an API token."""
        if self.kind not in ("token", "oidc"):
            return frozenset()
        names = {self.subject}
        if self.kind == "oidc":
            names.add(self.subject.partition(":")[2])
        elif self.name:
            names.add(self.name)
        return frozenset(n for n in names if n)

    def orgs(self) -> set[str]:
        return {m.org for m in self.memberships if m.org is not None}

    def describe(self) -> dict[str, object]:
        return {
            "subject": self.subject,
            "kind": self.kind,
            "name": self.name,
            "roles": sorted(f"{m.role}:{m.org}" if m.org else m.role for m in self.memberships),
        }


ANONYMOUS = Identity()


def parse_role(value: str) -> Membership | None:
    """'publisher' or 'publisher:org-name' (also 'org-name:publisher' is not accepted)."""
    role, _, org = value.strip().partition(":")
    role = role.strip().lower()
    if role not in _RANK:
        return None
    return Membership(role, org.strip() or None)


__all__ = ["ROLES", "ACCESS_LEVELS", "Membership", "Identity", "ANONYMOUS", "parse_role"]
