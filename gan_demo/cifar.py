"""Build a pictures zip of one CIFAR-10 class: the tutorial's frog_pictures.zip, or any animal.

The file holds the class's training images (5,000 for each class of CIFAR-10), in dataset
order, in the tutorial's format (gan_demo.pictures_zip): the frogs' file is the tutorial's
frog_pictures.zip, and the faithful port reads a deer_pictures.zip exactly as it reads that.
The images come from cifar-10-python.tar.gz (read in memory, its pickles through an allowlist)
or, without an archive, from Keras's own CIFAR-10 downloader.
"""

import os
import pickle
import tarfile
import zlib

import keras
import numpy as np

from gan_demo.pictures_zip import write_pictures_zip
from kerasutil.data import IMAGE_SIZE, DataError

# CIFAR-10's class names, in label order (batches.meta's label_names)
CLASS_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
               "truck")
DEFAULT_CLASS = "frog"  # the tutorial's
_BATCHES = [f"cifar-10-batches-py/data_batch_{i}" for i in range(1, 6)]
_KERAS = "keras.datasets.cifar10.load_data()"

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


def zip_name(class_name=DEFAULT_CLASS):
    """Return the file make-data writes for a class by default: "deer" -> "deer_pictures.zip".

    Example:
        >>> zip_name(), zip_name("deer")
        ('frog_pictures.zip', 'deer_pictures.zip')
    """
    return f"{class_name}_pictures.zip"


def class_of_zip(path):
    """Return the CIFAR-10 class whose default file ``path`` names, or None.

    So ``--download --data deer_pictures.zip`` knows to build the deer.

    Example:
        >>> class_of_zip("data/deer_pictures.zip"), class_of_zip("my_pictures.zip")
        ('deer', None)
    """
    name = os.path.basename(os.fspath(path))
    return next((label for label in CLASS_NAMES if name == zip_name(label)), None)


def build_class_zip(output=None, cifar_archive=None, class_name=DEFAULT_CLASS):
    """Write one CIFAR-10 class's training images, in order, as a pictures zip.

    Args:
        output: the zip to write; None writes zip_name(class_name) in the current folder. It
            is replaced only once the new one is complete.
        cifar_archive: path to cifar-10-python.tar.gz, or None to use
            keras.datasets.cifar10.load_data() (which downloads CIFAR-10 once).
        class_name: one of CLASS_NAMES; "frog" writes the tutorial's frog_pictures.zip.

    Returns:
        The number of images written (5,000 for a CIFAR-10 class).

    Raises:
        DataError: class_name is not a CIFAR-10 class; the archive is missing, not the CIFAR-10
            python version, or holds malformed batches; Keras cannot get CIFAR-10; or
            ``output`` cannot be written.
    """
    if class_name not in CLASS_NAMES:
        raise DataError(f"'{class_name}' is not a CIFAR-10 class: choose one of "
                        f"{', '.join(CLASS_NAMES)}")
    label, get = CLASS_NAMES.index(class_name), _get_archive(class_name)
    if cifar_archive is None:
        source, images = _KERAS, _class_from_keras(label, get)
    else:
        source = os.fspath(cifar_archive)
        images = _class_from_archive(source, label, get)
    if not len(images):
        raise DataError(f"{source} holds no {class_name} (label {label}) images: {get}")
    write_pictures_zip(zip_name(class_name) if output is None else output, images)
    return len(images)


def _get_archive(class_name):
    """The end of every archive error: where to get CIFAR-10 and how to pass it."""
    option = "" if class_name == DEFAULT_CLASS else f" --class {class_name}"
    return ("download cifar-10-python.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html "
            f"and pass it with `python -m gan_demo make-data{option} --cifar PATH`")


def _class_from_keras(label, get):
    """Return the training images of ``label`` from Keras's CIFAR-10, uint8 (n, 3072)."""
    try:
        (x_train, y_train), _ = keras.datasets.cifar10.load_data()
    except Exception as error:  # Keras reports a failed download as a bare Exception
        reason = " ".join(str(error).split())
        raise DataError(f"{_KERAS} failed ({reason}): {get}") from error
    images = x_train[np.asarray(y_train).reshape(-1) == label]
    # Keras gives (n, 32, 32, 3) channels last; the file is channels first.
    return images.transpose(0, 3, 1, 2).reshape(len(images), IMAGE_SIZE)


def _class_from_archive(archive, label, get):
    """Return the ``label`` rows of data_batch_1..5 in cifar-10-python.tar.gz, read in memory."""
    if not os.path.isfile(archive):
        raise DataError(f"CIFAR-10 archive not found at '{archive}': {get}")
    found = {}
    try:
        # One pass in stream mode: the batches are stored out of order, and seeking back
        # in a gzip stream would decompress it again.
        with tarfile.open(archive, "r|gz") as tar:
            for member in tar:
                if member.name in _BATCHES and member.isfile():
                    where = f"{archive} ({member.name})"
                    batch = _unpickle(tar.extractfile(member), where, get)
                    found[member.name] = _rows_of(batch, label, where, get)
    except (tarfile.TarError, EOFError, zlib.error, OSError) as error:
        raise DataError(f"{archive} is not a readable tar.gz ({error}): {get}") from error
    missing = [name for name in _BATCHES if name not in found]
    if missing:
        raise DataError(f"{archive} has no {', '.join(missing)}: it is not the CIFAR-10 "
                        f"python version; {get}")
    return np.concatenate([found[name] for name in _BATCHES])


def _unpickle(stream, where, get):
    """Load one batch pickle through the numpy-only allowlist."""
    try:
        return _NumpyOnlyUnpickler(stream, encoding="bytes").load()
    except Exception as error:  # a damaged or hostile pickle can fail in any way
        raise DataError(f"{where} is not a safe CIFAR-10 batch pickle ({error}): "
                        f"{get}") from error


def _rows_of(batch, label, where, get):
    """Return the ``label`` rows of one batch dict, checking it has the CIFAR-10 format."""
    data = batch.get(b"data") if isinstance(batch, dict) else None
    labels = batch.get(b"labels") if isinstance(batch, dict) else None
    if not (isinstance(data, np.ndarray) and data.dtype == np.uint8 and data.ndim == 2
            and data.shape[1] == IMAGE_SIZE and isinstance(labels, list)
            and len(labels) == len(data) and all(type(value) is int for value in labels)):
        raise DataError(f"{where} is not a CIFAR-10 batch (want b'data' uint8 (n, {IMAGE_SIZE}) "
                        f"and b'labels' a list of n ints): {get}")
    return data[np.array(labels) == label]
