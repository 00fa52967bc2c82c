"""Nothing a student writes or makes their code print runs in the pages made from it.

One submission of 01_bias_variance carries script in every form a notebook can hold: an
object whose ``_repr_html_`` returns ``<script>``, ``display(HTML(...))``, SVG and
JavaScript outputs, a pre-executed output, ``<script>``, ``<img onerror>`` and a
``javascript:`` link in markdown answers, a raw HTML cell. It is graded in the sandbox,
its feedback generated, and both pages are opened in Chromium: the feedback page from
file://, the formgrader from a real Jupyter server on loopback where an instructor is
logged in. Every payload would open a dialog and write a file into the course
directory through the server's API with the instructor's XSRF token; none may. The
fast tests check the sanitizer (reglab/sanitize.py) on its own.
"""

import re
import shutil
import sys
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

from reglab import grader
from reglab.course import ROOT
from reglab.sanitize import HTML_TAGS, clean_html, escape_markdown, hide_paths, short_path
from tests.support.common import COURSE, require_sandbox
from tests.support.jupyter_server import jupyter_server

ASSIGNMENT = "01_bias_variance"
STUDENT = "mallory"


def slow(test):
    """Mark a test that grades and opens Chromium: slow, on one xdist worker."""
    return pytest.mark.slow(pytest.mark.xdist_group("xss")(test))


def _js(label: str) -> str:
    """Script that opens a dialog and writes xss-LABEL.txt through the Jupyter server's API."""
    return (f"alert('{label}');fetch('/api/contents/xss-{label}.txt',{{method:'PUT',"
            "headers:{'X-XSRFToken':(document.cookie.match(/_xsrf=([^;]+)/)||[])[1]||'',"
            "'Content-Type':'application/json'},body:JSON.stringify({type:'file',"
            f"format:'text',content:'{label}'}})}})")


def _tag(label: str) -> str:
    return f"<script>{_js(label)}</script><img src=x onerror=\"{_js(label + '-img')}\">"


SVG = ('<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20" onload="{}">'
       '<script>{}</script><circle r="5"/></svg>')
RUNTIME = f'''
class _Report:
    def _repr_html_(self):
        return "<table><tr><td>kept-table</td></tr></table>" + {_tag("repr")!r}


_Report()'''
DISPLAYS = f'''from IPython.display import HTML, SVG, Javascript, Markdown, display

display(HTML({_tag("display-html")!r}))
display(SVG({SVG.format(_js("svg-onload"), _js("svg-script"))!r}))
display(Javascript({_js("javascript")!r}))
display(Markdown({_tag("display-markdown")!r}))
display({{"text/html": {_tag("raw-html")!r}, "text/plain": "raw"}}, raw=True)'''
MARKDOWN = (f"{_tag('md')}\n\n[read this](javascript:{_js('md-link')})\n\n"
            f"<svg onload=\"{_js('md-svg')}\"></svg>\n\n"
            f"<iframe srcdoc=\"<script>{_js('md-iframe')}</script>\"></iframe>")


def attack() -> nbformat.NotebookNode:
    """The solved release with every payload: still a correct solution."""
    nb = grader.solved_release(COURSE, ASSIGNMENT)
    index = {c.metadata.get("nbgrader", {}).get("grade_id"): i for i, c in enumerate(nb.cells)}
    nb.cells[index["diagnose"]].source += "\n\n" + RUNTIME.strip()
    nb.cells[index["curves_answer"]].source = MARKDOWN
    pre = nbformat.v4.new_code_cell("# ran before submitting")
    pre.outputs = [nbformat.v4.new_output("display_data", data={
        "text/html": _tag("pre-executed"),
        "image/svg+xml": SVG.format(_js("pre-svg"), _js("pre-svg-script"))})]
    raw = nbformat.v4.new_raw_cell(f"<script>{_js('raw-cell')}</script>",
                                   metadata={"raw_mimetype": "text/html", "format": "text/html"})
    extra = [nbformat.v4.new_code_cell(DISPLAYS), pre, raw,
             nbformat.v4.new_markdown_cell(_tag("md-extra")),
             nbformat.v4.new_code_cell("np.mean([1.0, 2.0], axis=5)")]  # fails inside NumPy
    nb.cells[index["curves_answer"] + 1:index["curves_answer"] + 1] = extra
    return nb


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> Path:
    """A course directory with the attack graded (sandboxed) and its feedback generated."""
    require_sandbox()
    course = tmp_path_factory.mktemp("xss") / "course"
    for folder in ("solutions", "exercises"):
        shutil.copytree(ROOT / folder / ASSIGNMENT, course / folder / ASSIGNMENT)
    shutil.copy(ROOT / "nbgrader_config.py", course)
    folder = course / "submitted" / STUDENT / ASSIGNMENT
    folder.mkdir(parents=True)
    nbformat.write(attack(), folder / f"{ASSIGNMENT}.ipynb")
    lines: list[str] = []
    [outcome] = grader.grade(ASSIGNMENT, course, workers=1, cell_timeout=30,
                             submission_timeout=300, echo=lines.append)
    assert not outcome.failed, "\n".join(lines)
    grader.feedback(ASSIGNMENT, course, echo=lines.append)
    return course


@pytest.fixture(scope="module")
def server(graded, tmp_path_factory):
    """A Jupyter server on loopback in the course directory (formgrader on): (URL, token)."""
    with jupyter_server(graded, tmp_path_factory.mktemp("jupyter")) as running:
        yield running


class Watch:
    """What a page did: dialogs it opened and requests it made."""

    def __init__(self, page, allowed: tuple[str, ...]):
        self.dialogs: list[str] = []
        self.requests: list[str] = []
        page.on("dialog", lambda dialog: (self.dialogs.append(dialog.message), dialog.dismiss()))
        page.on("request", lambda request: self.requests.append(request.url))
        page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(
            allowed) else route.abort())


def _settle(page) -> None:
    """Give the page's scripts, images and handlers time to run."""
    page.wait_for_load_state("load")
    page.wait_for_timeout(2000)


def _assert_inert(watch: Watch, course: Path, page) -> None:
    assert not watch.dialogs, f"student script ran: dialogs {watch.dialogs}"
    payload = [url for url in watch.requests if "xss-" in url or "/api/contents" in url]
    assert not payload, f"student script made requests: {payload}"
    assert not sorted(course.rglob("xss-*")), "student script wrote files"
    assert not page.locator("script:not([src])").evaluate_all(
        "(nodes) => nodes.map((n) => n.textContent).filter((t) => t.includes('xss-'))")
    assert not page.locator("a[href^='javascript:' i]").count()
    assert page.locator("img[src^='data:image/png']").count() >= 1, "the plot is missing"


@slow
def test_feedback_page_runs_nothing_the_student_wrote(graded, browser):
    page_file = graded / "feedback" / STUDENT / ASSIGNMENT / f"{ASSIGNMENT}.html"
    context = browser.new_context()
    page = context.new_page()
    watch = Watch(page, ("file:", "data:"))
    page.goto(page_file.as_uri())
    _settle(page)
    try:
        _assert_inert(watch, graded, page)
        text = page.inner_text("body")
        assert "kept-table" in text and "alert('md')" in text, "the answers are not shown"
        # No path of the grading machine, no warning of the sandbox's, the traceback kept.
        assert "AxisError" in text and "numpy/_core/fromnumeric.py" in text
        for path in {str(ROOT), str(graded), sys.prefix, sys.base_prefix, str(Path.home())}:
            assert path not in page_file.read_text(), path
        assert "joblib will operate in serial mode" not in text
    finally:
        context.close()


@slow
def test_formgrader_runs_nothing_the_student_wrote(graded, server, browser):
    base, token = server
    with grader.open_gradebook(graded) as gb:
        submission = gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, STUDENT).id
    context = browser.new_context()
    try:
        lab = context.new_page()  # the instructor logs in and works in JupyterLab
        lab.route("**/*", lambda route: route.continue_() if route.request.url.startswith(
            base) else route.abort())
        lab.goto(f"{base}/lab?token={token}")
        lab.close()
        assert any(c["name"] == "_xsrf" for c in context.cookies()), "no XSRF cookie to steal"
        page = context.new_page()
        watch = Watch(page, (base, "data:"))
        page.goto(f"{base}/formgrader/submissions/{submission}/?index=0")
        _settle(page)
        assert page.locator("#curves_answer").count() == 1, "the formgrader page did not load"
        _assert_inert(watch, graded, page)
        assert not [u for u in watch.requests if u.startswith(f"{base}/api/")], watch.requests
        text = page.inner_text("body")
        assert "kept-table" in text and "alert('md')" in text, "the answers are not shown"
        # The same request from the test itself succeeds: the page could have written files.
        page.evaluate(f"() => {_js('canary').split(';', 1)[1]}")
        page.wait_for_timeout(1500)
        assert (graded / "xss-canary.txt").exists(), "the harness cannot detect a write"
    finally:
        context.close()
        (graded / "xss-canary.txt").unlink(missing_ok=True)


# --- fast: the sanitizer on its own -----------------------------------------------------------

class _Tags(HTMLParser):
    """Every tag and attribute of an HTML fragment."""

    def __init__(self, markup: str):
        super().__init__()
        self.found: list[tuple[str, dict]] = []
        self.feed(markup)

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


MARKDOWN_ATTACKS = [
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "<!-- c --><svg onload=alert(1)>",
    "[x](javascript:alert(1))", "[x]( javascript:alert(1) )", "[x](<javascript:alert(1)>)",
    "[x][r]\n\n[r]: javascript:alert(1)", "> [r]: javascript:alert(1)\n\n[x][r]",
    "[x][a\\]b]\n\n[a\\]b]: javascript:alert(1)", "<javascript:alert(1)>",
    "[![a](attachment:ok.png)](javascript:alert(1))", "![a](/logout)", "![a](attachment:gone.png)",
    "```mermaid\n<img src=x onerror=alert(1)>\n```", "$<script>alert(1)</script>$",
    "| a |\n|---|\n| <img src=x onerror=alert(1)> |", "\\<script>alert(1)</script>",
    "&#60;script&#62;alert(1)&#60;/script&#62;", "- [ ] <b onclick=alert(1)>x</b>",
    "term\n: <script>x</script>", "<a href='javascript:alert(1)'>x</a>",
]


@pytest.mark.parametrize("source", MARKDOWN_ATTACKS)
def test_markdown_answers_render_without_html_of_their_own(source):
    from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

    escaped = escape_markdown(source, {"ok.png"})
    assert escape_markdown(escaped, {"ok.png"}) == escaped
    renderer = IPythonRenderer(escape=False, attachments={"ok.png": {"image/png": "iVBORw0K"}})
    rendered = MarkdownWithMath(renderer=renderer).render(escaped)
    for tag, attrs in _Tags(rendered).found:
        assert tag in {"p", "code", "pre", "div", "table", "thead", "tbody", "tr", "th", "td",
                       "blockquote", "ul", "li", "input", "dl", "dt", "dd", "img"}, rendered
        assert not [a for a in attrs if a.startswith("on") or a in ("href", "srcdoc")], rendered
        if tag == "img":
            assert attrs["src"].startswith("data:image/png;base64,"), rendered


def test_markdown_keeps_what_a_written_answer_needs():
    answer = "## Why\n\nThe gap *grows*: $e_{val} - e_{train} > 0.2$, see ![fig](attachment:a.png)."
    assert escape_markdown(answer, {"a.png"}) == answer


def test_html_outputs_keep_tables_and_images_and_lose_scripts():
    table = ('<div><style>.x {color: red}</style><table border="1" class="dataframe"><thead><tr>'
             '<th>a</th></tr></thead><tbody><tr><td>1</td></tr></tbody></table></div>')
    assert clean_html(table) == table.replace("<style>.x {color: red}</style>", "")
    image = '<img src="data:image/png;base64,iVBORw0K" alt="plot">'
    assert clean_html(image) == image
    for attack in (_tag("x"), SVG.format("alert(1)", "alert(2)"), '<a href="javascript:x">y</a>',
                   '<img src="/logout">', '<iframe src="/api/terminals"></iframe>',
                   '<a href="jav&#x09;ascript:alert(1)">y</a>', '<p style="x" onclick="x">y</p>'):
        for tag, attrs in _Tags(clean_html(attack)).found:
            assert tag in HTML_TAGS, attack
            assert set(attrs) <= {"alt", "title", "class", "width", "height"}, attack


def test_rich_outputs_that_run_scripts_are_dropped_with_a_note():
    from reglab.sanitize import sanitize_output

    output = nbformat.v4.new_output("display_data", data={
        "image/svg+xml": "<svg/>", "application/javascript": "alert(1)"},
        metadata={"image/png": {"filenames": "/logout"}})
    clean = sanitize_output(output)
    assert clean.data == {"text/plain": "[image/svg+xml, application/javascript output not shown]"}
    assert clean.metadata == {}


def test_feedback_shows_no_path_of_the_grading_machine():
    roots = ["/home/grader/course", "/opt/py/lib/python3.11"]
    frame = ("\x1b[0;32mFile \x1b[0;32m/opt/venv/lib/python3.11/site-packages/numpy/_core/"
             "fromnumeric.py:3860\x1b[0m, in mean()\nFile /home/grader/course/reglab/grading.py:87"
             " and /opt/py/lib/python3.11/json/decoder.py, /srv/secret/place/x.py, 1/2 km /h, "
             "https://example.org/a/b")
    shown = hide_paths(frame, roots)
    assert "numpy/_core/fromnumeric.py:3860" in shown and "reglab/grading.py:87" in shown
    assert "json/decoder.py" in shown and " x.py" in shown
    assert "1/2 km /h, https://example.org/a/b" in shown
    assert not re.search(r"/(opt|home|srv)/", shown), shown
    assert short_path("/tmp/ipykernel_1/123.py", ["/tmp"]) == "ipykernel_1/123.py"

