"""How good are the fakes? FID, KID, SWD and a memorisation check against the real frogs.

- FID (Frechet Inception distance) and KID (kernel Inception distance) compare Inception
  features of fakes and real frogs (:mod:`gan_demo.metrics.inception`, the optional ``fid`` extra).
- SWD (:mod:`gan_demo.metrics.swd`) compares local patches at two scales; it needs nothing extra.
- The memorisation check asks whether fakes lie closer to a training frog than real frogs lie
  to each other: a generator that copies its training data scores a low FID but is no good.

Every function takes uint8 RGB pixels (n, 32, 32, 3), as ``kerasutil.gan.to_pixels`` makes them,
so scores of a checkpoint and of samples exported with ``generate --output x.npz`` agree.
"""

import numpy as np

from gan_demo.metrics import inception, swd
from gan_demo.pictures import grid_image, save_picture

# the whole scoring API in one place, for benchmarks and notebooks
FidUnavailable = inception.FidUnavailable
inception_features = inception.inception_features
cached_inception_features = inception.cached_inception_features
sliced_wasserstein_distance = swd.sliced_wasserstein_distance

KID_SUBSETS = 100
KID_SUBSET_SIZE = 1000
HELD_OUT = 500
CLOSEST_PAIRS = 16
# a likely copy is at most this fraction as far from its nearest frog as from the average frog
COPY_MARGIN = 0.5
# KID keeps every dot product when there are at most this many (three 5,000 x 5,000 blocks)
GRAM_LIMIT = 3 * 5000 * 5000
# distances are computed this many rows at a time: memory stays at a few hundred MB
CHUNK = 1000


def frechet_distance(features_a, features_b):
    """FID: the Frechet distance between Gaussians fitted to two sets of features.

    ||mu_a - mu_b||^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2)), in float64.

    Args:
        features_a, features_b: (n, d) arrays, at least 2 rows each.

    Returns:
        A float, 0 for identical sets (up to rounding).
    """
    features_a, features_b = _features(features_a, "a"), _features(features_b, "b")
    (count_a, dimensions), count_b = features_a.shape, len(features_b)
    if features_b.shape[1] != dimensions:
        raise ValueError(f"frechet_distance: {dimensions} and {features_b.shape[1]} features "
                         f"cannot be compared")
    if count_a * count_b * min(count_a, count_b) > dimensions ** 3:
        return frechet_distance_from_statistics(
            features_a.mean(axis=0), np.cov(features_a, rowvar=False),
            features_b.mean(axis=0), np.cov(features_b, rowvar=False))
    # fewer rows than features: S_a = A'A / (n_a - 1) for the centred rows A, and S_a S_b has
    # the nonzero eigenvalues of (A B')(A B')' / ((n_a - 1)(n_b - 1)), so tr (S_a S_b)^(1/2) is
    # the sum of the singular values of A B' / sqrt((n_a - 1)(n_b - 1)): no d x d matrix at all
    centred_a = features_a - features_a.mean(axis=0)
    centred_b = features_b - features_b.mean(axis=0)
    cross = centred_a @ centred_b.T / np.sqrt((count_a - 1) * (count_b - 1))
    trace_root = np.linalg.svd(cross, compute_uv=False).sum()
    distance = (np.sum((features_a.mean(axis=0) - features_b.mean(axis=0)) ** 2)
                + np.sum(centred_a ** 2) / (count_a - 1) + np.sum(centred_b ** 2) / (count_b - 1)
                - 2 * trace_root)
    return float(max(distance, 0.0))


def frechet_distance_from_statistics(mean_a, covariance_a, mean_b, covariance_b):
    """The Frechet distance of N(mean_a, covariance_a) and N(mean_b, covariance_b).

    tr((S_a S_b)^(1/2)) is the sum of the square roots of the eigenvalues of the symmetric
    S_a^(1/2) S_b S_a^(1/2), which has the same eigenvalues: this stays real and exact where
    scipy.linalg.sqrtm of the non-symmetric product needs its real part taken.
    """
    mean_a, mean_b = np.asarray(mean_a, np.float64), np.asarray(mean_b, np.float64)
    covariance_a = np.atleast_2d(np.asarray(covariance_a, np.float64))
    covariance_b = np.atleast_2d(np.asarray(covariance_b, np.float64))
    root_a = _psd_sqrt(covariance_a)
    middle = root_a @ covariance_b @ root_a
    eigenvalues = np.linalg.eigvalsh((middle + middle.T) / 2)
    trace_root = np.sqrt(np.clip(eigenvalues, 0, None)).sum()
    distance = (np.sum((mean_a - mean_b) ** 2) + np.trace(covariance_a)
                + np.trace(covariance_b) - 2 * trace_root)
    return float(max(distance, 0.0))


def kernel_inception_distance(features_a, features_b, rng, subsets=KID_SUBSETS,
                              subset_size=KID_SUBSET_SIZE):
    """KID: the unbiased squared MMD with the kernel k(x, y) = (x . y / d + 1)^3.

    Averaged over ``subsets`` random subsets (without replacement) of min(subset_size, n)
    rows of each set, as Binkowski et al. (2018) and torch-fidelity compute it.

    Args:
        features_a, features_b: (n, d) arrays, at least 2 rows each.
        rng: a numpy.random.Generator choosing the subsets.

    Returns:
        (mean, standard deviation) over the subsets: floats; the mean is unbiased, so it
        scatters around 0 (and may be slightly negative) for two samples of one distribution.
    """
    features_a, features_b = _features(features_a, "a"), _features(features_b, "b")
    size = min(subset_size, len(features_a), len(features_b))
    if size < 2:
        raise ValueError(f"kernel_inception_distance: subsets of {size} have no pairs")
    a, b = features_a.astype(np.float32), features_b.astype(np.float32)
    # all dot products at once, where the subsets would compute more of them (they overlap)
    # and they fit in memory (up to about 5,000 x 5,000 features)
    products = len(a) ** 2 + len(b) ** 2 + len(a) * len(b)
    gram = products <= min(GRAM_LIMIT, 3 * subsets * size ** 2)
    if gram:
        dots_aa, dots_bb, dots_ab = a @ a.T, b @ b.T, a @ b.T
    values = []
    for _ in range(subsets):
        # sorted, as the order within a subset does not matter and gathers run faster
        i = np.sort(rng.choice(len(a), size, replace=False))
        j = np.sort(rng.choice(len(b), size, replace=False))
        if gram:
            dots = _block(dots_aa, i, i), _block(dots_bb, j, j), _block(dots_ab, i, j)
        else:
            dots = a[i] @ a[i].T, b[j] @ b[j].T, a[i] @ b[j].T
        values.append(_mmd2_from_dots(*dots, a.shape[1]))
    return float(np.mean(values)), float(np.std(values))


def unbiased_mmd2(x, y):
    """The unbiased squared MMD of two equal-sized sets (n, d) with k(x, y) = (x . y / d + 1)^3.

    (sum of k(x_i, x_j) over i != j + the same for y) / (n (n - 1)) - 2 mean k(x_i, y_j).
    """
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    if x.shape != y.shape or x.ndim != 2 or len(x) < 2:
        raise ValueError(f"unbiased_mmd2: expected two (n, d) sets of one shape with n >= 2, "
                         f"got {x.shape} and {y.shape}")
    return _mmd2_from_dots(x @ x.T, y @ y.T, x @ y.T, x.shape[1])


def _mmd2_from_dots(dots_xx, dots_yy, dots_xy, dimensions):
    size = len(dots_xx)
    k_xx, k_yy, k_xy = (_kernel(dots, dimensions) for dots in (dots_xx, dots_yy, dots_xy))
    within = (k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)) / (size * (size - 1))
    return float(within - 2 * k_xy.sum() / size ** 2)


def _kernel(dots, dimensions):
    """(dots / d + 1)^3 in float64, by multiplying (a power is several times slower)."""
    k = dots.astype(np.float64)
    k /= dimensions
    k += 1
    return k * k * k


def _block(matrix, rows, columns):
    return np.take(np.take(matrix, rows, axis=0), columns, axis=1)


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


def evaluate_pixels(fake_pixels, real_pixels, fid=True, seed=0, real_features=None,
                    progress=None, pairs_path=None):
    """Every metric of fakes against real frogs, as one JSON-ready dict.

    Args:
        fake_pixels, real_pixels: uint8 RGB images (n, 32, 32, 3) and (m, 32, 32, 3).
        fid: compute FID and KID (needs the ``fid`` extra); False leaves them None.
        seed: seeds the KID subsets, the SWD patches and directions and the held-out frogs,
            so the same pixels score the same every time.
        real_features: the real frogs' Inception features if known; None reads them from the
            cache (:func:`inception.cached_inception_features`) or computes and caches them.
            The fakes' features are read from the cache where it has them, never stored.
        progress: show progress bars on stderr; None shows them on a terminal only.
        pairs_path: where to write the closest pairs PNG (:func:`closest_pairs_picture`).

    Returns:
        {"count", "real_count", "fid", "kid", "kid_std", "swd", "swd_32", "swd_16",
        "nearest_median", "real_nearest_median", "memorised_fraction", "memorised_threshold"}
        plus "pairs" when a picture was written.

    Raises:
        ValueError: the pixels are not uint8 RGB images of one size.
        inception.FidUnavailable: fid is True but the ``fid`` extra is missing.
    """
    fake_pixels, real_pixels = _pixels(fake_pixels, "fake"), _pixels(real_pixels, "real")
    if fake_pixels.shape[1:] != real_pixels.shape[1:]:
        raise ValueError(f"evaluate_pixels: fakes of {fake_pixels.shape[1:]} and real images "
                         f"of {real_pixels.shape[1:]} cannot be compared")
    kid_rng, swd_rng, memorisation_rng = np.random.default_rng(seed).spawn(3)
    result = {"count": len(fake_pixels), "real_count": len(real_pixels),
              "fid": None, "kid": None, "kid_std": None}
    if fid:
        inception.require_fid()
        if real_features is None:
            real_features = inception.cached_inception_features(real_pixels, progress=progress)
        # fakes are looked up, not stored: real frogs scored as fakes (a floor) cost nothing
        fake_features = inception.cached_inception_features(
            fake_pixels, progress=progress, description="Inception (fakes)", store=False)
        result["fid"] = frechet_distance(fake_features, real_features)
        result["kid"], result["kid_std"] = kernel_inception_distance(
            fake_features, real_features, kid_rng)
    distances = swd.sliced_wasserstein_distance(fake_pixels, real_pixels, swd_rng)
    result["swd"] = distances.pop("average")
    result.update({f"swd_{resolution}": value for resolution, value in distances.items()})
    check = memorisation(fake_pixels, real_pixels, memorisation_rng)
    result.update({"nearest_median": check["fake_median"],
                   "real_nearest_median": check["real_median"],
                   "memorised_fraction": check["fraction"],
                   "memorised_threshold": check["threshold"]})
    if pairs_path is not None:
        save_picture(closest_pairs_picture(fake_pixels, real_pixels, check), pairs_path)
        result["pairs"] = str(pairs_path)
    return result


def report_lines(result):
    """The plain-text report of :func:`evaluate_pixels`'s dict, one metric a line."""
    lines = []
    if result["fid"] is not None:
        lines.append(f"FID: {result['fid']:.2f}")
        lines.append(f"KID: {result['kid']:.5f} \u00b1 {result['kid_std']:.5f}")
    levels = sorted((int(key[4:]) for key in result if key.startswith("swd_")), reverse=True)
    per_level = ", ".join(f"{level}px {result[f'swd_{level}']:.2f}" for level in levels)
    lines.append(f"SWD: {result['swd']:.2f} (x1e3; per level {per_level})")
    lines.append(f"Nearest training frog (pixel L2): median {result['nearest_median']:.3f} "
                 f"for the fakes, {result['real_nearest_median']:.3f} for held-out real frogs")
    lines.append(f"Memorised: {100 * result['memorised_fraction']:.1f}% of the fakes look "
                 f"copied: closer to a training frog than 99% of held-out real frogs are to "
                 f"another (L2 < {result['memorised_threshold']:.3f}), and far closer to it "
                 f"than to the average frog")
    if "pairs" in result:
        lines.append(f"Closest pairs (each fake beside its nearest training frog): "
                     f"{result['pairs']}")
    return lines


def _psd_sqrt(matrix):
    """The symmetric square root of a symmetric positive semi-definite matrix."""
    eigenvalues, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.sqrt(np.clip(eigenvalues, 0, None))) @ vectors.T


def _features(features, name):
    features = np.asarray(features, np.float64)
    if features.ndim != 2 or len(features) < 2:
        raise ValueError(f"features_{name}: expected (n, d) with n >= 2, got {features.shape}")
    return features


def _pixels(pixels, name):
    pixels = np.asarray(pixels)
    if pixels.dtype != np.uint8 or pixels.ndim != 4 or pixels.shape[-1] != 3 or len(pixels) < 2:
        raise ValueError(f"evaluate_pixels: {name} pixels must be uint8 images (n, h, w, 3) "
                         f"with n >= 2, got {pixels.dtype} {pixels.shape}")
    return pixels
