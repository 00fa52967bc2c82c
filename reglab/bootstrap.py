"""What a notebook opened alone needs: the install lines at its top and absolute links.

A notebook opened alone (Colab, Binder, a fresh Python) has no ``reglab``: the first code cell
then installs it with pip from the public student repository, quietly, and continues. Where the
package is installed, the lines do nothing visible. The repository comes from one place,
``repository.url`` and ``repository.branch`` in ``_config.yml``; ``make format`` writes the
lines into every chapter and solution, and ``make release`` carries them into the exercises.
``REGLAB_INSTALL_FROM`` (a wheel, a folder or a URL) replaces the repository, for offline tests.

A notebook opened alone has no folder around it either, so each chapter ends with a cell of
absolute links (its assignment in the student repository and in Colab, the next chapter on the
website), also written by ``make format``.
"""

from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
FIRST_LINE = "# Installs the course package where it is missing (Colab, Binder, a fresh Python)."
LAST_LINE = "    importlib.invalidate_caches()"
TEMPLATE = '''{first}
import importlib.util, os, subprocess, sys  # noqa: E401
if importlib.util.find_spec("reglab") is None:
    _source = os.environ.get("REGLAB_INSTALL_FROM", "{archive}")
    if subprocess.run([sys.executable, "-m", "pip", "install", "-q", _source]).returncode:
        raise RuntimeError(f"Could not install the course package from {{_source}}: connect to "
                           "the internet and run this cell again, or see docs/students.md.")
{last}'''


def course_config(root: Path = ROOT) -> dict:
    """The ``_config.yml`` of the course at ``root``."""
    import yaml

    return yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))


def repository(root: Path = ROOT) -> tuple[str, str]:
    """The public student repository's URL (no trailing slash) and branch."""
    repo = course_config(root).get("repository") or {}
    url = str(repo.get("url", "")).rstrip("/")
    if not url.startswith("https://"):
        raise ValueError(f"_config.yml: repository.url must be an https URL, got {url!r}")
    return url, str(repo.get("branch", "main"))


def archive_url(root: Path = ROOT) -> str:
    """Where pip downloads the student repository from: a zip of its branch."""
    url, branch = repository(root)
    return f"{url}/archive/refs/heads/{branch}.zip"


def header(root: Path = ROOT) -> str:
    """The install lines, for the course at ``root``."""
    return TEMPLATE.format(first=FIRST_LINE, last=LAST_LINE, archive=archive_url(root))


def strip_header(source: str) -> str:
    """``source`` without an install header (of any repository) at its top."""
    if not source.startswith(FIRST_LINE):
        return source
    lines = source.split("\n")
    end = lines.index(LAST_LINE) if LAST_LINE in lines else 0
    return "\n".join(lines[end + 1:]).lstrip("\n")


def with_header(nb: nbformat.NotebookNode, text: str) -> nbformat.NotebookNode:
    """``nb`` (changed in place) whose first code cell starts with the install lines ``text``."""
    cell = next((c for c in nb.cells if c.cell_type == "code"), None)
    if cell is None:
        raise ValueError("the notebook has no code cell to hold the install lines")
    cell.source = text + "\n\n" + strip_header(cell.source.strip("\n"))
    return nb


FOOTER_HEADING = "## Practice and next steps"


def _title(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    first = next(c.source for c in nb.cells if c.cell_type == "markdown")
    return first.split("\n", 1)[0].lstrip("# ").strip()


def footer(chapter: Path, chapters: list[Path], root: Path = ROOT) -> str:
    """The last cell of ``chapter``: links to its assignment and to the next chapter."""
    config = course_config(root)
    url, branch = repository(root)
    site = str(config.get("html", {}).get("baseurl", "")).rstrip("/")
    if not site.startswith("https://"):
        raise ValueError(f"_config.yml: html.baseurl must be an https URL, got {site!r}")
    colab = str(config.get("launch_buttons", {}).get("colab_url", "")).rstrip("/")
    exercise = f"exercises/{chapter.stem}/{chapter.stem}.ipynb"
    slug = url.split("://", 1)[1].split("/", 1)[1]
    number = int(chapter.stem.split("_", 1)[0])
    lines = [FOOTER_HEADING, "",
             f"* Assignment {number} turns this chapter into code: [open it in Colab]"
             f"({colab}/github/{slug}/blob/{branch}/{exercise}), or [see it on GitHub]"
             f"({url}/blob/{branch}/{exercise}) (in the course folder: `{exercise}`)."]
    later = chapters[chapters.index(chapter) + 1:] if chapter in chapters else []
    if later:
        lines.append(f"* Next: [{_title(later[0])}]({site}/chapters/{later[0].stem}.html).")
    else:
        lines.append(f"* Back to [the course's start page]({site}/intro.html).")
    return "\n".join(lines)


def with_footer(nb: nbformat.NotebookNode, text: str) -> nbformat.NotebookNode:
    """``nb`` (changed in place) whose last cell is the links cell ``text``."""
    last = nb.cells[-1] if nb.cells else None
    if last is not None and last.cell_type == "markdown" and \
            last.source.startswith(FOOTER_HEADING):
        last.source = text
    else:
        nb.cells.append(nbformat.v4.new_markdown_cell(text))
    return nb
