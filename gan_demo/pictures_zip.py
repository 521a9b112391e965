"""Writing a pictures zip, the file make-data writes and DataUtil.load_pictures reads; counting one.

The tutorial's format exactly: one member, FROG_MEMBER, of little-endian float32 pixel / 255,
channels first, so the faithful port reads a deer file or a folder's file as it reads the frogs.
"""

import errno
import os
import zipfile

import numpy as np

from kerasutil.data import FROG_MEMBER, IMAGE_SIZE, MAX_PICTURES, DataError, count_from_size
from kerasutil.files import atomic_path

# pictures converted to float32 at a time: a large set never needs all its float32 values at once
_CHUNK = 4096


def write_pictures_zip(path, pixels):
    """Write uint8 pictures to a zip at ``path`` as the tutorial's float32 pixel / 255.

    The zip is written beside ``path`` and renamed over it only once complete: a failure or
    Ctrl-C leaves ``path`` as it was and no temporary file behind.

    Args:
        path: the zip to write (str or os.PathLike).
        pixels: a uint8 array (count, channels * height * width), one picture a row, channels
            first (all its red values row by row, then green, then blue).

    Raises:
        ValueError: ``pixels`` is not a 2-D uint8 array of at most MAX_PICTURES rows (the
            loader would refuse a larger file).
        DataError: ``path`` cannot be written (no such folder, disk full, no permission).

    Example:
        >>> write_pictures_zip("two.zip", np.array([[0] * 3072, [255] * 3072], np.uint8))
        >>> from kerasutil import DataUtil
        >>> DataUtil.load_pictures("two.zip").shape
        (2, 32, 32, 3)
    """
    pixels = np.asarray(pixels)
    if pixels.dtype != np.uint8 or pixels.ndim != 2 or len(pixels) > MAX_PICTURES:
        raise ValueError(f"pixels must be a 2-D uint8 array of at most {MAX_PICTURES:,} rows, "
                         f"got {pixels.dtype} {pixels.shape}")
    output = os.fspath(path)
    try:
        with atomic_path(output) as temporary, \
                zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as archive, \
                archive.open(FROG_MEMBER, "w",
                             force_zip64=pixels.size * 4 > zipfile.ZIP64_LIMIT) as member:
            for start in range(0, len(pixels), _CHUNK):
                chunk = pixels[start:start + _CHUNK].astype(np.float32)
                member.write((chunk / np.float32(255)).astype("<f4").tobytes())  # as the book
    except OSError as error:
        fix = ("check that its folder exists and is writable" if error.errno == errno.ENOENT
               else "check the disk space and permissions")
        raise DataError(f"cannot write {output} ({error.strerror or error}): {fix}") from error


def count_pictures(path):
    """Return how many 32x32 pictures the pictures file at ``path`` holds, from its size alone.

    Only the zip's directory is read (nothing is decompressed), so the command line can refuse a
    batch larger than the file before training starts. DataUtil's loaders check the file itself.

    Args:
        path: a pictures zip, or its member unpacked (a file ending in .bin).

    Returns:
        The count, or None when the file is missing or not a pictures file of a whole number of
        pictures, at most MAX_PICTURES (the loaders then say, in one line, what is wrong).

    Example:
        >>> write_pictures_zip("three.zip", np.zeros((3, 3072), np.uint8))
        >>> count_pictures("three.zip"), count_pictures("nowhere.zip")
        (3, None)
    """
    name = os.fspath(path)
    try:
        if name.lower().endswith(".bin"):
            size = os.path.getsize(name)
        else:
            with zipfile.ZipFile(name) as archive:
                size = archive.getinfo(FROG_MEMBER).file_size
        return count_from_size(size, IMAGE_SIZE, "32x32x3", name)
    except (OSError, zipfile.BadZipFile, KeyError, DataError):
        return None
