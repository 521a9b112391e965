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
