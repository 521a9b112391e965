"""The Gan helper: the joined network, the batches and their labels, the saved pictures."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from kerasutil import DataUtil, Gan, compile_step, input_variable, leaky_relu

LATENT = 4


@pytest.fixture(scope="module")
def small_gan():
    """A generator and discriminator small enough to be instant, with the tutorial's shape."""
    generator = (input_variable((LATENT,)).dense(2 * 2 * 4, activation=leaky_relu(0.1))
                 .reshape((2, 2, 4))
                 .convolution_transpose((4, 4), 3, strides=(2, 2), activation="tanh")
                 .to_network())
    discriminator = (input_variable((4, 4, 3)).convolution2d(2, (3, 3))
                     .dropout(0.4).dense(1, activation="sigmoid").to_network())
    return generator, discriminator, Gan.create_gan(generator, discriminator)


def test_create_gan_shares_the_discriminator_instead_of_copying_it(small_gan):
    generator, discriminator, gan = small_gan
    assert gan.input_shape == (None, LATENT)
    assert gan.output_shape == (None, 1)
    assert gan.count_params() == generator.count_params() + discriminator.count_params()
    gan_ids = {id(v) for v in gan.trainable_variables}
    assert {id(v) for v in discriminator.trainable_variables} <= gan_ids
    latent = np.random.default_rng(0).standard_normal((3, LATENT)).astype(np.float32)
    expected = discriminator(generator(latent))
    np.testing.assert_allclose(gan(latent), expected, rtol=1e-6)


def test_create_gan_refuses_networks_that_do_not_fit():
    generator = input_variable((2,)).dense(3).to_network()
    discriminator = input_variable((4,)).dense(1).to_network()
    with pytest.raises(ValueError, match=r"generator makes \(3,\) but the discriminator takes"):
        Gan.create_gan(generator, discriminator)


def test_generate_images_runs_the_generator_on_standard_normal_latents(small_gan):
    generator, _, _ = small_gan
    images = Gan.generate_images(generator, 5, LATENT, rng=np.random.default_rng(7))
    latent = np.random.default_rng(7).standard_normal((5, LATENT)).astype(np.float32)
    assert images.shape == (5, 4, 4, 3)
    np.testing.assert_allclose(images, generator(latent), rtol=1e-6)
    assert images.min() >= -1 and images.max() <= 1


def test_training_batch_is_fakes_labelled_one_then_reals_labelled_zero():
    rng = np.random.default_rng(3)
    fakes = np.full((500, 2, 2, 3), -1, np.float32)
    real = np.arange(1000 * 12, dtype=np.float32).reshape(1000, 2, 2, 3)
    features, labels = Gan.get_training_batch(fakes, real, 500, 100, rng=rng)
    assert features.shape == (1000, 2, 2, 3) and labels.shape == (1000, 1)
    assert features.dtype == labels.dtype == np.float32
    assert np.all(features[:500] == -1)
    np.testing.assert_array_equal(features[500:], real[100:600])
    fake_labels, real_labels = labels[:500, 0], labels[500:, 0]
    # noise of 0.05 N(0, 1), clipped: about half of each side sits exactly on its bound
    assert fake_labels.min() > 0.75 and fake_labels.max() == 1.0
    assert real_labels.min() == 0.0 and real_labels.max() < 0.25
    assert 0.4 < np.mean(fake_labels == 1.0) < 0.6
    assert 0.4 < np.mean(real_labels == 0.0) < 0.6
    # what noise is left is half-normal: its mean is 0.05 * sqrt(2 / pi)
    noise = np.concatenate([1 - fake_labels[fake_labels < 1], real_labels[real_labels > 0]])
    assert noise.mean() == pytest.approx(0.05 * np.sqrt(2 / np.pi), rel=0.1)


def test_binary_cross_entropy_needs_the_clipping():
    # why labels are clipped: with a label above 1 Keras's loss goes below zero and the optimum
    # runs away to the edge, so the loss has no lower bound worth minimising
    loss = keras.losses.binary_crossentropy(np.array([[1.05]]), np.array([[1 - 1e-7]]))
    assert float(loss[0]) < 0


def test_training_batch_refuses_a_start_past_the_data():
    fakes = np.zeros((8, 2, 2, 3), np.float32)
    with pytest.raises(ValueError, match="start 95 leaves no 8 images in 100"):
        Gan.get_training_batch(fakes, np.zeros((100, 2, 2, 3)), 8, 95)
    with pytest.raises(ValueError, match="batch_size must be a positive int, got 0"):
        Gan.get_training_batch(fakes, np.zeros((100, 2, 2, 3)), 0, 0)


def write_tutorial_bin(folder, pixels):
    """Write channels-last ``pixels`` as the tutorial's x_channels_first_8_5.bin: per image,
    every red value row by row, then every green, then every blue, as little-endian float32."""
    planes = [pixels[..., channel].reshape(len(pixels), -1) for channel in range(3)]
    np.concatenate(planes, axis=1).astype("<f4").tofile(folder / "x_channels_first_8_5.bin")


@pytest.fixture
def tutorial_frogs(tmp_path, monkeypatch):
    """5,000 small non-square frogs (2 rows of 4 pixels, all different), channels last, written
    to x_channels_first_8_5.bin in the current folder as the tutorial's data line expects."""
    pixels = (np.arange(5000 * 2 * 4 * 3).reshape(5000, 2, 4, 3) % 251 / 255).astype(np.float32)
    write_tutorial_bin(tmp_path, pixels)
    monkeypatch.chdir(tmp_path)
    return pixels


def test_the_tutorials_data_line_feeds_get_training_batch(tutorial_frogs):
    # the tutorial's lines, typed as a student types them (image size kept tiny)
    channels, image_width, image_height = 3, 4, 2
    training_data = DataUtil.load_binary("x_channels_first_8_5.bin", 5000,
                                         channels * image_width * image_height)
    batch_size = 8
    generated_images = np.full((batch_size, image_height, image_width, channels), -1, np.float32)
    for start in (0, 4992):
        start = min(start, len(training_data) - batch_size)
        batch = Gan.get_training_batch(generated_images, training_data, batch_size, start)
        features, labels = batch
        assert features.shape == (16, 2, 4, 3) and labels.shape == (16, 1)
        np.testing.assert_array_equal(features[:8], generated_images)
        np.testing.assert_array_equal(features[8:], tutorial_frogs[start:start + batch_size])
    # one pixel read by hand: image 4999's bottom right blue is record value 2 * 8 + 1 * 4 + 3
    assert features[15, 1, 3, 2] == training_data[4999, 23] == tutorial_frogs[4999, 1, 3, 2]


def test_the_tutorials_records_feed_the_tensor_form_in_a_compiled_step(tutorial_frogs):
    training_data = tf.constant(DataUtil.load_binary("x_channels_first_8_5.bin", 5000, 24))
    fakes = tf.fill((4, 2, 4, 3), -1.0)
    rng = tf.random.Generator.from_seed(4)
    batch = compile_step(lambda start: Gan.get_training_batch(fakes, training_data, 4, start,
                                                              rng))
    for start in (0, 2468, 4996):
        features, labels = batch(start)
        assert features.shape == (8, 2, 4, 3) and labels.shape == (8, 1)
        np.testing.assert_array_equal(features[:4], -1.0)
        np.testing.assert_array_equal(features[4:], tutorial_frogs[start:start + 4])


def test_the_tensor_form_gathers_its_reals_so_xla_compiles_the_step_once():
    # XLA takes a slice's start as a compile-time constant and compiles the step again for
    # every new start (about 2 s each on a CPU); a gather takes the start as a plain input
    frogs = tf.constant(np.random.default_rng(0).random((64, 2, 4, 3), np.float32))
    fakes = tf.fill((4, 2, 4, 3), -1.0)
    rng = tf.random.Generator.from_seed(4)
    batch = tf.function(lambda start: Gan.get_training_batch(fakes, frogs, 4, start, rng),
                        jit_compile=True)
    graph = batch.get_concrete_function(tf.TensorSpec((), tf.int32)).graph
    operations = graph.get_operations()
    assert "GatherV2" in {operation.type for operation in operations}
    slice_starts = [operation.inputs[1].op.type for operation in operations
                    if operation.type == "StridedSlice"]
    assert set(slice_starts) <= {"Const"}  # only the fakes' [:batch_size], a true constant
    features, _ = batch(tf.constant(60))
    np.testing.assert_array_equal(features[4:], frogs[60:64])


@pytest.mark.parametrize("form", ["numpy", "tensor"])
def test_training_batch_refuses_training_data_of_neither_shape(form):
    fakes = np.zeros((8, 32, 32, 3), np.float32)
    rng = None if form == "numpy" else tf.random.Generator.from_seed(0)
    convert = np.asarray if form == "numpy" else tf.constant
    expected = ("get_training_batch: training data shaped {} is neither images like the "
                "generated ones, (count, 32, 32, 3), nor flat channels-first records, "
                "(count, 3072): pass DataUtil.load_frog_pictures(path) or "
                "DataUtil.load_binary(path, count, 3072)")
    for shape in [(100, 1024), (100, 3, 32, 32), (100, 32, 32), (100, 16, 16, 3)]:
        with pytest.raises(ValueError) as caught:
            Gan.get_training_batch(convert(fakes), convert(np.zeros(shape, np.float32)), 8, 0,
                                   rng=rng)
        assert str(caught.value) == expected.format(shape)


def test_misleading_batch_is_latent_vectors_all_labelled_real(small_gan):
    _, _, gan = small_gan
    features, labels = Gan.get_misleading_batch(gan, 6, LATENT, rng=np.random.default_rng(5))
    np.testing.assert_array_equal(
        features, np.random.default_rng(5).standard_normal((6, LATENT)).astype(np.float32))
    assert labels.shape == (6, 1) and not labels.any()
    with pytest.raises(ValueError, match=r"takes \(4,\), not 32 latent dimensions"):
        Gan.get_misleading_batch(gan, 6, 32)


def test_save_image_writes_exact_rgb_pixels(tmp_path):
    image = np.array([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
                      [[0.5, 0.2, 0.6], [-0.3, 1.4, np.nan], [0.999, 0.001, 0.25]]], np.float32)
    path = tmp_path / "frog.png"
    Gan.save_image(image, 3, 2, str(path))
    with Image.open(path) as written:
        assert (written.format, written.mode, written.size) == ("PNG", "RGB", (3, 2))
        pixels = np.asarray(written)
    np.testing.assert_array_equal(pixels, [
        [[255, 0, 0], [0, 255, 0], [0, 0, 255]],
        [[128, 51, 153], [0, 255, 0], [255, 0, 64]],
    ])
    assert os.listdir(tmp_path) == ["frog.png"]


def test_save_image_takes_a_flat_array_and_refuses_a_wrong_size(tmp_path):
    Gan.save_image(np.linspace(0, 1, 12), 2, 2, tmp_path / "flat.png")
    with Image.open(tmp_path / "flat.png") as written:
        assert np.asarray(written)[1, 1].tolist() == [209, 232, 255]
    with pytest.raises(ValueError, match=r"save_image: 12 values for a 3x3 RGB image \(27"):
        Gan.save_image(np.zeros(12), 3, 3, tmp_path / "bad.png")
    assert sorted(os.listdir(tmp_path)) == ["flat.png"]
