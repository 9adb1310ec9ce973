"""Dashboard views: Panel ``Viewer`` classes that read a :class:`dashboard.session.ClientSession` and the shared
resources, and whose logic is testable without a browser."""
