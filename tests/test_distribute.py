"""--distribute mirrored: the batch split between replicas trains as one device does.

The machine has no second GPU, so the replicas are two logical CPU devices. Those must be made
before TensorFlow starts, hence a fresh Python process for the runs.
"""

import csv
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from click.testing import CliRunner

from gan_demo.checkpoint import read_checkpoint
from gan_demo.commands import main

TWO_REPLICAS = textwrap.dedent("""
    import sys

    import click
    import keras
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    if sys.argv[2] == "no-dropout":
        # dropout masks are drawn per replica: the runs can only agree without them
        keras.layers.Dropout.call = lambda self, inputs, training=False: inputs

    from gan_demo.commands import main
    from kerasutil.step import mirrored_strategy

    print("replicas", mirrored_strategy().num_replicas_in_sync)
    for index, options in enumerate(arg.split() for arg in sys.argv[3:]):
        try:
            main(["--data", sys.argv[1], "--output", f"run{index}", "--width", "8",
                  "--epochs", "6", "--save-every", "5", "--seed", "3", *options],
                 standalone_mode=False)
        except click.ClickException as error:
            print("Error:", error.format_message())
""")


def two_replicas(frog_zip, folder, dropout, *runs):
    result = subprocess.run([sys.executable, "-c", TWO_REPLICAS, str(frog_zip), dropout, *runs],
                            cwd=folder, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


@pytest.fixture(scope="module")
def mirrored_runs(tmp_path_factory, frog_zip):
    """One fresh Python (its start-up takes seconds) for three runs without dropout, in run0,
    run1 and run2 of the folder it returns with what it printed: mirrored with a batch that
    does not split (refused before any training, so dropout or none makes no difference to
    it), on one device, and mirrored."""
    folder = tmp_path_factory.mktemp("mirrored")
    return folder, two_replicas(frog_zip, folder, "no-dropout",
                                "--batch-size 3 --distribute mirrored", "--batch-size 4",
                                "--batch-size 4 --distribute mirrored")


def losses(folder):
    with open(folder / "losses.csv") as file:
        return np.array([[float(value) for value in row] for row in list(csv.reader(file))[1:]])


# the runs in a fresh Python take 20 s: the default run keeps the one-line refusals below
@pytest.mark.slow
def test_mirrored_on_two_replicas_trains_as_one_device_does(mirrored_runs):
    folder, printed = mirrored_runs
    assert printed.splitlines()[0] == "replicas 2"
    assert "Error" not in "\n".join(printed.splitlines()[2:])  # after the refused run's line
    one, mirrored = losses(folder / "run1"), losses(folder / "run2")
    assert one.shape == (6, 3)
    np.testing.assert_allclose(mirrored, one, rtol=1e-4, atol=1e-6)
    # and the weights they reached
    one, mirrored = (read_checkpoint(folder / run / "checkpoint.npz") for run in ("run1", "run2"))
    for key in (key for key in one if key.startswith(("generator/", "discriminator/"))):
        np.testing.assert_allclose(mirrored[key], one[key], rtol=1e-4, atol=1e-5, err_msg=key)


@pytest.mark.slow
def test_mirrored_refuses_a_batch_that_does_not_split_evenly(mirrored_runs):
    folder, printed = mirrored_runs
    assert printed.splitlines()[1] == (
        "Error: --batch-size 3 does not split evenly between 2 replicas: pass a multiple of 2")
    assert not (folder / "run0" / "checkpoint.npz").exists()


def test_mirrored_with_the_stable_recipe_is_one_line(frog_zip, tmp_path):
    result = CliRunner().invoke(main, ["--data", str(frog_zip), "--output", str(tmp_path / "o"),
                                       "--recipe", "stable", "--distribute", "mirrored"])
    assert result.exit_code == 2
    assert result.output == ("Error: --distribute mirrored trains the tutorial recipe only: "
                             "drop --recipe stable or --distribute\n")
    assert not (tmp_path / "o").exists()


def test_mirrored_with_eager_is_one_line(frog_zip, tmp_path):
    # --eager is for reading the step in plain Python, on one device
    result = CliRunner().invoke(main, ["--data", str(frog_zip), "--output", str(tmp_path / "o"),
                                       "--distribute", "mirrored", "--eager"])
    assert result.exit_code == 2
    assert result.output == ("Error: --eager runs the training step on one device: drop "
                             "--distribute or --eager\n")
    assert not (tmp_path / "o").exists()
