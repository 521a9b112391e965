"""FID and KID: how far apart two sets of Inception features are.

- FID (Frechet Inception distance, Heusel et al. 2017) fits a Gaussian to each set and measures
  the Frechet distance between the two.
- KID (kernel Inception distance, Binkowski et al. 2018) is the unbiased squared MMD with a cubic
  polynomial kernel, averaged over random subsets; unlike FID it is unbiased for small sets.

Both take (n, d) feature arrays (:mod:`gan_demo.metrics.inception` makes them from pixels); lower
is better, and two samples of one distribution score near 0.
"""

import numpy as np

KID_SUBSETS = 100
KID_SUBSET_SIZE = 1000
# KID keeps every dot product when there are at most this many (three 5,000 x 5,000 blocks)
GRAM_LIMIT = 3 * 5000 * 5000


def frechet_distance(features_a, features_b):
    """FID: the Frechet distance between Gaussians fitted to two sets of features.

    ||mu_a - mu_b||^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2)), in float64.

    Args:
        features_a, features_b: (n, d) arrays, at least 2 rows each.

    Returns:
        A float, 0 for identical sets (up to rounding).

    Raises:
        ValueError: a set is not (n, d) with n >= 2, or the two have different d.
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

    Args:
        mean_a, mean_b: (d,) means.
        covariance_a, covariance_b: (d, d) symmetric positive semi-definite covariances.

    Returns:
        A float, at least 0.
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

    Returns:
        A float, which scatters around 0 for two samples of one distribution.

    Raises:
        ValueError: the sets are not (n, d) of one shape with n >= 2.
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


def _psd_sqrt(matrix):
    """The symmetric square root of a symmetric positive semi-definite matrix."""
    eigenvalues, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.sqrt(np.clip(eigenvalues, 0, None))) @ vectors.T


def _features(features, name):
    features = np.asarray(features, np.float64)
    if features.ndim != 2 or len(features) < 2:
        raise ValueError(f"features_{name}: expected (n, d) with n >= 2, got {features.shape}")
    return features
