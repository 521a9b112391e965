"""The tutorial's Program.cs, line by line: train a GAN to generate frog pictures.

Hold this file beside "Create AI-generated wildlife": every step comes in the same order, under
the same comment. Where Python or Keras needs something different, a comment says so, and the
"Differences from the tutorial" table in docs/tutorial-to-python.md explains why.
"""

import os

import keras
import tensorflow as tf

from gan_demo.checkpoint import RandomState
from gan_demo.run import Run
from kerasutil import DataUtil, Gan, compile_step, input_variable, leaky_relu, step_random

# the number of latent dimensions to use in the generator
latent_dimensions = 32

# the image dimensions and number of color channels
image_height = 32
image_width = 32
channels = 3

# the tutorial's channel count in the generator; the discriminator and the reshape use half
tutorial_width = 256

# the tutorial's training: 100,000 epochs, each on 8 real and 8 fake images
num_epochs = 100_000
batch_size = 8

# report the losses every 100 epochs, save a frog every 1,000
log_every = 100
save_every = 1000

# the learning rate of both AdaDelta learners (CNTK's rho and epsilon are kerasutil.network's)
learning_rate = 1


def create_generator(width=tutorial_width):
    """The tutorial's generator: latent vector -> 32x32x3 image (6,264,579 parameters).

    Args:
        width: the generator's channel count (the tutorial's 256); the reshape gets width / 2.
    """
    half = width // 2
    # create the generator input variable
    generator_var = input_variable((latent_dimensions,), name="generator_input")

    # create the generator
    generator = (
        generator_var
        .dense(half * 16 * 16, activation=leaky_relu(0.1))
        .reshape((16, 16, half))
        .convolution2d(width, (5, 5), padding=True, activation=leaky_relu(0.1))
        .convolution_transpose(
            filter_shape=(4, 4),
            number_of_filters=width,
            strides=(2, 2),
            output_shape=(32, 32),
            padding=True,
            activation=leaky_relu(0.1),
        )
        .convolution2d(width, (5, 5), padding=True, activation=leaky_relu(0.1))
        .convolution2d(width, (5, 5), padding=True, activation=leaky_relu(0.1))
        .convolution2d(channels, (7, 7), padding=True, activation="tanh")
        .to_network(name="generator")
    )
    return generator


def create_discriminator(width=tutorial_width):
    """The tutorial's discriminator: 32x32x3 image -> P(fake) (790,913 parameters).

    Args:
        width: the generator's channel count; the discriminator gets width / 2 (the tutorial's 128).
    """
    half = width // 2
    # create the discriminator input variable
    # (Keras is channels-last: height, width, channels)
    discriminator_var = input_variable((image_height, image_width, channels),
                                       name="discriminator_input")

    # create the discriminator
    discriminator = (
        discriminator_var
        .convolution2d(half, (3, 3), activation=leaky_relu(0.1))
        .convolution2d(half, (4, 4), strides=(2, 2), activation=leaky_relu(0.1))
        .convolution2d(half, (4, 4), strides=(2, 2), activation=leaky_relu(0.1))
        .convolution2d(half, (4, 4), strides=(2, 2), activation=leaky_relu(0.1))
        .dropout(0.4)
        .dense(1, activation="sigmoid")
        .to_network(name="discriminator")
    )
    return discriminator


def main(data="frog_pictures.zip", epochs=num_epochs, batch_size=batch_size, output="images",
         seed=None, width=tutorial_width, save_every=save_every, run=None, jit_compile=False):
    """The tutorial's Main: load the frogs, build the GAN and train it, saving a frog now and then.

    Args:
        data: frog_pictures.zip (or the x_channels_first_8_5.bin inside it).
        epochs: training steps; each is one discriminator step and one GAN step.
        batch_size: real images per step (and as many fakes).
        output: the folder for generated_frog_{epoch}.png.
        seed: seed all random numbers for a repeatable run; None for a fresh one.
        width: the generator's channel count (the tutorial's 256).
        save_every: save a generated frog every this many epochs (the tutorial's 1,000).
        run: a gan_demo.run.Run that watches the training (progress, pictures, checkpoints);
            None prints the tutorial's lines and nothing else.
        jit_compile: compile the training step with XLA too (--xla).

    Returns:
        The trained generator and discriminator.

    Raises:
        kerasutil.DataError: if the frog data is missing or malformed.
    """
    run = run or Run()
    if seed is not None:
        keras.utils.set_random_seed(seed)

    # unpack archive and load training data
    # (the port reads x_channels_first_8_5.bin straight from the zip and makes it channels-last)
    run.log("Loading data files...")
    training_data = DataUtil.load_frog_pictures(data)

    # (not in the tutorial) the frogs go to the device once, and the training step's random
    # numbers come from one generator that checkpoints save; batches are sliced on the device
    training_data = tf.constant(training_data)
    rng = step_random(seed)

    # create the generator and the discriminator
    generator = create_generator(width)
    discriminator = create_discriminator(width)

    # create the Gan
    gan = Gan.create_gan(generator, discriminator)

    # create the label variable
    # (Keras needs none: the labels go straight to train_batch)

    # set up the loss functions
    discriminator_loss = "binary_crossentropy"
    gan_loss = "binary_crossentropy"

    # set up the learners
    discriminator_learner = discriminator.get_ada_delta_learner(learning_rate)
    gan_learner = gan.get_ada_delta_learner(learning_rate)

    # set up the trainers
    discriminator_trainer = discriminator.get_trainer(
        discriminator_learner, discriminator_loss, discriminator_loss)
    gan_trainer = gan.get_trainer(gan_learner, gan_loss, gan_loss)

    # make sure we have an images folder to write to
    output_folder = output
    os.makedirs(output_folder, exist_ok=True)

    # (not in the tutorial) start watching the run; a resumed run continues where it stopped
    first_epoch, start = run.begin(generator, discriminator, discriminator_learner, gan_learner,
                                   extra_parts={"random": RandomState(rng)})

    # (the port compiles one epoch's work, the five steps below, into a single TensorFlow
    # graph: the same calls in the same order, with no Python and no NumPy between them)
    def train_epoch(start):
        # run the generator and create a set of fake frog images
        generated_images = Gan.generate_images(generator, batch_size, latent_dimensions, rng)

        # get a training batch: a mix of fake and real images labelled correctly
        batch = Gan.get_training_batch(generated_images, training_data, batch_size, start, rng)

        # train the discriminator
        discriminator_result = discriminator_trainer.train_batch(*batch)

        # get a misleading batch: all fake images but labelled as real
        misleading_batch = Gan.get_misleading_batch(gan, batch_size, latent_dimensions, rng)

        # train the gan
        gan_result = gan_trainer.train_batch(*misleading_batch)
        return generated_images[0], discriminator_result, gan_result

    train_epoch = compile_step(train_epoch, jit_compile=jit_compile)

    # train the gan for multiple epochs
    run.log("Training Gan...")
    num_epochs = epochs
    for epoch in range(first_epoch, num_epochs):
        # run one epoch: generate fakes, train the discriminator, then the gan
        start = min(start, len(training_data) - batch_size)
        generated_image, discriminator_result, gan_result = train_epoch(start)
        start += batch_size
        if start >= len(training_data):
            start = 0

        # report result every 100 epochs
        if epoch % log_every == 0:
            run.log(f"Epoch: {epoch}, Discriminator loss: {discriminator_result.loss}, "
                    f"Gan loss: {gan_result.loss}")

        # save files every 1000 epochs (--save-every)
        if epoch % save_every == 0:
            # save a generated image
            path = os.path.join(output_folder, f"generated_frog_{epoch}.png")
            Gan.save_image(generated_image, image_width, image_height, path)

            # save an actual image for comparison
            # path = os.path.join(output_folder, f"actual_frog_{epoch}.png")
            # Gan.save_image(training_data[max(start - batch_size, 0)], image_width,
            #                image_height, path)

        # (not in the tutorial) record the losses, save pictures and a checkpoint, stop on Ctrl-C
        if run.end_epoch(epoch, start, float(discriminator_result.loss),
                         float(gan_result.loss)):
            break

    run.finish()
    return generator, discriminator
