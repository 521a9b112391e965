"""benchmarks/speed.py runs end to end and prints one row per loop (a smoke test, tiny sizes)."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from gan_demo.stable import StableRecipe

SPEED = Path(__file__).resolve().parents[1] / "benchmarks" / "speed.py"


@pytest.mark.slow  # it times every loop in a fresh Python: about a minute
def test_speed_prints_a_row_for_each_loop_with_the_ratio_to_naive(frog_zip):
    result = subprocess.run(
        [sys.executable, str(SPEED), "--steps", "2", "--widths", "8", "--batches", "2",
         "--variants", "--stable-widths", "8", "--stable-networks", "tutorial,dcgan", "--data",
         str(frog_zip)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    assert re.match(r"fp32 ceiling \(2048\^2 matmul\): \d+ GFLOP/s", lines[0])
    assert "% ceil  % fwd   a/b" in lines[1]
    assert re.match(r"\s+8 generator forward pass, batch 64: \d+ GFLOP/s \(\d+% of the matmul "
                    r"ceiling\)$", lines[2])
    rows = [line.split() for line in lines[3:7]]
    assert [row[:3] for row in rows] == [["8", "2", name] for name in
                                         ("naive", "ours", "xla", "bf16")]
    assert len(rows[0]) == 9 and all(len(row) == 10 for row in rows[1:])  # a/b beside ours
    assert all(float(row[3]) > 0 for row in rows)
    batch = StableRecipe.batch_size
    assert lines[7:9] == [f"stable recipe (stable.main), batch {batch}, discriminator width "
                          f"{StableRecipe.discriminator_width}:",
                          "networks width   loop  ms/step  steps/s  images/s  GFLOP/s % ceil"]
    stable_rows = [line.split() for line in lines[9:]]
    # each networks, with and without XLA (--variants has xla)
    assert [row[:3] for row in stable_rows] == [
        ["tutorial", "8", "ours"], ["tutorial", "8", "xla"], ["dcgan", "8", "ours"],
        ["dcgan", "8", "xla"]]
    for _, _, _, ms, steps_per_second, images, gflops, _ in stable_rows:
        assert float(steps_per_second) == pytest.approx(1000 / float(ms), rel=0.02)
        assert int(images) == pytest.approx(2 * batch * float(steps_per_second), abs=1)
        assert float(gflops) > 0
