"""checkpoint.npz: all a run needs to continue exactly, written whole, read without pickle."""

import json
import os
import zipfile

import keras
import numpy as np
import pytest

from gan_demo import checkpoint as checkpoints
from gan_demo.checkpoint import (
    FORMAT_VERSION,
    PARTS,
    CheckpointError,
    read_checkpoint,
    restore_random_state,
    restore_variables,
    save_checkpoint,
)
from gan_demo.program import create_discriminator, create_generator
from kerasutil.data import DataError

SETTINGS = {"width": 8, "batch_size": 2, "latent_dimensions": 32}
LOSSES = [(0, 0.693, 0.701), (1, 0.652, 0.734), (7, 0.5, 1.25)]


def build_parts(width=8):
    """Both networks and both AdaDelta learners, as program.main builds them."""
    generator = create_generator(width=width)
    discriminator = create_discriminator(width=width)
    generator_learner = generator.get_ada_delta_learner(1)
    generator_learner.build(generator.trainable_variables)
    discriminator_learner = discriminator.get_ada_delta_learner(1)
    discriminator_learner.build(discriminator.trainable_variables)
    return {"generator": generator, "discriminator": discriminator,
            "discriminator_learner": discriminator_learner, "gan_learner": generator_learner}


def train_a_step(parts, seed):
    """Move every variable off its initial value: weights, learner slots, the dropout's seed."""
    rng = np.random.default_rng(seed)
    for network, learner in ((parts["generator"], parts["gan_learner"]),
                             (parts["discriminator"], parts["discriminator_learner"])):
        gradients = [rng.standard_normal(v.shape).astype(np.float32)
                     for v in network.trainable_variables]
        learner.apply_gradients(zip(gradients, network.trainable_variables))
    images = rng.standard_normal((2, 32, 32, 3)).astype(np.float32)
    parts["discriminator"](images, training=True)  # advances the dropout's random state


def all_variables(parts):
    return [(name, variable) for name in PARTS for variable in parts[name].variables]


def snapshot(parts):
    return [np.array(variable) for _, variable in all_variables(parts)]


@pytest.fixture(scope="module")
def trained_parts():
    keras.utils.set_random_seed(11)
    parts = build_parts()
    train_a_step(parts, seed=1)
    return parts


@pytest.fixture
def saved(trained_parts, tmp_path):
    """A checkpoint of ``trained_parts`` and the values it must give back."""
    path = tmp_path / "checkpoint.npz"
    grid_latents = np.random.default_rng(5).standard_normal((64, 32)).astype(np.float32)
    np.random.seed(123)
    np.random.standard_normal()  # an odd count: NumPy holds a cached Gaussian for the next draw
    save_checkpoint(path, trained_parts, 7, 96, LOSSES, grid_latents, SETTINGS)
    values = snapshot(trained_parts)
    next_normals = np.random.standard_normal(5)
    return path, values, next_normals, grid_latents


def test_the_networks_and_learners_have_left_their_initial_values(trained_parts):
    fresh = build_parts()
    for (name, trained), (_, initial) in zip(all_variables(trained_parts), all_variables(fresh)):
        if "learning_rate" in trained.path:
            continue  # the one variable a step leaves alone
        assert not np.array_equal(np.array(trained), np.array(initial)), (name, trained.path)
    assert int(trained_parts["gan_learner"].iterations) == 1


def test_a_round_trip_restores_every_variable_and_numpys_random_state(saved, trained_parts):
    path, values, next_normals, _ = saved
    # a different run in between: other weights, other learner slots, other random numbers
    keras.utils.set_random_seed(99)
    other = build_parts()
    train_a_step(other, seed=2)
    train_a_step(other, seed=3)
    np.random.standard_normal(17)
    assert not all(np.array_equal(a, b) for a, b in zip(snapshot(other), values))

    checkpoint = read_checkpoint(path)
    for name in PARTS:
        restore_variables(checkpoint, name, other[name], path)
    restore_random_state(checkpoint)

    restored = snapshot(other)
    assert len(restored) == len(values) == sum(len(trained_parts[n].variables) for n in PARTS)
    for (name, variable), got, want in zip(all_variables(other), restored, values):
        assert got.dtype == want.dtype, (name, variable.path)
        np.testing.assert_array_equal(got, want, err_msg=f"{name} {variable.path}")
    np.testing.assert_array_equal(np.random.standard_normal(5), next_normals)
    assert int(other["gan_learner"].iterations) == 1


def test_the_dropout_random_state_is_saved(saved, trained_parts):
    path, _, _, _ = saved
    seeds = [i for i, v in enumerate(trained_parts["discriminator"].variables)
             if "seed_generator" in v.path]
    assert len(seeds) == 1
    with np.load(path, allow_pickle=False) as archive:
        np.testing.assert_array_equal(archive[f"discriminator/{seeds[0]}"],
                                      np.array(trained_parts["discriminator"].variables[seeds[0]]))


def test_epoch_cursor_losses_latents_and_settings_come_back(saved):
    path, _, _, grid_latents = saved
    checkpoint = read_checkpoint(path)
    assert int(checkpoint["epoch"]) == 7
    assert int(checkpoint["start"]) == 96
    assert checkpoint["losses"].dtype == np.float64
    np.testing.assert_array_equal(checkpoint["losses"], np.array(LOSSES))
    assert checkpoint["grid_latents"].dtype == np.float32
    np.testing.assert_array_equal(checkpoint["grid_latents"], grid_latents)
    assert checkpoint["settings"] == {"format": FORMAT_VERSION, **SETTINGS}
    assert FORMAT_VERSION == 2


def test_an_empty_loss_history_comes_back_as_no_rows(trained_parts, tmp_path):
    path = tmp_path / "checkpoint.npz"
    save_checkpoint(path, trained_parts, 0, 0, [], np.zeros((64, 32)), SETTINGS)
    assert read_checkpoint(path)["losses"].shape == (0, 3)


def test_the_checkpoint_is_a_plain_npz_without_pickles(saved, trained_parts):
    path, _, _, _ = saved
    with zipfile.ZipFile(path) as archive:
        assert all(name.endswith(".npy") for name in archive.namelist())
    with np.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    assert not any(array.dtype.hasobject for array in arrays.values())
    expected = {f"{name}/{index}" for name in PARTS
                for index in range(len(trained_parts[name].variables))}
    expected |= {"numpy_random/keys", "numpy_random/numbers", "numpy_random/cached_gaussian",
                 "epoch", "start", "losses", "grid_latents", "settings"}
    assert set(arrays) == expected
    assert json.loads(str(arrays["settings"])) == {"format": 2, **SETTINGS}


def test_a_width_8_checkpoint_does_not_fit_width_16_networks(saved):
    path, _, _, _ = saved
    checkpoint = read_checkpoint(path)
    wider = build_parts(width=16)
    for name in PARTS:
        before = [np.array(v) for v in wider[name].variables]
        with pytest.raises(CheckpointError) as error:
            restore_variables(checkpoint, name, wider[name], path)
        assert str(error.value) == (
            f"{path} holds a {name} of another shape (width 8): resume with the same --width, "
            f"or start a fresh --output")
        # nothing was assigned: the networks are as they were built
        for variable, value in zip(wider[name].variables, before):
            np.testing.assert_array_equal(np.array(variable), value)


def test_a_missing_checkpoint_says_how_to_get_one(tmp_path):
    path = tmp_path / "run" / "checkpoint.npz"
    with pytest.raises(CheckpointError) as error:
        read_checkpoint(path)
    assert str(error.value) == (
        f"no checkpoint at '{path}': train first (a run saves one every --save-every epochs), "
        f"or check --output")
    assert isinstance(error.value, DataError)  # the command line turns these into one line


def test_a_folder_is_not_a_checkpoint(tmp_path):
    with pytest.raises(CheckpointError, match="^no checkpoint at '"):
        read_checkpoint(tmp_path)


def assert_not_a_checkpoint(path):
    with pytest.raises(CheckpointError) as error:
        read_checkpoint(path)
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith(f"{path} is not a gan_demo checkpoint (")
    assert message.endswith("); delete it or pass another one")
    return message


def test_a_text_file_is_not_a_checkpoint(tmp_path):
    path = tmp_path / "checkpoint.npz"
    path.write_text("these are not the arrays you are looking for\n")
    assert_not_a_checkpoint(path)


def test_an_npz_without_settings_is_not_a_checkpoint(tmp_path):
    path = tmp_path / "checkpoint.npz"
    np.savez(path, epoch=np.array(3), losses=np.zeros((1, 3)))
    assert assert_not_a_checkpoint(path) == (
        f"{path} is not a gan_demo checkpoint ('settings'); delete it or pass another one")


def test_an_npz_holding_pickled_objects_is_refused_unread(tmp_path):
    path = tmp_path / "checkpoint.npz"
    np.savez(path, settings=np.array('{"format": 2}'), evil=np.array([{"a": 1}], dtype=object))
    assert_not_a_checkpoint(path)


@pytest.mark.parametrize("damage", ["truncated", "empty", "npy"])
def test_a_damaged_checkpoint_is_not_a_checkpoint(damage, saved, tmp_path):
    path, _, _, _ = saved
    broken = tmp_path / "broken.npz"
    if damage == "truncated":  # a copy cut short
        data = path.read_bytes()
        broken.write_bytes(data[:len(data) // 2])
    elif damage == "empty":
        broken.write_bytes(b"")
    else:  # a single array saved with np.save under the checkpoint's name
        with open(broken, "wb") as file:
            np.save(file, np.arange(3))
    assert_not_a_checkpoint(broken)


def with_format(saved, tmp_path, version):
    """A copy of the ``saved`` checkpoint claiming another format (None: no format at all)."""
    path, _, _, _ = saved
    with np.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    settings = json.loads(str(arrays["settings"]))
    if version is None:
        del settings["format"]
    else:
        settings["format"] = version
    arrays["settings"] = np.array(json.dumps(settings))
    other = tmp_path / "old.npz"
    np.savez(other, **arrays)
    return other


@pytest.mark.parametrize("version", [0, 3, None])
def test_another_format_is_refused(version, saved, tmp_path):
    other = with_format(saved, tmp_path, version)
    with pytest.raises(CheckpointError) as error:
        read_checkpoint(other)
    assert str(error.value) == (f"{other} has checkpoint format {version}, this gan_demo reads 2; "
                                f"start a fresh --output")


def test_a_format_1_checkpoint_says_what_to_do_instead(saved, tmp_path):
    # format 1 recorded neither the precision nor the stable recipe's settings
    other = with_format(saved, tmp_path, 1)
    with pytest.raises(CheckpointError) as error:
        read_checkpoint(other)
    assert str(error.value) == (
        f"{other} was saved by an earlier gan_demo (checkpoint format 1, without its recipe's "
        f"settings), which this one cannot read: train afresh in another --output, or pass the "
        f"run's generator.keras to generate and evaluate")


def test_a_failed_save_keeps_the_previous_checkpoint_and_no_temporary_file(
        trained_parts, tmp_path, monkeypatch):
    path = tmp_path / "checkpoint.npz"
    save_checkpoint(path, trained_parts, 3, 6, LOSSES[:1], np.zeros((64, 32)), SETTINGS)
    before = path.read_bytes()
    written = []

    def savez_then_fail(file, **arrays):
        # half an archive reaches the disk, then the disk is full
        with open(file, "wb") as handle:
            handle.write(before[:len(before) // 2])
        written.append(os.fspath(file))
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", savez_then_fail)
    with pytest.raises(OSError, match="No space left on device"):
        save_checkpoint(path, trained_parts, 4, 8, LOSSES, np.ones((64, 32)), SETTINGS)
    monkeypatch.undo()

    # it wrote beside the checkpoint, under another name, and cleaned that up
    assert len(written) == 1
    assert os.path.dirname(written[0]) == str(tmp_path) and written[0] != str(path)
    assert os.listdir(tmp_path) == ["checkpoint.npz"]
    assert path.read_bytes() == before
    assert int(read_checkpoint(path)["epoch"]) == 3


def test_a_first_save_that_fails_leaves_nothing(trained_parts, tmp_path, monkeypatch):
    def fail(file, **arrays):
        raise KeyboardInterrupt  # Ctrl-C in the middle of a save

    monkeypatch.setattr(checkpoints.np, "savez", fail)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(tmp_path / "checkpoint.npz", trained_parts, 0, 0, [], np.zeros((64, 32)),
                        SETTINGS)
    assert os.listdir(tmp_path) == []


def test_saving_again_replaces_the_checkpoint(trained_parts, tmp_path):
    path = tmp_path / "checkpoint.npz"
    save_checkpoint(path, trained_parts, 3, 6, LOSSES[:1], np.zeros((64, 32)), SETTINGS)
    save_checkpoint(path, trained_parts, 4, 8, LOSSES[:2], np.zeros((64, 32)), SETTINGS)
    assert os.listdir(tmp_path) == ["checkpoint.npz"]
    checkpoint = read_checkpoint(path)
    assert (int(checkpoint["epoch"]), int(checkpoint["start"])) == (4, 8)
    assert checkpoint["losses"].shape == (2, 3)
