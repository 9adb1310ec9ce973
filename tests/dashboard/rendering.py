"""What a user is shown of a view, for tests that assert on the page rather than on a view's private attributes."""

from __future__ import annotations

import panel as pn


def rendered(viewable: object) -> str:
    """What a user is shown of a view, in page order: the HTML of its visible panes and the labels, values and
    options of its visible widgets (tests assert on this rather than on a view's private attributes)."""
    if isinstance(viewable, pn.viewable.Viewer):
        return rendered(viewable.__panel__())
    if not getattr(viewable, "visible", True):
        return ""
    if isinstance(viewable, pn.layout.ListLike):
        return "\n".join(rendered(child) for child in viewable.objects)
    if isinstance(viewable, pn.pane.HTML):
        return viewable.object or ""
    if isinstance(viewable, pn.pane.PNG):
        return f'<img alt="{viewable.alt_text}">' if viewable.object else ""
    if isinstance(viewable, pn.widgets.Widget):
        options = getattr(viewable, "options", None)
        value = getattr(viewable, "value", "")
        if isinstance(options, dict):  # a choice shows its label, not the value behind it
            values = value if isinstance(value, list) else [value]
            chosen = [label for label, option in options.items() if option in values]
            value, listed = ", ".join(chosen), " | ".join(options)
        else:
            listed = " | ".join(map(str, options)) if isinstance(options, list) else ""
        return " ".join(str(part) for part in (getattr(viewable, "label", ""), value, listed))
    return ""
