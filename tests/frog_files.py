"""Helpers that write frog data files and CIFAR-10 archives for tests."""

import io
import pickle
import tarfile
import zipfile

import numpy as np

from kerasutil.data import FROG_MEMBER, IMAGE_SIZE


def synthetic_frog_pixels(count, seed=0):
    """Return deterministic float32 (count, 3072) channels-first pixels k/255, like the file."""
    levels = np.random.default_rng(seed).integers(0, 256, size=(count, IMAGE_SIZE), dtype=np.uint8)
    return levels.astype(np.float32) / np.float32(255)


def write_frog_zip(path, pixels_channels_first_float32, member=FROG_MEMBER,
                   compression=zipfile.ZIP_STORED):
    """Write `pixels` as little-endian float32 to `member` of a new zip at `path`; return path."""
    payload = np.asarray(pixels_channels_first_float32, dtype="<f4").tobytes()
    with zipfile.ZipFile(path, "w", compression) as archive:
        archive.writestr(member, payload)
    return path


def set_declared_size(path, size):
    """Make every central-directory entry of the zip at `path` declare `size` uncompressed bytes.

    zipfile trusts the central directory's size, so this forges a zip whose header lies.
    """
    raw = bytearray(path.read_bytes())
    start = raw.find(b"PK\x01\x02")
    while start != -1:
        raw[start + 24:start + 28] = size.to_bytes(4, "little")  # uncompressed size field
        start = raw.find(b"PK\x01\x02", start + 4)
    path.write_bytes(bytes(raw))


def cifar_batch_pickle(data, labels, legacy=True):
    """Pickle one CIFAR-10 batch dict as the real files do.

    legacy=True mimics the Python 2 pickles of the real archive (protocol 2 style GLOBAL
    opcodes naming numpy.core); legacy=False uses this numpy and the newest protocol.
    """
    batch = {b"batch_label": b"training batch", b"labels": [int(label) for label in labels],
             b"data": np.asarray(data, dtype=np.uint8),
             b"filenames": [b"img_%d.png" % i for i in range(len(labels))]}
    if not legacy:
        return pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL)
    # Protocol 3 writes bytes natively and names globals as text lines, like Python 2's cPickle.
    return pickle.dumps(batch, protocol=3).replace(b"cnumpy._core.", b"cnumpy.core.")


def write_cifar_tar(path, batches, legacy=True, members=None):
    """Write a tiny cifar-10-python.tar.gz at `path` in the real layout; return path.

    Args:
        batches: five (data uint8 (n, 3072), labels) pairs for data_batch_1..5.
        legacy: passed to cifar_batch_pickle.
        members: optional {name: bytes} of extra or replacement members (for odd archives).
    """
    files = {f"cifar-10-batches-py/data_batch_{i}": cifar_batch_pickle(data, labels, legacy)
             for i, (data, labels) in enumerate(batches, start=1)}
    files["cifar-10-batches-py/test_batch"] = cifar_batch_pickle(
        np.zeros((1, IMAGE_SIZE), np.uint8), [6], legacy)
    files["cifar-10-batches-py/batches.meta"] = pickle.dumps(
        {b"label_names": [b"airplane", b"automobile", b"bird", b"cat", b"deer", b"dog",
                          b"frog", b"horse", b"ship", b"truck"], b"num_vis": 3072}, protocol=3)
    files.update(members or {})
    # The real archive stores its batches out of order; so does this one.
    with tarfile.open(path, "w:gz") as tar:
        for name in sorted(files, reverse=True):
            info = tarfile.TarInfo(name)
            info.size = len(files[name])
            tar.addfile(info, io.BytesIO(files[name]))
    return path
