"""benchmarks/speed.py runs end to end and prints one row per loop (a smoke test, tiny sizes)."""

import re
import subprocess
import sys
from pathlib import Path

SPEED = Path(__file__).resolve().parents[1] / "benchmarks" / "speed.py"


def test_speed_prints_a_row_for_each_loop_with_the_ratio_to_naive(frog_zip):
    result = subprocess.run(
        [sys.executable, str(SPEED), "--steps", "2", "--widths", "8", "--batches", "2",
         "--variants", "--data", str(frog_zip)],
        capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    assert re.match(r"fp32 ceiling \(2048\^2 matmul\): \d+ GFLOP/s", lines[0])
    rows = [line.split() for line in lines[2:]]
    assert [row[:3] for row in rows] == [["8", "2", name] for name in
                                         ("naive", "ours", "xla", "bf16")]
    assert len(rows[0]) == 8 and all(len(row) == 9 for row in rows[1:])  # a/b beside ours
    assert all(float(row[3]) > 0 for row in rows)
