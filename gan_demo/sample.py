"""Frogs from a trained generator: a grid, separate PNGs, a GIF walking through latent space, or
an .npz of pixels for scoring (``python -m gan_demo evaluate --samples``)."""

import os
import zipfile

import keras
import numpy as np

from gan_demo import stable
from gan_demo.checkpoint import read_checkpoint, restore_variables
from gan_demo.pictures import grid_image, save_gif, save_picture
from gan_demo.program import create_generator
from kerasutil import Gan
from kerasutil.data import DataError
from kerasutil.files import atomic_path
from kerasutil.gan import to_pixels

# an interpolation walks through this many latent points and back, this many frames apart
WALK_POINTS = 4
WALK_FRAMES = 12
# the generator draws this many frogs at a time, so memory stays flat for 50,000
GENERATE_BATCH = 500
# the key of the pixels in a samples .npz
SAMPLES_KEY = "images"


def load_generator(path):
    """Load a generator from a checkpoint.npz or a generator.keras.

    Raises:
        DataError: if the file is missing or is neither (a .keras file is opened in Keras's
            safe mode, so a Lambda layer, which could run code, is refused).
    """
    path = os.fspath(path)
    if path.endswith(".keras"):
        return _load_keras(path)
    saved = read_checkpoint(path)
    if saved["settings"].get("recipe") == "stable":
        return stable.load_sampler(saved, path)  # the weight average, mapped to [0, 1]
    generator = create_generator(saved["settings"]["width"])
    restore_variables(saved, "generator", generator, path)
    return generator


def _load_keras(path):
    if not os.path.isfile(path):
        raise DataError(f"no generator at '{path}': a finished or stopped run saves "
                        f"generator.keras in its --output folder")
    try:
        return keras.models.load_model(path, compile=False, safe_mode=True)
    except Exception as error:  # Keras raises many types for a bad file
        reason = " ".join(str(error).split())[:200]
        raise DataError(f"{path} cannot be loaded as a Keras model in safe mode ({reason}); "
                        f"pass the generator.keras or checkpoint.npz a run saved") from None


def latent_dimensions(generator):
    return int(generator.input_shape[-1])


def write_grid(generator, count, path, rng):
    """Write ``count`` frogs as one grid PNG."""
    images = Gan.generate_images(generator, count, latent_dimensions(generator), rng=rng)
    save_picture(grid_image(images), path)


def generate_pixels(generator, count, rng, batch_size=GENERATE_BATCH):
    """``count`` frogs as uint8 RGB pixels, mapped as ``Gan.save_image`` maps them.

    The latent vectors are drawn at once, as ``Gan.generate_images`` draws them (so a seed
    gives the frogs of the grid with that seed), and run through the generator
    ``batch_size`` at a time.

    Returns:
        A uint8 array (count, height, width, 3).
    """
    if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 1:
        raise ValueError(f"count must be a positive int, got {count!r}")
    latent = rng.standard_normal((count, latent_dimensions(generator))).astype(np.float32)
    pixels = np.empty((count,) + tuple(generator.output_shape[1:]), np.uint8)
    for start in range(0, count, batch_size):
        batch = latent[start:start + batch_size]
        pixels[start:start + len(batch)] = to_pixels(generator(batch, training=False))
    return pixels


def write_npz(generator, count, path, rng, batch_size=GENERATE_BATCH):
    """Write ``count`` frogs to an .npz whose key "images" holds uint8 (count, 32, 32, 3)."""
    pixels = generate_pixels(generator, count, rng, batch_size)
    with atomic_path(path) as temporary:
        np.savez(temporary, **{SAMPLES_KEY: pixels})
    return pixels


def load_samples(path):
    """Read the frogs ``write_npz`` wrote: uint8 RGB pixels (n, height, width, 3).

    Raises:
        DataError: the file is missing, not an .npz (pickled objects are refused), or has no
            "images" of uint8 RGB pixels.
    """
    path = os.fspath(path)
    remedy = "pass the .npz that `python -m gan_demo generate --output samples.npz` writes"
    if not os.path.isfile(path):
        raise DataError(f"no samples at '{path}': {remedy}")
    try:
        with np.load(path, allow_pickle=False) as saved:
            if SAMPLES_KEY not in saved.files:
                raise DataError(f"{path} has no \"{SAMPLES_KEY}\" array (it holds "
                                f"{', '.join(saved.files) or 'nothing'}): {remedy}")
            pixels = saved[SAMPLES_KEY]
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        if isinstance(error, DataError):
            raise
        reason = " ".join(str(error).split())[:200]
        raise DataError(f"{path} cannot be read as an .npz ({reason}): {remedy}") from None
    if pixels.dtype != np.uint8 or pixels.ndim != 4 or pixels.shape[-1] != 3 or not len(pixels):
        raise DataError(f"{path}: \"{SAMPLES_KEY}\" is {pixels.dtype} {pixels.shape}, not uint8 "
                        f"RGB pixels (n, height, width, 3): {remedy}")
    return pixels


def write_separate(generator, count, folder, rng):
    """Write ``count`` frogs as frog_0001.png, ... in ``folder``, each 32x32 as save_image does."""
    os.makedirs(folder, exist_ok=True)
    images = Gan.generate_images(generator, count, latent_dimensions(generator), rng=rng)
    digits = max(4, len(str(count)))
    paths = []
    for number, image in enumerate(images, start=1):
        paths.append(os.path.join(folder, f"frog_{number:0{digits}d}.png"))
        Gan.save_image(image, image.shape[1], image.shape[0], paths[-1])
    return paths


def write_interpolation(generator, count, path, rng):
    """Write a looping GIF of a grid of ``count`` frogs, each walking through latent space."""
    points = rng.standard_normal((WALK_POINTS, count, latent_dimensions(generator)))
    points = np.concatenate([points, points[:1]])  # back to the start: the GIF loops smoothly
    frames = []
    for a, b in zip(points[:-1], points[1:]):
        for t in np.linspace(0, 1, WALK_FRAMES, endpoint=False):
            latent = slerp(a, b, t).astype(np.float32)
            frames.append(grid_image(np.asarray(generator(latent, training=False))))
    save_gif(frames, path, frame_ms=80, last_frame_ms=80)


def slerp(a, b, t):
    """Spherical interpolation, row by row: the points stay as far from 0 as N(0, 1) samples are.

    A straight line between two Gaussian samples passes close to the origin, where the
    generator has rarely been, so its middle frames look washed out.
    """
    cosine = np.sum(a * b, axis=-1, keepdims=True) / (
        np.linalg.norm(a, axis=-1, keepdims=True) * np.linalg.norm(b, axis=-1, keepdims=True))
    omega = np.arccos(np.clip(cosine, -1, 1))
    sine = np.sin(omega)
    safe = np.where(sine < 1e-6, 1, sine)
    curved = (np.sin((1 - t) * omega) * a + np.sin(t * omega) * b) / safe
    return np.where(sine < 1e-6, (1 - t) * a + t * b, curved)
