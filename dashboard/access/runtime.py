"""The process-wide access objects (settings, user store, audit trail), opened once on first use.

The auth module (Tornado handlers) and every session of ``dashboard/app.py`` share them, like the warehouse.
"""

from __future__ import annotations

import functools

from dashboard.access.audit import AuditTrail
from dashboard.access.config import AccessConfig
from dashboard.access.users import UserStore


@functools.cache
def access_config() -> AccessConfig:
    return AccessConfig.from_env()


@functools.cache
def user_store() -> UserStore:
    return UserStore(access_config().users_db)


@functools.cache
def audit_trail() -> AuditTrail:
    return AuditTrail(access_config().audit_url)
