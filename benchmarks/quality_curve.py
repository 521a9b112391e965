"""Draw FID against training minutes (or steps) from quality.py's result lines: a PNG.

    python benchmarks/quality.py --recipe stable --minutes 30 --curve 5,10,20 --seed 1
    python benchmarks/quality.py --score benchmarks/quality_runs/<that run>   # the snapshots
    python benchmarks/quality.py --floor
    python benchmarks/quality_curve.py benchmarks/results/quality.jsonl   # docs/quality_curve.png

Every scored line with "recipe" and "minutes" (quality.py writes both) is a point; lines of one
curve (a recipe; see --by and --label) at the same minutes (or thousands of steps, --x steps),
several seeds or runs, are drawn as their mean with a bar from the lowest to the highest. The
real-vs-real floor (the last --floor line, or the one in the file ``--floor FILE`` names) is a
dashed line. Needs matplotlib (pip install matplotlib), which only this script uses.
"""

import argparse
import json
import os
import re
import sys
from collections import defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUTPUT = os.path.join(HERE, "..", "docs", "quality_curve.png")
DEFAULT_XLABEL = "minutes of training on a 2-core CPU"
XLABELS = {"minutes": DEFAULT_XLABEL, "steps": "thousands of training steps"}


def curve_points(lines, by=(), labels=None, x="minutes"):
    """{curve: [(x, mean FID, lowest, highest, runs)]} and the floor's FID (or None).

    x is the training minutes, or with ``x="steps"`` the thousands of steps (for runs on
    machines of different speeds, which reach a step count at different minutes).

    A curve is a recipe, or with ``by`` (field names such as "width") a recipe at each value of
    those fields: "stable, width 64". ``labels`` ({run name: curve}) names the curve of a run's
    lines, its --curve snapshots' included, whatever their recipe and fields.
    """
    groups, floor = defaultdict(list), None
    for line in lines:
        if line.get("fid") is None:
            continue
        if is_floor(line):
            floor = line["fid"]
        elif "recipe" in line and x in line and line.get("count", 0) >= 5000 \
                and not line["run"].endswith("-raw"):
            curve = _labelled(line["run"], labels or {}) or ", ".join(
                [line["recipe"]] + [f"{field} {line.get(field)}" for field in by])
            place = round(line["minutes"]) if x == "minutes" else round(line["steps"] / 1000)
            groups[curve, place].append(line["fid"])
    points = defaultdict(list)
    for (curve, place), fids in sorted(groups.items()):
        points[curve].append((place, sum(fids) / len(fids), min(fids), max(fids), len(fids)))
    return dict(points), floor


def _labelled(run, labels):
    """The label of ``run`` or of the run it is a snapshot of ("<run>-30min"); None if none."""
    for name, label in labels.items():
        if run == name or re.fullmatch(re.escape(name) + r"-[\d.]+min", run):
            return label
    return None


def is_floor(line):
    """Whether a result line is the real-vs-real floor (quality.py --floor writes it)."""
    return line.get("run", "").startswith("real frogs")


def floor_lines(lines):
    """The scored floor lines among ``lines``."""
    return [line for line in lines if is_floor(line) and line.get("fid") is not None]


def read_lines(path):
    """A result file's lines as dicts; exits with a one-line error if it cannot be read."""
    try:
        with open(path) as file:
            texts = list(file)
    except OSError as error:
        sys.exit(f"error: cannot read {path} ({error.strerror}): pass a quality.py result file")
    lines = []
    for number, text in enumerate(texts, 1):
        try:
            lines += [json.loads(text)] if text.strip() else []
        except json.JSONDecodeError:
            sys.exit(f"error: {path} line {number} is not JSON: pass a quality.py result file")
    return lines


def draw(points, floor, output, xlabel=DEFAULT_XLABEL):
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(figsize=(7, 4.2), dpi=110)
    for curve, rows in points.items():
        places, mean, low, high, runs = zip(*rows)
        axes.errorbar(places, mean, yerr=[[m - lo for m, lo in zip(mean, low)],
                                           [hi - m for m, hi in zip(mean, high)]],
                      marker="o", capsize=3, label=_label(curve, max(runs)))
    if floor is not None:
        axes.axhline(floor, linestyle="--", color="grey",
                     label=f"real frogs against real frogs ({floor:.1f})")
    axes.set_xlabel(xlabel)
    axes.set_ylabel("FID, 5,000 samples (lower is better)")
    axes.set_ylim(bottom=0)
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(output)


def _label(curve, runs):
    return f"{curve} (bars: lowest to highest of up to {runs} runs)" if runs > 1 \
        else f"{curve} (1 run)"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", nargs="+", help="quality.py result files (.jsonl)")
    parser.add_argument("--output", default=DEFAULT_OUTPUT, help="[docs/quality_curve.png]")
    parser.add_argument("--by", default="", metavar="FIELDS",
                        help="also tell curves apart by these fields of a line, e.g. width")
    parser.add_argument("--x", choices=XLABELS, default="minutes",
                        help="draw FID against training minutes, or thousands of steps "
                             "(runs on machines of different speeds) [minutes]")
    parser.add_argument("--xlabel", default=None,
                        help="[--x minutes: %(minutes)s; --x steps: %(steps)s]" % XLABELS)
    parser.add_argument("--label", action="append", default=[], metavar="RUN=NAME",
                        help="name the curve of a run (its result lines' \"run\", without a "
                             "snapshot's -30min) NAME; repeat for more runs")
    parser.add_argument("--floor", metavar="FILE",
                        help="take the floor from this result file (its last --floor line), "
                             "e.g. when the runs' own file has none")
    args = parser.parse_args()
    lines = [line for path in args.results for line in read_lines(path)]
    if args.floor:
        floors = floor_lines(read_lines(args.floor))
        if not floors:
            sys.exit(f"error: {args.floor} holds no scored floor line: pass the file "
                     f"'quality.py --floor --results FILE' wrote")
        lines += floors[-1:]
    labels = dict(label.split("=", 1) for label in args.label if "=" in label)
    if len(labels) < len(args.label):
        sys.exit("error: --label takes RUN=NAME, e.g. --label stable-w32-30min='the recipe'")
    points, floor = curve_points(lines, [field for field in args.by.split(",") if field],
                                 labels, args.x)
    if not points:
        sys.exit(f"error: no scored line with 'recipe' and '{args.x}' in "
                 f"{', '.join(args.results)}: run quality.py with --curve, then --score the "
                 f"run's folder")
    try:
        draw(points, floor, args.output, args.xlabel or XLABELS[args.x])
    except ImportError:
        sys.exit("error: drawing the curve needs matplotlib: pip install matplotlib")
    unit = "min" if args.x == "minutes" else "k steps"
    for curve, rows in points.items():
        for place, mean, low, high, runs in rows:
            print(f"{curve:>30} {place:4d} {unit}  FID {mean:6.1f} "
                  f"(lowest {low:.1f}, highest {high:.1f}, {runs} run{'s' * (runs > 1)})")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
