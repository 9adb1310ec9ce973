"""Suite-wide set-up: the torchvision workaround before any timm import, and the shared small-data fixtures.

Fixtures that several test folders need live in ``tests/fixtures/`` (one module per package that owns them) and
are loaded here as plugins, so a small synthetic warehouse and a small trained scorer are built once per session.
"""

from protovit._torchvision_compat import import_torchvision

import_torchvision()

pytest_plugins = ["tests.fixtures.warehouse", "tests.fixtures.models"]
