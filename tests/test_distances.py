"""gan_demo.metrics.distances: FID and KID on features with known answers."""

import numpy as np
import pytest

from gan_demo.metrics import distances


def closed_form_fid(mean_a, variances_a, mean_b, variances_b):
    """The Frechet distance of two Gaussians with diagonal covariances."""
    return float(np.sum((np.subtract(mean_a, mean_b)) ** 2)
                 + np.sum(variances_a + variances_b - 2 * np.sqrt(variances_a * variances_b)))


# -- FID ---------------------------------------------------------------------------------------

def test_fid_of_diagonal_and_rotated_gaussians_is_the_closed_form():
    rng = np.random.default_rng(0)
    mean_a, mean_b = rng.normal(size=6), rng.normal(size=6)
    variances_a, variances_b = rng.uniform(0.1, 3, 6), rng.uniform(0.1, 3, 6)
    expected = closed_form_fid(mean_a, variances_a, mean_b, variances_b)
    got = distances.frechet_distance_from_statistics(mean_a, np.diag(variances_a),
                                                     mean_b, np.diag(variances_b))
    assert got == pytest.approx(expected, rel=1e-12)
    # rotating both Gaussians together changes nothing
    rotation, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    got = distances.frechet_distance_from_statistics(
        rotation @ mean_a, rotation @ np.diag(variances_a) @ rotation.T,
        rotation @ mean_b, rotation @ np.diag(variances_b) @ rotation.T)
    assert got == pytest.approx(expected, rel=1e-10)


def test_fid_of_non_commuting_covariances_matches_scipys_matrix_square_root():
    linalg = pytest.importorskip("scipy.linalg", reason="scipy gives the reference sqrtm")
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(2, 8, 8))
    covariance_a, covariance_b = a @ a.T + 0.1 * np.eye(8), b @ b.T + 0.1 * np.eye(8)
    mean_a, mean_b = rng.normal(size=(2, 8))
    root = linalg.sqrtm(covariance_a @ covariance_b).real
    expected = (np.sum((mean_a - mean_b) ** 2)
                + np.trace(covariance_a + covariance_b - 2 * root))
    got = distances.frechet_distance_from_statistics(mean_a, covariance_a, mean_b, covariance_b)
    assert got == pytest.approx(expected, rel=1e-9)


def test_fid_of_samples_from_known_gaussians_approaches_the_closed_form():
    rng = np.random.default_rng(2)
    mean_a, mean_b = np.array([0.0, 1.0, -1.0]), np.array([0.5, 1.0, 1.0])
    variances_a, variances_b = np.array([1.0, 4.0, 0.25]), np.array([2.0, 1.0, 0.25])
    a = mean_a + np.sqrt(variances_a) * rng.standard_normal((200_000, 3))
    b = mean_b + np.sqrt(variances_b) * rng.standard_normal((200_000, 3))
    expected = closed_form_fid(mean_a, variances_a, mean_b, variances_b)  # 5.25 + 1.17...
    assert distances.frechet_distance(a, b) == pytest.approx(expected, rel=0.01)


def test_fid_of_a_set_with_itself_is_zero_and_a_shift_adds_its_squared_length():
    rng = np.random.default_rng(3)
    shift = rng.normal(size=50)
    for count in (20, 400):  # fewer rows than features (singular values), and more (statistics)
        features = rng.normal(size=(count, 50)) ** 2
        assert distances.frechet_distance(features, features) == pytest.approx(0, abs=1e-9)
        assert distances.frechet_distance(features, features[::-1]) == pytest.approx(0, abs=1e-9)
        assert distances.frechet_distance(features, features + shift) == pytest.approx(
            np.sum(shift ** 2), rel=1e-9)


def test_fid_with_fewer_rows_than_features_equals_the_covariance_formula():
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(30, 64)), 1.5 * rng.normal(size=(45, 64)) + 0.3
    via_statistics = distances.frechet_distance_from_statistics(
        a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False))
    # the d x d square root of a singular covariance loses a few digits the other way keeps
    assert distances.frechet_distance(a, b) == pytest.approx(via_statistics, rel=1e-6)
    assert distances.frechet_distance(b, a) == pytest.approx(via_statistics, rel=1e-6)
    assert via_statistics > 10


def test_fid_refuses_features_it_cannot_compare():
    with pytest.raises(ValueError,
                       match=r"features_a: expected \(n, d\) with n >= 2, got \(1, 4\)"):
        distances.frechet_distance(np.zeros((1, 4)), np.zeros((5, 4)))
    with pytest.raises(ValueError, match="4 and 5 features cannot be compared"):
        distances.frechet_distance(np.zeros((3, 4)), np.zeros((3, 5)))


# -- KID ---------------------------------------------------------------------------------------

def reference_mmd2(x, y):
    """The unbiased MMD^2 with k(a, b) = (a . b / d + 1)^3, written out pair by pair."""
    n, d = x.shape

    def k(a, b):
        return (np.dot(a, b) / d + 1) ** 3
    within = sum(k(x[i], x[j]) + k(y[i], y[j]) for i in range(n) for j in range(n) if i != j)
    across = sum(k(x[i], y[j]) for i in range(n) for j in range(n))
    return within / (n * (n - 1)) - 2 * across / n ** 2


def test_unbiased_mmd2_is_the_pairwise_formula():
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(7, 3)), rng.normal(size=(7, 3)) + 3
    assert distances.unbiased_mmd2(x, y) == pytest.approx(reference_mmd2(x, y), rel=1e-12)
    assert distances.unbiased_mmd2(x, y) > 0


def test_kid_is_unbiased_for_two_samples_of_one_distribution():
    rng = np.random.default_rng(6)
    unbiased, biased = [], []
    for _ in range(300):
        x, y = rng.normal(size=(2, 20, 8))
        unbiased.append(distances.unbiased_mmd2(x, y))
        kernel = (np.concatenate([x, y]) @ np.concatenate([x, y]).T / 8 + 1) ** 3
        biased.append(kernel[:20, :20].mean() + kernel[20:, 20:].mean()
                      - 2 * kernel[:20, 20:].mean())  # keeps k(x, x): always above 0
    error = np.std(unbiased) / np.sqrt(len(unbiased))
    assert abs(np.mean(unbiased)) < 3 * error
    assert np.mean(biased) > 20 * error  # the check above can fail


def test_kid_averages_random_subsets_and_reports_their_spread():
    rng = np.random.default_rng(7)
    a, b = rng.normal(size=(300, 16)), rng.normal(size=(300, 16))
    kid, spread = distances.kernel_inception_distance(a, b, np.random.default_rng(1), subsets=50,
                                                      subset_size=100)
    # the same subsets, drawn the same way, one by one
    chooser, values = np.random.default_rng(1), []
    for _ in range(50):
        i = np.sort(chooser.choice(300, 100, replace=False))
        j = np.sort(chooser.choice(300, 100, replace=False))
        values.append(reference_mmd2(a[i], b[j]) if len(values) < 2
                      else distances.unbiased_mmd2(a[i], b[j]))
    assert kid == pytest.approx(np.mean(values), rel=1e-6)
    assert spread == pytest.approx(np.std(values), rel=1e-5)
    assert spread > 0 and abs(kid) < 3 * spread
    shifted, _ = distances.kernel_inception_distance(a, b + 1, np.random.default_rng(1),
                                                     subsets=50, subset_size=100)
    assert shifted > 50 * spread


def test_kid_of_a_set_with_itself_is_near_zero_and_shrinks_as_the_set_grows():
    # the same m rows twice: the unbiased estimate is 2 / (m - 1) (mean k - mean k(x, x)), as it
    # counts each k(x_i, x_i) as a pair across the sets, which 0 would need it not to
    rng = np.random.default_rng(8)
    a = rng.normal(size=(400, 32))
    other, _ = distances.kernel_inception_distance(a[:200], a[:200] + 0.5,
                                                   np.random.default_rng(0))
    for count in (100, 200, 400):
        same, spread = distances.kernel_inception_distance(a[:count], a[:count],
                                                           np.random.default_rng(0))
        kernel = (a[:count] @ a[:count].T / 32 + 1) ** 3
        assert same == pytest.approx(2 / (count - 1) * (kernel.mean() - np.diag(kernel).mean()),
                                     rel=1e-5)
        assert spread == pytest.approx(0, abs=1e-12)  # each subset is the whole set
        assert abs(same) < 0.1 * other * 200 / count
    # features of 5,000 x 2,048 keep every dot product; more are drawn subset by subset
    assert distances.GRAM_LIMIT == 3 * 5000 * 5000


def test_kid_gives_the_same_result_with_or_without_the_kept_dot_products(monkeypatch):
    rng = np.random.default_rng(9)
    a, b = rng.normal(size=(120, 10)), rng.normal(size=(90, 10)) + 0.2
    kept = distances.kernel_inception_distance(a, b, np.random.default_rng(3), 20, 50)
    monkeypatch.setattr(distances, "GRAM_LIMIT", 0)
    drawn = distances.kernel_inception_distance(a, b, np.random.default_rng(3), 20, 50)
    np.testing.assert_allclose(kept, drawn, rtol=1e-5)
