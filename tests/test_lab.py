"""The chapters' controls inside JupyterLab itself: a real server on loopback, Chromium."""

import os
import subprocess
import sys

import matplotlib.pyplot as plt
import nbformat
import pytest

from reglab import explore
from tests.support.jupyter_server import jupyter_server

pytestmark = [pytest.mark.slow]


def _figure(value: int):
    fig, ax = plt.subplots(figsize=(2, 1.5))
    ax.plot([0, 1], [0, value])
    return fig


def test_pre_rendered_slider_moves_with_the_keyboard_in_jupyterlab(tmp_path, browser):
    """JupyterLab reads arrow keys as notebook shortcuts; the slider must still take them."""
    root, home = tmp_path / "root", tmp_path / "home"
    root.mkdir()
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {
        "name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}})
    cell = nbformat.v4.new_code_cell("reglab.explore.explorer([1, 2, 3], draw, 'value')")
    cell.outputs = [nbformat.v4.new_output(
        "display_data", data={"text/html": explore.explorer_html([1, 2, 3], _figure, "value")})]
    nb.cells = [cell, nbformat.v4.new_code_cell("after = 1")]
    nbformat.write(nb, root / "slider.ipynb")
    env = {"JUPYTER_DATA_DIR": str(home / "data")}  # the trust database, shared with the server
    subprocess.run([sys.executable, "-m", "jupyter", "trust", "slider.ipynb"], cwd=root,
                   env={**os.environ, **env}, check=True, capture_output=True)
    with jupyter_server(root, home, env=env) as (base, token):
        context = browser.new_context()
        try:
            page = context.new_page()
            page.goto(f"{base}/lab/tree/slider.ipynb?token={token}")
            slider = page.locator(".reglab-explorer input[type=range]")
            slider.wait_for(timeout=90_000)
            shown = page.locator(".reglab-explorer output")
            for _ in range(3):  # a dialog JupyterLab opens on a first visit, if any
                if page.locator(".jp-Dialog").count() == 0:
                    break
                page.keyboard.press("Escape")
                page.wait_for_timeout(300)
            page.locator(".reglab-explorer figure:not([hidden]) img").click()  # command mode
            box = slider.bounding_box()
            page.mouse.click(box["x"] + 3, box["y"] + box["height"] / 2)  # on the thumb at 0
            assert slider.input_value() == "0"
            page.keyboard.press("ArrowRight")
            page.keyboard.press("ArrowRight")
            assert (slider.input_value(), shown.inner_text()) == ("2", "3"), \
                "ArrowRight did not move the slider: JupyterLab took the key"
            page.keyboard.press("ArrowLeft")
            assert (slider.input_value(), shown.inner_text()) == ("1", "2")
        finally:
            context.close()
