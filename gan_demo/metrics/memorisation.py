"""The memorisation check: do fakes lie closer to a training frog than real frogs to each other?

A generator that copies its training data scores a low FID but is no good. Each fake's nearest
training frog (pixel L2) is compared with how near real frogs come to one another, and the
closest pairs are drawn side by side for the eye to judge.
"""

import numpy as np

from gan_demo.pictures import grid_image

HELD_OUT = 500
CLOSEST_PAIRS = 16
# a likely copy is at most this fraction as far from its nearest frog as from the average frog
COPY_MARGIN = 0.5
# distances are computed this many rows at a time: memory stays at a few hundred MB
CHUNK = 1000


def nearest_distances(queries, references, exclude=None):
    """The L2 distance from each query image to its nearest reference image, pixels in [0, 1].

    Computed as a chunked matrix product in float32, then the distance to the neighbour found
    is recomputed exactly (so an exact copy gives 0).

    Args:
        queries, references: uint8 images (n, h, w, 3) and (m, h, w, 3).
        exclude: optional int array (n,): for query i, reference exclude[i] is skipped
            (leave-one-out: a real frog is not its own nearest neighbour).

    Returns:
        (distances float64 (n,), indices int (n,)) of each query's nearest reference.
    """
    queries = np.asarray(queries).reshape(len(queries), -1)
    references = np.asarray(references).reshape(len(references), -1)
    a, b = queries.astype(np.float32) / 255, references.astype(np.float32) / 255
    squared_b = np.einsum("ij,ij->i", b, b)
    indices = np.empty(len(a), np.int64)
    for start in range(0, len(a), CHUNK):
        chunk = a[start:start + CHUNK]
        # |a - b|^2 less |a|^2, which does not change which b is nearest
        partial = squared_b[None, :] - 2 * (chunk @ b.T)
        if exclude is not None:
            rows = np.arange(len(chunk))
            partial[rows, exclude[start:start + CHUNK]] = np.inf
        indices[start:start + len(chunk)] = np.argmin(partial, axis=1)
    difference = (queries.astype(np.float64) - references[indices]) / 255
    return np.sqrt(np.einsum("ij,ij->i", difference, difference)), indices


def memorisation(fake_pixels, real_pixels, rng, held_out=HELD_OUT):
    """How close fakes come to training frogs, against how close real frogs come to each other.

    Each fake's nearest training frog (pixel L2 on [0, 1]) is compared with a leave-one-out
    baseline: ``held_out`` random real frogs, each against the nearest of the other frogs.
    A fake closer to a training frog than 99% of real frogs are to their nearest neighbour,
    and less than half as far from that frog as from the average frog, is counted as a likely
    copy: a flat, blurry fake (early in training) sits near the average and near every
    low-contrast frog without copying any.

    Args:
        fake_pixels, real_pixels: uint8 images (n, h, w, 3) and (m, h, w, 3).
        rng: a numpy.random.Generator choosing the held-out frogs.
        held_out: how many real frogs make the baseline (all of them if fewer).

    Returns:
        A dict: ``fake_distances``, ``fake_nearest`` (index of each fake's nearest real frog),
        ``real_distances`` (of the held-out frogs), ``threshold`` (their 1st percentile),
        ``fraction`` (of fakes below it), ``fake_median`` and ``real_median``.
    """
    fake_distances, fake_nearest = nearest_distances(fake_pixels, real_pixels)
    chosen = rng.choice(len(real_pixels), min(held_out, len(real_pixels)), replace=False)
    real_distances, _ = nearest_distances(real_pixels[chosen], real_pixels, exclude=chosen)
    threshold = float(np.percentile(real_distances, 1))
    average = real_pixels.reshape(len(real_pixels), -1).mean(axis=0)
    to_average = np.linalg.norm(fake_pixels.reshape(len(fake_pixels), -1) - average, axis=1) / 255
    copies = (fake_distances < threshold) & (fake_distances < COPY_MARGIN * to_average)
    return {"fake_distances": fake_distances, "fake_nearest": fake_nearest,
            "real_distances": real_distances, "threshold": threshold,
            "fraction": float(np.mean(copies)),
            "fake_median": float(np.median(fake_distances)),
            "real_median": float(np.median(real_distances))}


def closest_pairs_picture(fake_pixels, real_pixels, check, count=CLOSEST_PAIRS):
    """The ``count`` fakes nearest a training frog, each followed by that frog, 4 pairs a row.

    Args:
        check: the dict :func:`memorisation` returned for these pixels.

    Returns:
        A PIL image: rows of fake, frog, fake, frog, ... from the closest pair on, 4x upscaled.
    """
    order = np.argsort(check["fake_distances"], kind="stable")[:count]
    pairs = np.empty((2 * len(order),) + fake_pixels.shape[1:], np.uint8)
    pairs[0::2] = fake_pixels[order]
    pairs[1::2] = real_pixels[check["fake_nearest"][order]]
    return grid_image(pairs.astype(np.float32) / 255, columns=8)
