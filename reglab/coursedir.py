"""A course directory as nbgrader sees it: the one value every grading command is given."""

from dataclasses import dataclass, field
from pathlib import Path

from traitlets.config import Config

from reglab.gradebook import check_assignment, course_config, known_assignments, nbgrader_config

# nbgrader's folder kinds and the names it gives them unless configured otherwise.
FOLDERS = ("source", "release", "submitted", "autograded", "feedback")


@dataclass(frozen=True)
class Course:
    """A course directory: its folder, its nbgrader configuration (resolved as nbgrader
    resolves it there), its assignments and where each kind of notebook lives."""

    root: Path
    config: Config = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root).resolve())
        object.__setattr__(self, "config", nbgrader_config(self.root))

    @classmethod
    def of(cls, course: "Course | Path | str") -> "Course":
        """``course`` itself, or the course directory at that path."""
        return course if isinstance(course, Course) else cls(Path(course))

    def folder(self, kind: str) -> Path:
        """The folder of one of nbgrader's :data:`FOLDERS` (source: the solutions)."""
        if kind not in FOLDERS:
            raise ValueError(f"unknown kind of folder {kind!r}; one of {', '.join(FOLDERS)}")
        return self.root / self.config.CourseDirectory.get(f"{kind}_directory", kind)

    def notebook(self, kind: str, assignment: str) -> Path:
        """The notebook of ``assignment`` in the ``kind`` folder (source or release)."""
        return self.folder(kind) / assignment / f"{assignment}.ipynb"

    def assignments(self) -> list[str]:
        """The assignments: the folders of the source folder."""
        return known_assignments(self.root)

    def check(self, assignment: str) -> None:
        """Raise GradingError, naming the known ones, unless ``assignment`` is one of them."""
        check_assignment(self.root, assignment)

    @property
    def id(self) -> str:
        """The course id nbgrader uses."""
        return course_config(self.root)[0]

    @property
    def db_url(self) -> str:
        """The gradebook's URL."""
        return course_config(self.root)[1]
