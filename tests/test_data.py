"""kerasutil.data: DataUtil.load_binary, load_frog_pictures and load_pictures."""

import io
import zipfile

import numpy as np
import pytest

from kerasutil.data import (
    FROG_COUNT,
    FROG_MEMBER,
    IMAGE_SIZE,
    MAX_PICTURES,
    DataError,
    DataUtil,
)
from tests.frog_files import set_declared_size, synthetic_frog_pixels, write_frog_zip

REBUILD = "rebuild it with `python -m gan_demo make-data`"


class CountingReader(io.BytesIO):
    """A file object that remembers how many bytes were asked of it."""

    asked = 0

    def read(self, size=-1):
        self.asked += size if size >= 0 else 10**12  # reading everything counts as too much
        return super().read(size)


# --- load_binary ---------------------------------------------------------------------------

def test_load_binary_reads_little_endian_float32_records(tmp_path):
    path = tmp_path / "x.bin"
    path.write_bytes(np.arange(6, dtype="<f4").tobytes())
    records = DataUtil.load_binary(path, 2, 3)
    assert records.dtype == np.float32 and records.shape == (2, 3)
    assert records.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    records[0, 0] = 9  # the caller owns a writable array
    assert DataUtil.load_binary(str(path), 2, 3)[0, 0] == 0


def test_load_binary_reads_a_file_object_and_at_most_one_byte_too_many():
    reader = CountingReader(np.array([0.5, -1.25, 2.0, 7.0], dtype="<f4").tobytes() + b"x" * 999)
    with pytest.raises(DataError):
        DataUtil.load_binary(reader, 1, 3)
    assert reader.asked == 3 * 4 + 1
    reader = CountingReader(np.array([0.5, -1.25, 2.0, 7.0], dtype="<f4").tobytes())
    assert DataUtil.load_binary(reader, 2, 2).tolist() == [[0.5, -1.25], [2.0, 7.0]]


def test_load_binary_short_file_message(tmp_path):
    path = tmp_path / "x.bin"
    path.write_bytes(b"\0" * 1234)
    with pytest.raises(DataError) as caught:
        DataUtil.load_binary(path, 5000, 3072)
    assert str(caught.value) == (
        f"{path}: expected 5,000 x 3,072 float32 values (61,440,000 bytes) but found "
        f"1,234 bytes; {REBUILD}")


def test_load_binary_long_file_message(tmp_path):
    path = tmp_path / "x.bin"
    path.write_bytes(b"\0" * 28)
    with pytest.raises(DataError) as caught:
        DataUtil.load_binary(path, 2, 3)
    assert str(caught.value) == (
        f"{path}: expected 2 x 3 float32 values (24 bytes) but found more than 24 bytes; "
        f"{REBUILD}")


@pytest.mark.parametrize("count, size", [(0, 3), (2, -1), (2.0, 3), (True, 3), ("2", 3)])
def test_load_binary_wants_positive_ints(count, size):
    with pytest.raises(ValueError, match="must be a positive int") as caught:
        DataUtil.load_binary(io.BytesIO(b""), count, size)
    assert not isinstance(caught.value, DataError)


def test_load_binary_missing_file(tmp_path):
    with pytest.raises(DataError, match=r"cannot read .*nope\.bin \(No such file or directory\)"):
        DataUtil.load_binary(tmp_path / "nope.bin", 1, 1)


# --- load_frog_pictures: layout ------------------------------------------------------------

def test_frog_pictures_are_transposed_to_channels_last(tmp_path):
    count, height, width, channels = 2, 4, 5, 3
    flat = (np.arange(count * channels * height * width) % 251 / 255).astype(np.float32)
    path = write_frog_zip(tmp_path / "f.zip", flat)
    images = DataUtil.load_frog_pictures(path, count, height, width, channels)
    assert images.shape == (2, 4, 5, 3) and images.dtype == np.float32
    assert images.flags.c_contiguous
    for n in range(count):
        for row in range(height):
            for col in range(width):
                for c in range(channels):
                    index = n * 60 + c * 20 + row * 5 + col  # channel planes, rows, columns
                    assert images[n, row, col, c] == flat[index]


def test_full_size_frog_pixel_by_pixel(full_frog_zip):
    images = DataUtil.load_frog_pictures(full_frog_zip)
    flat = synthetic_frog_pixels(FROG_COUNT)
    assert images.shape == (5000, 32, 32, 3) and images.dtype == np.float32
    assert images.flags.c_contiguous
    # Image 0, row 1, column 2, green: plane 1 of 1,024 values, row 1 of 32, column 2.
    assert images[0, 1, 2, 1] == flat[0, 1 * 1024 + 1 * 32 + 2]
    assert images[4999, 31, 0, 2] == flat[4999, 2 * 1024 + 31 * 32 + 0]
    assert np.array_equal(images[123].transpose(2, 0, 1).reshape(-1), flat[123])


def test_unpacked_bin_loads_like_the_zip(tmp_path):
    flat = synthetic_frog_pixels(3, seed=7)
    bin_path = tmp_path / FROG_MEMBER
    bin_path.write_bytes(flat.astype("<f4").tobytes())
    zip_path = write_frog_zip(tmp_path / "f.zip", flat, compression=zipfile.ZIP_DEFLATED)
    from_bin = DataUtil.load_frog_pictures(bin_path, count=3)
    assert np.array_equal(from_bin, DataUtil.load_frog_pictures(str(zip_path), count=3))
    assert from_bin[2, 0, 0, 0] == flat[2, 0]


def test_real_frogs(real_frog_zip):
    images = DataUtil.load_frog_pictures(real_frog_zip)
    assert images.shape == (5000, 32, 32, 3) and images.dtype == np.float32
    assert images.min() >= 0 and images.max() <= 1
    assert 0.35 < images.mean() < 0.5  # CIFAR-10 frogs average about 0.42
    assert np.array_equal(np.rint(images * 255) / np.float32(255), images)  # pixel / 255


# --- load_frog_pictures: failures ----------------------------------------------------------

def test_missing_file(tmp_path):
    path = tmp_path / "frog_pictures.zip"
    with pytest.raises(DataError) as caught:
        DataUtil.load_frog_pictures(path)
    assert str(caught.value) == (
        f"frog_pictures.zip not found at '{path}': build it from CIFAR-10 with "
        "`python -m gan_demo make-data` (or pass --data PATH to your copy)")


def test_not_a_zip(tmp_path):
    path = tmp_path / "frog_pictures.zip"
    path.write_text("hello")
    with pytest.raises(DataError) as caught:
        DataUtil.load_frog_pictures(path)
    assert str(caught.value) == (
        f"{path} is not a zip file: pass a pictures zip (like frog_pictures.zip) or the "
        f"unpacked {FROG_MEMBER}, or {REBUILD}")


def test_zip_without_the_member(tmp_path):
    path = tmp_path / "frog_pictures.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for name in ["a.txt", "b.txt", "c.txt", "d.txt", "e.txt"]:
            archive.writestr(name, "x")
    with pytest.raises(DataError) as caught:
        DataUtil.load_frog_pictures(path)
    assert str(caught.value) == (
        f"{path} has no {FROG_MEMBER} (it holds a.txt, b.txt, c.txt and 2 more): "
        f"pass a pictures zip (like the tutorial's frog_pictures.zip), or {REBUILD}")


def test_empty_zip(tmp_path):
    path = tmp_path / "frog_pictures.zip"
    zipfile.ZipFile(path, "w").close()
    with pytest.raises(DataError, match=r"has no x_channels_first_8_5\.bin \(it holds nothing\)"):
        DataUtil.load_frog_pictures(path)


def test_declared_size_mismatch_is_refused_before_reading(tmp_path, monkeypatch):
    path = write_frog_zip(tmp_path / "frog_pictures.zip", synthetic_frog_pixels(2))
    opened = []
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda *args, **kwargs: opened.append(args))
    with pytest.raises(DataError) as caught:
        DataUtil.load_frog_pictures(path, count=FROG_COUNT)  # a count given must be the file's
    assert opened == []
    assert str(caught.value) == (
        f"{path}: {FROG_MEMBER} declares 24,576 bytes but 5,000 x 3,072 float32 values need "
        f"61,440,000; {REBUILD}")


def test_lying_header_is_caught(tmp_path):
    # The member really holds 3 images but its header claims 2: a stored member's data is
    # longer than declared, and so is a deflated member's stream once decompressed.
    for compression in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        path = write_frog_zip(tmp_path / "frog_pictures.zip", synthetic_frog_pixels(3),
                              compression=compression)
        set_declared_size(path, 2 * IMAGE_SIZE * 4)
        with pytest.raises(DataError, match=r"x_channels_first_8_5.bin really holds more than "
                                            r"the 24,576 bytes it declares; rebuild it with"):
            DataUtil.load_frog_pictures(path, count=2)


def test_corrupt_deflate_data(tmp_path):
    path = write_frog_zip(tmp_path / "frog_pictures.zip", synthetic_frog_pixels(2),
                          compression=zipfile.ZIP_DEFLATED)
    raw = bytearray(path.read_bytes())
    start = 30 + len(FROG_MEMBER)  # past the local file header
    raw[start:start + 2000] = bytes(range(256)) * 7 + bytes(208)
    path.write_bytes(bytes(raw))
    with pytest.raises(DataError, match=r"^\S+frog_pictures\.zip is corrupt or unreadable \("):
        DataUtil.load_frog_pictures(path, count=2)


@pytest.mark.parametrize("bad_values", [[np.nan], [np.inf, -np.inf], [-0.01, 1.5, 255.0]])
def test_values_must_be_pixels_over_255(tmp_path, bad_values):
    flat = synthetic_frog_pixels(2)
    flat[1, :len(bad_values)] = bad_values
    path = write_frog_zip(tmp_path / "frog_pictures.zip", flat)
    with pytest.raises(DataError) as caught:
        DataUtil.load_frog_pictures(path, count=2)
    assert str(caught.value) == (
        f"{path}: {len(bad_values)} of 6,144 values are NaN, infinite or outside [0, 1], "
        f"but the file should hold pixel/255; {REBUILD}")


def test_short_bin_names_the_file(tmp_path):
    path = tmp_path / FROG_MEMBER
    path.write_bytes(synthetic_frog_pixels(1).tobytes())
    with pytest.raises(DataError, match=r"found 12,288 bytes; rebuild it"):
        DataUtil.load_frog_pictures(path, count=2)


# --- the count from the file ----------------------------------------------------------------

@pytest.mark.parametrize("count", [1, 37])
@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED],
                         ids=["stored", "deflated"])
def test_the_count_comes_from_the_members_size(tmp_path, count, compression):
    flat = synthetic_frog_pixels(count, seed=count)
    path = write_frog_zip(tmp_path / "deer_pictures.zip", flat, compression=compression)
    images = DataUtil.load_pictures(path)
    assert images.shape == (count, 32, 32, 3) and images.flags.c_contiguous
    assert np.array_equal(images[-1].transpose(2, 0, 1).reshape(-1), flat[-1])
    assert np.array_equal(DataUtil.load_frog_pictures(path), images)  # the tutorial's name too
    assert np.array_equal(DataUtil.load_pictures(path, count=count), images)


def test_the_count_comes_from_an_unpacked_bins_size(tmp_path):
    flat = synthetic_frog_pixels(37, seed=2)
    path = tmp_path / FROG_MEMBER
    path.write_bytes(flat.astype("<f4").tobytes())
    images = DataUtil.load_pictures(path)
    assert images.shape == (37, 32, 32, 3)
    assert images[36, 31, 31, 2] == flat[36, 3071]


def test_the_count_follows_the_dimensions(tmp_path):
    flat = (np.arange(5 * 2 * 4 * 3) % 256 / 255).astype(np.float32)  # five 2x4x3 pictures
    path = write_frog_zip(tmp_path / "small.zip", flat)
    assert DataUtil.load_pictures(path, height=2, width=4).shape == (5, 2, 4, 3)


@pytest.mark.parametrize("extra, declared", [(4, 37 * 12288 + 4), (-4, 37 * 12288 - 4)])
def test_a_member_of_no_whole_number_of_pictures_is_refused_before_reading(
        tmp_path, monkeypatch, extra, declared):
    payload = synthetic_frog_pixels(37).astype("<f4").tobytes()
    payload = payload + bytes(extra) if extra > 0 else payload[:extra]
    path = tmp_path / "pictures.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(FROG_MEMBER, payload)
    opened = []
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda *args, **kwargs: opened.append(args))
    with pytest.raises(DataError) as caught:
        DataUtil.load_pictures(path)
    assert opened == []
    assert str(caught.value) == (
        f"{path}: {FROG_MEMBER} declares {declared:,} bytes, not a whole number of 32x32x3 "
        f"float32 pictures (12,288 bytes each); {REBUILD}")


def test_an_empty_member_or_bin_is_refused(tmp_path):
    path = write_frog_zip(tmp_path / "pictures.zip", np.zeros((0, IMAGE_SIZE)))
    with pytest.raises(DataError) as caught:
        DataUtil.load_pictures(path)
    assert str(caught.value) == (
        f"{path}: {FROG_MEMBER} declares 0 bytes: there are no pictures in it; {REBUILD}")
    bin_path = tmp_path / FROG_MEMBER
    bin_path.write_bytes(b"")
    with pytest.raises(DataError) as caught:
        DataUtil.load_pictures(bin_path)
    assert str(caught.value) == (
        f"{bin_path} holds 0 bytes: there are no pictures in it; {REBUILD}")


def test_a_bin_of_no_whole_number_of_pictures_is_refused(tmp_path):
    path = tmp_path / FROG_MEMBER
    path.write_bytes(synthetic_frog_pixels(2).tobytes() + bytes(8))
    with pytest.raises(DataError) as caught:
        DataUtil.load_pictures(path)
    assert str(caught.value) == (
        f"{path} holds 24,584 bytes, not a whole number of 32x32x3 float32 pictures "
        f"(12,288 bytes each); {REBUILD}")


@pytest.mark.parametrize("pictures", [MAX_PICTURES, MAX_PICTURES + 1])
def test_the_largest_count_is_stated_and_checked_before_reading(tmp_path, monkeypatch, pictures):
    """A header declaring MAX_PICTURES passes the limit (and fails later: it lies); one more
    is refused by the limit before anything is opened."""
    declared = pictures * IMAGE_SIZE * 4
    path = write_frog_zip(tmp_path / "pictures.zip", synthetic_frog_pixels(1))
    set_declared_size(path, declared)
    opened = []
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda *args, **kwargs: opened.append(args))
    with pytest.raises(DataError) as caught:
        DataUtil.load_pictures(path)
    if pictures > MAX_PICTURES:
        assert opened == []
        assert str(caught.value) == (
            f"{path}: {FROG_MEMBER} declares {declared:,} bytes, more than the 100,000 pictures "
            f"(1,228,800,000 bytes) a pictures file may hold; {REBUILD}")
    else:
        assert "a pictures file may hold" not in str(caught.value)
    assert MAX_PICTURES == 100_000


def test_a_huge_bin_is_refused_before_reading(tmp_path, monkeypatch):
    path = tmp_path / FROG_MEMBER
    with open(path, "wb") as stream:  # sparse: no disk space used
        stream.truncate((MAX_PICTURES + 1) * IMAGE_SIZE * 4)
    monkeypatch.setattr(DataUtil, "load_binary", lambda *args: pytest.fail("read the file"))
    with pytest.raises(DataError) as caught:
        DataUtil.load_pictures(path)
    assert str(caught.value) == (
        f"{path} holds 1,228,812,288 bytes, more than the 100,000 pictures (1,228,800,000 bytes) "
        f"a pictures file may hold; {REBUILD}")


def test_a_lying_header_is_caught_when_the_count_comes_from_it(tmp_path):
    for compression in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        path = write_frog_zip(tmp_path / "pictures.zip", synthetic_frog_pixels(3),
                              compression=compression)
        set_declared_size(path, 2 * IMAGE_SIZE * 4)
        with pytest.raises(DataError, match=r"x_channels_first_8_5.bin really holds more than "
                                            r"the 24,576 bytes it declares; rebuild it with"):
            DataUtil.load_pictures(path)


def test_load_pictures_names_a_missing_file_as_pictures(tmp_path):
    path = tmp_path / "deer_pictures.zip"
    with pytest.raises(DataError) as caught:
        DataUtil.load_pictures(path)
    assert str(caught.value) == (
        f"no pictures file at '{path}': build one with `python -m gan_demo make-data` "
        f"(--class NAME for a CIFAR-10 animal, --images DIR for a folder of your own), or pass "
        f"--data PATH to yours")


@pytest.mark.parametrize("count", [0, -1, 2.0, True])
def test_a_given_count_must_be_a_positive_int(tmp_path, count):
    path = write_frog_zip(tmp_path / "pictures.zip", synthetic_frog_pixels(1))
    with pytest.raises(ValueError, match="count must be a positive int") as caught:
        DataUtil.load_pictures(path, count=count)
    assert not isinstance(caught.value, DataError)
