"""Sliced Wasserstein distance on Laplacian-pyramid patches, as Karras et al. (2018) measure GANs.

"Progressive growing of GANs" compares the local structure of generated and real images at
each scale: it cuts random 7x7x3 neighbourhoods from each level of a Laplacian pyramid, and
measures how far apart the two sets of neighbourhoods are with the sliced Wasserstein distance.
This is their metric (their ``metrics/sliced_wasserstein.py``), in NumPy only:

- the pyramid of 32x32 images has levels of 32 and 16 pixels (down to 16, as theirs does): the
  32 px level holds the fine detail, the 16 px level the blurred, downsampled image;
- 128 neighbourhoods per image per level, at random positions;
- each set's descriptors are normalised per colour channel by that set's mean and spread;
- 4 repeats of 128 random directions (their 512 projections), distances x 1e3.

Lower is better; two sets drawn from the same images score close to 0.
"""

import numpy as np

NEIGHBOURHOOD = 7
NEIGHBOURHOODS_PER_IMAGE = 128
REPEATS = 4
DIRECTIONS_PER_REPEAT = 128
SMALLEST_LEVEL = 16

# cv2.pyrDown's 5x5 Gaussian, separable: [1, 4, 6, 4, 1] / 16 each way
_GAUSSIAN = np.array([1, 4, 6, 4, 1], np.float32) / 16


def sliced_wasserstein_distance(pixels_a, pixels_b, rng):
    """The SWD between two sets of images, at each pyramid level and on average.

    Args:
        pixels_a, pixels_b: uint8 RGB images (n, size, size, 3), size a power of two of at
            least 16. When the counts differ, a random subset of the larger set is used: the
            distance compares equal-sized sets.
        rng: a numpy.random.Generator for the neighbourhoods, the subset and the directions.

    Returns:
        A dict {resolution: SWD x 1e3} for each level (32 and 16 for 32x32 images), plus
        "average", their mean.

    Raises:
        ValueError: the images are not uint8 RGB of one size, or too small.
    """
    pixels_a, pixels_b = _check(pixels_a), _check(pixels_b)
    if pixels_a.shape[1:] != pixels_b.shape[1:]:
        raise ValueError(f"sliced_wasserstein_distance: images of {pixels_a.shape[1:]} and "
                         f"{pixels_b.shape[1:]} cannot be compared")
    count = min(len(pixels_a), len(pixels_b))
    pixels_a = _subset(pixels_a, count, rng)
    pixels_b = _subset(pixels_b, count, rng)
    resolutions = pyramid_resolutions(pixels_a.shape[1])
    levels_a = laplacian_pyramid(pixels_a, len(resolutions))
    levels_b = laplacian_pyramid(pixels_b, len(resolutions))
    distances = {}
    for resolution, level_a, level_b in zip(resolutions, levels_a, levels_b):
        # both sets are cut at the same random places: any difference is in the images
        places = patch_places(count, resolution, rng)
        descriptors_a = normalise(neighbourhoods(level_a, places))
        descriptors_b = normalise(neighbourhoods(level_b, places))
        distances[resolution] = 1e3 * sliced_wasserstein(descriptors_a, descriptors_b, rng)
    distances["average"] = float(np.mean([distances[r] for r in resolutions]))
    return distances


def pyramid_resolutions(size):
    """The levels' sizes: size, size / 2, ... down to SMALLEST_LEVEL (32 -> [32, 16])."""
    resolutions = []
    while size >= SMALLEST_LEVEL:
        resolutions.append(size)
        size //= 2
    return resolutions


def laplacian_pyramid(pixels, levels):
    """A Laplacian pyramid of images (n, h, w, 3): float32 levels, finest first.

    Each level but the last is the image minus its blurred, upsampled half-size version (the
    detail of that scale); the last level is the blurred, downsampled image itself. The blur is
    cv2.pyrDown's 5x5 Gaussian with mirrored edges, as in Karras et al.
    """
    pyramid = [np.asarray(pixels, np.float32)]
    for _ in range(1, levels):
        smaller = _blur(pyramid[-1])[:, ::2, ::2]
        pyramid[-1] = pyramid[-1] - _upsample(smaller)
        pyramid.append(smaller)
    return pyramid


def patch_places(count, size, rng, patch=NEIGHBOURHOOD, per_image=NEIGHBOURHOODS_PER_IMAGE):
    """Random centres of ``per_image`` patches in each of ``count`` size x size images.

    Returns:
        (images, rows, columns): int arrays (count * per_image,), each patch wholly inside.
    """
    half = patch // 2
    rows = rng.integers(half, size - half, size=count * per_image)
    columns = rng.integers(half, size - half, size=count * per_image)
    return np.repeat(np.arange(count), per_image), rows, columns


def neighbourhoods(level, places, patch=NEIGHBOURHOOD):
    """The patch x patch x 3 neighbourhoods at ``places`` (:func:`patch_places`), flattened.

    Returns:
        (N, 3 * patch * patch) float32 descriptors, laid out channel by channel.
    """
    images, rows, columns = places
    offsets = np.arange(-(patch // 2), patch // 2 + 1)
    patches = level[images[:, None, None], rows[:, None, None] + offsets[None, :, None],
                    columns[:, None, None] + offsets[None, None, :]]
    return patches.transpose(0, 3, 1, 2).reshape(len(images), -1)


def normalise(descriptors):
    """Descriptors (N, 3 * k * k) less their set's mean, over their set's spread, per channel."""
    shaped = descriptors.reshape(len(descriptors), 3, -1).astype(np.float32)
    mean = shaped.mean(axis=(0, 2), keepdims=True, dtype=np.float64)
    spread = shaped.std(axis=(0, 2), keepdims=True, dtype=np.float64)
    spread = np.where(spread > 0, spread, 1)  # a flat colour has nothing to scale
    shaped -= mean.astype(np.float32)
    shaped /= spread.astype(np.float32)
    return shaped.reshape(len(descriptors), -1)


def sliced_wasserstein(a, b, rng, repeats=REPEATS, directions=DIRECTIONS_PER_REPEAT):
    """The mean 1-D Wasserstein distance of two equal-sized point sets along random directions.

    Args:
        a, b: (N, d) arrays with the same N.
        rng: a numpy.random.Generator for the directions (unit vectors, uniform on the sphere).

    Returns:
        The distance averaged over ``repeats`` x ``directions`` directions and all points.
    """
    if a.shape != b.shape or a.ndim != 2:
        raise ValueError(f"sliced_wasserstein: the sets must have one shape, got {a.shape} "
                         f"and {b.shape}")
    results = []
    for _ in range(repeats):
        towards = rng.standard_normal((a.shape[1], directions))
        towards = (towards / np.linalg.norm(towards, axis=0, keepdims=True)).astype(np.float32)
        # sort each direction's projections: the sorted lists pair up the 1-D optimal transport
        projected_a = np.sort((a @ towards).T, axis=1)
        projected_b = np.sort((b @ towards).T, axis=1)
        results.append(np.mean(np.abs(projected_a - projected_b), dtype=np.float64))
    return float(np.mean(results))


def _blur(images):
    """cv2.pyrDown's Gaussian blur of (n, h, w, c) images, edges mirrored (d c b | a b c d)."""
    padded = np.pad(images, ((0, 0), (2, 2), (2, 2), (0, 0)), mode="reflect")
    height, width = images.shape[1:3]
    rows = sum(weight * padded[:, i:i + height] for i, weight in enumerate(_GAUSSIAN))
    return sum(weight * rows[:, :, i:i + width] for i, weight in enumerate(_GAUSSIAN))


def _upsample(images):
    """cv2.pyrUp: zeros between the pixels, then the Gaussian blur times 4."""
    count, height, width, channels = images.shape
    spread = np.zeros((count, 2 * height, 2 * width, channels), np.float32)
    spread[:, ::2, ::2] = images
    return 4 * _blur(spread)


def _subset(pixels, count, rng):
    if len(pixels) == count:
        return pixels
    return pixels[np.sort(rng.choice(len(pixels), count, replace=False))]


def _check(pixels):
    pixels = np.asarray(pixels)
    size = pixels.shape[1] if pixels.ndim == 4 else 0
    if pixels.dtype != np.uint8 or pixels.ndim != 4 or pixels.shape[2:] != (size, 3) \
            or not len(pixels) or size < SMALLEST_LEVEL or size & (size - 1):
        raise ValueError(f"sliced_wasserstein_distance: expected uint8 square images "
                         f"(n, size, size, 3), size a power of two of at least {SMALLEST_LEVEL}, "
                         f"got {pixels.dtype} {pixels.shape}")
    return pixels
