"""The tutorial's program end to end: `python -m gan_demo` as a student runs it, and its errors."""

import inspect
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from gan_demo import cifar, program, stable
from gan_demo.commands import main
from gan_demo.commands.settings import recipe_sizes
from kerasutil import DataUtil, network
from kerasutil.network import TrainResult
from tests.frog_files import write_cifar_tar

EPOCH_LINE = re.compile(
    r"^Epoch: (\d+), Discriminator loss: (\S+), Gan loss: (\S+)$", re.MULTILINE)


def run_demo(*args, cwd):
    return subprocess.run([sys.executable, "-m", "gan_demo", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=600)


def assert_frog_png(path):
    with Image.open(path) as picture:
        assert (picture.format, picture.mode, picture.size) == ("PNG", "RGB", (32, 32))


# the student's command as typed, in a fresh Python with the tutorial's full-size networks
# (slow); and its command line in this Python with narrow networks (the signal tests in
# test_run.py start `python -m gan_demo` in fresh Pythons too)
@pytest.mark.parametrize("fresh_python, sizes", [
    pytest.param(True, [], id="python-m-tutorial-width", marks=pytest.mark.slow),
    pytest.param(False, ["--width", "16"], id="in-process-width-16")])
def test_python_m_gan_demo_trains_logs_and_saves_a_frog(frog_zip, tmp_path, monkeypatch,
                                                        fresh_python, sizes):
    args = ["--data", str(frog_zip), "--epochs", "3", "--seed", "1", *sizes]
    if fresh_python:
        result = run_demo(*args, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
    else:
        monkeypatch.chdir(tmp_path)
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Loading data files...\nTraining Gan...\n")
    lines = EPOCH_LINE.findall(result.stdout)
    assert [epoch for epoch, _, _ in lines] == ["0"]
    assert all(math.isfinite(float(loss)) for _, *losses in lines for loss in losses)
    # the tutorial's output folder, in the folder the student runs from, with the run's files
    assert sorted(os.listdir(tmp_path / "images")) == [
        "checkpoint.npz", "generated_frog_0.png", "generator.keras", "grid_0.png", "grid_2.png",
        "losses.csv", "losses.png", "progress.gif"]
    assert_frog_png(tmp_path / "images" / "generated_frog_0.png")


class FakeTrainer:
    """Stands in for a trainer where only the loop's schedule is under test.

    It records the size of every batch it trains on, also from the compiled step: there Python
    runs only while the step is traced, but a py_function runs on every call.
    """

    def __init__(self, batch_sizes):
        self.batch_sizes = batch_sizes

    def train_batch(self, features, labels):
        import tensorflow as tf

        tf.py_function(lambda size: self.batch_sizes.append(int(size)), [tf.shape(features)[0]],
                       [])
        return TrainResult(loss=0.5, metric=0.5)


def test_defaults_are_the_tutorials():
    context = main.make_context("python -m gan_demo", [])
    assert {name: context.params[name] for name in
            ("data", "epochs", "recipe", "output", "seed")} == {
        "data": "frog_pictures.zip", "epochs": 100_000, "recipe": "tutorial",
        "output": "images", "seed": None}
    # width and batch size follow the recipe unless given
    assert recipe_sizes("tutorial") == (256, 8)
    assert recipe_sizes("stable") == (32, 16)
    assert recipe_sizes("stable", 64, 8) == (64, 8)
    # the tutorial's numbers, each written once in program.py under the tutorial's names
    assert (program.num_epochs, program.batch_size, program.tutorial_width, program.log_every,
            program.save_every, program.learning_rate) == (100_000, 8, 256, 100, 1000, 1)
    assert context.params["save_every"] == program.save_every


def no_fakes(generator, batch_size, latent_dimensions, rng):
    return np.zeros((batch_size, 32, 32, 3), np.float32)


def test_logs_every_100_epochs_and_saves_every_1000(frog_zip, tmp_path, monkeypatch, capsys):
    # the real schedule at 1/100th of the cost: stub the training and count what is written
    calls = []
    monkeypatch.setattr(network.Network, "get_trainer", lambda *args: FakeTrainer(calls))
    monkeypatch.setattr(program.Gan, "generate_images", staticmethod(no_fakes))
    program.main(data=frog_zip, epochs=2001, batch_size=3, output=tmp_path / "out")
    printed = EPOCH_LINE.findall(capsys.readouterr().out)
    assert [int(epoch) for epoch, _, _ in printed] == list(range(0, 2001, 100))
    assert sorted(os.listdir(tmp_path / "out")) == \
        ["generated_frog_0.png", "generated_frog_1000.png", "generated_frog_2000.png"]
    # a discriminator batch of 3 fakes + 3 reals, then a GAN batch of 3
    assert calls[:4] == [6, 3, 6, 3] and len(calls) == 2 * 2001


def test_the_data_cursor_walks_in_order_and_wraps(full_frog_zip, tmp_path, monkeypatch,
                                                  eager_steps):
    starts = []
    original = program.Gan.get_training_batch

    def spy(generated, data, batch_size, start, rng):
        starts.append(int(start))
        return original(generated, data, batch_size, start, rng)

    monkeypatch.setattr(program.Gan, "get_training_batch", staticmethod(spy))
    monkeypatch.setattr(program.Gan, "generate_images", staticmethod(no_fakes))
    monkeypatch.setattr(network.Network, "get_trainer", lambda *args: FakeTrainer([]))
    program.main(data=full_frog_zip, epochs=5, batch_size=1500, output=tmp_path)
    # 0, 1500, 3000, then min(4500, 5000 - 1500) = 3500, which reaches the end and wraps to 0
    assert starts == [0, 1500, 3000, 3500, 0]


def test_a_seeded_run_repeats_exactly(frog_zip, tmp_path, capsys):
    logs = []
    for run in range(2):
        program.main(data=frog_zip, epochs=1, batch_size=2, output=tmp_path / str(run), seed=5,
                     width=16)
        logs.append(capsys.readouterr().out)
    assert EPOCH_LINE.search(logs[0])
    assert logs[0] == logs[1]
    first, second = (np.asarray(Image.open(tmp_path / str(run) / "generated_frog_0.png"))
                     for run in range(2))
    np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize("args, message", [
    (["--data", "nowhere/frog_pictures.zip"],
     "Error: frog_pictures.zip not found at 'nowhere/frog_pictures.zip': build it from CIFAR-10 "
     "with `python -m gan_demo make-data` (or pass --data PATH to your copy)\n"),
    (["--batch-size", "0"], "Invalid value for '--batch-size': 0 is not in the range x>=1."),
    (["--epochs", "-1"], "Invalid value for '--epochs': -1 is not in the range x>=0."),
])
def test_user_mistakes_exit_2_with_one_line_and_no_traceback(args, message, tmp_path,
                                                             monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert os.listdir(tmp_path) == []


def test_an_unwritable_output_folder_is_refused_before_training(frog_zip, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = CliRunner().invoke(main, ["--data", str(frog_zip), "--output", str(blocker / "x")])
    assert result.exit_code == 2
    assert result.output == (f"Error: --output '{blocker / 'x'}' cannot be created: Not a "
                             f"directory; choose a folder you can write to\n")


@pytest.mark.slow
def test_twenty_epochs_on_the_real_frogs(real_frog_zip, tmp_path, capsys):
    program.main(data=real_frog_zip, epochs=20, output=tmp_path, seed=0)
    losses = [float(loss) for _, *pair in EPOCH_LINE.findall(capsys.readouterr().out)
              for loss in pair]
    assert len(losses) == 2 and all(math.isfinite(loss) and loss > 0 for loss in losses)
    assert_frog_png(tmp_path / "generated_frog_0.png")


def test_make_data_builds_the_zip_from_a_local_cifar_archive(tmp_path):
    pixels = np.arange(3 * 3072, dtype=np.uint8).reshape(3, 3072)
    batches = [(pixels, [6, 2, 6])] + [(np.zeros((0, 3072), np.uint8), [])] * 4
    archive = write_cifar_tar(tmp_path / "cifar-10-python.tar.gz", batches)
    target = tmp_path / "frog_pictures.zip"
    result = CliRunner().invoke(main, ["make-data", "--cifar", str(archive),
                                       "--output", str(target)])
    assert result.exit_code == 0, result.output
    assert result.output.endswith(f"Wrote 2 frog pictures to {target}\n")
    loaded = DataUtil.load_frog_pictures(target, count=2)
    np.testing.assert_array_equal(loaded[1, 0, 0], pixels[2, [0, 1024, 2048]] / np.float32(255))


def test_make_data_with_a_missing_archive_says_where_to_get_it(tmp_path):
    result = CliRunner().invoke(main, ["make-data", "--cifar", str(tmp_path / "nope.tar.gz"),
                                       "--output", str(tmp_path / "f.zip")])
    assert result.exit_code == 2
    assert result.output.splitlines()[-1].startswith(
        f"Error: CIFAR-10 archive not found at '{tmp_path / 'nope.tar.gz'}': download "
        "cifar-10-python.tar.gz from")
    assert os.listdir(tmp_path) == []


def test_download_builds_missing_data_before_training(tmp_path, monkeypatch, frog_zip):
    built = []

    def fake_build(output, cifar_archive=None, class_name="frog"):
        built.append((output, cifar_archive, class_name))
        os.symlink(frog_zip, output)
        return 5000

    monkeypatch.setattr(cifar, "build_class_zip", fake_build)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["--download", "--epochs", "0"])
    assert result.exit_code == 0, result.output
    assert built == [("frog_pictures.zip", None, "frog")]
    assert "Wrote 5,000 frog pictures to frog_pictures.zip" in result.output
    # a second run finds the file and builds nothing
    assert CliRunner().invoke(main, ["--download", "--epochs", "0"]).exit_code == 0
    assert len(built) == 1


@pytest.mark.parametrize("args, settings", [
    (["--recipe", "stable"], {"recipe": "stable", "width": 32, "batch_size": 16}),
    (["--recipe", "tutorial", "--width", "8"], {"recipe": "tutorial", "width": 8,
                                                "batch_size": 8}),
    (["--recipe", "stable", "--batch-size", "4", "--width", "8"], {"recipe": "stable",
                                                                   "width": 8,
                                                                   "batch_size": 4}),
])
def test_the_recipe_picks_its_sizes_unless_told_otherwise(frog_zip, tmp_path, args, settings):
    from gan_demo.checkpoint import read_checkpoint

    result = CliRunner().invoke(main, ["--data", str(frog_zip), "--output", str(tmp_path),
                                       "--epochs", "1", *args])
    assert result.exit_code == 0, result.output
    saved = read_checkpoint(tmp_path / "checkpoint.npz")["settings"]
    assert {name: saved[name] for name in settings} == settings


def test_the_laptop_preset_is_gone_with_a_hint_to_use_the_stable_recipe(frog_zip, tmp_path):
    # --preset laptop was --recipe stable by another name
    result = CliRunner().invoke(main, ["--data", str(frog_zip), "--output", str(tmp_path / "o"),
                                       "--epochs", "1", "--preset", "laptop"])
    assert result.exit_code == 2
    assert result.output == ("Error: --preset laptop is gone: it was --recipe stable by another "
                             "name; use --recipe stable\n")
    assert not (tmp_path / "o").exists()
    assert "--preset" not in CliRunner().invoke(main, ["--help"]).output


# -- --eager: the training step as plain Python --------------------------------------------

def count_calls(monkeypatch, owner, name):
    """Count the calls of ``owner.name`` (a static method or a method) from now on."""
    calls, real = [], getattr(owner, name)
    static = isinstance(inspect.getattr_static(owner, name), staticmethod)

    def counting(*args):
        calls.append(args)  # a print() here would show as often
        return real(*args)

    monkeypatch.setattr(owner, name, staticmethod(counting) if static else counting)
    return calls


# a function of each recipe's training step, in plain Python
STEP_BODIES = {"tutorial": (program.Gan, "generate_images"),
               "stable": (stable.StableGan, "discriminator_step")}


@pytest.mark.parametrize("recipe", ["tutorial", "stable"])
@pytest.mark.parametrize("eager", [True, False])
def test_eager_runs_the_steps_python_body_every_epoch(frog_zip, tmp_path, monkeypatch, recipe,
                                                      eager):
    import tensorflow as tf

    calls = count_calls(monkeypatch, *STEP_BODIES[recipe])
    result = CliRunner().invoke(main, ["--data", str(frog_zip), "--output", str(tmp_path),
                                       "--recipe", recipe, "--width", "8", "--batch-size", "2",
                                       "--epochs", "4", "--seed", "1",
                                       *(["--eager"] if eager else [])])
    assert result.exit_code == 0, result.output
    # every epoch with --eager; compiled, only while tracing the step once
    assert len(calls) == (4 if eager else 1)
    assert not tf.config.functions_run_eagerly()  # given back after the run


def test_eager_with_xla_is_one_line(frog_zip, tmp_path):
    result = CliRunner().invoke(main, ["--data", str(frog_zip), "--output", str(tmp_path / "o"),
                                       "--eager", "--xla"])
    assert result.exit_code == 2
    assert result.output == ("Error: --eager runs the training step as plain Python, --xla "
                             "compiles it: drop one of them\n")
    assert not (tmp_path / "o").exists()


# -- both ways in quiet TensorFlow's C++ start-up lines -------------------------------------

# imports an entry point, recording TF_CPP_MIN_LOG_LEVEL when tensorflow is first imported; it
# stops there, so TensorFlow never loads and the check takes a moment
IMPORT_SPY = """
import importlib, importlib.abc, os, runpy, sys

class Spy(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "tensorflow":
            print(os.environ.get("TF_CPP_MIN_LOG_LEVEL"), flush=True)
            os._exit(0)

sys.meta_path.insert(0, Spy())
kind, target = sys.argv[1:]
if kind == "module":
    runpy.run_module(target, run_name="spied")
else:
    module, name = target.split(":")
    getattr(importlib.import_module(module), name)
print("tensorflow was never imported")
"""


def console_script():
    import configparser

    setup = configparser.ConfigParser()
    setup.read(Path(__file__).resolve().parents[1] / "setup.cfg")
    scripts = setup["options.entry_points"]["console_scripts"].strip().splitlines()
    return dict(line.replace(" ", "").split("=") for line in scripts)["gan-demo"]


@pytest.mark.parametrize("kind", ["module", "script"])
def test_python_m_gan_demo_and_the_gan_demo_script_quiet_tensorflow_before_it_loads(kind):
    target = "gan_demo" if kind == "module" else console_script()
    assert target == "gan_demo" or target == "gan_demo.commands:main"
    env = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    done = subprocess.run([sys.executable, "-c", IMPORT_SPY, kind, target], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout == "2\n"
