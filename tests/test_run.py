"""A run a student can watch, stop and resume: every file it writes, exact resume, Ctrl-C."""

import csv
import io
import json
import os
import shutil
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import keras
import numpy as np
import pytest
import tensorflow as tf
from click.testing import CliRunner
from PIL import Image

from gan_demo.checkpoint import read_checkpoint
from gan_demo.commands import main
from gan_demo.commands.train import resume_command
from gan_demo.run import TrainingRun, grids, sample_diversity
from gan_demo.run.guards import CollapseWatch
from gan_demo.run.signals import Signals

# narrow networks: the run's machinery is under test, not the tutorial's arithmetic
SMALL = ["--width", "8", "--save-every", "10"]


def train(frog_zip, output, *args):
    result = CliRunner().invoke(main, ["--data", str(frog_zip), "--output", str(output),
                                       *SMALL, *args])
    assert result.exit_code == 0, result.output
    return result


def read_losses(output):
    with open(output / "losses.csv", newline="") as file:
        return list(csv.reader(file))


def picture(path, format_):
    with Image.open(path) as image:
        assert image.format == format_
        return image.size, getattr(image, "n_frames", 1)


@pytest.fixture(scope="module")
def forty_epochs(tmp_path_factory, frog_zip):
    """A folder of runs trained once for the tests below: parts/, stopped at 20 epochs (with
    --logdir tb) and resumed to 40; at_twenty/, a copy of parts/ when it stopped; whole/, 40
    epochs unbroken."""
    folder = tmp_path_factory.mktemp("forty_epochs")
    train(frog_zip, folder / "parts", "--epochs", "20", "--seed", "7", "--logdir",
          str(folder / "tb"))
    shutil.copytree(folder / "parts", folder / "at_twenty")
    train(frog_zip, folder / "parts", "--epochs", "40", "--resume")
    train(frog_zip, folder / "whole", "--epochs", "40", "--seed", "7")
    return folder


def test_a_run_writes_every_file_and_resumes_to_forty(forty_epochs):
    output = forty_epochs / "at_twenty"
    assert sorted(os.listdir(output)) == sorted(
        ["checkpoint.npz", "generator.keras", "losses.csv", "losses.png", "progress.gif"]
        + [f"generated_frog_{e}.png" for e in (0, 10)]
        + [f"grid_{e}.png" for e in (0, 10, 19)])
    for epoch in (0, 10, 19):  # 8x8 frogs of 32 pixels, upscaled 4x
        assert picture(output / f"grid_{epoch}.png", "PNG") == ((1024, 1024), 1)
    assert picture(output / "progress.gif", "GIF") == ((512, 512), 3)
    assert picture(output / "losses.png", "PNG") == ((800, 450), 1)
    rows = read_losses(output)
    assert rows[0] == ["epoch", "discriminator loss", "gan loss"]
    assert [int(row[0]) for row in rows[1:]] == list(range(20))
    assert all(np.isfinite(float(value)) for row in rows[1:] for value in row[1:])
    saved = read_checkpoint(output / "checkpoint.npz")
    assert (int(saved["epoch"]), saved["settings"]["width"]) == (19, 8)

    generator = keras.models.load_model(output / "generator.keras", safe_mode=True)
    assert generator.output_shape == (None, 32, 32, 3)
    assert _summary_tags(forty_epochs / "tb") == {"loss/discriminator", "loss/gan", "grid"}

    output = forty_epochs / "parts"  # resumed to 40
    assert [int(row[0]) for row in read_losses(output)[1:]] == list(range(40))
    assert (output / "grid_39.png").exists() and (output / "generated_frog_30.png").exists()
    assert picture(output / "progress.gif", "GIF") == ((512, 512), 6)


def _summary_tags(logdir):
    tags = set()
    for name in os.listdir(logdir):
        for record in tf.data.TFRecordDataset(str(logdir / name)):
            event = tf.compat.v1.Event.FromString(record.numpy())
            tags.update(value.tag for value in event.summary.value)
    return tags


def test_a_run_stopped_at_twenty_and_resumed_logs_what_an_unbroken_run_logs(forty_epochs):
    whole, parts = read_losses(forty_epochs / "whole"), read_losses(forty_epochs / "parts")
    assert len(whole) == 41
    assert parts == whole  # every loss, to the last digit
    ends = [read_checkpoint(forty_epochs / run / "checkpoint.npz") for run in ("whole", "parts")]
    for key in ends[0]:
        if key != "settings":
            np.testing.assert_array_equal(ends[0][key], ends[1][key], err_msg=key)


def stop_once_training(process, signum):
    """Send ``signum`` once ``process`` has printed its first epoch; return its first three
    lines, the rest of its output and its exit code."""
    lines = [process.stdout.readline() for _ in range(3)]
    process.send_signal(signum)
    out, _ = process.communicate(timeout=120)
    return lines, out, process.returncode


@pytest.fixture(scope="module")
def signalled_runs(tmp_path_factory, frog_zip):
    """{signum: (first three lines printed, the rest, exit code, --output)} of two endless
    runs, stopped by SIGINT and by SIGTERM once training is under way. Both run at once: each
    fresh Python takes seconds to load TensorFlow."""
    started = {}
    try:
        for signum in (signal.SIGINT, signal.SIGTERM):
            folder = tmp_path_factory.mktemp(signal.Signals(signum).name)
            command = [sys.executable, "-m", "gan_demo", "--data", str(frog_zip), "--output",
                       str(folder / "out"), "--epochs", "100000", "--width", "8", "--seed", "1"]
            started[signum] = folder / "out", subprocess.Popen(
                command, cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                text=True)
        with ThreadPoolExecutor(len(started)) as pool:
            stopped = {signum: pool.submit(stop_once_training, process, signum)
                       for signum, (_, process) in started.items()}
        return {signum: (*stopped[signum].result(), output)
                for signum, (output, _) in started.items()}
    finally:
        for _, process in started.values():
            if process.poll() is None:  # something failed before its signal
                process.kill()
                process.wait()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_saves_a_checkpoint_and_says_how_to_resume(signalled_runs, frog_zip, signum):
    lines, out, returncode, output = signalled_runs[signum]
    assert lines[2].startswith("Epoch: 0,")  # training was under way
    assert returncode == 128 + signum
    last = out.strip().splitlines()[-1]
    done = int(read_checkpoint(output / "checkpoint.npz")["epoch"]) + 1
    assert last == (f"Stopped by {signal.Signals(signum).name} after {done:,} epochs; "
                    f"checkpoint saved in {output}/checkpoint.npz. Continue with: python -m "
                    f"gan_demo --resume --data {frog_zip} --epochs 100000 --output {output}")
    assert (output / f"grid_{done - 1}.png").exists()
    assert (output / "progress.gif").exists() and (output / "generator.keras").exists()
    assert len(read_losses(output)) == done + 1

    train(frog_zip, output, "--epochs", str(done + 2), "--resume")
    assert len(read_losses(output)) == done + 3


def handlers_now():
    return {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}


def test_ctrl_c_stays_caught_until_the_gif_and_the_generator_are_written(frog_zip, tmp_path,
                                                                         monkeypatch):
    before, seen = handlers_now(), {}
    real_save_gif, real_save = grids.save_gif, keras.Model.save

    def save_gif(frames, path):
        seen["progress.gif"] = handlers_now()
        real_save_gif(frames, path)

    def save(model, path, *args, **kwargs):
        seen["generator.keras"] = handlers_now()
        real_save(model, path, *args, **kwargs)

    monkeypatch.setattr(grids, "save_gif", save_gif)
    monkeypatch.setattr(keras.Model, "save", save)
    train(frog_zip, tmp_path / "out", "--epochs", "1")
    assert sorted(seen) == ["generator.keras", "progress.gif"]
    for name, handlers in seen.items():  # the run's own handler, for both signals
        assert all(getattr(handler, "__func__", None) is Signals.on_signal
                   for handler in handlers.values()), name
    assert handlers_now() == before  # and given back once all is written


@pytest.fixture(scope="module")
def one_epoch_run(tmp_path_factory, frog_zip):
    """The output folder of a one-epoch SMALL run, trained once for the tests that try to
    resume or overwrite it: each works on a copy (see earlier_run)."""
    output = tmp_path_factory.mktemp("one_epoch") / "out"
    train(frog_zip, output, "--epochs", "1")
    return output


def earlier_run(one_epoch_run, tmp_path):
    """A copy of the one-epoch run in tmp_path/out."""
    return shutil.copytree(one_epoch_run, tmp_path / "out")


def test_a_fresh_run_never_overwrites_an_earlier_runs_checkpoint(one_epoch_run, frog_zip,
                                                                 tmp_path):
    output = earlier_run(one_epoch_run, tmp_path)
    before = (output / "checkpoint.npz").read_bytes()
    result = CliRunner().invoke(main, ["--data", str(frog_zip), "--output", str(output)])
    assert result.exit_code == 2
    assert result.output == (f"Error: '{output}' holds an earlier run's checkpoint: continue it "
                             f"with --resume, or pass another --output to start afresh\n")
    assert (output / "checkpoint.npz").read_bytes() == before


@pytest.mark.parametrize("args, message", [
    (["--width", "32"], "the run in '{out}' was trained with --width 8, not 32: drop --width "
                        "to resume it"),
    (["--batch-size", "4"], "the run in '{out}' was trained with --batch-size 8, not 4: drop "
                            "--batch-size to resume it"),
    (["--epochs", "1"], "the run in '{out}' has already trained 1 epoch: pass a larger "
                        "--epochs to continue it"),
    (["--mixed-precision"], "the run in '{out}' was trained without --mixed-precision: drop "
                            "--mixed-precision to resume it"),
])
def test_resume_refuses_settings_that_do_not_match(one_epoch_run, frog_zip, tmp_path, args,
                                                   message):
    output = earlier_run(one_epoch_run, tmp_path)
    result = CliRunner().invoke(main, ["--data", str(frog_zip), "--output", str(output),
                                       "--resume", *args])
    assert result.exit_code == 2
    assert result.output == "Error: " + message.format(out=output) + "\n"


@pytest.mark.parametrize("forged, reason", [({"precision": None}, "'precision'"),
                                             ({"recipe": "bigger"}, "recipe 'bigger'")])
def test_resume_refuses_settings_it_cannot_train_with(one_epoch_run, frog_zip, tmp_path, forged,
                                                      reason):
    output = earlier_run(one_epoch_run, tmp_path)
    with np.load(output / "checkpoint.npz") as archive:
        arrays = dict(archive)
    settings = {**read_checkpoint(output / "checkpoint.npz")["settings"], **forged}
    arrays["settings"] = np.array(json.dumps({name: value for name, value in settings.items()
                                              if value is not None}))
    np.savez(output / "checkpoint.npz", **arrays)
    result = CliRunner().invoke(main, ["--data", str(frog_zip), "--output", str(output),
                                       "--resume", "--epochs", "2"])
    assert result.exit_code == 2
    assert result.output.startswith(f"Error: {output}/checkpoint.npz holds settings this "
                                    f"gan_demo cannot train with ({reason}")
    assert result.output.endswith("); start a fresh --output\n")


def test_resume_without_a_checkpoint_says_so(tmp_path):
    result = CliRunner().invoke(main, ["--output", str(tmp_path), "--resume"])
    assert result.exit_code == 2
    assert result.output.startswith(f"Error: no checkpoint at '{tmp_path}/checkpoint.npz'")


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_the_progress_bar_shows_epoch_speed_eta_and_losses(tmp_path):
    terminal = FakeTerminal()
    run = TrainingRun(tmp_path, epochs=5_000, save_every=1_000, settings={})
    run.console.file = terminal
    run.state.first_epoch = 2_000  # as a resumed run's bar starts
    run.console.on_train_begin(run.state)
    run.end_epoch(2_001, 0, 0.25, 1.5)  # not a save epoch: nothing is written
    assert os.listdir(tmp_path) == []
    run.console.bar.refresh()
    shown = terminal.getvalue().split("\r")[-1]
    assert shown.startswith("Epoch:  40%|")
    assert "2001/5000 [" in shown
    assert "step/s" in shown or "s/step" in shown
    assert "<" in shown  # elapsed<remaining: the ETA
    assert shown.rstrip().endswith("D 0.250  G 1.500]")


def test_the_resume_hint_repeats_the_options_that_change_the_run():
    context = main.make_context("python -m gan_demo", [
        "--data", "my frogs.zip", "--epochs", "5000", "--save-every", "100", "--width", "64",
        "--batch-size", "16", "--seed", "3"])
    # width and batch size come back from the checkpoint; the seed is in its random state
    assert resume_command(context, "images") == (
        "python -m gan_demo --resume --data 'my frogs.zip' --epochs 5000 --save-every 100")


def test_the_resume_hint_keeps_how_the_step_runs():
    context = main.make_context("python -m gan_demo", [
        "--epochs", "50", "--xla", "--mixed-precision", "--distribute", "mirrored", "--logdir",
        "tb"])
    assert resume_command(context, "images") == (
        "python -m gan_demo --resume --epochs 50 --logdir tb --xla --mixed-precision "
        "--distribute mirrored")
    eager = main.make_context("gan-demo", ["--eager"])
    assert resume_command(eager, "images") == "gan-demo --resume --eager"


# -- the mode-collapse watch -----------------------------------------------------------------

def test_sample_diversity_is_the_mean_rms_difference_between_two_images():
    assert sample_diversity(np.full((8, 32, 32, 3), 0.5)) == 0.0
    black_and_white = np.stack([np.zeros((32, 32, 3)), np.ones((32, 32, 3))])
    assert sample_diversity(black_and_white) == pytest.approx(1.0)
    # values outside [0, 1] count as the pixels they become
    assert sample_diversity(black_and_white * 3 - 1) == pytest.approx(1.0)


def diverse(seed):
    return np.random.default_rng(seed).random((64, 32, 32, 3))


def collapsed(seed):
    return np.full((64, 32, 32, 3), 0.4) + 0.01 * diverse(seed)


def watch(grids):
    collapse = CollapseWatch()
    for epoch, images in grids:
        collapse.check(epoch, images, print)
    return collapse


def test_a_collapse_after_diverse_frogs_is_warned_once(capsys):
    collapse = watch([(0, collapsed(0)), (10, diverse(1)), (20, collapsed(2)), (30, collapsed(3))])
    lines = capsys.readouterr().out.splitlines()
    assert collapse.warned and len(lines) == 1
    assert lines[0].startswith("Warning: mode collapse at epoch 20: the 64 pictures of "
                               "grid_20.png are near-identical (mean difference 0.004, down "
                               "from 0.408).")
    assert lines[0].endswith("try --recipe stable.")


def test_an_untrained_generators_alike_frogs_are_not_a_collapse(capsys):
    collapse = watch([(0, collapsed(0)), (10, collapsed(1))])
    assert not collapse.warned and capsys.readouterr().out == ""
