"""benchmarks/quality.py keeps working: a two-step run writes its samples, grid and scores."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "quality.py"


@pytest.mark.slow  # a training run and its scores in a fresh Python
def test_a_tiny_stable_run_writes_samples_a_grid_and_a_result_line(frog_zip, tmp_path):
    out, results = tmp_path / "run", tmp_path / "results.jsonl"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--recipe", "stable", "--steps", "2", "--width", "8",
         "--batch", "4", "--count", "20", "--no-fid", "--data", str(frog_zip), "--out", str(out),
         "--results", str(results)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [json.loads(line) for line in results.read_text().splitlines()]
    # the average's samples and, free, the raw generator's: the EMA ablation
    assert [line["run"] for line in lines] == ["stable-w8-b4-2steps", "stable-w8-b4-2steps-raw"]
    for line, suffix in zip(lines, ("", "-raw")):
        assert (line["steps"], line["batch"], line["count"], line["fid"]) == (2, 4, 20, None)
        assert line["swd"] > 0
        with np.load(out / f"samples{suffix}.npz") as saved:
            assert saved["images"].shape == (20, 32, 32, 3)
            assert saved["images"].dtype == np.uint8
        assert (out / f"grid{suffix}.png").is_file()
        assert (out / f"closest_pairs{suffix}.png").is_file()


@pytest.mark.slow  # a training run in a fresh Python
def test_also_ema_keeps_more_averages_of_the_same_run_and_snapshots_each(frog_zip, tmp_path):
    out, results = tmp_path / "run", tmp_path / "results.jsonl"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--steps", "3", "--width", "8", "--batch", "4",
         "--count", "20", "--no-fid", "--no-raw", "--also-ema", "0.9999,0.1",
         "--curve", "0.0001", "--data", str(frog_zip), "--out", str(out),
         "--results", str(results)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [json.loads(line) for line in results.read_text().splitlines()]
    name = "stable-w8-b4-3steps"
    assert {(line["networks"], line["width"], line["discriminator_width"]) for line in lines} \
        == {("dcgan", 8, 64)}
    assert [(line["run"], line["recipe"]) for line in lines] == [
        (name, "stable"), (name + "-ema0.9999", "stable (average 0.9999)"),
        (name + "-ema0.1", "stable (average 0.1)")]

    def samples(suffix):
        with np.load(out / f"samples{suffix}.npz") as saved:
            return saved["images"]

    # an extra average at the recipe's decay is the recipe's average, step for step; at 0.1
    # (under the warm-up's 1/4 and 2/7) it follows the generator more closely
    assert np.array_equal(samples(""), samples("-ema0.9999"))
    assert not np.array_equal(samples(""), samples("-ema0.1"))
    # the curve's snapshot, after the first step, of each average, left for --score
    for suffix in ("", "-ema0.9999", "-ema0.1"):
        snapshot = json.loads((out / f"result{suffix}-0.0001min.json").read_text())
        assert (snapshot["run"], snapshot["steps"]) == (f"{name}{suffix}-0.0001min", 1)
        assert "unscored" in snapshot
        assert samples(f"{suffix}-0.0001min").shape == (20, 32, 32, 3)


@pytest.mark.parametrize("argv, message", [
    (["--steps", "2", "--also-ema", "0.9999,1"], "decays must be numbers in (0, 1), e.g. 0.9999;"
                                                 " got '0.9999,1'"),
    (["--steps", "2", "--also-ema", "x"], "decays must be numbers in (0, 1), e.g. 0.9999; got 'x'"),
    (["--steps", "2", "--recipe", "tutorial", "--also-ema", "0.9"],
     "--also-ema keeps more averages of the stable recipe's generator: the tutorial recipe has "
     "none"),
])
def test_also_ema_refuses_decays_outside_0_1_and_the_tutorial_recipe(argv, message, capsys,
                                                                      monkeypatch):
    quality = load("quality")
    monkeypatch.setattr(sys, "argv", ["quality.py", "--data", "missing.zip", *argv])
    monkeypatch.setattr(quality.DataUtil, "load_frog_pictures", lambda path: np.zeros((1,)))
    with pytest.raises(SystemExit) as done:
        quality.main()
    assert done.value.code == 2
    assert message in " ".join(capsys.readouterr().err.split())


def test_results_go_by_default_to_the_file_the_docs_cite(capsys):
    # in this Python, which has TensorFlow loaded already (the run above starts the script)
    spec = importlib.util.spec_from_file_location("quality", SCRIPT)
    quality = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(quality)
    with pytest.raises(SystemExit) as done:
        quality._parser().parse_args(["--help"])
    assert done.value.code == 0
    assert "[benchmarks/results/quality.jsonl]" in " ".join(capsys.readouterr().out.split())
    assert Path(quality.DEFAULT_RESULTS).resolve() == \
        SCRIPT.parent / "results" / "quality.jsonl"


def load(name):
    spec = importlib.util.spec_from_file_location(name, SCRIPT.parent / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_budget_draws_each_curve_snapshot_once_and_does_not_count_its_time(monkeypatch):
    quality = load("quality")
    now = [0.0]
    monkeypatch.setattr(quality.time, "perf_counter", lambda: now[0])
    taken = []

    def snapshot(sampler, minutes, steps, seconds):
        taken.append((sampler, minutes, steps, seconds))
        now[0] += 500  # drawing 5,000 samples takes a while: the clock must not count it

    budget = quality.Budget(seconds=600, marks=(5, 2), snapshot=snapshot)
    ticks = 0
    while not budget.tick("sampler"):
        now[0] += 30  # a 30-second step
        ticks += 1
    # minutes 2 and 5 of training fall after steps 4 and 10; the budget ends at 600 s of steps
    assert taken == [("sampler", 2, 5, 120.0), ("sampler", 5, 11, 300.0)]
    assert (budget.steps, ticks, budget.elapsed) == (21, 20, 600.0)


def test_a_step_budget_stops_after_that_many_steps():
    budget = load("quality").Budget(steps=3)
    assert [budget.tick(None) for _ in range(3)] == [False, False, True]


def test_a_step_budget_trains_exactly_that_many_stable_steps(monkeypatch):
    quality = load("quality")

    class CountingGan:
        def __init__(self, *args, **kwargs):
            self.steps, self.sampler = 0, None

        def train_step(self):
            self.steps += 1

    monkeypatch.setattr(quality, "StableGan", CountingGan)
    args = quality._parser().parse_args(["--steps", "3"])
    args.width = 8
    budget = quality.Budget(steps=3)
    assert quality.train_stable(args, budget, None, 4, {}).steps == budget.steps == 3


@pytest.mark.parametrize("text", ["", "5,x", "0,5", "-1"])
def test_curve_minutes_must_be_positive_numbers(text, capsys):
    with pytest.raises(SystemExit):
        load("quality")._parser().parse_args(["--curve", text])
    assert "minutes must be numbers > 0, e.g. 5,10; got" in capsys.readouterr().err


def test_the_curve_averages_seeds_per_recipe_and_minute_and_keeps_the_floor():
    lines = [
        {"run": "real frogs 2,500 vs 2,500", "fid": 18.5},
        {"run": "a", "recipe": "stable", "minutes": 5.0, "count": 5000, "fid": 150.0},
        {"run": "b", "recipe": "stable", "minutes": 4.9, "count": 5000, "fid": 170.0},
        {"run": "c", "recipe": "stable", "minutes": 30.1, "count": 5000, "fid": 80.0},
        {"run": "c-raw", "recipe": "stable", "minutes": 30.1, "count": 5000, "fid": 99.0},
        {"run": "d", "recipe": "stable", "minutes": 10.0, "count": 1000, "fid": 1.0},  # 1k: off
        {"run": "e", "recipe": "tutorial", "minutes": 30.0, "count": 5000, "fid": 261.8},
        {"run": "f", "recipe": "tutorial", "minutes": 10.0, "count": 5000, "fid": None},
        {"run": "old line without minutes", "count": 5000, "fid": 113.8},
    ]
    points, floor = load("quality_curve").curve_points(lines)
    assert floor == 18.5
    assert points == {"stable": [(5, 160.0, 150.0, 170.0, 2), (30, 80.0, 80.0, 80.0, 1)],
                      "tutorial": [(30, 261.8, 261.8, 261.8, 1)]}


def test_the_curve_tells_runs_apart_by_the_fields_asked_for():
    lines = [
        {"run": "a", "recipe": "stable", "width": 32, "minutes": 30.0, "count": 5000, "fid": 70.0},
        {"run": "b", "recipe": "stable", "width": 64, "minutes": 30.0, "count": 5000, "fid": 90.0},
        {"run": "c", "recipe": "stable", "width": 32, "minutes": 30.2, "count": 5000, "fid": 80.0},
    ]
    curve_points = load("quality_curve").curve_points
    assert curve_points(lines, by=["width"])[0] == {
        "stable, width 32": [(30, 75.0, 70.0, 80.0, 2)],
        "stable, width 64": [(30, 90.0, 90.0, 90.0, 1)]}
    assert curve_points(lines)[0] == {"stable": [(30, 80.0, 70.0, 90.0, 3)]}


def test_the_curve_names_runs_and_their_snapshots_by_their_labels():
    def line(run, minutes, fid):
        return {"run": run, "recipe": "stable", "minutes": minutes, "count": 5000, "fid": fid,
                "steps": int(minutes * 1400.4)}

    lines = [line("s-120min-xla", 120.0, 88.0), line("s-120min-xla-30min", 30.0, 69.0),
             line("s-120min-xla-halve", 120.0, 60.0), line("s-120min-xla-halve-30min", 30.0, 68.0),
             line("other", 30.0, 75.0)]
    labels = {"s-120min-xla": "constant rate", "s-120min-xla-halve": "halving rate"}
    assert load("quality_curve").curve_points(lines, labels=labels)[0] == {
        "constant rate": [(30, 69.0, 69.0, 69.0, 1), (120, 88.0, 88.0, 88.0, 1)],
        "halving rate": [(30, 68.0, 68.0, 68.0, 1), (120, 60.0, 60.0, 60.0, 1)],
        "stable": [(30, 75.0, 75.0, 75.0, 1)]}
    # by thousands of steps, for runs on machines of different speeds
    assert load("quality_curve").curve_points(lines, labels=labels, x="steps")[0] == {
        "constant rate": [(42, 69.0, 69.0, 69.0, 1), (168, 88.0, 88.0, 88.0, 1)],
        "halving rate": [(42, 68.0, 68.0, 68.0, 1), (168, 60.0, 60.0, 60.0, 1)],
        "stable": [(42, 75.0, 75.0, 75.0, 1)]}


def draw_curve(monkeypatch, tmp_path, files, *arguments):
    """quality_curve.py's main on the first of ``files`` ({name: lines, dicts or raw text},
    written to tmp_path) and ``arguments`` (a name in ``files`` stands for its path): what it
    would draw, (points, floor), or its exit message."""
    curve, drawn = load("quality_curve"), []
    monkeypatch.setattr(curve, "draw", lambda points, floor, *rest: drawn.append((points, floor)))
    for name, lines in files.items():
        (tmp_path / name).write_text("".join(
            line if isinstance(line, str) else json.dumps(line) + "\n" for line in lines))
    words = [next(iter(files)), *arguments]
    monkeypatch.setattr(sys, "argv", ["quality_curve.py"] + [
        str(tmp_path / word) if word in files else word for word in words])
    try:
        curve.main()
    except SystemExit as exit:
        return str(exit.code)
    return drawn[0]


RUN_LINE = {"run": "a", "recipe": "stable", "minutes": 30.0, "count": 5000, "fid": 70.0}
FLOOR_LINE = {"run": "real frogs 2,500 vs 2,500", "fid": 17.6}


def test_the_curve_takes_its_floor_from_another_file_when_asked(monkeypatch, tmp_path):
    runs = {"runs.jsonl": [RUN_LINE, {**FLOOR_LINE, "fid": 99.0}],
            "floor.jsonl": [{**FLOOR_LINE, "fid": 18.0}, FLOOR_LINE, RUN_LINE]}
    assert draw_curve(monkeypatch, tmp_path, runs) == ({"stable": [(30, 70.0, 70.0, 70.0, 1)]},
                                                       99.0)
    # the other file's last floor wins over the runs' own; its runs are not drawn
    assert draw_curve(monkeypatch, tmp_path, runs, "--floor", "floor.jsonl") == \
        ({"stable": [(30, 70.0, 70.0, 70.0, 1)]}, 17.6)


def test_the_curve_refuses_unreadable_files_in_one_line(monkeypatch, tmp_path):
    runs = {"runs.jsonl": [RUN_LINE], "floor.jsonl": [RUN_LINE], "bad.jsonl": [RUN_LINE, "{\n"]}
    missing = str(tmp_path / "missing.jsonl")
    assert draw_curve(monkeypatch, tmp_path, runs, "--floor", "floor.jsonl") == (
        f"error: {tmp_path / 'floor.jsonl'} holds no scored floor line: pass the file "
        f"'quality.py --floor --results FILE' wrote")
    assert draw_curve(monkeypatch, tmp_path, runs, "--floor", missing) == (
        f"error: cannot read {missing} (No such file or directory): pass a quality.py result "
        f"file")
    assert draw_curve(monkeypatch, tmp_path, runs, "bad.jsonl") == (
        f"error: {tmp_path / 'bad.jsonl'} line 2 is not JSON: pass a quality.py result file")
    assert draw_curve(monkeypatch, tmp_path, runs, "--label", "a") == (
        "error: --label takes RUN=NAME, e.g. --label stable-w32-30min='the recipe'")
    assert draw_curve(monkeypatch, tmp_path, runs, "--label", "a=mine")[0] == \
        {"mine": [(30, 70.0, 70.0, 70.0, 1)]}


def test_the_curve_names_the_missing_field_of_the_axis_asked_for(monkeypatch, tmp_path):
    runs = {"runs.jsonl": [RUN_LINE]}  # minutes but no steps
    assert draw_curve(monkeypatch, tmp_path, runs, "--x", "steps") == (
        f"error: no scored line with 'recipe' and 'steps' in {tmp_path / 'runs.jsonl'}: run "
        f"quality.py with --curve, then --score the run's folder")
    assert draw_curve(monkeypatch, tmp_path, {"runs.jsonl": [FLOOR_LINE]}) == (
        f"error: no scored line with 'recipe' and 'minutes' in {tmp_path / 'runs.jsonl'}: run "
        f"quality.py with --curve, then --score the run's folder")


def test_the_curve_legend_counts_runs_not_seeds():
    label = load("quality_curve")._label
    assert label("stable", 1) == "stable (1 run)"
    assert label("stable", 4) == "stable (bars: lowest to highest of up to 4 runs)"


@pytest.mark.parametrize("argv, name", [
    ([], "stable-w32-30min"),  # the recipe's own networks: a generator at 32, its critic at 64
    (["--discriminator-width", "32"], "stable-w32-30min-dw32"),
    (["--networks", "tutorial", "--discriminator-width", "32"], "stable-w32-30min-tutorial-dw32"),
    (["--networks", "dcgan-resize"], "stable-w32-30min-dcgan-resize"),
    (["--width", "64", "--loss", "hinge", "--xla"], "stable-w64-30min-hinge-xla"),
    (["--mirror", "--ema", "0.99"], "stable-w32-30min-mirror-ema0.99"),
    (["--lecam", "0.3", "--r1", "1"], "stable-w32-30min-r1-1"),  # 0.3 is the recipe's
    (["--lecam", "0"], "stable-w32-30min-lecam0"),
    (["--lr-half-life", "40000", "--lr-decay-start", "40000"],
     "stable-w32-30min-halve40000from40000"),
    (["--lr-decay-start", "10000"], "stable-w32-30min-halve20000from10000"),
    (["--lr-half-life", "20000", "--lr-decay-start", "20000"], "stable-w32-30min"),  # the recipe's
    (["--lr-half-life", "0"], "stable-w32-30min-lrconstant"),
])
def test_a_run_is_named_by_what_it_changes_in_the_recipe(argv, name):
    quality = load("quality")
    args = quality._parser().parse_args(["--minutes", "30", *argv])
    args.width = args.width or quality.StableRecipe.width  # as main() fills it in
    assert quality._run_name(args) == name
