"""Relationship-manager dashboard (Panel): explain a credit decision to a client, accessibly and fast.

Served with ``panel serve dashboard/app.py``; see ``docs/dashboard.md``.
"""
