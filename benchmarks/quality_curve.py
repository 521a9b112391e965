"""Draw FID against training minutes from quality.py's result lines: docs/quality_curve.png.

    python benchmarks/quality.py --recipe stable --minutes 30 --curve 5,10,20 --seed 1
    python benchmarks/quality.py --score benchmarks/quality_runs/<that run>   # the snapshots
    python benchmarks/quality.py --floor
    python benchmarks/quality_curve.py benchmarks/results/quality.jsonl

Every scored line with "recipe" and "minutes" (quality.py writes both) is a point; lines of one
recipe at the same minutes (several seeds, or runs) are drawn as their mean with a bar from the
lowest to the highest. The real-vs-real floor (the last --floor line) is a dashed line. Needs
matplotlib (pip install matplotlib), which only this script uses.
"""

import argparse
import json
import os
import sys
from collections import defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUTPUT = os.path.join(HERE, "..", "docs", "quality_curve.png")
DEFAULT_XLABEL = "minutes of training on a 2-core CPU"


def curve_points(lines, by=()):
    """{curve: [(minutes, mean FID, lowest, highest, runs)]} and the floor's FID (or None).

    A curve is a recipe, or with ``by`` (field names such as "width") a recipe at each value of
    those fields: "stable, width 64".
    """
    groups, floor = defaultdict(list), None
    for line in lines:
        if line.get("fid") is None:
            continue
        if line.get("run", "").startswith("real frogs"):
            floor = line["fid"]
        elif "recipe" in line and "minutes" in line and line.get("count", 0) >= 5000 \
                and not line["run"].endswith("-raw"):
            curve = ", ".join([line["recipe"]] + [f"{field} {line.get(field)}" for field in by])
            groups[curve, round(line["minutes"])].append(line["fid"])
    points = defaultdict(list)
    for (curve, minutes), fids in sorted(groups.items()):
        points[curve].append((minutes, sum(fids) / len(fids), min(fids), max(fids), len(fids)))
    return dict(points), floor


def draw(points, floor, output, xlabel=DEFAULT_XLABEL):
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(figsize=(7, 4.2), dpi=110)
    for curve, rows in points.items():
        minutes, mean, low, high, runs = zip(*rows)
        axes.errorbar(minutes, mean, yerr=[[m - lo for m, lo in zip(mean, low)],
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
    parser.add_argument("--xlabel", default=DEFAULT_XLABEL, help=f"[{DEFAULT_XLABEL}]")
    args = parser.parse_args()
    lines = []
    for path in args.results:
        with open(path) as file:
            lines += [json.loads(text) for text in file if text.strip()]
    points, floor = curve_points(lines, [field for field in args.by.split(",") if field])
    if not points:
        sys.exit(f"error: no scored line with 'recipe' and 'minutes' in {', '.join(args.results)}"
                 f": run quality.py with --curve, then --score the run's folder")
    try:
        draw(points, floor, args.output, args.xlabel)
    except ImportError:
        sys.exit("error: drawing the curve needs matplotlib: pip install matplotlib")
    for curve, rows in points.items():
        for minutes, mean, low, high, runs in rows:
            print(f"{curve:>30} {minutes:4d} min  FID {mean:6.1f} "
                  f"(lowest {low:.1f}, highest {high:.1f}, {runs} run{'s' * (runs > 1)})")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
