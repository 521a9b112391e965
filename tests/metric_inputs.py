"""Made-up inputs for the metrics tests: photo-like images and a cheap stand-in for Inception."""

import numpy as np

from gan_demo.metrics import inception, swd


def smooth_images(count, seed, size=32):
    """Blurry random colour fields: images with structure at several scales, like photos."""
    rng = np.random.default_rng(seed)
    coarse = rng.uniform(0, 255, (count, size // 8, size // 8, 3))
    images = coarse.repeat(8, axis=1).repeat(8, axis=2)
    images = swd._blur(swd._blur(images.astype(np.float32)))
    return np.clip(np.rint(images + rng.normal(0, 4, images.shape)), 0, 255).astype(np.uint8)


def cheap_features(pixels, progress=None, description=""):
    """A stand-in for Inception: 2,048 numbers per image, from its pixels."""
    flat = pixels.reshape(len(pixels), -1).astype(np.float32) / 255
    return np.ascontiguousarray(flat[:, :inception.FEATURES])
