"""`python -m gan_demo generate`: frogs from a saved generator as a grid, separate PNGs or a GIF."""

import io
import os
import warnings
import zipfile
from types import SimpleNamespace

import keras
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image, ImageSequence

from gan_demo import sample
from gan_demo.checkpoint import save_checkpoint
from gan_demo.commands import main
from gan_demo.pictures import grid_image
from gan_demo.program import create_discriminator, create_generator
from gan_demo.run.generator_file import save_generator
from gan_demo.sample import slerp
from kerasutil.data import DataError
from kerasutil.gan import to_pixels

SETTINGS = {"width": 8, "batch_size": 2, "latent_dimensions": 32}


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A width-8 generator saved as a run saves it: generator.keras and checkpoint.npz.

    Its last layer is turned up so its frogs are colourful and move as the latent vector moves
    (an untrained one draws nearly black frogs, where a misplaced frog would not show).
    """
    folder = tmp_path_factory.mktemp("run")
    keras.utils.set_random_seed(3)
    generator = create_generator(width=8)
    last = [layer for layer in generator.layers if layer.weights][-1]  # the 7x7 convolution
    last.kernel.assign(last.kernel * 40)
    last.bias.assign([0.2, 0.5, 0.8])
    discriminator = create_discriminator(width=8)
    generator_learner = generator.get_ada_delta_learner(1)
    generator_learner.build(generator.trainable_variables)
    discriminator_learner = discriminator.get_ada_delta_learner(1)
    discriminator_learner.build(discriminator.trainable_variables)

    # generator.keras exactly as a finished run writes it
    keras_path = folder / "generator.keras"
    save_generator(generator, str(keras_path))
    checkpoint_path = folder / "checkpoint.npz"
    save_checkpoint(checkpoint_path, {"generator": generator, "discriminator": discriminator,
                                      "discriminator_learner": discriminator_learner,
                                      "gan_learner": generator_learner},
                    0, 0, [(0, 0.7, 0.7)], np.zeros((64, 32), np.float32), SETTINGS)
    return SimpleNamespace(generator=generator, keras=str(keras_path),
                           checkpoint=str(checkpoint_path))


def frogs(generator, count, seed):
    """What the generator draws for ``count`` latent vectors from default_rng(seed)."""
    latent = np.random.default_rng(seed).standard_normal((count, 32)).astype(np.float32)
    return np.asarray(generator(latent, training=False))


def generate(*args):
    return CliRunner().invoke(main, ["generate", *args])


def assert_one_line_error(result, message):
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == f"Error: {message}\n"
    assert "Traceback" not in result.output


def read_png(path):
    with Image.open(path) as picture:
        assert (picture.format, picture.mode) == ("PNG", "RGB")
        return np.asarray(picture)


# -- a grid ------------------------------------------------------------------------------------

def test_64_frogs_make_a_1024_pixel_grid(saved, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = generate("--checkpoint", saved.checkpoint, "--count", "64", "--output", "f.png",
                      "--seed", "5")
    assert result.exit_code == 0, result.output
    assert result.stdout == "Wrote 64 pictures to f.png\n"
    assert os.listdir(tmp_path) == ["f.png"]
    pixels = read_png("f.png")
    assert pixels.shape == (1024, 1024, 3)
    np.testing.assert_array_equal(pixels, np.asarray(grid_image(frogs(saved.generator, 64, 5))))


def test_ten_frogs_make_four_columns_and_three_rows_ending_in_two_black_cells(saved, tmp_path):
    output = tmp_path / "ten.png"
    result = generate("--checkpoint", saved.keras, "--count", "10", "--output", str(output),
                      "--seed", "2")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Wrote 10 pictures to {output}\n"
    pixels = read_png(output)
    assert pixels.shape == (384, 512, 3)  # 3 rows, 4 columns of 128x128
    expected = frogs(saved.generator, 10, 2)
    for index in range(12):
        row, column = divmod(index, 4)
        block = pixels[row * 128:(row + 1) * 128, column * 128:(column + 1) * 128]
        if index < 10:
            frog = to_pixels(expected[index]).repeat(4, axis=0).repeat(4, axis=1)
            np.testing.assert_array_equal(block, frog)
            assert block.max() > 0
        else:
            assert np.all(block == 0), index


def test_the_same_seed_gives_the_same_bytes_and_another_seed_other_frogs(saved, tmp_path):
    paths = {name: tmp_path / f"{name}.png" for name in ("a", "b", "c")}
    for name, seed in (("a", "7"), ("b", "7"), ("c", "8")):
        result = generate("--checkpoint", saved.checkpoint, "--count", "4", "--seed", seed,
                          "--output", str(paths[name]))
        assert result.exit_code == 0, result.output
    assert paths["a"].read_bytes() == paths["b"].read_bytes()
    assert not np.array_equal(read_png(paths["a"]), read_png(paths["c"]))


def test_the_keras_file_and_the_checkpoint_draw_the_same_frogs(saved, tmp_path):
    for name, source in (("keras", saved.keras), ("npz", saved.checkpoint)):
        result = generate("--checkpoint", source, "--count", "9", "--seed", "11",
                          "--output", str(tmp_path / f"{name}.png"))
        assert result.exit_code == 0, result.output
    assert (tmp_path / "keras.png").read_bytes() == (tmp_path / "npz.png").read_bytes()
    np.testing.assert_array_equal(read_png(tmp_path / "npz.png"),
                                  np.asarray(grid_image(frogs(saved.generator, 9, 11))))


def test_the_checkpoint_restores_the_generator_not_fresh_weights(saved):
    loaded = sample.load_generator(saved.checkpoint)
    for got, want in zip(loaded.variables, saved.generator.variables):
        np.testing.assert_array_equal(np.array(got), np.array(want))
    assert sample.latent_dimensions(loaded) == 32


def test_the_saved_plain_model_loads_in_safe_mode_with_the_same_weights(saved):
    # a plain Keras model: it loads without kerasutil
    with zipfile.ZipFile(saved.keras) as archive:
        assert "kerasutil" not in archive.read("config.json").decode()
    loaded = sample.load_generator(saved.keras)
    assert loaded.input_shape == (None, 32) and loaded.output_shape == (None, 32, 32, 3)
    for got, want in zip(loaded.weights, saved.generator.weights):
        np.testing.assert_array_equal(np.array(got), np.array(want))


def test_generating_from_generator_keras_prints_no_warning(saved, tmp_path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = generate("--checkpoint", saved.keras, "--count", "2",
                          "--output", str(tmp_path / "f.png"))
    assert result.exit_code == 0, result.output
    assert [str(warning.message) for warning in caught] == []


def test_the_grid_is_frogs_png_by_default(saved, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = generate("--checkpoint", saved.keras, "--count", "1")
    assert result.exit_code == 0, result.output
    assert result.stdout == "Wrote 1 picture to frogs.png\n"
    assert os.listdir(tmp_path) == ["frogs.png"]
    assert read_png("frogs.png").shape == (128, 128, 3)


# -- separate frogs ----------------------------------------------------------------------------

def test_separate_writes_one_32x32_png_per_frog(saved, tmp_path):
    folder = tmp_path / "out"
    result = generate("--checkpoint", saved.checkpoint, "--count", "12", "--separate",
                      "--output", str(folder), "--seed", "4")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Wrote 12 pictures to {folder}/\n"
    names = [f"frog_{number:04d}.png" for number in range(1, 13)]
    assert sorted(os.listdir(folder)) == names
    assert os.listdir(tmp_path) == ["out"]
    expected = frogs(saved.generator, 12, 4)
    for name, frog in zip(names, expected):
        pixels = read_png(folder / name)
        assert pixels.shape == (32, 32, 3)
        np.testing.assert_array_equal(pixels, to_pixels(frog))


def test_separate_writes_into_frogs_by_default(saved, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = generate("--checkpoint", saved.keras, "--count", "2", "--separate")
    assert result.exit_code == 0, result.output
    assert result.stdout == "Wrote 2 pictures to frogs/\n"
    assert os.listdir(tmp_path) == ["frogs"]
    assert sorted(os.listdir("frogs")) == ["frog_0001.png", "frog_0002.png"]


# -- a walk through latent space ---------------------------------------------------------------

def gif_quantised(picture):
    """``picture`` after the 256-colour palette a GIF frame gets."""
    buffer = io.BytesIO()
    picture.save(buffer, format="GIF")
    buffer.seek(0)
    with Image.open(buffer) as gif:
        return np.asarray(gif.convert("RGB"))


def test_interpolate_writes_a_48_frame_walk_from_the_start_points(saved, tmp_path):
    output = tmp_path / "walk.gif"
    result = generate("--checkpoint", saved.checkpoint, "--count", "4", "--interpolate",
                      "--seed", "3", "--output", str(output))
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Wrote 4 pictures to {output}\n"
    assert os.listdir(tmp_path) == ["walk.gif"]
    assert sample.WALK_POINTS * sample.WALK_FRAMES == 48
    with Image.open(output) as gif:
        assert gif.format == "GIF" and gif.info["loop"] == 0
        frames, durations = [], []
        for frame in ImageSequence.Iterator(gif):
            frames.append(np.asarray(frame.convert("RGB")))
            durations.append(frame.info["duration"])
    assert len(frames) == 48
    assert durations == [80] * 48
    assert all(frame.shape == (256, 256, 3) for frame in frames)
    # the walk starts at the first of its points and reaches the second at frame 12
    points = np.random.default_rng(3).standard_normal((4, 4, 32)).astype(np.float32)
    for frame, point in ((0, 0), (12, 1), (24, 2), (36, 3)):
        expected = grid_image(np.asarray(saved.generator(points[point], training=False)))
        np.testing.assert_array_equal(frames[frame], gif_quantised(expected),
                                      err_msg=f"frame {frame}")
    assert not np.array_equal(frames[0], frames[1])


def test_separate_and_interpolate_cannot_be_combined(saved, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = generate("--checkpoint", saved.checkpoint, "--separate", "--interpolate")
    assert_one_line_error(result, "--separate and --interpolate cannot be combined: pick one")
    assert os.listdir(tmp_path) == []


# -- what cannot be loaded ---------------------------------------------------------------------

def test_a_missing_checkpoint_exits_2_with_one_line_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = generate("--checkpoint", "run/checkpoint.npz", "--output", "f.png")
    assert_one_line_error(
        result, "no checkpoint at 'run/checkpoint.npz': train first (a run saves one every "
                "--save-every epochs), or check --output")
    assert os.listdir(tmp_path) == []


def test_a_missing_keras_file_exits_2_with_one_line_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = generate("--checkpoint", "run/generator.keras", "--separate")
    assert_one_line_error(
        result, "no generator at 'run/generator.keras': a finished or stopped run saves "
                "generator.keras in its --output folder")
    assert os.listdir(tmp_path) == []


def test_a_keras_file_with_a_lambda_is_refused_in_safe_mode_without_running_it(
        tmp_path, monkeypatch):
    # the lambda leaves a file behind whenever it runs, wherever its code is loaded
    marker = tmp_path / "the_lambda_ran"
    monkeypatch.setenv("GAN_DEMO_TEST_LAMBDA_MARKER", str(marker))
    inputs = keras.Input((32,))
    doubled = keras.layers.Lambda(lambda x: (
        open(__import__("os").environ["GAN_DEMO_TEST_LAMBDA_MARKER"], "a").close(), x * 2)[1])(
        inputs)
    keras.Model(inputs, keras.layers.Reshape((4, 8, 1))(doubled)).save(tmp_path / "evil.keras")
    marker.unlink()  # building the model ran it once
    path = tmp_path / "evil.keras"

    result = generate("--checkpoint", str(path), "--output", str(tmp_path / "f.png"))
    assert result.exit_code == 2
    assert result.stdout == "" and "Traceback" not in result.output
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(
        f"Error: {path} cannot be loaded as a Keras model in safe mode (")
    assert result.stderr.endswith("); pass the generator.keras or checkpoint.npz a run saved\n")
    assert not marker.exists()
    assert sorted(os.listdir(tmp_path)) == ["evil.keras"]
    # the check above can fail: loading it unsafely does run the lambda
    keras.models.load_model(path, safe_mode=False)
    assert marker.exists()


def test_a_file_that_is_no_model_exits_2_with_one_line(tmp_path):
    path = tmp_path / "generator.keras"
    path.write_text("not a zip")
    result = generate("--checkpoint", str(path), "--output", str(tmp_path / "f.png"))
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"Error: {path} cannot be loaded as a Keras model in safe "
                                    f"mode (")
    assert os.listdir(tmp_path) == ["generator.keras"]


def test_a_truncated_checkpoint_exits_2_with_one_line(saved, tmp_path):
    data = open(saved.checkpoint, "rb").read()
    path = tmp_path / "checkpoint.npz"
    path.write_bytes(data[:len(data) // 2])
    result = generate("--checkpoint", str(path), "--output", str(tmp_path / "f.png"))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: {path} is not a gan_demo checkpoint (")
    assert os.listdir(tmp_path) == ["checkpoint.npz"]


# -- slerp -------------------------------------------------------------------------------------

def test_slerp_starts_at_a_and_ends_at_b():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 6, 32))
    start = slerp(a, b, 0.0)
    assert start.shape == (6, 32)
    # exact in the float32 the generator gets; within rounding in float64
    np.testing.assert_array_equal(start.astype(np.float32), a.astype(np.float32))
    np.testing.assert_allclose(start, a, rtol=0, atol=1e-15)
    for t, tolerance in ((1 - 1e-3, 1e-2), (1 - 1e-6, 1e-5), (1.0, 1e-15)):
        np.testing.assert_allclose(slerp(a, b, t), b, rtol=0, atol=tolerance)
    assert np.abs(slerp(a, b, 1 - 1e-3) - b).max() > 1e-6  # approaching, not there yet


def test_slerp_keeps_orthogonal_points_on_their_sphere():
    a = np.array([[3.0, 0.0, 0.0, 0.0]])
    b = np.array([[0.0, 0.0, 3.0, 0.0]])
    ts = np.linspace(0, 1, 21)
    norms = np.array([np.linalg.norm(slerp(a, b, t)) for t in ts])
    np.testing.assert_allclose(norms, 3.0, rtol=1e-12)
    # the halfway point is on the arc, not the chord (whose middle has norm 3 / sqrt(2))
    np.testing.assert_allclose(slerp(a, b, 0.5), [[3 / np.sqrt(2), 0, 3 / np.sqrt(2), 0]],
                               rtol=1e-12, atol=1e-15)
    straight = np.linalg.norm(0.5 * a + 0.5 * b)
    assert straight == pytest.approx(3 / np.sqrt(2))


def test_slerp_norms_of_orthogonal_points_stay_between_the_endpoint_norms():
    a = np.array([[0.0, 2.0, 0.0, 0.0], [1.0, 1.0, 0.0, 0.0]])
    b = np.array([[0.0, 0.0, 0.0, 5.0], [0.0, 0.0, 3.0, 0.0]])
    low = np.minimum(np.linalg.norm(a, axis=-1), np.linalg.norm(b, axis=-1))
    high = np.maximum(np.linalg.norm(a, axis=-1), np.linalg.norm(b, axis=-1))
    norms = np.array([np.linalg.norm(slerp(a, b, t), axis=-1) for t in np.linspace(0, 1, 21)])
    assert np.all(norms >= low * (1 - 1e-12)) and np.all(norms <= high * (1 + 1e-12))
    # from one norm to the other, never back
    assert np.all(np.diff(norms, axis=0) > 0)


def test_slerp_interpolates_each_row_separately():
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((2, 5, 32))
    together = slerp(a, b, 0.3)
    for row in range(5):
        np.testing.assert_allclose(together[row], slerp(a[row], b[row], 0.3), rtol=1e-14)


@pytest.mark.parametrize("factor", [1.0, 2.5])
def test_slerp_falls_back_to_a_straight_line_for_parallel_vectors(factor):
    a = np.array([[1.0, -2.0, 0.5, 4.0]])
    b = factor * a
    for t in (0.0, 0.25, 0.5, 1.0):
        got = slerp(a, b, t)
        assert np.all(np.isfinite(got))
        np.testing.assert_allclose(got, (1 - t) * a + t * b, rtol=1e-15)


# -- pixels for scoring: an .npz -----------------------------------------------------------------

def test_an_npz_output_holds_exactly_the_pixels_save_image_would_write(saved, tmp_path):
    output = tmp_path / "samples.npz"
    result = generate("--checkpoint", saved.checkpoint, "--count", "10", "--seed", "5",
                      "--output", str(output))
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Wrote 10 pictures to {output}\n"
    assert os.listdir(tmp_path) == ["samples.npz"]
    with np.load(output, allow_pickle=False) as saved_pixels:
        assert saved_pixels.files == ["images"]
        images = saved_pixels["images"]
    assert images.dtype == np.uint8 and images.shape == (10, 32, 32, 3)
    np.testing.assert_array_equal(images, to_pixels(frogs(saved.generator, 10, 5)))
    assert len(np.unique(images)) > 100  # colourful frogs, where a misplaced one would show
    # the same seed draws the same frogs as the grid
    grid = tmp_path / "grid.png"
    generate("--checkpoint", saved.checkpoint, "--count", "10", "--seed", "5",
             "--output", str(grid))
    np.testing.assert_array_equal(read_png(grid), np.asarray(grid_image(images / 255)))


def test_pixels_are_generated_in_batches_that_give_the_same_frogs(saved):
    calls = []

    def recording(latent, training):
        calls.append(len(latent))
        return saved.generator(latent, training=training)

    recording.input_shape, recording.output_shape = (None, 32), (None, 32, 32, 3)
    pixels = sample.generate_pixels(recording, 10, np.random.default_rng(9), batch_size=4)
    assert calls == [4, 4, 2]
    latent = np.random.default_rng(9).standard_normal((10, 32)).astype(np.float32)
    expected = np.concatenate([to_pixels(saved.generator(latent[i:i + 4], training=False))
                               for i in (0, 4, 8)])
    np.testing.assert_array_equal(pixels, expected)
    whole = to_pixels(saved.generator(latent, training=False)).astype(int)
    assert np.abs(pixels.astype(int) - whole).max() <= 1  # one batch or three: the same frogs
    assert sample.GENERATE_BATCH == 500


def test_up_to_50000_frogs_go_to_an_npz_but_at_most_10000_into_a_picture(saved, tmp_path,
                                                                         monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = generate("--checkpoint", saved.keras, "--count", "10001")
    assert_one_line_error(result, "--count 10,001 is too many for one grid or GIF (at most "
                                  "10,000): write an .npz (--output samples.npz) for up to 50,000")
    result = generate("--checkpoint", saved.keras, "--count", "50001", "--output", "s.npz")
    assert_one_line_error(result, "Invalid value for '--count': 50001 is not in the range "
                                  "1<=x<=50000.")
    assert os.listdir(tmp_path) == []
    # 10,001 frogs are fine in an .npz (drawing them is tested above, in batches)
    drawn = []

    def generate_pixels(generator, count, rng, batch_size):
        drawn.append(count)
        return np.zeros((count, 32, 32, 3), np.uint8)

    monkeypatch.setattr(sample, "generate_pixels", generate_pixels)
    result = generate("--checkpoint", saved.keras, "--count", "10001", "--output", "s.npz")
    assert result.exit_code == 0, result.output
    assert result.stdout == "Wrote 10,001 pictures to s.npz\n"
    assert drawn == [10001]
    with np.load("s.npz") as saved_pixels:
        assert saved_pixels["images"].shape == (10001, 32, 32, 3)


def test_an_npz_cannot_be_combined_with_separate_or_interpolate(saved, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for flag in ("--separate", "--interpolate"):
        result = generate("--checkpoint", saved.keras, flag, "--output", "s.npz")
        assert_one_line_error(result, f"--output s.npz writes the pictures' pixels: drop {flag}, "
                                      f"or write a picture")
    assert os.listdir(tmp_path) == []


def test_an_npz_in_a_folder_that_cannot_be_made_exits_2_with_one_line(saved, tmp_path):
    (tmp_path / "blocker").write_text("a file, not a folder")
    result = generate("--checkpoint", saved.keras, "--output",
                      str(tmp_path / "blocker" / "s.npz"))
    assert_one_line_error(result, f"--output '{tmp_path / 'blocker'}' cannot be created: File "
                                  f"exists; choose a folder you can write to")
    assert os.listdir(tmp_path) == ["blocker"]


def test_load_samples_reads_what_generate_wrote_and_refuses_anything_else(saved, tmp_path):
    path = tmp_path / "s.npz"
    written = sample.write_npz(saved.generator, 3, path, np.random.default_rng(1))
    np.testing.assert_array_equal(sample.load_samples(path), written)
    remedy = "pass the .npz that `python -m gan_demo generate --output samples.npz` writes"
    cases = {
        "missing.npz": f"no samples at '{tmp_path / 'missing.npz'}': {remedy}",
        "other.npz": f"{tmp_path / 'other.npz'} has no \"images\" array (it holds pixels): "
                     f"{remedy}",
        "float.npz": f"{tmp_path / 'float.npz'}: \"images\" is float32 (3, 32, 32, 3), not uint8 "
                     f"RGB pixels (n, height, width, 3): {remedy}",
        "gray.npz": f"{tmp_path / 'gray.npz'}: \"images\" is uint8 (3, 32, 32), not uint8 RGB "
                    f"pixels (n, height, width, 3): {remedy}",
    }
    np.savez(tmp_path / "other.npz", pixels=written)
    np.savez(tmp_path / "float.npz", images=written.astype(np.float32))
    np.savez(tmp_path / "gray.npz", images=written[..., 0])
    for name, message in cases.items():
        with pytest.raises(DataError) as caught:
            sample.load_samples(tmp_path / name)
        assert str(caught.value) == message
    (tmp_path / "text.npz").write_text("not a zip")
    (tmp_path / "pickled.npz").write_bytes(b"")
    np.savez(tmp_path / "pickled.npz", images=np.array([{"code": 1}], dtype=object))
    for name in ("text.npz", "pickled.npz"):
        with pytest.raises(DataError) as caught:
            sample.load_samples(tmp_path / name)
        assert str(caught.value).startswith(f"{tmp_path / name} cannot be read as an .npz (")
        assert str(caught.value).endswith(f"): {remedy}")
