"""The stable recipe's two pairs of networks, both built with kerasutil's chain.

* ``"tutorial"``: the tutorial's own generator and discriminator (program.py), narrowed.
* ``"dcgan"``: the layout of Radford et al. 2016 (DCGAN): the generator starts from a 4x4
  grid and doubles it three times with transposed convolutions, each followed by batch
  normalisation; the discriminator mirrors it with three strided convolutions. The tutorial's
  generator starts at 16x16 and spends most of its arithmetic on 5x5 filters at full size,
  where a filter only sees a small patch; the DCGAN generator decides the frog's outline at
  4x4 and 8x8, where each filter sees a large part of the picture.

* ``"dcgan-resize"``: DCGAN's, with each transposed convolution of the generator replaced by
  a nearest-neighbour doubling and a 3x3 convolution (a resize-convolution, Odena et al. 2016,
  "Deconvolution and checkerboard artifacts"), for the checkerboard the recipe's grids show
  after long runs. Each doubling costs 9/4 of the transposed convolution's arithmetic.

``width`` is the generator's channel count at 16x16 for "dcgan" (4x at 4x4, 2x at 8x8, half
at 32x32; the discriminator mirrors it), and as program.py says for "tutorial".
"""

from gan_demo import program
from kerasutil import input_variable, leaky_relu

NETWORKS = ("tutorial", "dcgan", "dcgan-resize")


def create_generator(networks, width):
    """The generator: latent vector -> 32x32x3 image in [-1, 1] (tanh).

    Example:
        >>> create_generator("dcgan", 64).output_shape
        (None, 32, 32, 3)
    """
    if networks == "tutorial":
        return program.create_generator(width)
    _check(networks, width)
    double = _resize_convolution if networks == "dcgan-resize" else _transposed_convolution
    variable = (
        input_variable((program.latent_dimensions,), name="generator_input")
        .dense(4 * 4 * 4 * width)
        .reshape((4, 4, 4 * width))
        .batch_normalization(activation="relu")
    )
    for filters in (2 * width, width, width // 2):  # 4x4 -> 8x8 -> 16x16 -> 32x32
        variable = double(variable, filters).batch_normalization(activation="relu")
    return (variable.convolution2d(program.channels, (3, 3), padding=True, activation="tanh")
            .to_network(name="generator"))


def _transposed_convolution(variable, filters):
    # no bias before a normalisation, which subtracts it again
    return variable.convolution_transpose((4, 4), filters, strides=(2, 2), bias=False)


def _resize_convolution(variable, filters):
    return variable.upsampling2d((2, 2)).convolution2d(filters, (3, 3), padding=True,
                                                       bias=False)


def create_discriminator(networks, width):
    """The discriminator: 32x32x3 image -> P(fake) (sigmoid), as the tutorial's.

    Example:
        >>> create_discriminator("dcgan", 64).output_shape
        (None, 1)
    """
    if networks == "tutorial":
        return program.create_discriminator(width)
    _check(networks, width)
    # no normalisation here: the R1 penalty wants each picture's score to depend on it alone
    return (
        input_variable((program.image_height, program.image_width, program.channels),
                       name="discriminator_input")
        .convolution2d(width // 2, (4, 4), padding=True, strides=(2, 2),
                       activation=leaky_relu(0.2))
        .convolution2d(width, (4, 4), padding=True, strides=(2, 2), activation=leaky_relu(0.2))
        .convolution2d(2 * width, (4, 4), padding=True, strides=(2, 2),
                       activation=leaky_relu(0.2))
        .dense(1, activation="sigmoid")
        .to_network(name="discriminator")
    )


def check_networks(networks):
    """Raise ValueError unless ``networks`` names one of NETWORKS."""
    if networks not in NETWORKS:
        raise ValueError(f"networks must be one of {', '.join(map(repr, NETWORKS))}, "
                         f"got {networks!r}")


def _check(networks, width):
    check_networks(networks)
    if width % 2:
        raise ValueError(f"width must be even for the {networks} networks, got {width}")
