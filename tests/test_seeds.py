"""Every chapter's assertions hold for other seeds, and no cell waits on a timeout.

Each chapter runs again with every seed shifted (``REGLAB_SEED_SHIFT``: initializations,
data splits, noise): what a chapter asserts must hold on any draw, not only on its own.
"""

import pytest

from reglab.book import cell_seconds, execute
from tests.support.common import chapters

pytestmark = pytest.mark.slow

SHIFTS = (101, 202)
# A cell that executes in far more than this has stalled (a widget waiting for its
# messages) rather than computed: the slowest training cell takes well under half of it.
CELL_LIMIT = 240
LIVE_LIMIT = 20


@pytest.mark.parametrize("shift", SHIFTS)
@pytest.mark.parametrize("chapter", chapters(), ids=lambda p: p.stem)
def test_chapter_holds_under_other_seeds(chapter, shift):
    nb, _, error = execute(str(chapter), timeout=CELL_LIMIT, shift=shift, record_timing=True)
    assert error is None, f"{chapter.name} with seeds shifted by {shift}:\n{error[-4000:]}"
    code = [c for c in nb.cells if c.cell_type == "code"]
    for number, seconds in cell_seconds(nb):
        if "explore.live(" in code[number - 1].source:
            assert seconds < LIVE_LIMIT, f"{chapter.name} cell {number}: the live control " \
                f"took {seconds:.0f} s to show (stalled)"
