"""Sphinx extension of the course website (listed in _config.yml): clean pages offline.

Sphinx 7.4 writes a script that an extension registers while reading twice into every
page (sphinx-thebe's configuration, whose second copy redeclares a ``const``: a
JavaScript error on every page). ``setup`` drops such repeated scripts from each page.
"""

from typing import Any

from sphinx.application import Sphinx


def _drop_repeated_scripts(app: Sphinx, pagename: str, templatename: str,
                           context: dict[str, Any], doctree: object) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        key = (script.filename or "", script.priority, tuple(sorted(script.attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique  # in place: Sphinx restores the list after each page


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the page hook (late, after the other extensions added their scripts)."""
    app.connect("html-page-context", _drop_repeated_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
