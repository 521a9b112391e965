"""Differentiable augmentation (DiffAugment, Zhao et al. 2020) for training a GAN on few images.

The same random colour change, shift and cutout are applied to the real and the generated
images the discriminator sees, in both the discriminator's and the generator's step. Every
operation is differentiable with respect to the images, so the generator still learns through
it, and the discriminator cannot memorise 5,000 frogs as easily.

Images are channels-last batches in [-1, 1]. Randomness comes from a ``tf.random.Generator``,
whose state is a variable: a checkpoint that saves it resumes the same augmentations.
"""

import tensorflow as tf

POLICIES = ("color", "translation", "cutout")
# DiffAugment's defaults: shift by up to 1/8 of the side, cut out a square of half the side
TRANSLATION_RATIO = 0.125
CUTOUT_RATIO = 0.5


def diff_augment(images, rng, policy=POLICIES):
    """Augment a batch of images, each image with its own random draw.

    Args:
        images: a float tensor (batch, height, width, channels) in [-1, 1].
        rng: a ``tf.random.Generator``.
        policy: which of "color", "translation" and "cutout" to apply, in that order.

    Returns:
        A tensor of the same shape.

    Raises:
        ValueError: if the policy names an unknown augmentation.

    Example:
        >>> import tensorflow as tf
        >>> rng = tf.random.Generator.from_seed(1)
        >>> diff_augment(tf.zeros((2, 32, 32, 3)), rng).shape
        TensorShape([2, 32, 32, 3])
    """
    unknown = set(policy) - set(POLICIES)
    if unknown:
        raise ValueError(f"diff_augment: unknown augmentation {sorted(unknown)}: use some of "
                         f"{', '.join(POLICIES)}")
    for name in POLICIES:
        if name in policy:
            images = _AUGMENTATIONS[name](images, rng)
    return images


def _per_image(rng, images, low, high):
    """One uniform number per image, shaped to broadcast over its pixels."""
    return rng.uniform((tf.shape(images)[0], 1, 1, 1), low, high, dtype=images.dtype)


def color(images, rng):
    """Random brightness (+-0.5), saturation (x0 to x2) and contrast (x0.5 to x1.5)."""
    images = images + _per_image(rng, images, -0.5, 0.5)
    grey = tf.reduce_mean(images, axis=3, keepdims=True)
    images = (images - grey) * _per_image(rng, images, 0.0, 2.0) + grey
    mean = tf.reduce_mean(images, axis=[1, 2, 3], keepdims=True)
    return (images - mean) * _per_image(rng, images, 0.5, 1.5) + mean


def translation(images, rng, ratio=TRANSLATION_RATIO):
    """Shift each image by up to ``ratio`` of its side, filling the uncovered border with 0."""
    batch, height, width = tf.shape(images)[0], images.shape[1], images.shape[2]
    shift_y, shift_x = int(height * ratio + 0.5), int(width * ratio + 0.5)
    dy = rng.uniform((batch, 1), -shift_y, shift_y + 1, dtype=tf.int32)
    dx = rng.uniform((batch, 1), -shift_x, shift_x + 1, dtype=tf.int32)
    # one zero pixel of padding on each side: every index that falls outside lands on it
    padded = tf.pad(images, [[0, 0], [1, 1], [1, 1], [0, 0]])
    rows = tf.clip_by_value(tf.range(height)[None, :] + dy + 1, 0, height + 1)
    columns = tf.clip_by_value(tf.range(width)[None, :] + dx + 1, 0, width + 1)
    shifted = tf.gather(padded, rows, axis=1, batch_dims=1)
    return tf.gather(shifted, columns, axis=2, batch_dims=1)


def cutout(images, rng, ratio=CUTOUT_RATIO):
    """Set a random square of ``ratio`` of the side to 0 in each image (it may overhang)."""
    batch, height, width = tf.shape(images)[0], images.shape[1], images.shape[2]
    size_y, size_x = int(height * ratio + 0.5), int(width * ratio + 0.5)
    top = rng.uniform((batch, 1), 0, height + (1 - size_y % 2), dtype=tf.int32) - size_y // 2
    left = rng.uniform((batch, 1), 0, width + (1 - size_x % 2), dtype=tf.int32) - size_x // 2
    rows = tf.range(height)[None, :]
    columns = tf.range(width)[None, :]
    inside_y = (rows >= top) & (rows < top + size_y)          # (batch, height)
    inside_x = (columns >= left) & (columns < left + size_x)  # (batch, width)
    inside = inside_y[:, :, None] & inside_x[:, None, :]
    return images * tf.cast(~inside, images.dtype)[..., None]


_AUGMENTATIONS = {"color": color, "translation": translation, "cutout": cutout}
