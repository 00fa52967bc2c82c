"""Facts about the course that several test modules read."""

from pathlib import Path

from reglab.course import ROOT, assignments, chapters  # noqa: F401 (imported from here)
from reglab.grader import secret_lines  # noqa: F401 (the tests import it from here)

HTML = ROOT / "_build" / "html"  # the built website
# Debian's chromium (`make system`), which the browser tests drive headless through Playwright.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-quic"]


ASSIGNMENTS = assignments()
