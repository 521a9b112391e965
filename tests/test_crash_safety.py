"""Crash safety end to end: SIGKILL at random moments, divergence, a full or read-only disk.

A long run is hours of a student's machine: whatever stops it, the last checkpoint must stay
whole and ``--resume`` must continue exactly. Runs here are tiny (``--width 8``, few epochs).
"""

import csv
import errno
import glob
import itertools
import os
import random
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from click.testing import CliRunner

from gan_demo import checkpoint as checkpoints
from gan_demo.checkpoint import read_checkpoint
from gan_demo.commands import main
from gan_demo.run import TrainingRun, grids
from kerasutil.network import Trainer, TrainResult
from tests.conftest import remount_read_only, snapshot

SMALL = ["--width", "8", "--save-every", "5"]


# -- helpers ----------------------------------------------------------------------------------

def train(frog_zip, output, *args):
    return CliRunner().invoke(main, ["--data", str(frog_zip), "--output", str(output), *SMALL,
                                     *[str(arg) for arg in args]])


def loss_rows(output):
    with open(output / "losses.csv", newline="") as file:
        return list(csv.reader(file))


def epochs_in_csv(output):
    return [int(row[0]) for row in loss_rows(output)[1:]]


def temporaries(folder):
    return sorted(os.path.basename(path) for path in glob.glob(os.path.join(folder, ".*-tmp-*")))


def diverged_line(epoch, discriminator_loss, gan_loss, output):
    return (f"Training diverged at epoch {epoch} (discriminator loss {discriminator_loss}, gan "
            f"loss {gan_loss}); the last good checkpoint, {output}/checkpoint.npz, is kept: "
            f"--resume restarts from it (add --seed N to take another path).")


@pytest.fixture(autouse=True)
def signal_handlers():
    """Put SIGINT and SIGTERM handlers back after each test: a run that fails mid-way leaves
    its own installed (see the test at the end)."""
    handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    yield
    for signum, handler in handlers.items():
        signal.signal(signum, handler)


@pytest.fixture
def checkpoint_bytes(monkeypatch):
    return keep_checkpoint_bytes(monkeypatch)


def keep_checkpoint_bytes(monkeypatch):
    """{epoch: the bytes of checkpoint.npz right after the run saved it at that epoch}."""
    saved = {}
    real_save = checkpoints.save_checkpoint

    def save_and_keep(path, parts, epoch, *args):
        real_save(path, parts, epoch, *args)
        with open(path, "rb") as file:
            saved[int(epoch)] = file.read()

    monkeypatch.setattr(checkpoints, "save_checkpoint", save_and_keep)
    return saved


def fill(folder):
    """Write a filler file in ``folder`` until its disk is full."""
    chunk = b"\xff" * 65536
    try:
        with open(os.path.join(folder, "filler"), "wb", buffering=0) as file:
            while True:
                file.write(chunk)
    except OSError as error:
        assert error.errno == errno.ENOSPC
    assert os.statvfs(folder).f_bavail == 0


# -- a. SIGKILL at random moments -------------------------------------------------------------

KILL_COMMAND = [sys.executable, "-m", "gan_demo", "--width", "8", "--save-every", "5",
                "--epochs", "60"]
KILLS = 10


@pytest.mark.slow  # ten kills and resumes in fresh Pythons: about two minutes
def test_sigkill_at_random_moments_loses_nothing_and_resumes_exactly(frog_zip, tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()

    def start(output, *args):
        log = open(logs / f"{output.name}-{len(os.listdir(logs))}.txt", "w")
        with log:
            return subprocess.Popen([*KILL_COMMAND, "--data", str(frog_zip), "--output",
                                     str(output), *args], cwd=tmp_path, stdout=log,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    # the unbroken run first: beside the killed ones, it would slow their start-up past most kills
    assert start(tmp_path / "unbroken", "--seed", "0").wait(timeout=600) == 0
    delays = random.Random(1234)
    kills, killed_folders, seen_checkpoints, story = 0, [], [], []
    output = None
    began = time.monotonic()
    while kills < KILLS:
        if output is None:  # a fresh folder; a second one only if a run outpaces the kills
            output = tmp_path / f"killed-{len(killed_folders)}"
            killed_folders.append(output)
            last_epoch = -1
        path = output / "checkpoint.npz"
        process = start(output, *(["--resume"] if path.exists() else ["--seed", "0"]))
        delay = delays.uniform(2, 12)
        try:
            assert process.wait(timeout=delay) == 0  # it finished first
            story.append(f"finished within {delay:.1f} s")
            output = None
            continue
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
            process.wait()
        kills += 1
        if path.exists():
            saved = read_checkpoint(path)  # whole, whatever the moment
            epoch = int(saved["epoch"])
            assert epoch >= last_epoch, "the checkpoint went back in time"
            last_epoch = epoch
            seen_checkpoints.append(saved["losses"])
        story.append(f"killed after {delay:.1f} s at checkpoint {last_epoch}, "
                     f"stale: {temporaries(output)}")
        if last_epoch == 59:  # killed while it wrote progress.gif and generator.keras
            refused = train(frog_zip, output, "--resume", "--epochs", "60")
            assert refused.exit_code == 2
            output = None
    if output is not None:  # the last run, left to finish
        resume = ["--resume"] if (output / "checkpoint.npz").exists() else ["--seed", "0"]
        assert start(output, *resume).wait(timeout=600) == 0
        assert temporaries(output) == []  # the resumed run cleared what the kills left
    print(f"\nSIGKILL test: {kills} kills in {time.monotonic() - began:.0f} s:\n  "
          + "\n  ".join(story))

    expected = loss_rows(tmp_path / "unbroken")
    assert [int(row[0]) for row in expected[1:]] == list(range(60))
    final = read_checkpoint(tmp_path / "unbroken" / "checkpoint.npz")
    for output in killed_folders:
        assert loss_rows(output) == expected  # rows 0..59, every loss to the last digit
        resumed = read_checkpoint(output / "checkpoint.npz")
        for key in final:
            if key != "settings":
                np.testing.assert_array_equal(resumed[key], final[key], err_msg=key)
    for losses in seen_checkpoints:  # every checkpoint along the way was on the same path
        np.testing.assert_array_equal(losses, final["losses"][:len(losses)])


# -- b. divergence ----------------------------------------------------------------------------

def nan_losses_after(monkeypatch, real_calls):
    """train_batch trains for real ``real_calls`` times, then reports NaN losses."""
    real_train_batch = Trainer.train_batch
    calls = itertools.count()

    def train_batch(self, features, labels):
        if next(calls) < real_calls:
            return real_train_batch(self, features, labels)
        return TrainResult(loss=float("nan"), metric=float("nan"))

    monkeypatch.setattr(Trainer, "train_batch", train_batch)


def test_nan_losses_stop_the_run_and_keep_the_last_good_checkpoint(frog_zip, tmp_path,
                                                                   monkeypatch, eager_steps):
    output = tmp_path / "out"
    with monkeypatch.context() as patch:
        saved = keep_checkpoint_bytes(patch)
        nan_losses_after(patch, 2 * 12)  # two steps an epoch: NaN from epoch 12 on
        result = train(frog_zip, output, "--epochs", 30, "--seed", 0)
    assert result.exit_code == 3, result.output
    assert "Traceback" not in result.output and result.stderr == ""
    assert result.stdout.splitlines()[-1] == diverged_line(12, "nan", "nan", output)
    assert sorted(saved) == [0, 5, 10]
    assert (output / "checkpoint.npz").read_bytes() == saved[10]  # untouched since epoch 10
    assert int(read_checkpoint(output / "checkpoint.npz")["epoch"]) == 10
    assert not (output / "generator.keras").exists()
    assert epochs_in_csv(output) == list(range(11))
    assert temporaries(output) == []
    kept = loss_rows(output)

    # --resume, without the fault, continues from epoch 11
    steps = []
    real_train_batch = Trainer.train_batch

    def counting(self, features, labels):
        steps.append(len(features))
        return real_train_batch(self, features, labels)

    monkeypatch.setattr(Trainer, "train_batch", counting)
    resumed = train(frog_zip, output, "--resume", "--epochs", 20)
    assert resumed.exit_code == 0, resumed.output
    assert len(steps) == 2 * 9  # epochs 11..19
    assert int(read_checkpoint(output / "checkpoint.npz")["epoch"]) == 19
    rows = loss_rows(output)
    assert rows[:12] == kept and epochs_in_csv(output) == list(range(20))
    assert all(np.isfinite(float(value)) for row in rows[1:] for value in row[1:])
    assert (output / "generator.keras").exists()


def test_nan_weights_at_a_save_epoch_stop_the_run_and_keep_the_previous_checkpoint(
        frog_zip, tmp_path, monkeypatch, checkpoint_bytes, eager_steps):
    generators, results = [], []
    real_begin, real_train_batch = TrainingRun.begin, Trainer.train_batch

    def begin(self, generator, *parts, **more_parts):
        generators.append(generator)
        return real_begin(self, generator, *parts, **more_parts)

    def train_batch(self, features, labels):
        results.append(real_train_batch(self, features, labels))
        if len(results) == 2 * 15 + 2:  # after the GAN step of epoch 15, a save epoch
            variable = generators[0].variables[0]
            value = np.array(variable)
            value.flat[0] = np.nan
            variable.assign(value)
        return results[-1]

    monkeypatch.setattr(TrainingRun, "begin", begin)
    monkeypatch.setattr(Trainer, "train_batch", train_batch)
    output = tmp_path / "out"
    result = train(frog_zip, output, "--epochs", 30, "--seed", 0)
    assert result.exit_code == 3, result.output
    assert len(results) == 32  # it stopped at once
    losses = results[30].loss, results[31].loss
    assert all(np.isfinite(losses))  # the losses were fine: only a weight went bad
    assert result.stdout.splitlines()[-1] == diverged_line(15, *losses, output)
    assert sorted(checkpoint_bytes) == [0, 5, 10]
    assert (output / "checkpoint.npz").read_bytes() == checkpoint_bytes[10]
    assert not (output / "grid_15.png").exists() and not (output / "generator.keras").exists()
    assert temporaries(output) == []


def test_divergence_before_any_checkpoint_says_to_start_again(frog_zip, tmp_path, monkeypatch,
                                                              checkpoint_bytes, eager_steps):
    output = tmp_path / "out"
    with monkeypatch.context() as patch:
        nan_losses_after(patch, 0)  # NaN at epoch 0, a save epoch: nothing was saved yet
        result = train(frog_zip, output, "--epochs", 30, "--seed", 0)
    assert result.exit_code == 3, result.output
    assert "Traceback" not in result.output and result.stderr == ""
    assert result.stdout.splitlines()[-1] == (
        "Training diverged at epoch 0 (discriminator loss nan, gan loss nan); no checkpoint was "
        "saved yet: start again with another --seed.")
    assert checkpoint_bytes == {}
    assert not (output / "checkpoint.npz").exists() and not (output / "generator.keras").exists()
    assert temporaries(output) == []
    # as it says: the same --output with another seed starts afresh
    again = train(frog_zip, output, "--epochs", 1, "--seed", 1)
    assert again.exit_code == 0, again.output
    assert int(read_checkpoint(output / "checkpoint.npz")["epoch"]) == 0


# -- c. a full disk, a read-only disk ---------------------------------------------------------

def test_a_full_disk_stops_the_run_with_one_line_and_keeps_the_checkpoint(frog_zip, tmp_path,
                                                                         tmpfs):
    disk = tmpfs(tmp_path / "disk", size="16m")
    output = disk / "out"
    first = train(frog_zip, output, "--epochs", 11, "--seed", 0)
    assert first.exit_code == 0, first.output
    checkpoint = (output / "checkpoint.npz").read_bytes()
    fill(disk)
    before = snapshot(disk)
    result = train(frog_zip, output, "--resume", "--epochs", 30)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.stderr == (f"Error: cannot write to --output '{output}' (No space left on "
                             f"device): free some space or choose another folder; the last "
                             f"checkpoint there is intact\n")
    assert (output / "checkpoint.npz").read_bytes() == checkpoint
    assert temporaries(output) == []
    assert snapshot(disk) == before  # nothing half-written: not even generated_frog_15.png


def test_a_disk_that_becomes_read_only_mid_run_stops_it_with_one_line(frog_zip, tmp_path,
                                                                     tmpfs, monkeypatch,
                                                                     eager_steps):
    disk = tmpfs(tmp_path / "disk", size="16m")
    output = disk / "out"
    real_train_batch = Trainer.train_batch
    calls = itertools.count()

    def train_batch(self, features, labels):
        if next(calls) == 2 * 7:  # epoch 7: after the checkpoint of epoch 5
            remount_read_only(disk)
        return real_train_batch(self, features, labels)

    monkeypatch.setattr(Trainer, "train_batch", train_batch)
    result = train(frog_zip, output, "--epochs", 30, "--seed", 0)
    assert result.exit_code == 2, result.output
    assert result.stderr == (f"Error: cannot write to --output '{output}' (Read-only file "
                             f"system): free some space or choose another folder; the last "
                             f"checkpoint there is intact\n")
    assert int(read_checkpoint(output / "checkpoint.npz")["epoch"]) == 5
    assert temporaries(output) == [] and not (output / "generated_frog_10.png").exists()


def test_resuming_on_a_read_only_disk_is_refused_and_the_checkpoint_stays(frog_zip, tmp_path,
                                                                          tmpfs):
    disk = tmpfs(tmp_path / "disk", size="16m")
    output = disk / "out"
    first = train(frog_zip, output, "--epochs", 1, "--seed", 0)
    assert first.exit_code == 0, first.output
    checkpoint = (output / "checkpoint.npz").read_bytes()
    remount_read_only(disk)
    before = snapshot(disk)
    result = train(frog_zip, output, "--resume", "--epochs", 30)
    assert result.exit_code == 2, result.output
    assert result.output == (f"Error: --output '{output}' is not writable; choose a folder you "
                             f"can write to\n")
    assert (output / "checkpoint.npz").read_bytes() == checkpoint
    assert snapshot(disk) == before


def test_a_run_stopped_by_a_write_error_gives_back_ctrl_c(frog_zip, tmp_path, monkeypatch):
    handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}

    def disk_full(picture, path):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(grids, "save_picture", disk_full)  # the grid of epoch 0
    result = train(frog_zip, tmp_path / "out", "--epochs", 3, "--seed", 0)
    assert result.exit_code == 2, result.output
    assert {signum: signal.getsignal(signum) for signum in handlers} == handlers
