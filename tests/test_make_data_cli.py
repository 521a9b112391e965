"""`python -m gan_demo make-data`: any CIFAR-10 class, a folder of one's own pictures, refusals.

Every case runs the command line through click's CliRunner from an empty working folder; a
refusal must exit 2 with one line and leave the whole tmp_path as it was.
"""

import keras
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from gan_demo.cifar import CLASS_NAMES
from gan_demo.commands import main
from kerasutil.data import IMAGE_SIZE, DataUtil
from tests.conftest import snapshot
from tests.frog_files import write_cifar_tar

DEER, FROG, HORSE = (CLASS_NAMES.index(name) for name in ("deer", "frog", "horse"))
NOT_A_PICTURE = "not a PNG, JPEG, BMP, GIF, WebP or TIFF picture"


def invoke(*args):
    return CliRunner().invoke(main, [str(arg) for arg in args])


def assert_refused(result, message):
    """Exit code 2, and stderr is exactly the one line "Error: {message}"."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.stderr == f"Error: {message}\n"


@pytest.fixture
def work(tmp_path, monkeypatch):
    """An empty working folder inside tmp_path, where default outputs land."""
    folder = tmp_path / "work"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


@pytest.fixture
def cifar_tar(tmp_path):
    """A tiny cifar-10-python.tar.gz: 3 deer, 2 horses and 2 frogs among other classes, spread
    over the five batches; returns (path, {label: the class's rows in dataset order})."""
    rng = np.random.default_rng(16)
    labels = [[DEER, 0, HORSE], [FROG, DEER], [], [HORSE, 3, DEER], [FROG]]
    batches = [(rng.integers(0, 256, (len(row), IMAGE_SIZE), dtype=np.uint8), row)
               for row in labels]
    rows = {label: np.concatenate([data[np.array(row) == label] for data, row in batches
                                   if row]) for label in (DEER, HORSE, FROG)}
    return write_cifar_tar(tmp_path / "cifar-10-python.tar.gz", batches), rows


def assert_holds(path, rows):
    """The zip at ``path`` holds exactly ``rows`` (uint8 channels first) as pixel / 255."""
    images = DataUtil.load_pictures(path)
    flat = images.transpose(0, 3, 1, 2).reshape(len(images), IMAGE_SIZE)
    np.testing.assert_array_equal(flat, rows.astype(np.float32) / np.float32(255))


# -- a CIFAR-10 class -------------------------------------------------------------------------

def test_two_classes_from_a_cifar_archive(work, cifar_tar):
    archive, rows = cifar_tar
    result = invoke("make-data", "--class", "deer", "--cifar", archive)
    assert result.exit_code == 0, result.output
    assert result.stdout == (f"Building deer_pictures.zip from {archive}...\n"
                             f"Wrote 3 deer pictures to deer_pictures.zip\n")
    assert_holds(work / "deer_pictures.zip", rows[DEER])
    result = invoke("make-data", "--class", "horse", "--cifar", archive, "--output", "h.zip")
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith("Wrote 2 horse pictures to h.zip\n")
    assert_holds(work / "h.zip", rows[HORSE])
    assert sorted(path.name for path in work.iterdir()) == ["deer_pictures.zip", "h.zip"]


def test_the_frogs_stay_the_default(work, cifar_tar):
    archive, rows = cifar_tar
    result = invoke("make-data", "--cifar", archive)
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith("Wrote 2 frog pictures to frog_pictures.zip\n")
    assert_holds(work / "frog_pictures.zip", rows[FROG])


@pytest.fixture
def keras_cifar(monkeypatch):
    """Keras's CIFAR-10 downloader replaced by 20 pictures of each class, channels last."""
    labels = np.repeat(np.arange(10), 20).reshape(-1, 1)
    pictures = np.random.default_rng(3).integers(0, 256, (200, 32, 32, 3), dtype=np.uint8)
    monkeypatch.setattr(keras.datasets.cifar10, "load_data",
                        lambda: ((pictures, labels), (pictures[:1], labels[:1])))
    return pictures, labels.reshape(-1)


def test_a_class_through_keras(work, keras_cifar):
    pictures, labels = keras_cifar
    result = invoke("make-data", "--class", "cat")
    assert result.exit_code == 0, result.output
    assert result.stdout == ("Building cat_pictures.zip from CIFAR-10 (downloading through "
                             "Keras)...\nWrote 20 cat pictures to cat_pictures.zip\n")
    cats = pictures[labels == CLASS_NAMES.index("cat")]
    np.testing.assert_array_equal(DataUtil.load_pictures("cat_pictures.zip"),
                                  cats.astype(np.float32) / np.float32(255))


def test_download_builds_the_class_the_data_file_names_then_trains(work, keras_cifar):
    result = invoke("--download", "--data", "deer_pictures.zip", "--width", "8", "--epochs", "0",
                    "--output", "out")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Building deer_pictures.zip from CIFAR-10 (downloading "
                                    "through Keras)...\nWrote 20 deer pictures to "
                                    "deer_pictures.zip\nLoading data files...\n")
    pictures, labels = keras_cifar
    deer = pictures[labels == DEER].astype(np.float32) / np.float32(255)
    np.testing.assert_array_equal(DataUtil.load_pictures("deer_pictures.zip"), deer)
    assert (work / "out" / "generator.keras").is_file()


# -- a folder of one's own pictures -----------------------------------------------------------

def solid(colour, size=(32, 32)):
    return Image.new("RGB", size, colour)


@pytest.fixture
def folder(tmp_path):
    """17 distinct pictures in nested folders (one a .JPG, one 96x32 with a green middle and red
    sides), a copy of one, and a text file."""
    root = tmp_path / "birds"
    (root / "a" / "deep").mkdir(parents=True)
    for number in range(15):
        solid((number * 16, 255 - number * 16, 7)).save(root / "a" / f"{number:02d}.png")
    solid((0, 0, 250)).save(root / "a" / "deep" / "BLUE.JPG", quality=100)
    wide = solid((255, 0, 0), (96, 32))
    wide.paste((0, 255, 0), (32, 0, 64, 32))
    wide.save(root / "wide.png")
    solid((0, 255, 7)).save(root / "copy.png")  # the same as a/00.png
    (root / "notes.txt").write_text("my birds\n")
    return root


def test_a_folder_becomes_a_pictures_zip_with_a_report(work, folder):
    result = invoke("make-data", "--images", folder)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"Building my_pictures.zip from the pictures in {folder}...",
        f"Wrote 17 pictures from {folder} to my_pictures.zip",
        f"Skipped 1 file: notes.txt ({NOT_A_PICTURE})",
        "Dropped 1 exact duplicate: copy.png (same as a/00.png)"]
    images = DataUtil.load_pictures(work / "my_pictures.zip")
    assert images.shape == (17, 32, 32, 3)
    # path order: a/00..14, a/deep/BLUE.JPG, wide.png; the wide one keeps its green centre
    np.testing.assert_array_equal(images[0, 5, 5], np.array([0, 255, 7], np.float32) / 255)
    assert np.all(np.abs(images[15, ..., 2] - 250 / 255) < 0.02)
    assert np.all(images[16][:, [0, 31]] == np.array([0, 1, 0], np.float32))


def test_crop_none_squashes_and_output_names_the_zip(work, folder):
    result = invoke("make-data", "--images", folder, "--crop", "none", "--output", "b.zip")
    assert result.exit_code == 0, result.output
    assert f"Wrote 17 pictures from {folder} to b.zip" in result.stdout.splitlines()
    wide = DataUtil.load_pictures(work / "b.zip")[16]
    np.testing.assert_array_equal(wide[16, [0, 16, 31]], [[1, 0, 0], [0, 1, 0], [1, 0, 0]])


# -- refusals: exit 2, one line, nothing written ----------------------------------------------

def refused(tmp_path, *args):
    before = snapshot(tmp_path)
    result = invoke("make-data", *args)
    assert snapshot(tmp_path) == before  # no zip, no temporary file
    return result


def test_an_unknown_class_is_refused(work, tmp_path, cifar_tar):
    assert_refused(refused(tmp_path, "--class", "dear", "--cifar", cifar_tar[0]),
                   "Invalid value for '--class': 'dear' is not one of " +
                   ", ".join(f"'{name}'" for name in CLASS_NAMES) + ".")


@pytest.mark.parametrize("other, message", [
    (["--class", "deer"], "--images builds from your own pictures, --class from CIFAR-10: pass "
                          "one of them"),
    (["--cifar", "c.tar.gz"], "--images builds from your own pictures, --cifar from CIFAR-10: "
                              "pass one of them"),
], ids=["class", "cifar"])
def test_images_with_a_cifar_option_is_refused(other, message, work, tmp_path, folder):
    result = refused(tmp_path, "--images", folder, *other)
    assert_refused(result, message)
    assert result.stdout == ""


def test_crop_without_images_is_refused(work, tmp_path, cifar_tar):
    result = refused(tmp_path, "--crop", "none", "--cifar", cifar_tar[0])
    assert_refused(result, "--crop cuts the pictures of --images: drop it, or pass --images DIR")
    assert result.stdout == ""


def test_a_missing_folder_or_a_file_is_refused(work, tmp_path, folder):
    assert_refused(refused(tmp_path, "--images", tmp_path / "nowhere"),
                   f"no folder at '{tmp_path / 'nowhere'}': pass the folder that holds your "
                   f"pictures")
    assert_refused(refused(tmp_path, "--images", folder / "notes.txt"),
                   f"'{folder / 'notes.txt'}' is a file, not a folder: pass the folder that "
                   f"holds your pictures")


def test_too_few_pictures_or_none_are_refused(work, tmp_path):
    few = tmp_path / "few"
    few.mkdir()
    for number in range(3):
        solid((number, 0, 0)).save(few / f"{number}.png")
    assert_refused(refused(tmp_path, "--images", few),
                   f"'{few}' holds only 3 usable pictures, fewer than one "
                   f"training batch of 16: add at least 13 more")
    for number in range(3):
        (few / f"{number}.png").write_text("not a picture")
    result = refused(tmp_path, "--images", few)
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"Error: '{few}' holds no usable picture (skipped 3 files")
