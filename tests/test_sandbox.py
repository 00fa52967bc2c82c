"""The grading sandbox (reglab/sandbox.py).

Code in the sandbox cannot reach the network, read or write outside its folder, or
outgrow its limits; its kernel talks to the grader over unix sockets and can be
interrupted. Hostile submissions graded by the real ``nbgrader autograde`` with the
sandbox gain nothing and stop nothing: the other submissions of the same batch keep
their scores, and correct work keeps full marks.
"""

import os
import re
import socket
import sys
import threading
import time
import uuid
from pathlib import Path

import nbformat
import psutil
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError
from traitlets.config import Config

from reglab import bwrap, sandbox
from reglab.course import ROOT, notebooks
from tests.support import harness
from tests.support.common import require_sandbox
from tests.support.grading_run import PROBE, assert_denied, grade, outputs, verdicts
from tests.support.submissions import CHEATS

CHEAP = "01_bias_variance"  # numpy only: a few seconds per submission
KERAS = "07_label_smoothing_and_stochastic_depth"  # the quickest one that trains Keras models


def test_no_notebook_depends_on_nbgrader_execution():
    """Not slow, needs no sandbox: grading must not take another path than students do."""
    found = [str(p.relative_to(ROOT)) for p in notebooks()
             if "NBGRADER_EXECUTION" in p.read_text(encoding="utf-8")]
    assert not found, ("these notebooks behave differently under nbgrader (NBGRADER_EXECUTION);"
                       f" grading must run what students ran: {found}")


@pytest.fixture(scope="module")
def ready() -> None:
    require_sandbox()


class Listener:
    """A TCP server on the grader's loopback that counts the connections it accepts."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.2)
        self.port = self.server.getsockname()[1]
        self.accepted = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.server.accept()
            except TimeoutError:
                continue
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        self.server.close()


@pytest.fixture(scope="module")
def listener():
    server = Listener()
    yield server
    server.close()


def sandboxed_python(code: str, workdir: Path, **kwargs) -> str:
    workdir.mkdir(exist_ok=True)
    done = bwrap.run([sys.executable, "-c", PROBE + code], workdir, **kwargs)
    assert done.returncode == 0, f"exit {done.returncode}:\n{done.stderr[-2000:]}"
    return done.stdout


def leftovers(marker: str) -> list[str]:
    """Command lines of live processes that mention ``marker`` (a test's own folder)."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if marker in cmdline and proc.pid != os.getpid():
            found.append(cmdline[:200])
    return found


NETWORK = '''
import socket
_probe("loopback", lambda: socket.create_connection(("127.0.0.1", {port}), timeout=3))
_probe("public", lambda: socket.create_connection(("1.1.1.1", 53), timeout=3))
_probe("dns", lambda: socket.getaddrinfo("pypi.org", 443))
'''


@pytest.mark.slow
@pytest.mark.xdist_group("sandbox")
def test_sandbox_has_no_network(ready, listener, tmp_path):
    found = verdicts(sandboxed_python(NETWORK.format(port=listener.port), tmp_path / "work"))
    assert_denied(found, ["loopback", "public", "dns"])
    assert listener.accepted == 0


@pytest.mark.slow
@pytest.mark.xdist_group("sandbox")
def test_sandbox_reads_only_python_and_its_folder(ready, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    (work / "mine.txt").write_text("mine")
    (tmp_path / "secret.txt").write_text("secret")
    reads = {"outside": tmp_path / "secret.txt", "course config": ROOT / "nbgrader_config.py",
             "shadow": "/etc/shadow",
             "solution": ROOT / "solutions" / CHEAP / f"{CHEAP}.ipynb"}
    code = "".join(f"_probe({k!r}, lambda: open({str(v)!r}).read())\n" for k, v in reads.items())
    code += (f"_probe('solutions', lambda: __import__('os').listdir({str(ROOT / 'solutions')!r}))\n"
             "_probe('own file', lambda: open('mine.txt').read())\n"
             "_probe('numpy', lambda: __import__('numpy').ones(3).sum())\n"
             "_probe('reglab', lambda: __import__('reglab').data.digits()['x_train'].shape)\n"
             "_probe('processes', lambda: sum(p.isdigit() for p in __import__('os')"
             ".listdir('/proc')))\n")
    found = verdicts(sandboxed_python(code, work))
    assert_denied(found, [*reads, "solutions"])
    for label in ("own file", "numpy", "reglab"):
        assert found[label][0] == "ALLOWED", f"{label}: {found[label]}"
    assert int(found["processes"][1].strip("'")) < 10, "the sandbox sees the host's processes"


@pytest.mark.slow
@pytest.mark.xdist_group("sandbox")
def test_sandbox_writes_only_its_folder(ready, tmp_path):
    work = tmp_path / "work"
    host_tmp = Path("/tmp") / f"reglab-sandbox-test-{uuid.uuid4().hex}"
    # Beside the folder is in /tmp, the sandbox's own: writing there may succeed, unseen.
    writes = {"venv": Path(sys.prefix) / "evil.py", "reglab": ROOT / "reglab" / "evil.py",
              "course": ROOT / "evil.txt", "beside": tmp_path / "evil.txt"}
    code = "".join(f"_probe({k!r}, lambda: open({str(v)!r}, 'w').write('x'))\n"
                   for k, v in writes.items())
    code += (f"_probe('own folder', lambda: open('result.txt', 'w').write('x'))\n"
             "_probe('read back', lambda: open('result.txt').read())\n"
             "_probe('own data', lambda: open('data.txt').read())\n"
             "_probe('change data', lambda: open('data.txt', 'w').write('x'))\n"
             "_probe('notebook', lambda: open('graded.ipynb').read())\n"
             f"_probe('link', lambda: __import__('os').symlink({str(host_tmp)!r}, 'link'))\n"
             "_probe('fifo', lambda: __import__('os').mkfifo('fifo'))\n"
             f"_probe('tmp', lambda: open({str(host_tmp)!r}, 'w').write('x'))\n"
             "_probe('fill tmp', lambda: [open(f'/tmp/{i}', 'wb').write(bytes(2 << 20))"
             " for i in range(10)])\n"
             "_probe('fill folder', lambda: [open(f'big{i}', 'wb').write(bytes(2 << 20))"
             " for i in range(10)])\n")
    work.mkdir()
    (work / "data.txt").write_text("data")
    (work / "graded.ipynb").write_text("the hidden tests")
    limits = bwrap.Limits(file_size_mib=8, folder_mib=8)
    found = verdicts(sandboxed_python(code, work, limits=limits))
    assert_denied(found, ["venv", "reglab", "course", "fill tmp", "fill folder", "change data",
                          "notebook"])
    for label in ("own folder", "tmp", "own data", "read back", "link", "fifo"):
        assert found[label][0] == "ALLOWED", found
    assert not any(Path(p).exists() for p in [*writes.values(), host_tmp])
    assert sorted(p.name for p in work.iterdir()) == ["data.txt", "graded.ipynb"], \
        "what the sandbox wrote in its folder reached the host"
    assert (work / "data.txt").read_text() == "data"


LIMITS = {
    "memory": (bwrap.Limits(memory_mib=1024),
               "_probe('small', lambda: len(bytearray(100 << 20)))\n"
               "_probe('big', lambda: len(bytearray(1100 << 20)))\n"),
    "processes": (bwrap.Limits(processes=16),
                  "import os, time\n"
                  "children = []\n"
                  "def _fork():\n"
                  "    while True:\n"
                  "        pid = os.fork()\n"
                  "        if pid == 0:\n"
                  "            time.sleep(30)\n"
                  "            os._exit(0)\n"
                  "        children.append(pid)\n"
                  "_probe('fork', _fork)\n"
                  "print('children', len(children))\n"
                  "for pid in children:\n"
                  "    os.kill(pid, 9)\n"),
    "file size": (bwrap.Limits(file_size_mib=1),
                  "_probe('small', lambda: open('a.bin', 'wb').write(bytes(1000)))\n"
                  "_probe('big', lambda: open('b.bin', 'wb').write(bytes(2 << 20)))\n"),
}


@pytest.mark.slow
@pytest.mark.xdist_group("sandbox")
@pytest.mark.parametrize("limit", list(LIMITS))
def test_limits_stop_runaway_code(ready, tmp_path, limit):
    limits, code = LIMITS[limit]
    out = sandboxed_python(code, tmp_path / "work", limits=limits)
    found = verdicts(out)
    if limit == "processes":
        assert found["fork"][1] == "BlockingIOError", out
        assert 0 < int(re.search(r"children (\d+)", out)[1]) < limits.processes
    else:
        assert found["small"][0] == "ALLOWED", out
        assert found["big"] == ("DENIED", {"memory": "MemoryError"}.get(limit, "OSError")), out


@pytest.mark.slow
@pytest.mark.xdist_group("sandbox")
def test_cpu_limit_ends_a_busy_loop(ready, tmp_path):
    (tmp_path / "work").mkdir()
    start = time.monotonic()
    done = bwrap.run([sys.executable, "-c", "while True: pass"], tmp_path / "work",
                       limits=bwrap.Limits(cpu_seconds=1))
    assert done.returncode in (-9, -24, 128 + 9, 128 + 24), done  # SIGKILL or SIGXCPU
    assert time.monotonic() - start < 20


@pytest.mark.slow
@pytest.mark.xdist_group("sandbox")
def test_sandboxed_kernel_runs_is_interrupted_and_goes_away(ready, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell(
            "import json, os, resource\nfrom ipykernel.connect import get_connection_file\n"
            "print(os.getcwd(), resource.getrlimit(resource.RLIMIT_NPROC)[0],\n"
            "      json.load(open(get_connection_file()))['transport'])"),
        nbformat.v4.new_code_cell("while True:\n    pass"),
        nbformat.v4.new_code_cell("print('still alive')"),
    ])
    config = Config({"SandboxedKernelManager": {"process_limit": 77}})
    client = NotebookClient(
        nb, kernel_name="python3", kernel_manager_class=sandbox.SandboxedKernelManager,
        config=config, timeout=3, interrupt_on_timeout=True, allow_errors=True,
        error_on_timeout={"ename": "CellTimeoutError", "evalue": "", "traceback": []},
        resources={"metadata": {"path": str(work)}})
    client.execute()
    first, _, last = ("".join(o.get("text", "") for o in c.outputs) for c in nb.cells)
    assert first.split() == [str(work), "77", "ipc"]
    assert last.strip() == "still alive", "the interrupt did not reach the kernel"
    assert not leftovers(str(work)), "sandbox processes outlived their kernel"
    assert work.stat().st_uid == os.getuid()


@pytest.mark.slow
@pytest.mark.xdist_group("sandbox")
def test_a_kernel_that_dies_leaves_nothing_behind(ready, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "open('left.txt', 'w').write('x')\nimport os\nos._exit(1)")])
    folders = []
    client = NotebookClient(
        nb, kernel_name="python3", kernel_manager_class=sandbox.SandboxedKernelManager,
        timeout=30, resources={"metadata": {"path": str(work)}},
        on_notebook_start=lambda notebook: folders.append(
            Path(client.km.connection_file).parent))
    with pytest.raises(DeadKernelError):
        client.execute()
    assert folders and not folders[0].exists(), "the kernel's socket folder was left behind"
    assert not (work / "left.txt").exists(), "a file the kernel wrote reached the host"
    assert work.stat().st_uid == os.getuid(), "the folder was not handed back"
    assert not leftovers(str(work))


# Hostile submissions: each appends its code to the release's first solution cell.
HOSTILE = {
    "reads hidden tests and the gradebook": '''
import json
_course = {course!r}
_nb = "{a}/{a}.ipynb"
_paths = {{"relative source": "../../../solutions/" + _nb,
          "absolute source": _course + "/solutions/" + _nb,
          "gradebook": _course + "/gradebook.db",
          "other's submission": _course + "/submitted/solution/" + _nb,
          "other's graded copy": _course + "/autograded/solution/" + _nb}}
for _label, _path in _paths.items():
    _probe(_label, lambda p=_path: open(p, "rb").read(50))


def _course_files():
    import os
    mine = os.getcwd()
    found = [f for r, _, fs in os.walk(_course) for f in fs if not r.startswith(mine)]
    if not found:
        raise FileNotFoundError("no file of the course directory is in sight")
    return found


_probe("course files", _course_files)
try:  # with the source in hand, run the instructor's solution
    for _cell in json.load(open(_paths["absolute source"]))["cells"]:
        if "BEGIN SOLUTION" in "".join(_cell["source"]):
            exec("".join(_cell["source"]))
except OSError:
    pass
''',
    "writes the gradebook": '''
import sqlite3
_course = {course!r}
for _label, _path in {{"gradebook": _course + "/gradebook.db",
                      "relative gradebook": "../../../gradebook.db"}}.items():
    _probe("open " + _label, lambda p=_path: open(p, "r+b").write(b"x"))
    _probe("sqlite " + _label, lambda p=_path: sqlite3.connect(
        f"file:{{p}}?mode=rw", uri=True).execute("update grade set auto_score = 99").rowcount)
_probe("new file in course", lambda: open(_course + "/evil.txt", "w").write("x"))
''',
    "opens sockets": NETWORK,
    "fork bomb": '''
import os
while True:
    os.fork()
''',
    "allocates too much memory": '''
import numpy as np
_probe("np.ones(10**11)", lambda: np.ones(10**11).sum())
_probe("beyond the limit", lambda: np.empty({too_much}, dtype=np.uint8).nbytes)
''',
}
PROBES = {
    "reads hidden tests and the gradebook": [
        "relative source", "absolute source", "gradebook", "other's submission",
        "other's graded copy", "course files"],
    "writes the gradebook": [
        "open gradebook", "sqlite gradebook", "open relative gradebook",
        "sqlite relative gradebook"],  # a new file in the course: checked on the host
    "opens sockets": ["loopback", "public", "dns"],
    "allocates too much memory": ["np.ones(10**11)", "beyond the limit"],
}
PATCHES = ["patched numpy comparisons", "patched AssertionError"]
# The assignment's kernel runs 13 threads, and NumPy may start one BLAS thread per core.
BOMB_LIMIT = 32 + 2 * (os.cpu_count() or 1)


def _student(name: str) -> str:
    return name.replace(" ", "-").replace("'", "")


@pytest.fixture(scope="module")
def hostile_batch(ready, listener, tmp_path_factory):
    """The solution and every hostile submission, graded in one batch."""
    workdir = tmp_path_factory.mktemp("sandbox")
    course = workdir / f"course-{CHEAP}"  # where harness.autograde puts the course
    too_much = (sandbox.SandboxedKernelManager().memory_limit + 1024) << 20
    release = harness.read("exercises", CHEAP)
    subs = {"solution": harness.solution_submission(CHEAP)}
    for name, code in HOSTILE.items():
        code = PROBE + code.format(course=str(course), a=CHEAP, port=listener.port,
                                   too_much=too_much)
        subs[_student(name)] = harness.with_first_code(release, code)
    for name in PATCHES:
        subs[_student(name)] = CHEATS[name](harness, CHEAP, harness.graded_functions(CHEAP))
    start = time.monotonic()
    # A fork bomb's children spin until the notebook ends: fewer of them keep this test short
    # (and show that limits set on nbgrader's command line reach the sandbox).
    args = [*sandbox.autograde_args(), f"--SandboxedKernelManager.process_limit={BOMB_LIMIT}"]
    results = grade(CHEAP, subs, workdir, args=args)
    return {"results": results, "seconds": time.monotonic() - start, "course": course,
            "leftovers": leftovers(str(course))}


@pytest.mark.slow
@pytest.mark.xdist_group("sandbox")
def test_hostile_batch_stops_nothing(hostile_batch, listener):
    results = hostile_batch["results"]
    solution = results["solution"]
    assert solution.cells, f"the solution was not graded:\n{solution.log[-3000:]}"
    score, maximum = solution.auto()
    assert score == maximum > 0, f"beside hostile submissions, the solution got {score}/{maximum}"
    assert not hostile_batch["leftovers"], "sandbox processes outlived grading"
    assert listener.accepted == 0
    assert not (hostile_batch["course"] / "evil.txt").exists()


@pytest.mark.slow
@pytest.mark.xdist_group("sandbox")
@pytest.mark.parametrize("name", [*HOSTILE, *PATCHES])
def test_hostile_submission_gains_nothing(hostile_batch, name):
    result = hostile_batch["results"][_student(name)]
    assert result.cells or name == "fork bomb", f"{name!r} was not graded:\n{result.log[-3000:]}"
    scored = {k: v for k, v in result.cells.items() if v[0]}
    assert not scored, f"{name!r} scored {scored}"
    text = outputs(result, CHEAP, _student(name))
    if name == "fork bomb":  # the cell errors, or the kernel dies and nothing is graded
        assert text is None or "BlockingIOError" in text, text
        assert hostile_batch["seconds"] < 300
    elif name in PROBES:
        assert text is not None, f"{name!r} was not graded:\n{result.log[-3000:]}"
        assert_denied(verdicts(text), PROBES[name])


@pytest.mark.slow
@pytest.mark.xdist_group("sandbox")
def test_keras_solution_keeps_full_marks_in_the_sandbox(ready, tmp_path):
    results = grade(KERAS, {"solution": harness.solution_submission(KERAS)}, tmp_path,
                    args=sandbox.autograde_args())
    solution = results["solution"]
    assert solution.cells, f"the solution was not graded:\n{solution.log[-3000:]}"
    score, maximum = solution.auto()
    assert score == maximum > 0, f"in the sandbox: {score}/{maximum}\n{solution.log[-3000:]}"


@pytest.mark.slow
@pytest.mark.xdist_group("sandbox")
def test_hidden_data_cannot_be_read_in_the_sandbox(ready, tmp_path):
    """What a capstone kernel sees: scikit-learn's data folder empty, the rest as usual."""
    from reglab.capstone import source_folders

    folders = source_folders()
    assert any((Path(f) / "digits.csv.gz").is_file() for f in folders), folders
    code = ("_probe('digits', lambda: __import__('reglab').data.digits()['x_train'].shape)\n"
            "_probe('sklearn', lambda: __import__('sklearn.datasets').__name__)\n")
    found = verdicts(sandboxed_python(code, tmp_path / "work", hidden=[Path(f) for f in folders]))
    assert_denied(found, ["digits"])
    assert found["sklearn"][0] == "ALLOWED", found["sklearn"]
    found = verdicts(sandboxed_python(code, tmp_path / "open"))
    assert found["digits"][0] == "ALLOWED", "without hiding, the sandbox reads the data"
