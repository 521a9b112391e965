"""gan_demo.cifar.build_class_zip: frog_pictures.zip, or any class's zip, from CIFAR-10."""

import os
import pickle
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest

from gan_demo.cifar import CLASS_NAMES, build_class_zip, class_of_zip, zip_name
from kerasutil.data import FROG_MEMBER, IMAGE_SIZE, DataError, DataUtil
from tests.frog_files import cifar_batch_pickle, write_cifar_tar

GET_ARCHIVE = ("download cifar-10-python.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html "
               "and pass it with `python -m gan_demo make-data --cifar PATH`")
SHARED_CIFAR = Path(__file__).resolve().parents[2] / "shared" / "data" / "cifar-10-python.tar.gz"


def tiny_batches():
    """Five batches of 4, 0, 3, 1, 2 rows; row values encode (batch, row) so order shows."""
    labels = [[6, 1, 6, 0], [], [2, 6, 9], [6], [3, 4]]
    batches = []
    for b, batch_labels in enumerate(labels):
        rows = [np.full(IMAGE_SIZE, 40 * b + 7 * r, np.uint8) for r in range(len(batch_labels))]
        rows = [row + np.arange(IMAGE_SIZE, dtype=np.uint8) for row in rows]  # distinct pixels
        batches.append((np.array(rows, np.uint8).reshape(-1, IMAGE_SIZE), batch_labels))
    return batches


def expected_rows(batches, label=6):
    """The rows of ``label`` (frogs by default), in batch then row order, as pixel / 255."""
    rows = [data[np.array(labels) == label] for data, labels in batches if len(labels)]
    return np.concatenate(rows).astype(np.float32) / np.float32(255)


def member_values(path):
    with zipfile.ZipFile(path) as archive:
        assert archive.namelist() == [FROG_MEMBER]
        assert archive.getinfo(FROG_MEMBER).compress_type == zipfile.ZIP_DEFLATED
        return np.frombuffer(archive.read(FROG_MEMBER), "<f4").reshape(-1, IMAGE_SIZE)


def files_in(folder):
    return sorted(path.name for path in folder.iterdir())


@pytest.mark.parametrize("legacy", [True, False], ids=["python2-pickles", "numpy2-pickles"])
def test_build_from_archive_keeps_frogs_in_order(tmp_path, legacy):
    batches = tiny_batches()
    archive = write_cifar_tar(tmp_path / "cifar-10-python.tar.gz", batches, legacy=legacy)
    output = tmp_path / "frog_pictures.zip"
    assert build_class_zip(output, cifar_archive=archive) == 4
    values = member_values(output)
    assert np.array_equal(values, expected_rows(batches))
    # The frogs are batch 1 rows 0 and 2, batch 3 row 1, batch 4 row 0.
    assert values[:, 5].tolist() == [np.float32(v) / np.float32(255)
                                     for v in (0 + 5, 14 + 5, 87 + 5, 120 + 5)]
    images = DataUtil.load_frog_pictures(output, count=4)
    assert images[2, 0, 1, 2] == np.float32((87 + 2 * 1024 + 1) % 256) / np.float32(255)
    assert np.array_equal(DataUtil.load_frog_pictures(output), images)  # the count from the file
    assert files_in(tmp_path) == ["cifar-10-python.tar.gz", "frog_pictures.zip"]
    assert oct(output.stat().st_mode & 0o777) == "0o644"


def test_build_replaces_an_existing_output(tmp_path):
    archive = write_cifar_tar(tmp_path / "c.tar.gz", tiny_batches())
    output = tmp_path / "frog_pictures.zip"
    output.write_text("old")
    build_class_zip(str(output), cifar_archive=str(archive))
    assert member_values(output).shape == (4, IMAGE_SIZE)


def test_build_via_keras_load_data(tmp_path, monkeypatch):
    keras = pytest.importorskip("keras")
    rng = np.random.default_rng(3)
    x_train = rng.integers(0, 256, size=(7, 32, 32, 3), dtype=np.uint8)
    y_train = np.array([[6], [0], [6], [6], [9], [1], [6]], np.uint8)
    monkeypatch.setattr(keras.datasets.cifar10, "load_data",
                        lambda: ((x_train, y_train), (x_train[:1], y_train[:1])))
    output = tmp_path / "frog_pictures.zip"
    assert build_class_zip(output) == 4
    values = member_values(output)
    frogs = x_train[[0, 2, 3, 6]]
    # Channels first: image 1 is x_train[2]; green (plane 1), row 3, column 4.
    assert values[1, 1 * 1024 + 3 * 32 + 4] == np.float32(frogs[1, 3, 4, 1]) / np.float32(255)
    images = DataUtil.load_frog_pictures(output, count=4)
    assert np.array_equal(images, frogs.astype(np.float32) / np.float32(255))


def test_keras_download_failure_is_one_line(tmp_path, monkeypatch):
    keras = pytest.importorskip("keras")

    def offline():
        raise Exception("URL fetch failure on https://example/cifar-10-python.tar.gz:\n"
                        "None -- [Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(keras.datasets.cifar10, "load_data", offline)
    with pytest.raises(DataError) as caught:
        build_class_zip(tmp_path / "frog_pictures.zip")
    assert str(caught.value) == (
        "keras.datasets.cifar10.load_data() failed (URL fetch failure on "
        "https://example/cifar-10-python.tar.gz: None -- [Errno -3] Temporary failure in name "
        f"resolution): {GET_ARCHIVE}")
    assert files_in(tmp_path) == []


class RunsCode:
    """Unpickling this calls `function(*args)`: what a hostile batch file would do."""

    def __init__(self, function, *args):
        self.call = (function, args)

    def __reduce__(self):
        return self.call


@pytest.mark.parametrize("how", ["os.system", "builtins.open"])
def test_malicious_pickle_runs_no_code(tmp_path, how):
    victim = tmp_path / "pwned"
    payload = RunsCode(os.system, f"touch '{victim}'") if how == "os.system" \
        else RunsCode(open, str(victim), "w")
    archive = write_cifar_tar(tmp_path / "c.tar.gz", tiny_batches(), members={
        "cifar-10-batches-py/data_batch_3": pickle.dumps({b"data": payload, b"labels": []})})
    with pytest.raises(DataError) as caught:
        build_class_zip(tmp_path / "frog_pictures.zip", cifar_archive=archive)
    assert not victim.exists()
    module = {"os.system": os.system.__module__, "builtins.open": "io"}[how]
    assert str(caught.value).startswith(
        f"{archive} (cifar-10-batches-py/data_batch_3) is not a safe CIFAR-10 batch pickle "
        f"(refusing to load the global {module}.")
    assert files_in(tmp_path) == ["c.tar.gz"]


def test_missing_archive(tmp_path):
    archive = tmp_path / "cifar-10-python.tar.gz"
    with pytest.raises(DataError) as caught:
        build_class_zip(tmp_path / "frog_pictures.zip", cifar_archive=archive)
    assert str(caught.value) == f"CIFAR-10 archive not found at '{archive}': {GET_ARCHIVE}"


def test_not_a_tar_gz(tmp_path):
    archive = tmp_path / "cifar-10-python.tar.gz"
    archive.write_bytes(b"this is not gzip data at all")
    with pytest.raises(DataError) as caught:
        build_class_zip(tmp_path / "frog_pictures.zip", cifar_archive=archive)
    assert str(caught.value) == (
        f"{archive} is not a readable tar.gz (not a gzip file): {GET_ARCHIVE}")


def test_missing_batches(tmp_path):
    archive = write_cifar_tar(tmp_path / "c.tar.gz", tiny_batches()[:3])
    with pytest.raises(DataError) as caught:
        build_class_zip(tmp_path / "frog_pictures.zip", cifar_archive=archive)
    assert str(caught.value) == (
        f"{archive} has no cifar-10-batches-py/data_batch_4, cifar-10-batches-py/data_batch_5: "
        f"it is not the CIFAR-10 python version; {GET_ARCHIVE}")


@pytest.mark.parametrize("batch", [
    {b"labels": [6]},                                                       # no data
    {b"data": np.zeros((1, IMAGE_SIZE), np.uint8)},                         # no labels
    {b"data": np.zeros((1, IMAGE_SIZE), np.float32), b"labels": [6]},       # wrong dtype
    {b"data": np.zeros((1, 3, 32, 32), np.uint8), b"labels": [6]},          # wrong shape
    {b"data": np.zeros((2, IMAGE_SIZE), np.uint8), b"labels": [6]},         # too few labels
    {b"data": np.zeros((1, IMAGE_SIZE), np.uint8), b"labels": [b"6"]},      # labels not ints
    [np.zeros((1, IMAGE_SIZE), np.uint8)],                                  # not a dict
], ids=["no-data", "no-labels", "float-data", "4d-data", "short-labels", "bytes-labels",
        "list"])
def test_malformed_batch(tmp_path, batch):
    archive = write_cifar_tar(tmp_path / "c.tar.gz", tiny_batches(), members={
        "cifar-10-batches-py/data_batch_2": pickle.dumps(batch, protocol=3)})
    with pytest.raises(DataError) as caught:
        build_class_zip(tmp_path / "frog_pictures.zip", cifar_archive=archive)
    assert str(caught.value) == (
        f"{archive} (cifar-10-batches-py/data_batch_2) is not a CIFAR-10 batch (want b'data' "
        f"uint8 (n, 3072) and b'labels' a list of n ints): {GET_ARCHIVE}")


def test_truncated_pickle(tmp_path):
    good = cifar_batch_pickle(np.zeros((1, IMAGE_SIZE), np.uint8), [6])
    archive = write_cifar_tar(tmp_path / "c.tar.gz", tiny_batches(), members={
        "cifar-10-batches-py/data_batch_5": good[:100]})
    with pytest.raises(DataError, match=r"data_batch_5\) is not a safe CIFAR-10 batch pickle"):
        build_class_zip(tmp_path / "frog_pictures.zip", cifar_archive=archive)


def test_no_frogs(tmp_path):
    batches = [(data, [0] * len(labels)) for data, labels in tiny_batches()]
    archive = write_cifar_tar(tmp_path / "c.tar.gz", batches)
    with pytest.raises(DataError) as caught:
        build_class_zip(tmp_path / "frog_pictures.zip", cifar_archive=archive)
    assert str(caught.value) == f"{archive} holds no frog (label 6) images: {GET_ARCHIVE}"


def test_failed_write_leaves_nothing_behind(tmp_path, monkeypatch):
    archive = write_cifar_tar(tmp_path / "c.tar.gz", tiny_batches())
    output = tmp_path / "frog_pictures.zip"
    output.write_text("old")

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(zipfile._ZipWriteFile, "write", disk_full)
    with pytest.raises(DataError) as caught:
        build_class_zip(output, cifar_archive=archive)
    assert str(caught.value) == (
        f"cannot write {output} (No space left on device): check the disk space and permissions")
    assert files_in(tmp_path) == ["c.tar.gz", "frog_pictures.zip"]
    assert output.read_text() == "old"


def test_interrupted_write_leaves_no_temp_file(tmp_path, monkeypatch):
    archive = write_cifar_tar(tmp_path / "c.tar.gz", tiny_batches())

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        build_class_zip(tmp_path / "frog_pictures.zip", cifar_archive=archive)
    assert files_in(tmp_path) == ["c.tar.gz"]


def test_output_folder_missing(tmp_path):
    archive = write_cifar_tar(tmp_path / "c.tar.gz", tiny_batches())
    output = tmp_path / "nope" / "frog_pictures.zip"
    with pytest.raises(DataError) as caught:
        build_class_zip(output, cifar_archive=archive)
    assert str(caught.value) == (
        f"cannot write {output} (No such file or directory): "
        "check that its folder exists and is writable")


# --- any class -------------------------------------------------------------------------------

def test_class_names_are_cifar_10s_in_label_order():
    assert CLASS_NAMES == ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog",
                           "horse", "ship", "truck")
    assert CLASS_NAMES.index("frog") == 6  # the tutorial's label


@pytest.mark.parametrize("class_name, label, rows", [
    ("airplane", 0, [(0, 3)]), ("bird", 2, [(2, 0)]), ("cat", 3, [(4, 0)]),
    ("deer", 4, [(4, 1)]), ("truck", 9, [(2, 2)])])
def test_two_or_more_classes_from_one_archive(tmp_path, monkeypatch, class_name, label, rows):
    """Each class's rows, by (batch, row) in tiny_batches, written to NAME_pictures.zip."""
    batches = tiny_batches()
    archive = write_cifar_tar(tmp_path / "cifar-10-python.tar.gz", batches)
    monkeypatch.chdir(tmp_path)
    assert build_class_zip(cifar_archive=archive, class_name=class_name) == len(rows)
    output = tmp_path / f"{class_name}_pictures.zip"
    values = member_values(output)
    assert np.array_equal(values, expected_rows(batches, label))
    assert np.array_equal(values, np.array([batches[b][0][r] for b, r in rows],
                                           np.float32) / np.float32(255))
    images = DataUtil.load_pictures(output)  # the count from the file
    assert images.shape == (len(rows), 32, 32, 3)
    assert files_in(tmp_path) == sorted(["cifar-10-python.tar.gz", f"{class_name}_pictures.zip"])


def test_a_class_with_many_images_and_another_in_one_tar(tmp_path):
    rng = np.random.default_rng(5)
    labels = [list(rng.integers(0, 10, size=30)) for _ in range(5)]
    batches = [(rng.integers(0, 256, size=(30, IMAGE_SIZE), dtype=np.uint8),
                [int(label) for label in batch]) for batch in labels]
    archive = write_cifar_tar(tmp_path / "c.tar.gz", batches, legacy=False)
    for class_name in ("horse", "ship"):
        output = tmp_path / f"{class_name}.zip"
        label = CLASS_NAMES.index(class_name)
        count = build_class_zip(output, cifar_archive=archive, class_name=class_name)
        assert count == sum(batch.count(label) for batch in labels) > 5
        assert np.array_equal(member_values(output), expected_rows(batches, label))


def test_another_class_via_keras_load_data(tmp_path, monkeypatch):
    keras = pytest.importorskip("keras")
    rng = np.random.default_rng(4)
    x_train = rng.integers(0, 256, size=(6, 32, 32, 3), dtype=np.uint8)
    y_train = np.array([[7], [6], [7], [0], [1], [7]], np.uint8)
    monkeypatch.setattr(keras.datasets.cifar10, "load_data",
                        lambda: ((x_train, y_train), (x_train[:1], y_train[:1])))
    monkeypatch.chdir(tmp_path)
    assert build_class_zip(class_name="horse") == 3
    images = DataUtil.load_pictures(tmp_path / "horse_pictures.zip")
    assert np.array_equal(images, x_train[[0, 2, 5]].astype(np.float32) / np.float32(255))


@pytest.mark.parametrize("name", ["dear", "Deer", "frogs", ""])
def test_an_unknown_class_is_refused(tmp_path, monkeypatch, name):
    archive = write_cifar_tar(tmp_path / "c.tar.gz", tiny_batches())
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DataError) as caught:
        build_class_zip(cifar_archive=archive, class_name=name)
    assert str(caught.value) == (
        f"'{name}' is not a CIFAR-10 class: choose one of airplane, automobile, bird, cat, "
        f"deer, dog, frog, horse, ship, truck")
    assert files_in(tmp_path) == ["c.tar.gz"]


def test_archive_errors_for_another_class_say_how_to_pass_it(tmp_path):
    archive = tmp_path / "cifar-10-python.tar.gz"
    with pytest.raises(DataError) as caught:
        build_class_zip(tmp_path / "deer_pictures.zip", cifar_archive=archive, class_name="deer")
    assert str(caught.value) == (
        f"CIFAR-10 archive not found at '{archive}': download cifar-10-python.tar.gz from "
        f"https://www.cs.toronto.edu/~kriz/cifar.html and pass it with "
        f"`python -m gan_demo make-data --class deer --cifar PATH`")


def test_no_images_of_the_class(tmp_path):
    archive = write_cifar_tar(tmp_path / "c.tar.gz", tiny_batches())
    with pytest.raises(DataError) as caught:
        build_class_zip(tmp_path / "dog.zip", cifar_archive=archive, class_name="dog")
    assert str(caught.value).startswith(f"{archive} holds no dog (label 5) images: download ")
    assert files_in(tmp_path) == ["c.tar.gz"]


def test_zip_names():
    assert zip_name() == "frog_pictures.zip" and zip_name("ship") == "ship_pictures.zip"
    assert [class_of_zip(zip_name(name)) for name in CLASS_NAMES] == list(CLASS_NAMES)
    assert class_of_zip(Path("data") / "deer_pictures.zip") == "deer"
    for other in ("my_pictures.zip", "deer_pictures.zip.bak", "Deer_pictures.zip", "deer.zip",
                  "deer_pictures.zip/x"):
        assert class_of_zip(other) is None


# --- the shared CIFAR-10 archive -------------------------------------------------------------

@pytest.fixture(scope="session")
def shared_cifar():
    """The shared cifar-10-python.tar.gz's training images and labels, read once (it is a
    trusted file, so the plain unpickler serves), or skip."""
    if not SHARED_CIFAR.is_file():
        pytest.skip("../shared/data/cifar-10-python.tar.gz is absent: tests with the real "
                    "CIFAR-10 classes need it beside the repository")
    batches, meta = {}, None
    with tarfile.open(SHARED_CIFAR, "r|gz") as tar:
        for member in tar:
            if member.isfile():
                content = pickle.load(tar.extractfile(member), encoding="bytes")
                if member.name.endswith("batches.meta"):
                    meta = content
                else:
                    batches[member.name] = content
    order = [f"cifar-10-batches-py/data_batch_{i}" for i in range(1, 6)]
    data = np.concatenate([batches[name][b"data"] for name in order])
    labels = np.concatenate([batches[name][b"labels"] for name in order])
    return data, labels, [name.decode() for name in meta[b"label_names"]]


@pytest.mark.slow  # reads the real 144 MB archive
def test_5000_real_deer_in_dataset_order(shared_cifar, tmp_path):
    data, labels, label_names = shared_cifar
    assert tuple(label_names) == CLASS_NAMES
    output = tmp_path / "deer_pictures.zip"
    assert build_class_zip(output, cifar_archive=SHARED_CIFAR, class_name="deer") == 5000
    values = member_values(output)
    deer = data[labels == 4]
    assert values.shape == (5000, IMAGE_SIZE)
    assert np.array_equal(values, deer.astype(np.float32) / np.float32(255))  # exactly
    images = DataUtil.load_pictures(output)
    assert images.shape == (5000, 32, 32, 3)
    # channels last: the first deer's top-left pixel is its red, green and blue plane starts
    assert images[0, 0, 0].tolist() == (deer[0, [0, 1024, 2048]] / np.float32(255)).tolist()
