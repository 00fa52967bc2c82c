"""Make what a submission wrote or printed inert in the HTML pages made from it.

The formgrader and the feedback pages render a graded notebook as HTML in the browser
of a logged-in instructor or of a student. Anything a student put in it, a markdown
answer or an output their code produced (``_repr_html_``, ``display(HTML(...))``, SVG,
JavaScript), would run there as script: in the formgrader, with the instructor's
session on the Jupyter server. :class:`SanitizeSubmission` is an nbgrader/nbconvert
preprocessor that leaves nothing that can run:

* markdown and raw cells: every raw HTML tag, comment or autolink is escaped (shown as
  text), and links and images become text, except images of the cell's own attachments;
* outputs: HTML is cleaned with bleach (tables, lists, text formatting and embedded
  PNG/JPEG/GIF images stay; scripts, event handlers, styles, frames and links to other
  pages do not), markdown is escaped as above, plain text, LaTeX and PNG/JPEG images
  are kept, and every other kind (SVG, JavaScript, widgets) is replaced by a note.

:class:`HidePaths` shortens the file paths in outputs (tracebacks quote them) to what
a student may see: ``numpy/_core/fromnumeric.py`` rather than where the grading
machine keeps it.
"""

import os
import re
import sys
import sysconfig
import tempfile
from pathlib import Path

import bleach
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor

# Raw HTML in markdown starts with "<" and a letter, "/", "!" or "?" (tags, comments,
# declarations, autolinks); links need "](" or a "]:" definition.
TAG_START = re.compile(r"<(?=[A-Za-z/!?])")
LINK = re.compile(r"(!\[[^\[\]]*\]\(attachment:(?P<name>[^\s()<>]+)\))|\](?=[(:])")
KEPT_OUTPUTS = {"text/plain", "text/latex", "image/png", "image/jpeg"}
KEPT_ATTACHMENTS = {"image/png", "image/jpeg", "image/gif"}
HTML_TAGS = {*bleach.ALLOWED_TAGS, "p", "div", "span", "br", "hr", "pre", "code", "kbd",
             "samp", "var", "sub", "sup", "small", "mark", "del", "ins", "s", "u",
             "h1", "h2", "h3", "h4", "h5", "h6", "dl", "dt", "dd", "img", "figure",
             "figcaption", "table", "caption", "colgroup", "col", "thead", "tbody", "tfoot",
             "tr", "th", "td"}
PLAIN_ATTRIBUTES = {"class", "title", "alt", "width", "height", "colspan", "rowspan", "align",
                    "border", "start"}
IMAGE_SOURCE = re.compile(r"data:image/(png|jpeg|gif);base64,[A-Za-z0-9+/=\s]*$")
STYLE_ELEMENT = re.compile(r"<style\b.*?</style\s*>", re.S | re.I)


def escape_markdown(text: str, attachments: set[str] = frozenset()) -> str:
    """Markdown that renders ``text`` without any HTML of its own, link or foreign image.

    Tags show as text; ``[a](b)`` and ``[a]: b`` show as written; only ``![alt](attachment:
    NAME)`` images of one of ``attachments`` stay. Applying it twice changes nothing more.
    """
    text = TAG_START.sub("&lt;", text)

    def keep_own_image(match: re.Match) -> str:
        if match.group(1) and match.group("name") in attachments:
            return match.group(1)
        return match.group(1).replace("](", "]\\(") if match.group(1) else "]\\"

    return LINK.sub(keep_own_image, text)


def _allowed_attribute(tag: str, name: str, value: str) -> bool:
    if name in PLAIN_ATTRIBUTES:
        return True
    if tag == "a" and name == "href":
        return value.strip().lower().startswith(("https://", "http://", "mailto:"))
    return tag == "img" and name == "src" and bool(IMAGE_SOURCE.match(value.strip()))


def clean_html(markup: str) -> str:
    """``markup`` with only inert HTML left: other tags are escaped and show as text."""
    return bleach.clean(STYLE_ELEMENT.sub("", markup), tags=HTML_TAGS,
                        attributes=_allowed_attribute,
                        protocols={"http", "https", "mailto", "data"}, strip_comments=True)


def _text(value: str | list[str]) -> str:
    return value if isinstance(value, str) else "".join(value)


def sanitize_output(output: NotebookNode) -> NotebookNode:
    """One code cell output, inert: see the module's docstring."""
    if output.get("output_type") not in ("display_data", "execute_result"):
        return output  # streams and errors are shown as escaped text
    data, dropped = {}, []
    for mime, value in output.get("data", {}).items():
        if mime in KEPT_OUTPUTS:
            data[mime] = value
        elif mime == "text/html":
            data[mime] = clean_html(_text(value))
        elif mime == "text/markdown":
            data[mime] = escape_markdown(_text(value))
        else:
            dropped.append(mime)
    if dropped and not set(data) - {"text/plain"}:
        note = f"[{', '.join(dropped)} output not shown]"
        data["text/plain"] = f"{_text(data['text/plain'])}\n{note}" if data else note
    output.data, output.metadata = data, {}  # metadata can name files for images to load
    return output


class SanitizeSubmission(NbGraderPreprocessor):
    """Leave nothing a submission wrote or printed that could run in an HTML page."""

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        nb.metadata.pop("widgets", None)  # widget state: rendered by scripts
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs = [sanitize_output(output) for output in cell.get("outputs", [])]
                continue
            attachments = {name: {m: v for m, v in kinds.items() if m in KEPT_ATTACHMENTS}
                           for name, kinds in cell.get("attachments", {}).items()}
            attachments = {name: kinds for name, kinds in attachments.items() if kinds}
            if "attachments" in cell:
                cell.attachments = attachments
            cell.source = escape_markdown(cell.source, set(attachments))
        return nb, resources


ANSI_CODE = re.compile(r"(\x1b\[[0-9;]*[A-Za-z])")
# At least one folder: "km /h" is no path.
ABSOLUTE_PATH = re.compile(r"(?<![\w:/.~-])~?/(?:[\w.@+~-]+/)+[\w.@+~-]+")
PACKAGE_FOLDERS = ("/site-packages/", "/dist-packages/")


def _known_roots() -> list[str]:
    """Folders whose contents a student may see by their relative name, longest first."""
    import reglab

    roots = {os.getcwd(), str(Path(reglab.__file__).resolve().parent.parent),
             sysconfig.get_paths()["stdlib"], sys.prefix, str(Path.home()),
             tempfile.gettempdir()}
    return sorted((r.rstrip("/") for r in roots if r and r != "/"), key=len, reverse=True)


def short_path(path: str, roots: list[str]) -> str:
    """How ``path`` is shown: below a package folder or a known root, else its name."""
    for folder in PACKAGE_FOLDERS:
        if folder in path:
            return path.split(folder, 1)[1]
    for root in roots:
        if path.startswith(root + "/"):
            return path[len(root) + 1:]
    return path.rsplit("/", 1)[-1]


def hide_paths(text: str, roots: list[str]) -> str:
    """``text`` with every absolute path shortened by :func:`short_path` (colours kept)."""
    parts = ANSI_CODE.split(text)
    return "".join(part if ANSI_CODE.fullmatch(part) else
                   ABSOLUTE_PATH.sub(lambda m: short_path(m.group(0), roots), part)
                   for part in parts)


class HidePaths(NbGraderPreprocessor):
    """Show no file path of the grading machine in the outputs of the feedback."""

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        roots = _known_roots()
        for cell in nb.cells:
            for output in cell.get("outputs", []):
                if output.get("output_type") == "stream":
                    output.text = hide_paths(_text(output.text), roots)
                elif output.get("output_type") == "error":
                    output.evalue = hide_paths(output.evalue, roots)
                    output.traceback = [hide_paths(line, roots) for line in output.traceback]
                elif "text/plain" in output.get("data", {}):
                    output.data["text/plain"] = hide_paths(_text(output.data["text/plain"]),
                                                           roots)
        return nb, resources
