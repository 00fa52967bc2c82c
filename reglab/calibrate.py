"""Calibrate the capstone's bands: the false-fail rate of a recipe over many graded draws.

    python -m reglab.calibrate [--seeds 1000:1064] [--extra FILE]

Trains the solution's recipe (the ``recipe`` cell of solutions/09_capstone) and the baseline
on each draw (:func:`reglab.capstone.trial`, from the same seed), with the code the graded
tests run (:func:`reglab.capstone.run` and :func:`~reglab.capstone.score`), and reports the
gain over the baseline, the canary pull, the rules broken, and how many graded runs (means
over three draws) would miss each band. ``--extra`` appends code to the recipe cell, as a
submission would (an alternative recipe, say).
"""

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np

from reglab import capstone
from reglab.course import ROOT


def recipe_namespace(extra: str = "") -> dict:
    """HP, build_model and train of the solution (and ``extra``), as the notebook defines them."""
    import keras
    import nbformat

    import reglab

    nb = nbformat.read(ROOT / "solutions" / "09_capstone" / "09_capstone.ipynb", as_version=4)
    cell = next(c.source for c in nb.cells
                if c.metadata.get("nbgrader", {}).get("grade_id") == "recipe")
    namespace = {"keras": keras, "np": np, "reglab": reglab, "capstone": capstone}
    exec(compile(cell + "\n" + extra, "<recipe>", "exec"), namespace)  # noqa: S102
    return namespace


def draws(namespace: dict, seeds: range) -> list[dict]:
    """Recipe and baseline on the draw of each seed (:func:`reglab.capstone.runs`): gain,
    pull and the rules broken, one dict per draw."""
    def recipe_run(seed, inputs, x_probe, epochs_budget):
        return capstone.run(namespace["build_model"], namespace["train"], namespace["HP"], seed,
                            inputs, x_probe, epochs_budget)

    rows = []
    for seed in seeds:
        (graded, mine, base), = capstone.runs(recipe_run, [seed])
        ours, theirs = capstone.score(mine, graded), capstone.score(base, graded)
        rows.append({"gain": ours["accuracy"] - theirs["accuracy"], "pull": ours["canaries"],
                     "base pull": theirs["canaries"],
                     "broken": capstone.broken_rules(mine, graded)})
        print(f"draw {seed}: gain {rows[-1]['gain']:+.3f}, pull {rows[-1]['pull']:.3f}"
              + (f", broke: {'; '.join(rows[-1]['broken'])}" if rows[-1]["broken"] else ""),
              flush=True)
    return rows


def summary(rows: list[dict]) -> list[str]:
    """What the rows say about the bands, one line each."""
    gains = np.array([r["gain"] for r in rows])
    triples = np.array([np.mean(t) for t in itertools.combinations(gains, 3)])
    disjoint = gains[:len(gains) // 3 * 3].reshape(-1, 3).mean(axis=1)
    broken = sum(bool(r["broken"]) for r in rows)
    lines = [f"{len(rows)} draws: gain {gains.mean():+.3f} ± {gains.std():.3f} "
             f"(smallest {gains.min():+.3f}); rules broken in {broken}",
             f"canary pull: recipe at most {max(r['pull'] for r in rows):.3f}, baseline at most "
             f"{max(r['base pull'] for r in rows):.3f} (limit {capstone.CANARY_LIMIT})"]
    for band, need in enumerate(capstone.BANDS):
        lines.append(f"band {band + 1} (+{need}): missed by {int((disjoint < need).sum())} of "
                     f"{len(disjoint)} disjoint graded runs, {(triples < need).mean():.4%} of "
                     f"all {len(triples)} triples")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reglab.calibrate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", default="1000:1064", help="START:STOP of the draws' seeds")
    parser.add_argument("--extra", type=Path, help="code appended to the recipe cell")
    args = parser.parse_args(argv)
    start, stop = (int(v) for v in args.seeds.split(":"))
    if stop - start < 3:
        parser.error("need at least 3 draws (a graded run averages three)")
    import reglab

    reglab.setup(seed=0)
    namespace = recipe_namespace(args.extra.read_text() if args.extra else "")
    rows = draws(namespace, range(start, stop))
    print("\n".join(summary(rows)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
