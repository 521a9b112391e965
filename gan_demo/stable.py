"""The stable recipe: a GAN like the tutorial's, trained the way GANs are trained today.

``python -m gan_demo --recipe stable`` trains DCGAN's generator and discriminator
(stable_networks.py; the tutorial's own networks are an option) and changes how they learn
(benchmarks/quality.py measures each change; docs/stable-recipe.md says what it has shown so
far):

* the frogs in [-1, 1], the range of the generator's tanh (the tutorial feeds [0, 1], so a
  generator pixel can never be as dark as it is bright);
* the tutorial's AdaDelta still (Adam measured worse here), its learning rate halving every
  20,000 steps from the 20,000th (:class:`StableRecipe` holds both numbers), so a long run
  settles instead of breaking its frogs up into texture;
* a larger batch, and DCGAN's networks, a generator at width 32 against a discriminator at 64,
  far less arithmetic than the tutorial's: :class:`StableRecipe` holds every setting; a CPU
  trains on many more images in the same time;
* DiffAugment: the same random colour change, shift and cutout on real and fake images in both
  steps, so the discriminator cannot simply memorise 5,000 frogs;
* an R1 penalty (Mescheder et al. 2018) on the discriminator's gradient at real frogs, so it
  stays smooth where the frogs are and the generator gets steadier directions, and from the
  1,000th step LeCam's penalty (lecam.py), which keeps it from scoring the frogs it has
  learned by heart far from the fakes;
* an exponential moving average (EMA) of the generator's weights, warmed up from the start;
  grids, checkpoints' samples and generator.keras use the average, which is far less noisy.

One training step is one compiled TensorFlow function: it draws the noise and the batch of real
frogs (kept on the device), trains the discriminator, trains the generator through the frozen
discriminator, and updates the average. Nothing goes back and forth through NumPy.
"""

import os
from dataclasses import replace

import keras
import tensorflow as tf

from gan_demo import program
from gan_demo.checkpoint import RandomState, restore_variables
from gan_demo.lecam import LeCam
from gan_demo.program import latent_dimensions
from gan_demo.run import Run, TutorialLines
from gan_demo.stable_networks import create_discriminator, create_generator
from gan_demo.stable_recipe import StableRecipe
from kerasutil import DataUtil, step_random
from kerasutil.augment import diff_augment


class StableGan:
    """The recipe's two networks, an average of the generator, and one compiled training step.

    Label convention as in the tutorial: the discriminator outputs P(fake); fakes are 1, real
    frogs 0. The losses are the tutorial's binary cross-entropies, computed from the
    discriminator's logits (the input of its sigmoid) so they cannot saturate, or with
    ``StableRecipe(loss="hinge")`` the hinge on the same logits.

    Args:
        frogs: float32 images (count, 32, 32, 3) in [0, 1], as DataUtil loads them.
        width: the generator's channel count; None takes the recipe's.
        recipe: a :class:`StableRecipe`; ``self.recipe`` is it at the width trained.
        seed: seed of the step's random numbers (noise, batches, augmentation); None for fresh.
        jit_compile: compile the training step with XLA too.

    Example:
        >>> import numpy as np
        >>> gan = StableGan(np.zeros((16, 32, 32, 3), np.float32), width=8,
        ...                 recipe=StableRecipe(batch_size=4), seed=1)
        >>> d_loss, g_loss = gan.train_step()
        >>> gan.sampler(np.zeros((1, 32), np.float32)).shape
        TensorShape([1, 32, 32, 3])
    """

    def __init__(self, frogs, width=None, recipe=StableRecipe(), seed=None, jit_compile=False):
        if width is not None:
            recipe = replace(recipe, width=width)
        self.recipe = recipe
        self.generator = create_generator(recipe.networks, recipe.width)
        self.discriminator = create_discriminator(recipe.networks,
                                                  recipe.discriminator_width or recipe.width)
        # the same weights up to the sigmoid: the losses take logits
        self.critic = keras.Model(self.discriminator.input, self.discriminator.layers[-1].input)
        self.average = self.new_average()
        # what the tools sample from: the average, mapped to save_image's [0, 1]
        self.sampler = to_pixel_range(self.average)
        # the frogs live on the device once, in the tanh's range
        self.frogs = tf.constant(frogs * 2 - 1, dtype=tf.float32)
        self.rng = step_random(seed)
        self.lecam = LeCam(recipe.lecam, recipe.lecam_start) if recipe.lecam else None
        self.discriminator_learner = recipe.learner()
        self.generator_learner = recipe.learner()
        self.discriminator_learner.build(self.discriminator.trainable_variables)
        self.generator_learner.build(self.generator.trainable_variables)
        self.train_step = tf.function(self._train_step, jit_compile=jit_compile)

    @property
    def parts(self):
        """Everything a checkpoint must hold to continue this run exactly."""
        parts = {"generator": self.generator, "discriminator": self.discriminator,
                 "discriminator_learner": self.discriminator_learner,
                 "gan_learner": self.generator_learner, "average": self.average,
                 "random": RandomState(self.rng)}
        return {**parts, "lecam": self.lecam} if self.lecam else parts

    @staticmethod
    def _float32(tensor):
        # augmentation and losses in float32 where the networks compute in bfloat16
        return tf.cast(tensor, tf.float32)

    def _augment(self, images):
        return diff_augment(images, self.rng, self.recipe.augment) if self.recipe.augment \
            else images

    def _train_step(self):
        """One discriminator step, then one generator step; returns both losses."""
        return self.discriminator_step(), self.generator_step()

    def discriminator_step(self):
        """Train the discriminator on a batch of fakes (label 1) and real frogs (label 0)."""
        batch = self.recipe.batch_size
        latent = self.rng.normal((batch, latent_dimensions))
        index = self.rng.uniform((batch,), 0, tf.shape(self.frogs, out_type=tf.int64)[0],
                                 dtype=tf.int64)
        real = tf.gather(self.frogs, index)
        if self.recipe.mirror:
            real = self._mirror(real)
        fake = self._float32(self.generator(latent, training=True))
        with tf.GradientTape() as tape:
            logits = self._float32(
                self.critic(self._augment(tf.concat([fake, real], 0)), training=True))
            loss = self._discriminator_loss(logits[:batch], logits[batch:])
            total = loss + self._r1_penalty(real) if self.recipe.r1_gamma else loss
            if self.lecam:
                total += self.lecam(logits[:batch], logits[batch:],
                                    self.discriminator_learner.iterations)
        variables = self.discriminator.trainable_variables
        self.discriminator_learner.apply_gradients(zip(tape.gradient(total, variables), variables))
        return loss

    def _mirror(self, images):
        """Each image flipped left-right with probability 1/2."""
        flip = self.rng.uniform((tf.shape(images)[0], 1, 1, 1)) < 0.5
        return tf.where(flip, tf.reverse(images, axis=[2]), images)

    def _discriminator_loss(self, fake_logits, real_logits):
        """How far the critic is from calling fakes fake (high logits) and frogs real (low)."""
        if self.recipe.loss == "hinge":
            return (tf.reduce_mean(tf.nn.relu(1 - fake_logits))
                    + tf.reduce_mean(tf.nn.relu(1 + real_logits))) / 2
        # cross-entropy: -log(sigmoid(l)) = softplus(-l); -log(1 - sigmoid(l)) = softplus(l)
        return (tf.reduce_mean(tf.nn.softplus(-fake_logits))
                + tf.reduce_mean(tf.nn.softplus(real_logits))) / 2

    def _generator_loss(self, fake_logits):
        """How far the critic is from calling the generator's fakes real."""
        if self.recipe.loss == "hinge":
            return tf.reduce_mean(fake_logits)
        return tf.reduce_mean(tf.nn.softplus(fake_logits))

    def _r1_penalty(self, real):
        """gamma/2 times the squared gradient of the critic at (augmented) real frogs, on every
        ``r1_interval``-th step only, and then ``r1_interval`` times as heavy; 0 otherwise."""
        interval = self.recipe.r1_interval

        def penalty():
            images = self._augment(real)
            with tf.GradientTape() as inner:
                inner.watch(images)
                total = tf.reduce_sum(self._float32(self.critic(images, training=True)))
            gradient = inner.gradient(total, images)
            squared = tf.reduce_mean(tf.reduce_sum(tf.square(gradient), axis=[1, 2, 3]))
            return self.recipe.r1_gamma / 2 * interval * squared

        due = self.discriminator_learner.iterations % interval == 0
        return tf.cond(due, penalty, lambda: tf.constant(0.0))

    def generator_step(self):
        """Train the generator to make the discriminator say "real" (0), then update the
        average; only the generator's weights move."""
        latent = self.rng.normal((self.recipe.batch_size, latent_dimensions))
        with tf.GradientTape() as tape:
            fake = self._float32(self.generator(latent, training=True))
            logits = self._float32(self.critic(self._augment(fake), training=True))
            loss = self._generator_loss(logits)
        variables = self.generator.trainable_variables
        self.generator_learner.apply_gradients(zip(tape.gradient(loss, variables), variables))
        self.update_average(self.average, self.recipe.ema_decay)
        return loss

    def new_average(self):
        """A new generator holding the generator's current weights, to average it into."""
        average = create_generator(self.recipe.networks, self.recipe.width)
        for mine, theirs in zip(average.variables, self.generator.variables):
            mine.assign(theirs)
        return average

    def update_average(self, average, ema_decay):
        """Move ``average`` towards the generator, as the step does after each generator step.

        Args:
            average: a generator from :meth:`new_average`.
            ema_decay: the decay once warmed up (``StableRecipe.ema_decay`` for the step's).
        """
        # warm-up: early on the average follows the generator closely, or its samples would
        # stay near the random initial weights for thousands of steps; every variable, so
        # batch normalisation's running statistics are averaged as the weights are
        step = tf.cast(self.generator_learner.iterations, tf.float32)
        decay = tf.minimum(ema_decay, (1 + step) / (10 + step))
        for mine, theirs in zip(average.variables, self.generator.variables):
            mine.assign(decay * mine + (1 - decay) * theirs)


def main(data="frog_pictures.zip", epochs=program.num_epochs, batch_size=None, output="images",
         seed=None, width=None, save_every=program.save_every, run=None, recipe=None,
         jit_compile=False):
    """Train with the stable recipe; program.main's loop, with one compiled step.

    Args are program.main's; ``width`` and ``batch_size`` None take the recipe's, ``recipe``
    None the default :class:`StableRecipe`.

    Returns:
        The :class:`StableGan`.

    Raises:
        kerasutil.DataError: if the pictures file is missing or malformed.
    """
    run = run or Run()
    recipe = recipe or StableRecipe()
    if batch_size is not None:
        recipe = replace(recipe, batch_size=batch_size)
    if seed is not None:
        keras.utils.set_random_seed(seed)

    run.log("Loading data files...")
    # any pictures file, of any count: a missing one is named as such, not as the frogs
    training_data = DataUtil.load_pictures(data)
    gan = StableGan(training_data, width, recipe, seed, jit_compile)
    os.makedirs(output, exist_ok=True)
    # the tutorial's log line and generated frogs, which program.main's loop writes itself
    run.prepend(TutorialLines(output, save_every, program.log_every, latent_dimensions))
    parts = gan.parts
    first_epoch, _ = run.begin(*(parts.pop(name) for name in (
        "generator", "discriminator", "discriminator_learner", "gan_learner")),
        extra_parts=parts, sampler=gan.sampler)

    run.log("Training Gan (stable recipe)...")
    for epoch in range(first_epoch, epochs):
        # one compiled step: a discriminator step, a generator step, the average's update
        discriminator_loss, gan_loss = (float(loss) for loss in gan.train_step())
        if run.end_epoch(epoch, 0, discriminator_loss, gan_loss):
            break

    run.finish()
    return gan


def load_sampler(checkpoint, path):
    """The average generator of a stable-recipe checkpoint, with outputs in [0, 1]."""
    recipe = StableRecipe.from_settings(checkpoint["settings"])
    average = create_generator(recipe.networks, recipe.width)
    restore_variables(checkpoint, "average", average, path)
    return to_pixel_range(average)


def to_pixel_range(generator):
    """The same generator with its tanh's [-1, 1] mapped to save_image's [0, 1]."""
    return keras.Model(generator.input,
                       keras.layers.Rescaling(0.5, offset=0.5)(generator.output), name="generator")
