"""Any number of pictures: both recipes, resume, generate and the scores run on a zip of 37.

37 is no multiple of either recipe's batch (8, 16), so the tutorial's walk through the data
must wrap early, and nothing may assume the 5,000 frogs.
"""

import json
import os
import re
import shutil

import numpy as np
import pytest
from click.testing import CliRunner

from gan_demo import program
from gan_demo.checkpoint import read_checkpoint
from gan_demo.commands import main
from gan_demo.metrics import scoring
from kerasutil import DataUtil
from kerasutil.gan import to_pixels
from tests.conftest import snapshot
from tests.frog_files import synthetic_frog_pixels, write_frog_zip

COUNT = 37
EPOCH_LINE = re.compile(r"Epoch: (\d+), Discriminator loss: (\S+), Gan loss: (\S+)")


@pytest.fixture(scope="module")
def zip_of_37(tmp_path_factory):
    path = tmp_path_factory.mktemp("pictures") / "my_pictures.zip"
    return write_frog_zip(path, synthetic_frog_pixels(COUNT, seed=37))


def test_the_tutorial_recipe_trains_on_37_pictures(zip_of_37, tmp_path, monkeypatch, capsys,
                                                    eager_steps):
    starts = []
    real_batch = program.Gan.get_training_batch

    def spying_batch(generated, training_data, batch_size, start, rng=None):
        assert len(training_data) == COUNT
        starts.append(int(start))
        return real_batch(generated, training_data, batch_size, start, rng)

    monkeypatch.setattr(program.Gan, "get_training_batch", spying_batch)
    program.main(data=zip_of_37, epochs=7, output=tmp_path, seed=0, width=8)
    losses = EPOCH_LINE.findall(capsys.readouterr().out)
    assert [int(epoch) for epoch, *_ in losses] == [0]
    assert all(np.isfinite(float(loss)) for _, *pair in losses for loss in pair)
    assert (tmp_path / "generated_frog_0.png").is_file()
    # batches of 8: the fifth ends at the 37th picture, then the walk wraps to the start
    assert starts == [0, 8, 16, 24, 29, 0, 8]


def test_the_scores_run_against_37_real_pictures(zip_of_37, tmp_path):
    real = to_pixels(DataUtil.load_pictures(zip_of_37))
    fakes = np.random.default_rng(0).integers(0, 256, size=(12, 32, 32, 3), dtype=np.uint8)
    result = scoring.evaluate_pixels(fakes, real, fid=False, pairs_path=tmp_path / "pairs.png")
    assert result["count"] == 12 and result["real_count"] == COUNT
    assert np.isfinite(result["swd"]) and 0 <= result["memorised_fraction"] <= 1
    assert (tmp_path / "pairs.png").is_file()


# -- through the command line: train, resume, generate, evaluate, and the batch refused --------

def invoke(*args):
    return CliRunner().invoke(main, [str(arg) for arg in args])


def train_37(data, output, *options):
    """Train on ``data`` through the command line: width 8, a save every epoch, seed 0."""
    result = invoke("--data", data, "--output", output, "--width", "8", "--save-every", "1",
                    "--seed", "0", *options)
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def runs(zip_of_37, tmp_path_factory):
    """A 2-epoch run of each recipe on the 37 pictures; the tutorial's at --batch-size 37.

    The stable recipe draws its batches at random from all the pictures (a gather, which
    fails on an index past the 37th), so that it trains at all is the test.
    """
    folder = tmp_path_factory.mktemp("runs")
    train_37(zip_of_37, folder / "tutorial", "--epochs", "2", "--batch-size", str(COUNT))
    result = train_37(zip_of_37, folder / "stable", "--epochs", "2", "--recipe", "stable")
    assert EPOCH_LINE.search(result.stdout)
    return {recipe: folder / recipe for recipe in ("tutorial", "stable")}


@pytest.mark.parametrize("recipe", ["tutorial", "stable"])
def test_both_recipes_train_and_resume_on_37_pictures(recipe, runs, zip_of_37, tmp_path):
    output = tmp_path / "run"
    shutil.copytree(runs[recipe], output)
    assert read_checkpoint(output / "checkpoint.npz")["epoch"] == 1
    assert {"grid_1.png", "generator.keras", "progress.gif"} <= set(os.listdir(output))
    result = train_37(zip_of_37, output, "--resume", "--epochs", "4")
    assert EPOCH_LINE.search(result.stdout) is None  # epochs 2 and 3 log nothing
    saved = read_checkpoint(output / "checkpoint.npz")
    assert saved["epoch"] == 3 and saved["settings"]["recipe"] == recipe
    assert saved["settings"]["batch_size"] == (COUNT if recipe == "tutorial" else 16)


def test_generate_draws_from_a_run_on_37_pictures(runs, tmp_path):
    output = tmp_path / "five.png"
    result = invoke("generate", "--checkpoint", runs["stable"] / "generator.keras", "--count",
                    "5", "--output", output, "--seed", "1")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Wrote 5 pictures to {output}\n"
    assert output.is_file()


@pytest.mark.parametrize("recipe", ["tutorial", "stable"])
def test_evaluate_draws_as_many_fakes_as_the_file_has_pictures(recipe, runs, zip_of_37):
    checkpoint = runs[recipe] / "checkpoint.npz"
    result = invoke("evaluate", "--checkpoint", checkpoint, "--data", zip_of_37, "--no-fid",
                    "--json", "--pairs", runs[recipe] / "pairs.png")
    assert result.exit_code == 0, result.output
    scores = json.loads(result.stdout)
    assert scores["count"] == COUNT and scores["real_count"] == COUNT
    assert np.isfinite(scores["swd"]) and (runs[recipe] / "pairs.png").is_file()
    assert result.stderr.startswith(f"Drawing 37 pictures from {checkpoint}...\n")
    assert f"Scoring 37 pictures against the 37 real pictures in {zip_of_37}...\n" \
        in result.stderr


def refused(tmp_path, *args):
    """Run the command line; nothing under ``tmp_path`` may change."""
    before = snapshot(tmp_path)
    result = invoke(*args)
    assert snapshot(tmp_path) == before
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and result.stdout == ""
    assert result.stderr.count("\n") == 1
    return result.stderr


def test_a_batch_larger_than_the_pictures_is_refused_before_training(zip_of_37, tmp_path):
    output = tmp_path / "out"
    assert refused(tmp_path, "--data", zip_of_37, "--output", output, "--width", "8",
                   "--batch-size", "38") == (
        f"Error: a batch of 38 pictures (--batch-size) is more than {zip_of_37} holds (37): "
        f"pass --batch-size 37 or less, or a --data of more pictures\n")
    ten = write_frog_zip(tmp_path / "ten.zip", synthetic_frog_pixels(10))
    assert refused(tmp_path, "--data", ten, "--output", output, "--recipe", "stable") == (
        f"Error: a batch of 16 pictures (--batch-size) is more than {ten} holds (10): pass "
        f"--batch-size 10 or less, or a --data of more pictures\n")
    assert not output.exists()


def test_resuming_on_fewer_pictures_than_the_runs_batch_is_refused(runs, tmp_path):
    output = tmp_path / "run"
    shutil.copytree(runs["tutorial"], output)
    twenty = write_frog_zip(tmp_path / "twenty.zip", synthetic_frog_pixels(20))
    assert refused(tmp_path, "--data", twenty, "--output", output, "--resume", "--epochs",
                   "4") == (
        f"Error: the run in '{output}' trains on batches of 37 pictures, more than {twenty} "
        f"holds (20): resume it with a --data of at least 37 pictures\n")
