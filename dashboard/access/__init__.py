"""Who may see what, and the record of who did what: local users, roles, login, audit trail, decision records.

Nothing here imports the views: the dashboard asks this package for the signed-in user and their role, and
writes every traced action through :class:`dashboard.access.audit.AuditTrail`.
"""
