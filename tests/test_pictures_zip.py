"""gan_demo.pictures_zip.write_pictures_zip: the tutorial's file format, written."""

import zipfile

import numpy as np
import pytest

import kerasutil.data
from gan_demo import pictures_zip
from gan_demo.pictures_zip import write_pictures_zip
from kerasutil.data import FROG_MEMBER, IMAGE_SIZE, DataError, DataUtil


def test_float32_pixel_over_255_channels_first(tmp_path):
    pixels = np.random.default_rng(1).integers(0, 256, size=(5, IMAGE_SIZE), dtype=np.uint8)
    path = tmp_path / "p.zip"
    write_pictures_zip(path, pixels)
    with zipfile.ZipFile(path) as archive:
        assert archive.namelist() == [FROG_MEMBER]
        values = np.frombuffer(archive.read(FROG_MEMBER), "<f4")
    assert np.array_equal(values, pixels.reshape(-1).astype(np.float32) / np.float32(255))
    images = DataUtil.load_pictures(path)
    assert images[4, 2, 3, 1] == np.float32(pixels[4, 1024 + 2 * 32 + 3]) / np.float32(255)


def test_written_a_chunk_at_a_time_the_same(tmp_path, monkeypatch):
    pixels = np.random.default_rng(2).integers(0, 256, size=(7, IMAGE_SIZE), dtype=np.uint8)
    write_pictures_zip(tmp_path / "whole.zip", pixels)
    monkeypatch.setattr(pictures_zip, "_CHUNK", 3)  # 3 + 3 + 1
    write_pictures_zip(tmp_path / "chunks.zip", pixels)
    with zipfile.ZipFile(tmp_path / "whole.zip") as whole, \
            zipfile.ZipFile(tmp_path / "chunks.zip") as chunks:
        assert whole.read(FROG_MEMBER) == chunks.read(FROG_MEMBER)


@pytest.mark.parametrize("pixels", [np.zeros((2, 8), np.float32), np.zeros(8, np.uint8),
                                    np.zeros((1, 2, 3), np.uint8)])
def test_only_uint8_rows(tmp_path, pixels):
    with pytest.raises(ValueError, match="must be a 2-D uint8 array of at most 100,000 rows"):
        write_pictures_zip(tmp_path / "p.zip", pixels)
    assert list(tmp_path.iterdir()) == []


def test_no_more_pictures_than_the_loader_takes(tmp_path, monkeypatch):
    monkeypatch.setattr(pictures_zip, "MAX_PICTURES", 2)
    with pytest.raises(ValueError, match=r"at most 2 rows, got uint8 \(3, 4\)"):
        write_pictures_zip(tmp_path / "p.zip", np.zeros((3, 4), np.uint8))
    write_pictures_zip(tmp_path / "p.zip", np.zeros((2, 4), np.uint8))


def test_a_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "p.zip"
    path.write_text("old")

    def disk_full(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(zipfile._ZipWriteFile, "write", disk_full)
    with pytest.raises(DataError) as caught:
        write_pictures_zip(path, np.zeros((1, 4), np.uint8))
    assert str(caught.value) == (
        f"cannot write {path} (No space left on device): check the disk space and permissions")
    assert [p.name for p in tmp_path.iterdir()] == ["p.zip"] and path.read_text() == "old"


def test_the_count_comes_from_the_size_alone(tmp_path, monkeypatch):
    write_pictures_zip(tmp_path / "p.zip", np.zeros((37, IMAGE_SIZE), np.uint8))
    assert pictures_zip.count_pictures(tmp_path / "p.zip") == 37
    (tmp_path / "p.bin").write_bytes(bytes(5 * IMAGE_SIZE * 4))
    assert pictures_zip.count_pictures(str(tmp_path / "p.bin")) == 5
    opened = []
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda *args, **kwargs: opened.append(args))
    assert pictures_zip.count_pictures(tmp_path / "p.zip") == 37
    assert opened == []  # the directory is read, the member never decompressed


def zip_holding(member, size):
    def make(path):
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr(member, bytes(size))
    return make


@pytest.mark.parametrize("make", [
    lambda path: None,  # missing
    lambda path: path.write_text("not a zip"),
    zip_holding("other.bin", IMAGE_SIZE * 4),
    zip_holding(FROG_MEMBER, IMAGE_SIZE * 4 + 4),
    zip_holding(FROG_MEMBER, 0),
], ids=["missing", "not-a-zip", "no-member", "not-whole", "empty"])
def test_a_file_that_is_not_a_pictures_file_has_no_count(tmp_path, make):
    make(tmp_path / "p.zip")
    assert pictures_zip.count_pictures(tmp_path / "p.zip") is None
    zip_holding(FROG_MEMBER, IMAGE_SIZE * 4)(tmp_path / "whole.zip")
    assert pictures_zip.count_pictures(tmp_path / "whole.zip") == 1  # the same, but whole


def test_no_count_over_the_most_a_file_may_hold(tmp_path, monkeypatch):
    write_pictures_zip(tmp_path / "p.zip", np.zeros((3, IMAGE_SIZE), np.uint8))
    monkeypatch.setattr(kerasutil.data, "MAX_PICTURES", 2)  # the loaders' rule counts
    assert pictures_zip.count_pictures(tmp_path / "p.zip") is None
