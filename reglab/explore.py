"""Controls that work in Jupyter and on the static website.

``explorer`` renders a figure for every value of a control ahead of time and
shows them behind an HTML range slider with a few lines of inline script: it
responds without a kernel, offline and from ``file://``. ``live`` is the same
control as an ipywidgets slider that recomputes in a running kernel.
"""

import base64
import hashlib
import html
import io
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

if TYPE_CHECKING:
    from IPython.display import HTML

_SCRIPT = """<script>
(function () {
  var root = document.getElementById("%(uid)s");
  var slider = root.querySelector("input[type=range]");
  var shown = root.querySelector("output");
  var frames = root.querySelectorAll("figure[data-frame]");
  function show(i) {
    frames.forEach(function (f, j) { f.hidden = (j !== i); });
    shown.textContent = frames[i].getAttribute("data-label");
  }
  slider.addEventListener("input", function () { show(parseInt(slider.value, 10)); });
  // JupyterLab reads arrow keys as notebook shortcuts before the slider sees them: take the
  // keys meant for this slider first, at the window, and move it here.
  var steps = {ArrowRight: 1, ArrowUp: 1, ArrowLeft: -1, ArrowDown: -1, PageUp: 1,
               PageDown: -1, Home: -frames.length, End: frames.length};
  slider.setAttribute("data-lm-suppress-shortcuts", "true");
  window.addEventListener("keydown", function (event) {
    if (event.target !== slider || !(event.key in steps)) { return; }
    event.preventDefault();
    event.stopImmediatePropagation();
    var i = parseInt(slider.value, 10) + steps[event.key];
    slider.value = String(Math.max(0, Math.min(frames.length - 1, i)));
    show(parseInt(slider.value, 10));
  }, true);
  show(parseInt(slider.value, 10));
})();
</script>"""


def _png(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.set_layout_engine("tight")  # laid out during the one draw that savefig makes
    fig.savefig(buf, format="png")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _value_text(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _default_alt(label: str, value: object) -> str:
    return f"Figure for {label} = {_value_text(value)}"


def explorer_html(
    values: Sequence,
    render: Callable[[object], Figure],
    label: str,
    alt: Callable[[object], str] | None = None,
    start: int = 0,
) -> str:
    """HTML for a slider over ``values``; ``render(v)`` draws the figure shown at ``v``.

    ``alt(v)`` is the alt text of that figure: say what it shows. Without it, the alt text
    only names the control and its value ("Figure for dropout rate = 0.5").
    """
    if not values:
        raise ValueError("explorer needs at least one value for its slider")
    if not 0 <= start < len(values):
        raise ValueError(f"start={start} is not an index of the {len(values)} values")
    uid = "rx-" + hashlib.sha1((label + repr(list(values))).encode()).hexdigest()[:10]
    frames = []
    for i, value in enumerate(values):
        hidden = "" if i == start else " hidden"
        text = html.escape(_value_text(value))
        description = alt(value) if alt else _default_alt(label, value)
        frames.append(
            f'<figure data-frame="{i}" data-label="{text}"{hidden} style="margin:0">'
            f'<img src="data:image/png;base64,{_png(render(value))}" '
            f'alt="{html.escape(description)}" style="max-width:100%"></figure>'
        )
    first = html.escape(_value_text(values[start]))
    return (
        f'<div class="reglab-explorer" id="{uid}">'
        f'<label style="display:block;margin-bottom:.5em">{html.escape(label)} (pre-rendered): '
        f'<input type="range" min="0" max="{len(values) - 1}" step="1" value="{start}" '
        f'aria-label="{html.escape(label)}" style="vertical-align:middle;width:50%"> '
        f"<output>{first}</output></label>{''.join(frames)}</div>" + _SCRIPT % {"uid": uid}
    )


def explorer(values: Sequence, render: Callable[[object], Figure], label: str,
             alt: Callable[[object], str] | None = None, start: int = 0) -> "HTML":
    """Display the slider of :func:`explorer_html` in the notebook (and the website)."""
    from IPython.display import HTML

    return HTML(explorer_html(values, render, label, alt, start))


def _png_bytes(fig: Figure) -> bytes:
    return base64.b64decode(_png(fig))


def live(values: Sequence, render: Callable[[object], Figure], label: str) -> None:
    """Show an ipywidgets slider over ``values`` that re-runs ``render`` in the kernel.

    The figure goes into an image widget that the slider updates: no output capture, so
    executing the cell (nbclient, the book build) never waits on widget messages, and the
    cell shows the control and nothing else.
    """
    import ipywidgets as widgets
    from IPython.display import display

    if not values:
        raise ValueError("live needs at least one value for its slider")
    slider = widgets.SelectionSlider(options=list(values),
                                     description=f"{label} (recomputes in your kernel)",
                                     continuous_update=False,
                                     style={"description_width": "initial"},
                                     layout={"width": "90%"})
    image = widgets.Image(format="png", value=_png_bytes(render(slider.value)))

    def redraw(change: dict) -> None:
        image.value = _png_bytes(render(change["new"]))

    slider.observe(redraw, names="value")
    display(widgets.VBox([slider, image]))
