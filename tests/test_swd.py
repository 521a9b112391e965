"""gan_demo.metrics.swd: the sliced Wasserstein distance of Laplacian-pyramid patches."""

import numpy as np
import pytest

from gan_demo.metrics import swd
from tests.metric_inputs import smooth_images


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
