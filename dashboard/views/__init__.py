"""Dashboard views: Panel ``Viewer`` classes that read a :class:`dashboard.session.ClientSession` and its
:class:`dashboard.cockpit.Cockpit`, and whose logic is testable without a browser."""
