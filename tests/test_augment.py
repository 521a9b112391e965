"""DiffAugment: each operation does what it says, per image, differentiably and repeatably."""

import numpy as np
import pytest
import tensorflow as tf

from kerasutil.augment import color, cutout, diff_augment, translation


def numbered_images(count=16):
    """Images whose every pixel value is unique and > 0, so a shift can be read back."""
    values = np.arange(1, count * 32 * 32 * 3 + 1, dtype=np.float32)
    return tf.constant(values.reshape(count, 32, 32, 3))


def test_an_unknown_augmentation_is_refused_by_name():
    with pytest.raises(ValueError, match=r"^diff_augment: unknown augmentation \['flip'\]: use "
                                         r"some of color, translation, cutout$"):
        diff_augment(tf.zeros((1, 32, 32, 3)), tf.random.Generator.from_seed(0),
                     ("color", "flip"))


def test_every_policy_keeps_the_shape_and_dtype():
    images = tf.random.uniform((5, 32, 32, 3), -1, 1)
    out = diff_augment(images, tf.random.Generator.from_seed(0))
    assert out.shape == (5, 32, 32, 3) and out.dtype == tf.float32


def test_no_policy_changes_nothing():
    images = numbered_images(2)
    assert np.array_equal(diff_augment(images, tf.random.Generator.from_seed(0), ()), images)


def test_translation_shifts_each_image_by_at_most_4_pixels_and_fills_with_zeros():
    images = numbered_images()
    shifted = translation(images, tf.random.Generator.from_seed(3)).numpy()
    seen = set()
    for before, after in zip(images.numpy(), shifted):
        # find the shift from any surviving pixel, then check the whole image against it
        y, x = np.argwhere(after[..., 0] > 0)[0]
        source = np.argwhere(before[..., 0] == after[y, x, 0])[0]
        dy, dx = source - (y, x)
        assert -4 <= dy <= 4 and -4 <= dx <= 4
        expected = np.zeros_like(before)
        rows, columns = np.arange(32) + dy, np.arange(32) + dx
        keep_r, keep_c = (rows >= 0) & (rows < 32), (columns >= 0) & (columns < 32)
        expected[np.ix_(keep_r, keep_c)] = before[np.ix_(rows[keep_r], columns[keep_c])]
        assert np.array_equal(after, expected)
        seen.add((dy, dx))
    assert len(seen) > 4  # each image draws its own shift


def test_cutout_zeroes_one_square_of_at_most_16_by_16_per_image():
    cut = cutout(tf.ones((32, 32, 32, 3)), tf.random.Generator.from_seed(5)).numpy()
    sizes = set()
    for image in cut:
        zero = image[..., 0] == 0
        assert np.array_equal(zero, image[..., 1] == 0)  # every channel alike
        rows, columns = np.flatnonzero(zero.any(1)), np.flatnonzero(zero.any(0))
        assert len(rows) <= 16 and len(columns) <= 16
        # a full rectangle: every pixel inside the bounding box is cut
        assert zero.sum() == len(rows) * len(columns)
        assert np.all(image[~zero] == 1)
        sizes.add(zero.sum())
    assert 256 in sizes and len(sizes) > 1  # whole squares, and some overhanging the edge


def test_color_on_a_flat_grey_image_only_shifts_its_brightness():
    # saturation and contrast scale differences from a mean: a flat image has none
    images = tf.fill((64, 32, 32, 3), 0.25)
    out = color(images, tf.random.Generator.from_seed(7)).numpy()
    shift = out[:, 0, 0, 0] - 0.25
    assert np.allclose(out, 0.25 + shift[:, None, None, None], atol=1e-6)
    assert shift.min() >= -0.5 and shift.max() <= 0.5 and shift.std() > 0.1


def test_the_same_seed_gives_the_same_augmentation_and_another_seed_another():
    images = tf.random.uniform((4, 32, 32, 3), -1, 1, seed=1)
    first = diff_augment(images, tf.random.Generator.from_seed(11))
    again = diff_augment(images, tf.random.Generator.from_seed(11))
    other = diff_augment(images, tf.random.Generator.from_seed(12))
    assert np.array_equal(first, again) and not np.array_equal(first, other)


def test_gradients_flow_back_to_the_images():
    images = tf.Variable(tf.random.uniform((4, 32, 32, 3), -1, 1, seed=2))
    with tf.GradientTape() as tape:
        total = tf.reduce_sum(diff_augment(images, tf.random.Generator.from_seed(1)) ** 2)
    gradient = tape.gradient(total, images).numpy()
    assert np.isfinite(gradient).all() and np.count_nonzero(gradient) > gradient.size // 4
