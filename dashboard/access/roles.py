"""The three roles and what each may open, checked on the server before a view is built."""

from __future__ import annotations

ROLES: tuple[str, ...] = ("manager", "lead", "admin")
_RANK = {role: rank for rank, role in enumerate(ROLES)}

# The least role that may open each view; a view missing here is refused to everyone.
VIEW_ROLE: dict[str, str] = {
    "decision": "manager",
    "profile": "manager",
    "compare": "manager",
    "whatif": "manager",
    "images": "manager",
    "importance": "lead",
    "portfolio": "lead",
    "team": "lead",
    "audit": "admin",
}


class RoleError(ValueError):
    """An unknown role name (from the command line, the user store or an identity provider's claim)."""


def parse_role(raw: str) -> str:
    """A role from its name; anything else is refused with the list of valid names."""
    value = (raw or "").strip().lower()
    if value not in _RANK:
        raise RoleError(f"unknown role {raw!r}: use one of {', '.join(ROLES)}")
    return value


def at_least(role: str | None, needed: str) -> bool:
    """Whether ``role`` includes the rights of ``needed`` (admin ⊃ lead ⊃ manager)."""
    return role in _RANK and _RANK[role] >= _RANK[needed]


def may_open(role: str | None, view: str) -> bool:
    """Whether a session with ``role`` may have ``view`` built at all."""
    needed = VIEW_ROLE.get(view)
    return needed is not None and at_least(role, needed)


def highest(roles: list[str]) -> str | None:
    """The strongest of several known role names (an identity provider may list several); None if none."""
    known = [role for role in roles if role in _RANK]
    return max(known, key=_RANK.__getitem__) if known else None
