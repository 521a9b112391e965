"""Learners and trainers: CNTK's AdaDelta, one step per train_batch, the frozen discriminator."""

import keras
import numpy as np
import pytest

from gan_demo.program import create_discriminator, create_generator
from kerasutil import Gan, input_variable

BCE = "binary_crossentropy"


def tiny_network():
    return input_variable((2,)).dense(1, activation="sigmoid").to_network()


def snapshot(network):
    return [v.numpy().copy() for v in network.trainable_variables]


def changed(before, network):
    """One flag per variable: did it move since ``before``?"""
    return [not np.array_equal(a, v.numpy()) for a, v in zip(before, network.trainable_variables)]


def test_ada_delta_learner_has_cntks_constants_and_takes_the_tutorials_integer_rate():
    learner = tiny_network().get_ada_delta_learner(1)
    assert isinstance(learner, keras.optimizers.Adadelta)
    assert float(learner.learning_rate) == 1.0
    assert (learner.rho, learner.epsilon) == (0.95, 1e-8)
    # the traps: Keras rejects the integer 1 and its defaults are not CNTK's
    with pytest.raises(ValueError, match="learning_rate"):
        keras.optimizers.Adadelta(learning_rate=1)
    default = keras.optimizers.Adadelta()
    assert float(default.learning_rate) == pytest.approx(0.001) and default.epsilon == 1e-7


def test_train_batch_reports_the_loss_of_the_batch_before_the_step():
    network = tiny_network()
    trainer = network.get_trainer(network.get_ada_delta_learner(1), BCE, BCE)
    # zero inputs and a zero bias give p = 0.5, so the loss is ln 2 exactly
    result = trainer.train_batch(np.zeros((4, 2)), np.ones((4, 1)))
    assert isinstance(result.loss, float)
    assert result.loss == pytest.approx(np.log(2), abs=1e-6)
    assert result.metric == result.loss
    # the step moved the bias towards the label 1
    assert float(network.layers[1].bias.numpy()[0]) > 0


def test_a_trainer_minimises_its_loss():
    keras.utils.set_random_seed(0)
    network = tiny_network()
    trainer = network.get_trainer(network.get_ada_delta_learner(1), BCE, BCE)
    features = np.array([[1, 0], [0, 1]] * 4, np.float32)
    labels = np.array([[1], [0]] * 4, np.float32)
    losses = [trainer.train_batch(features, labels).loss for _ in range(1000)]
    # AdaDelta starts with tiny steps (epsilon 1e-8), then speeds up
    assert losses[-1] < 0.7 * losses[0]
    assert losses[-1] < losses[len(losses) // 2] < losses[0]


def test_train_batch_refuses_labels_outside_zero_one_for_binary_cross_entropy():
    network = tiny_network()
    trainer = network.get_trainer(network.get_ada_delta_learner(1), BCE, BCE)
    with pytest.raises(ValueError, match=r"labels in \[0, 1\], got \[0.000, 1.050\]: clip"):
        trainer.train_batch(np.zeros((2, 2)), np.array([[1.05], [0.0]]))


def test_one_learner_per_trainer_and_known_losses_only():
    network = tiny_network()
    learner = network.get_ada_delta_learner(1)
    network.get_trainer(learner, BCE, BCE)
    with pytest.raises(ValueError, match="create one learner per trainer"):
        network.get_trainer(learner, BCE, BCE)
    with pytest.raises(ValueError, match="unknown loss 'hinge'"):
        network.get_trainer(network.get_ada_delta_learner(1), "hinge", BCE)
    with pytest.raises(ValueError, match="learning_rate must be a number > 0"):
        network.get_ada_delta_learner(0)


# the tutorial's width trains slowly on a CPU: the default run proves the same at width 16
@pytest.fixture(scope="module", params=[pytest.param(16, id="width-16"),
                                        pytest.param(256, id="tutorial-width",
                                                     marks=pytest.mark.slow)])
def tutorial_gan(request):
    """The tutorial's networks and trainers, built as program.py builds them."""
    width = request.param
    generator, discriminator = create_generator(width), create_discriminator(width)
    gan = Gan.create_gan(generator, discriminator)
    discriminator_trainer = discriminator.get_trainer(
        discriminator.get_ada_delta_learner(1), BCE, BCE)
    gan_trainer = gan.get_trainer(gan.get_ada_delta_learner(1), BCE, BCE)
    return generator, discriminator, gan, discriminator_trainer, gan_trainer


def test_gan_step_moves_only_the_generator_and_discriminator_step_only_the_discriminator(
        tutorial_gan):
    generator, discriminator, gan, discriminator_trainer, gan_trainer = tutorial_gan
    rng = np.random.default_rng(0)
    real = rng.random((8, 32, 32, 3), dtype=np.float32)
    # twice round, so the discriminator's step after a GAN step is checked too: in Keras 3,
    # freezing with `trainable = False` can stop the discriminator from training at all
    for _ in range(2):
        fakes = Gan.generate_images(generator, 8, 32, rng=rng)
        before_g, before_d = snapshot(generator), snapshot(discriminator)
        discriminator_trainer.train_batch(*Gan.get_training_batch(fakes, real, 8, 0, rng=rng))
        assert all(changed(before_d, discriminator))
        assert not any(changed(before_g, generator))

        before_g, before_d = snapshot(generator), snapshot(discriminator)
        gan_trainer.train_batch(*Gan.get_misleading_batch(gan, 8, 32, rng=rng))
        assert not any(changed(before_d, discriminator))
        assert all(changed(before_g, generator))


def test_gan_trainer_optimises_exactly_the_generators_variables(tutorial_gan):
    generator, discriminator, gan, _, gan_trainer = tutorial_gan
    assert [id(v) for v in gan_trainer.variables] == [id(v) for v in generator.trainable_variables]
    assert [id(v) for v in gan.frozen_variables] == \
        [id(v) for v in discriminator.trainable_variables]
    # nothing was done through the trainable flags
    assert discriminator.trainable and all(layer.trainable for layer in discriminator.layers)


def test_any_batch_size_trains_including_64(tutorial_gan):
    generator, _, gan, discriminator_trainer, gan_trainer = tutorial_gan
    rng = np.random.default_rng(1)
    real = rng.random((64, 32, 32, 3), dtype=np.float32)
    fakes = Gan.generate_images(generator, 64, 32, rng=rng)
    features, labels = Gan.get_training_batch(fakes, real, 64, 0, rng=rng)
    assert features.shape == (128, 32, 32, 3)
    discriminator_result = discriminator_trainer.train_batch(features, labels)
    gan_result = gan_trainer.train_batch(*Gan.get_misleading_batch(gan, 64, 32, rng=rng))
    assert np.isfinite([discriminator_result.loss, gan_result.loss]).all()
    assert 0 < discriminator_result.loss and 0 < gan_result.loss
