"""Facts about the course that several test modules read."""

from reglab.course import ROOT, assignments, chapters  # noqa: F401 (imported from here)
from reglab.grader import secret_lines  # noqa: F401 (the tests import it from here)

HTML = ROOT / "_build" / "html"  # the built website


ASSIGNMENTS = assignments()
