"""The module given to ``panel serve --auth-module``: local-user login with the project's user store.

Bokeh loads this file by path, so it puts the project on ``sys.path`` before importing the handlers.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from dashboard.access.web import LOGIN_URL, LOGOUT_URL, LoginHandler, LogoutHandler, get_user

login_url = LOGIN_URL
logout_url = LOGOUT_URL

__all__ = ["LoginHandler", "LogoutHandler", "get_user", "login_url", "logout_url"]
