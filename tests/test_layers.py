"""The fluent chain builds exactly the tutorial's layers: shapes, parameters, activations."""

import re

import keras
import numpy as np
import pytest

from gan_demo.program import create_discriminator, create_generator
from kerasutil import input_variable, leaky_relu
from tests.layer_tables import layer_table


@pytest.fixture(scope="module")
def generator():
    return create_generator()


@pytest.fixture(scope="module")
def discriminator():
    return create_discriminator()


def test_generator_layer_by_layer(generator):
    assert layer_table(generator) == [
        ("Dense", (32768,), 32 * 32768 + 32768),
        ("LeakyReLU", (32768,), 0),
        ("Reshape", (16, 16, 128), 0),
        ("Conv2D", (16, 16, 256), 5 * 5 * 128 * 256 + 256),
        ("LeakyReLU", (16, 16, 256), 0),
        ("Conv2DTranspose", (32, 32, 256), 4 * 4 * 256 * 256 + 256),
        ("LeakyReLU", (32, 32, 256), 0),
        ("Conv2D", (32, 32, 256), 5 * 5 * 256 * 256 + 256),
        ("LeakyReLU", (32, 32, 256), 0),
        ("Conv2D", (32, 32, 256), 5 * 5 * 256 * 256 + 256),
        ("LeakyReLU", (32, 32, 256), 0),
        ("Conv2D", (32, 32, 3), 7 * 7 * 256 * 3 + 3),
        ("Activation", (32, 32, 3), 0),
    ]
    assert generator.count_params() == 6_264_579
    assert generator.input_shape == (None, 32)
    assert generator.output_shape == (None, 32, 32, 3)


def test_discriminator_layer_by_layer(discriminator):
    assert layer_table(discriminator) == [
        ("Conv2D", (30, 30, 128), 3 * 3 * 3 * 128 + 128),
        ("LeakyReLU", (30, 30, 128), 0),
        ("Conv2D", (14, 14, 128), 4 * 4 * 128 * 128 + 128),
        ("LeakyReLU", (14, 14, 128), 0),
        ("Conv2D", (6, 6, 128), 4 * 4 * 128 * 128 + 128),
        ("LeakyReLU", (6, 6, 128), 0),
        ("Conv2D", (2, 2, 128), 4 * 4 * 128 * 128 + 128),
        ("LeakyReLU", (2, 2, 128), 0),
        ("Dropout", (2, 2, 128), 0),
        ("Flatten", (512,), 0),
        ("Dense", (1,), 513),
        ("Activation", (1,), 0),
    ]
    assert discriminator.count_params() == 790_913
    assert discriminator.input_shape == (None, 32, 32, 3)
    assert discriminator.output_shape == (None, 1)


def test_convolutions_pad_and_stride_as_the_tutorial_says(generator, discriminator):
    convolutions = [layer for network in (generator, discriminator) for layer in network.layers
                    if isinstance(layer, (keras.layers.Conv2D, keras.layers.Conv2DTranspose))]
    # generator: four "same" convolutions and the transposed one; discriminator: four "valid"
    assert [layer.padding for layer in convolutions] == ["same"] * 5 + ["valid"] * 4
    assert [layer.strides for layer in convolutions] == \
        [(1, 1), (2, 2), (1, 1), (1, 1), (1, 1), (1, 1), (2, 2), (2, 2), (2, 2)]


def test_every_leaky_relu_has_the_tutorials_slope_not_keras_default(generator, discriminator):
    slopes = [layer.negative_slope for network in (generator, discriminator)
              for layer in network.layers if isinstance(layer, keras.layers.LeakyReLU)]
    assert slopes == [0.1] * 9
    # the trap this guards against: Keras's own default slope is 0.3
    assert float(keras.layers.LeakyReLU()(np.array([-1.0]))[0]) == pytest.approx(-0.3)
    assert float(leaky_relu(0.1).layer()(np.array([-1.0]))[0]) == pytest.approx(-0.1)


def test_output_activations_are_tanh_and_sigmoid(generator, discriminator):
    assert generator.layers[-1].get_config()["activation"] == "tanh"
    assert discriminator.layers[-1].get_config()["activation"] == "sigmoid"


def test_weights_start_glorot_uniform_with_zero_bias(generator):
    dense = generator.layers[1]
    assert isinstance(dense.kernel_initializer, keras.initializers.GlorotUniform)
    limit = np.sqrt(6 / (32 + 32768))
    kernel = dense.kernel.numpy()
    assert np.abs(kernel).max() <= np.float32(limit) * (1 + 1e-6)  # float32 rounding
    assert np.abs(kernel).max() > 0.9 * limit
    assert not dense.bias.numpy().any()


def test_dropout_drops_the_rate_the_text_says(discriminator):
    dropout = next(layer for layer in discriminator.layers
                   if isinstance(layer, keras.layers.Dropout))
    assert dropout.rate == 0.4
    kept = dropout(np.ones((200_000,), np.float32), training=True).numpy()
    assert np.mean(kept == 0) == pytest.approx(0.4, abs=0.01)
    assert np.all(dropout(np.ones((100,)), training=False).numpy() == 1)


def test_dense_flattens_an_input_of_rank_above_one():
    network = input_variable((2, 3)).dense(4).to_network()
    assert [type(layer).__name__ for layer in network.layers[1:]] == ["Flatten", "Dense"]
    assert network.count_params() == 6 * 4 + 4


def test_convolution_without_bias_and_padding():
    network = input_variable((8, 8, 2)).convolution2d(5, (3, 3), bias=False).to_network()
    assert network.output_shape == (None, 6, 6, 5)
    assert network.count_params() == 3 * 3 * 2 * 5


def test_batch_normalization_normalises_with_momentum_0_9_then_applies_its_activation():
    network = input_variable((2, 2, 3)).batch_normalization(activation="relu").to_network()
    normalisation, activation = network.layers[1:]
    assert isinstance(normalisation, keras.layers.BatchNormalization)
    assert normalisation.momentum == 0.9 and normalisation.count_params() == 4 * 3
    assert activation.get_config()["activation"] == "relu"
    images = np.random.default_rng(0).normal(5, 3, (8, 2, 2, 3)).astype(np.float32)
    normalised = np.asarray(normalisation(images, training=True))
    assert np.allclose(normalised.mean(axis=(0, 1, 2)), 0, atol=1e-5)
    assert np.allclose(normalised.std(axis=(0, 1, 2)), 1, atol=1e-2)
    # one training batch moves the running mean a tenth of the way from 0 to the batch's
    assert np.allclose(normalisation.moving_mean, 0.1 * images.mean(axis=(0, 1, 2)), atol=1e-5)


def test_upsampling2d_repeats_each_pixel_and_learns_nothing():
    network = input_variable((2, 2, 1)).upsampling2d((2, 2)).to_network()
    assert network.output_shape == (None, 4, 4, 1) and network.count_params() == 0
    image = np.array([[1, 2], [3, 4]], np.float32).reshape(1, 2, 2, 1)
    assert np.asarray(network(image))[0, :, :, 0].tolist() == [
        [1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]]
    assert input_variable((2, 3, 1)).upsampling2d(3).shape == (6, 9, 1)


def test_convolution_transpose_reaches_an_output_shape_that_needs_output_padding():
    variable = input_variable((5, 5, 1))
    network = variable.convolution_transpose((3, 3), 2, strides=(2, 2), output_shape=(12, 12),
                                             padding=False).to_network()
    assert network.output_shape == (None, 12, 12, 2)


def test_convolution_transpose_refuses_an_unreachable_output_shape():
    with pytest.raises(ValueError, match="turns 16 into 32, not the requested 40"):
        input_variable((16, 16, 4)).convolution_transpose((4, 4), 4, strides=(2, 2),
                                                          output_shape=(40, 40))


@pytest.mark.parametrize("make, message", [
    (lambda: input_variable((4,)).dense(2, activation="softmaxx"),
     re.escape("unknown activation 'softmaxx': use leaky_relu(alpha) or one of 'tanh', ")),
    (lambda: leaky_relu(-0.1), "leaky_relu: alpha must be a number >= 0, got -0.1"),
    (lambda: input_variable((4, 4, 1)).dropout(1.0), r"dropout: rate must be in \[0, 1\)"),
    (lambda: input_variable((0, 3)), "input_variable: shape must be positive ints"),
    (lambda: input_variable((4, 4, 1)).batch_normalization(momentum=1.0),
     r"batch_normalization: momentum must be in \[0, 1\), got 1.0"),
    (lambda: input_variable((8, 8, 1)).convolution2d(2, (3, 3, 3)),
     "filter_shape must be a positive int or two positive ints"),
    (lambda: input_variable((4, 4, 1)).upsampling2d(0),
     re.escape("size must be a positive int or two positive ints, got (0, 0)")),
])
def test_bad_arguments_raise_value_errors_that_say_what_is_wrong(make, message):
    with pytest.raises(ValueError, match=message):
        make()
