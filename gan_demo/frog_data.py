"""Build the tutorial's frog_pictures.zip from CIFAR-10.

The file holds the 5,000 training images of class 6 ("frog"), in dataset order, as
little-endian float32 pixel / 255, channels first, in the one member FROG_MEMBER.
The images come from cifar-10-python.tar.gz (read in memory, its pickles through an
allowlist) or, without an archive, from Keras's own CIFAR-10 downloader.
"""

import errno
import os
import pickle
import tarfile
import zipfile
import zlib

import keras
import numpy as np

from kerasutil.data import FROG_MEMBER, IMAGE_SIZE, DataError
from kerasutil.files import atomic_path

FROG_LABEL = 6
_BATCHES = [f"cifar-10-batches-py/data_batch_{i}" for i in range(1, 6)]
_GET_ARCHIVE = ("download cifar-10-python.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html "
                "and pass it with `python -m gan_demo make-data --cifar PATH`")

# The only globals a pickled numpy array needs, under numpy 1 (numpy.core) and 2 (numpy._core)
# names. Anything else (os.system, builtins.open, ...) could run code, so it is refused.
_ALLOWED_GLOBALS = {("numpy", "ndarray"), ("numpy", "dtype")} | {
    (f"{core}.{module}", name)
    for core in ("numpy.core", "numpy._core")
    for module, name in (("multiarray", "_reconstruct"), ("multiarray", "scalar"),
                         ("numeric", "_frombuffer"))
}


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """An unpickler that builds numpy arrays and plain containers, and nothing else."""

    def find_class(self, module, name):
        if (module, name) not in _ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(f"refusing to load the global {module}.{name}")
        return super().find_class(module, name)


def build_frog_zip(output="frog_pictures.zip", cifar_archive=None):
    """Write frog_pictures.zip: the CIFAR-10 training frogs, in order, as float32 pixel / 255.

    Args:
        output: the zip to write; replaced only once the new one is complete.
        cifar_archive: path to cifar-10-python.tar.gz, or None to use
            keras.datasets.cifar10.load_data() (which downloads CIFAR-10 once).

    Returns:
        The number of frog images written (5,000 for CIFAR-10).

    Raises:
        DataError: the archive is missing, not the CIFAR-10 python version, or holds
            malformed batches; Keras cannot get CIFAR-10; or `output` cannot be written.
    """
    if cifar_archive is None:
        source, frogs = "keras.datasets.cifar10.load_data()", _frogs_from_keras()
    else:
        source = os.fspath(cifar_archive)
        frogs = _frogs_from_archive(source)
    if not len(frogs):
        raise DataError(f"{source} holds no frog (label {FROG_LABEL}) images: {_GET_ARCHIVE}")
    pixels = frogs.astype(np.float32) / np.float32(255)  # as the book: float32(x) / 255
    _write_zip_atomically(os.fspath(output), pixels.astype("<f4").tobytes())
    return len(frogs)


def _frogs_from_keras():
    """Return the training frogs from Keras's CIFAR-10, as uint8 (n, 3072) channels first."""
    try:
        (x_train, y_train), _ = keras.datasets.cifar10.load_data()
    except Exception as error:  # Keras reports a failed download as a bare Exception
        reason = " ".join(str(error).split())
        raise DataError(f"keras.datasets.cifar10.load_data() failed ({reason}): "
                        f"{_GET_ARCHIVE}") from error
    frogs = x_train[np.asarray(y_train).reshape(-1) == FROG_LABEL]
    # Keras gives (n, 32, 32, 3) channels last; the file is channels first.
    return frogs.transpose(0, 3, 1, 2).reshape(len(frogs), IMAGE_SIZE)


def _frogs_from_archive(archive):
    """Return the frogs of data_batch_1..5 in cifar-10-python.tar.gz, read in memory."""
    if not os.path.isfile(archive):
        raise DataError(f"CIFAR-10 archive not found at '{archive}': {_GET_ARCHIVE}")
    found = {}
    try:
        # One pass in stream mode: the batches are stored out of order, and seeking back
        # in a gzip stream would decompress it again.
        with tarfile.open(archive, "r|gz") as tar:
            for member in tar:
                if member.name in _BATCHES and member.isfile():
                    where = f"{archive} ({member.name})"
                    found[member.name] = _frogs_of(_unpickle(tar.extractfile(member), where),
                                                   where)
    except (tarfile.TarError, EOFError, zlib.error, OSError) as error:
        raise DataError(f"{archive} is not a readable tar.gz ({error}): {_GET_ARCHIVE}") from error
    missing = [name for name in _BATCHES if name not in found]
    if missing:
        raise DataError(f"{archive} has no {', '.join(missing)}: it is not the CIFAR-10 "
                        f"python version; {_GET_ARCHIVE}")
    return np.concatenate([found[name] for name in _BATCHES])


def _unpickle(stream, where):
    """Load one batch pickle through the numpy-only allowlist."""
    try:
        return _NumpyOnlyUnpickler(stream, encoding="bytes").load()
    except Exception as error:  # a damaged or hostile pickle can fail in any way
        raise DataError(f"{where} is not a safe CIFAR-10 batch pickle ({error}): "
                        f"{_GET_ARCHIVE}") from error


def _frogs_of(batch, where):
    """Return the label-6 rows of one batch dict, checking it has the CIFAR-10 format."""
    data = batch.get(b"data") if isinstance(batch, dict) else None
    labels = batch.get(b"labels") if isinstance(batch, dict) else None
    if not (isinstance(data, np.ndarray) and data.dtype == np.uint8 and data.ndim == 2
            and data.shape[1] == IMAGE_SIZE and isinstance(labels, list)
            and len(labels) == len(data) and all(type(label) is int for label in labels)):
        raise DataError(f"{where} is not a CIFAR-10 batch (want b'data' uint8 (n, {IMAGE_SIZE}) "
                        f"and b'labels' a list of n ints): {_GET_ARCHIVE}")
    return data[np.array(labels) == FROG_LABEL]


def _write_zip_atomically(output, payload):
    """Write `payload` as FROG_MEMBER to a zip at `output`, whole or not at all."""
    try:
        with atomic_path(output) as temporary, \
                zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(FROG_MEMBER, payload)
    except OSError as error:
        fix = ("check that its folder exists and is writable" if error.errno == errno.ENOENT
               else "check the disk space and permissions")
        raise DataError(f"cannot write {output} ({error.strerror or error}): {fix}") from error
