"""The course's commands without `make`, on Linux, macOS and Windows (standard library only).

    python tasks.py setup              # .venv with what students need (add --all for instructors)
    python tasks.py lab                # JupyterLab in .venv
    python tasks.py validate NOTEBOOK  # the visible tests, as `nbgrader validate` runs them

Run from the course folder with Python 3.11, 3.12 or 3.13 (`py -3.11 tasks.py setup` on
Windows). `make setup` runs `python tasks.py setup --all`.
"""

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
SUPPORTED = ((3, 11), (3, 13))  # TensorFlow 2.21 has wheels for these (docs/students.md)
STUDENT = "requirements-student.txt"
EVERYTHING = "requirements.txt"


def venv_python() -> Path:
    """The Python of .venv, where Windows and POSIX put it."""
    windows = VENV / "Scripts" / "python.exe"
    return windows if os.name == "nt" else VENV / "bin" / "python"


def check_python(version: tuple[int, int] = sys.version_info[:2]) -> None:
    """Stop with what to do when this Python is one TensorFlow has no wheel for."""
    low, high = SUPPORTED
    if not low <= version <= high:
        sys.exit(f"error: the course runs on Python {low[0]}.{low[1]} to {high[0]}.{high[1]}, "
                 f"this is {version[0]}.{version[1]}. Install Python 3.11 and run it: "
                 "`py -3.11 tasks.py setup` on Windows, `python3.11 tasks.py setup` elsewhere "
                 "(or use Colab or Binder: docs/students.md).")


def run(*command: object) -> None:
    """Run a command from the course folder; stop with its exit code when it fails."""
    done = subprocess.run([str(c) for c in command], cwd=ROOT)
    if done.returncode:
        sys.exit(f"error: `{' '.join(map(str, command))}` failed (exit {done.returncode}); "
                 "read the lines above, fix the cause and run the same command again.")


def setup(everything: bool) -> None:
    """Create .venv and install the course into it (with --all, the instructor tools too)."""
    check_python()
    wanted = EVERYTHING if everything else STUDENT
    print(f"==> Setting up {VENV.name} from {wanted} (the first run downloads TensorFlow: "
          "a few minutes)", flush=True)
    if not venv_python().exists():
        run(sys.executable, "-m", "venv", VENV)
    python = venv_python()
    run(python, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    extra = [] if everything else ["-e", "."]  # requirements.txt installs the package itself
    run(python, "-m", "pip", "install", "--quiet", "-r", wanted, *extra)
    run(python, "-m", "ipykernel", "install", "--sys-prefix", "--name", "python3",
        "--display-name", "Python 3 (ipykernel)")
    lab = "python tasks.py lab"
    print(f"==> {VENV.name} is ready. Start JupyterLab with `{lab}`.", flush=True)


def in_venv(*command: str, capture: bool = False) -> subprocess.CompletedProcess:
    """Run a module of .venv's Python, with its bin folder first on PATH (nbgrader needs it)."""
    python = venv_python()
    if not python.exists():
        sys.exit("error: no .venv here yet: run `python tasks.py setup` first.")
    env = dict(os.environ, PATH=str(python.parent) + os.pathsep + os.environ.get("PATH", ""))
    return subprocess.run([str(python), "-m", *command], cwd=ROOT, env=env, text=True,
                          stdout=subprocess.PIPE if capture else None)


def validate(notebook: Path) -> None:
    """Run the notebook's visible tests; say what to upload, or exit 1 when a test fails."""
    done = in_venv("nbgrader", "validate", str(notebook.resolve()), capture=True)
    print(done.stdout, end="")
    if done.returncode == 0 and "Success!" in done.stdout:
        print(f"==> Ready to submit: upload {notebook} itself to the assignment on your course's "
              "site (docs/students.md, 'Submit').")
        return
    sys.exit("==> Not yet: fix the cells named above, save, and validate again.")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python tasks.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    set_up = sub.add_parser("setup", help="create .venv with what the notebooks need")
    set_up.add_argument("--all", action="store_true",
                        help="also the book, grading and test tools (instructors, CI)")
    sub.add_parser("lab", help="start JupyterLab in .venv")
    checks = sub.add_parser("validate", help="run a notebook's visible tests (nbgrader)")
    checks.add_argument("notebook", type=Path)
    args = parser.parse_args(argv)
    if args.command == "setup":
        setup(args.all)
    elif args.command == "lab":
        sys.exit(in_venv("jupyter", "lab").returncode)
    elif not args.notebook.is_file():
        parser.error(f"no such notebook: {args.notebook}")
    else:
        validate(args.notebook)


if __name__ == "__main__":
    main()
