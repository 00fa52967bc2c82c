"""Fixtures shared by the test modules (the servers they start: reglab/services.py)."""

import subprocess
import sys
from collections.abc import Iterator

import pytest

from reglab import services
from reglab.course import ROOT, nbgrader_env
from tests.support.common import CHROMIUM, CHROMIUM_ARGS


@pytest.fixture(scope="session")
def book() -> subprocess.CompletedProcess:
    """Build the book once, as `make book` does (`python -m reglab.book`: chapters executed
    into the cache in parallel, then `jupyter-book build . -W -n --keep-going`).

    Every test that uses it is marked ``xdist_group("book")``: under ``--dist loadgroup``
    they all run on one worker, after this one build.
    """
    return subprocess.run([sys.executable, "-m", "reglab.book"], cwd=ROOT, env=nbgrader_env(),
                          capture_output=True, text=True, timeout=3000)


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium, headless, through Playwright."""
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make system` (as root)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                              args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of an empty database on a PostgreSQL server that lives for the session."""
    try:
        with services.postgres() as url:
            yield url
    except services.ServiceError as error:
        pytest.fail(str(error))
