"""DataUtil: the tutorial's data loading (CNTKUtil's DataUtil), in numpy.

The tutorial reads frog_pictures.zip, whose one member holds 5,000 CIFAR-10 frogs as raw
little-endian float32, channels first (all R, then G, then B), pixel / 255. A pictures file of
another animal, or of a student's own pictures, has the same member and layout and any number
of pictures up to MAX_PICTURES: the loaders take the count from the member's size. Keras wants
channels last, so the loaders transpose on load (channels_last, which Gan.get_training_batch
also uses on the tutorial's flat records). Every problem a student can fix raises DataError:
one line naming the file and saying what to do.
"""

import copy
import io
import numbers
import os
import zipfile
import zlib

import numpy as np
import tensorflow as tf

FROG_MEMBER = "x_channels_first_8_5.bin"
FROG_COUNT = 5000
IMAGE_SIZE = 3 * 32 * 32
# The most pictures a file may hold: 1,228,800,000 bytes of 32x32x3 float32, twice all of
# CIFAR-10. A member declaring more is refused before anything is decompressed, which keeps the
# zip-bomb guard now that the count comes from the file; loading needs about 3x the file in RAM.
MAX_PICTURES = 100_000

_REBUILD = "rebuild it with `python -m gan_demo make-data`"
_FROGS_MISSING = ("frog_pictures.zip not found at '{name}': build it from CIFAR-10 with "
                  "`python -m gan_demo make-data` (or pass --data PATH to your copy)")
_PICTURES_MISSING = ("no pictures file at '{name}': build one with `python -m gan_demo "
                     "make-data` (--class NAME for a CIFAR-10 animal, --images DIR for a folder "
                     "of your own), or pass --data PATH to yours")


class DataError(ValueError):
    """A data file the program cannot use; str() is one line naming the file and the fix."""


class DataUtil:
    """Loads the tutorial's data files (the C# DataUtil)."""

    @staticmethod
    def load_binary(source, count, size):
        """Read `count` records of `size` little-endian float32 values (DataUtil.LoadBinary).

        Args:
            source: a path (str or os.PathLike) or a readable binary file object.
            count: the number of records, a positive int.
            size: the number of float32 values in a record, a positive int.

        Returns:
            A writable float32 array of shape (count, size).

        Raises:
            ValueError: count or size is not a positive int.
            DataError: the file cannot be read or does not hold exactly count * size values.
        """
        _check_positive(count=count, size=size)
        if not isinstance(source, (str, os.PathLike)):
            return _read_records(source, count, size, getattr(source, "name", "data stream"))
        try:
            with open(source, "rb") as stream:
                return _read_records(stream, count, size, os.fspath(source))
        except OSError as error:
            raise DataError(f"cannot read {os.fspath(source)} ({error.strerror}): "
                            "check the path and its permissions") from error

    @staticmethod
    def load_frog_pictures(path="frog_pictures.zip", count=None,
                           height=32, width=32, channels=3):
        """Load the tutorial's frog_pictures.zip as Keras images, channels last.

        load_pictures with the tutorial's default file; a missing frog_pictures.zip gets the
        tutorial's message.

        Args:
            path: frog_pictures.zip, or its member already unpacked (a file ending in .bin).
            count, height, width, channels: as load_pictures.

        Returns:
            A C-contiguous float32 array of shape (count, height, width, channels), in [0, 1].

        Raises:
            ValueError, DataError: as load_pictures.
        """
        frogs = os.path.basename(os.fspath(path)) in ("frog_pictures.zip", FROG_MEMBER)
        missing = _FROGS_MISSING if frogs else _PICTURES_MISSING
        return _load(path, count, (height, width, channels), missing)

    @staticmethod
    def load_pictures(path, count=None, height=32, width=32, channels=3):
        """Load any pictures file in the tutorial's format (make-data's) as Keras images.

        Args:
            path: a zip holding FROG_MEMBER (frog_pictures.zip, deer_pictures.zip, a folder's
                zip), or that member already unpacked (a file ending in .bin).
            count: the number of images in the file; None takes it from the file's size,
                which must be a whole number of pictures, at most MAX_PICTURES.
            height: image height in pixels.
            width: image width in pixels.
            channels: colour channels per pixel.

        Returns:
            A C-contiguous float32 array of shape (count, height, width, channels), in [0, 1].

        Raises:
            ValueError: a count or dimension is not a positive int.
            DataError: the file is missing, not a pictures file, corrupt, of another count
                than `count`, over MAX_PICTURES, or holds values that are not pixel / 255.
        """
        return _load(path, count, (height, width, channels), _PICTURES_MISSING)


def channels_last(records, height, width, channels):
    """Turn the tutorial's flat channels-first records into Keras's channels-last images.

    A record of x_channels_first_8_5.bin holds all of an image's red values, then all its
    green, then all its blue, each plane row by row (CNTK's layout); Keras wants each pixel's
    channels together, (height, width, channels).

    Args:
        records: a NumPy array or a tensor of shape (count, channels * height * width).
        height: image height in pixels.
        width: image width in pixels.
        channels: colour channels per pixel.

    Returns:
        The images, shaped (count, height, width, channels): a NumPy view for an array, a
        tensor for a tensor.

    Example:
        >>> record = np.arange(12).reshape(1, 12)  # red 0-3, green 4-7, blue 8-11, 2x2 each
        >>> channels_last(record, 2, 2, 3)[0, 0, 1].tolist()  # the top right pixel's R, G, B
        [1, 5, 9]
    """
    # NumPy and TensorFlow spell reshape and transpose alike, so one line serves both forms
    ops = tf if tf.is_tensor(records) else np
    planes = ops.reshape(records, (-1, channels, height, width))
    return ops.transpose(planes, (0, 2, 3, 1))


def _check_positive(**values):
    """Raise ValueError unless every keyword value is a positive int (bools are not)."""
    for label, value in values.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
            raise ValueError(f"{label} must be a positive int, got {value!r}")


def _load(path, count, shape, missing):
    """Load a pictures file (zip or .bin) as checked channels-last images; see load_pictures."""
    height, width, channels = shape
    _check_positive(height=height, width=width, channels=channels)
    if count is not None:
        _check_positive(count=count)
    name = os.fspath(path)
    if not os.path.isfile(name):
        raise DataError(missing.format(name=name))
    size = channels * height * width
    picture = "x".join(map(str, shape))
    if name.lower().endswith(".bin"):
        if count is None:
            count = count_from_size(os.path.getsize(name), size, picture, f"{name} holds")
        flat = DataUtil.load_binary(name, count, size)
    else:
        flat = _load_member(name, count, size, picture)
    _check_pixels(flat, name)
    return np.ascontiguousarray(channels_last(flat, height, width, channels))


def count_from_size(nbytes, size, picture, what):
    """How many pictures of ``size`` float32s fill ``nbytes``: 1 to MAX_PICTURES, or DataError.

    Args:
        nbytes: the file's or member's size (for a zip member, as its header declares).
        size: float32 values per picture.
        picture: the picture's shape for messages, like "32x32x3".
        what: the start of a message, naming the file, like "x.zip: x.bin declares".
    """
    record = size * 4
    if nbytes > MAX_PICTURES * record:
        raise DataError(f"{what} {nbytes:,} bytes, more than the {MAX_PICTURES:,} pictures "
                        f"({MAX_PICTURES * record:,} bytes) a pictures file may hold; {_REBUILD}")
    if nbytes == 0:
        raise DataError(f"{what} 0 bytes: there are no pictures in it; {_REBUILD}")
    if nbytes % record:
        raise DataError(f"{what} {nbytes:,} bytes, not a whole number of {picture} float32 "
                        f"pictures ({record:,} bytes each); {_REBUILD}")
    return nbytes // record


def _read_records(stream, count, size, name):
    """Read exactly count * size float32 values from `stream`, or raise DataError.

    Reads at most one byte more than needed: enough to tell an oversized file apart, never
    a whole file of arbitrary size (or a zip member that decompresses without end).
    """
    expected = int(count) * int(size) * 4
    chunks, left = [], expected + 1
    while left:  # a raw stream or pipe may return fewer bytes than asked for
        chunk = stream.read(left)
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    data = b"".join(chunks)
    if len(data) != expected:
        found = f"{len(data):,} bytes" if len(data) < expected else f"more than {expected:,} bytes"
        raise DataError(f"{name}: expected {count:,} x {size:,} float32 values "
                        f"({expected:,} bytes) but found {found}; {_REBUILD}")
    # astype copies into a writable native float32 array (frombuffer over bytes is read-only).
    return np.frombuffer(data, dtype="<f4").reshape(count, size).astype(np.float32)


def _load_member(path, count, size, picture):
    """Read FROG_MEMBER from the zip at `path` into memory, never extracting it to disk.

    A count of None is taken from the member's declared size, which is checked against
    MAX_PICTURES before anything is decompressed.
    """
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as error:
        raise DataError(f"{path} is not a zip file: pass a pictures zip (like frog_pictures.zip) "
                        f"or the unpacked {FROG_MEMBER}, or {_REBUILD}") from error
    except OSError as error:
        raise DataError(f"cannot read {path} ({error.strerror}): "
                        "check the path and its permissions") from error
    with archive:
        info = _frog_member(archive, path)
        # Refuse before decompressing anything: a zip bomb declares a huge size.
        if count is None:
            count = count_from_size(info.file_size, size, picture,
                                     f"{path}: {FROG_MEMBER} declares")
        expected = count * size * 4
        if info.file_size != expected:
            raise DataError(f"{path}: {FROG_MEMBER} declares {info.file_size:,} bytes but "
                            f"{count:,} x {size:,} float32 values need {expected:,}; {_REBUILD}")
        try:
            with _open_exact(archive, info, expected, path) as stream:
                return _read_records(stream, count, size, f"{path} ({FROG_MEMBER})")
        # EOFError: data shorter than the header says; RuntimeError / NotImplementedError:
        # an encrypted member or a compression method this Python lacks.
        except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError,
                NotImplementedError, OSError) as error:
            raise DataError(f"{path} is corrupt or unreadable ({error}); {_REBUILD}") from error


def _open_exact(archive, info, expected, path):
    """Open the member, refusing one whose data really holds more than its header declares.

    zipfile stops reading at the declared size, so a header that lies about both the size and
    the CRC would pass unnoticed. A deflated member is therefore decompressed here, at most one
    byte past the declared size, and must end exactly there with the declared CRC.
    """
    too_big = DataError(f"{path}: {FROG_MEMBER} really holds more than the {expected:,} bytes "
                        f"it declares; {_REBUILD}")
    if info.compress_type == zipfile.ZIP_STORED and info.compress_size != expected:
        raise too_big
    if info.compress_type != zipfile.ZIP_DEFLATED or info.flag_bits & 0x1:
        return archive.open(info)  # stored, encrypted or exotic: zipfile checks or refuses it
    # deflate adds at most 5 bytes per 16 KiB block to data it cannot compress
    if info.compress_size > expected + expected // 1000 + 1024:
        raise too_big
    raw = copy.copy(info)  # the same bytes, read as stored: the compressed stream itself
    raw.compress_type, raw.file_size = zipfile.ZIP_STORED, info.compress_size
    del raw.CRC
    with archive.open(raw) as stream:
        compressed = stream.read(info.compress_size)
    decompressor = zlib.decompressobj(-zlib.MAX_WBITS)
    data = decompressor.decompress(compressed, expected + 1)
    if len(data) > expected or not decompressor.eof:
        raise too_big
    if zlib.crc32(data) != info.CRC:
        raise zipfile.BadZipFile(f"Bad CRC-32 for file {FROG_MEMBER!r}")
    return io.BytesIO(data)


def _frog_member(archive, path):
    """Return the ZipInfo of FROG_MEMBER, or raise DataError listing what the zip holds."""
    try:
        return archive.getinfo(FROG_MEMBER)
    except KeyError:
        names = archive.namelist()
        held = ", ".join(names[:3]) + (f" and {len(names) - 3:,} more" if len(names) > 3 else "")
        raise DataError(f"{path} has no {FROG_MEMBER} (it holds {held or 'nothing'}): "
                        f"pass a pictures zip (like the tutorial's frog_pictures.zip), or "
                        f"{_REBUILD}") from None


def _check_pixels(flat, name):
    """Raise DataError unless every value is a finite pixel / 255, i.e. in [0, 1]."""
    # min/max propagate NaN, so this fast test also rejects NaN; count only on failure.
    if flat.min() >= 0 and flat.max() <= 1:
        return
    bad = np.count_nonzero(~((flat >= 0) & (flat <= 1)))
    raise DataError(f"{name}: {bad:,} of {flat.size:,} values are NaN, infinite or outside "
                    f"[0, 1], but the file should hold pixel/255; {_REBUILD}")
