"""LeCam's penalty: its anchors, its one-sided charge, its start, and where the step uses it."""

import json

import numpy as np
import pytest
import tensorflow as tf

from gan_demo.lecam import LeCam
from gan_demo.stable import StableRecipe
from tests.test_stable import make_gan, values


def test_the_anchors_take_the_batch_until_the_start_then_move_at_0_99():
    lecam = LeCam(2.0, start=2)
    assert float(lecam(tf.constant([3.0, 1.0]), tf.constant([-1.0, -3.0]), step=0)) == 0.0
    assert [float(anchor) for anchor in lecam.variables] == [-2.0, 2.0]  # real, fake
    penalty = float(lecam(tf.constant([1.0, -4.0]), tf.constant([0.0, 3.0]), step=2))
    # real anchor 0.99 * -2 + 0.01 * 1.5, fake anchor 0.99 * 2 + 0.01 * -1.5
    np.testing.assert_allclose([float(a) for a in lecam.variables], [-1.965, 1.965], rtol=1e-6)
    # one-sided: the frog scored 3 (more fake than the fakes' anchor) and the fake scored -4
    # (more real than the frogs' anchor) cost nothing; the other two cost their squared gap
    expected = 2.0 * ((1.965 - 0.0) ** 2 / 2 + (1.0 + 1.965) ** 2 / 2)
    assert penalty == pytest.approx(expected, rel=1e-5)


def test_lecam_changes_the_discriminator_step_only_when_asked_and_started():
    plain = make_gan(lecam=0.0)
    waiting = make_gan(lecam=10.0, lecam_start=5)
    started = make_gan(lecam=10.0, lecam_start=0)
    for gan in (plain, waiting, started):
        gan.discriminator_step()
    assert all(np.array_equal(a, b)
               for a, b in zip(values(plain.discriminator), values(waiting.discriminator)))
    assert not np.allclose(values(plain.discriminator)[0], values(started.discriminator)[0])
    real, fake = (float(anchor) for anchor in started.lecam.variables)
    assert real != 0.0 and fake != 0.0 and real != fake
    for _ in range(2):  # compiled
        assert all(np.isfinite(float(loss)) for loss in started.train_step())


def test_a_checkpoint_holds_the_anchors_only_when_lecam_is_on():
    plain = make_gan(lecam=0.0)
    assert plain.lecam is None and "lecam" not in plain.parts
    gan = make_gan(lecam=0.3)
    assert gan.parts["lecam"] is gan.lecam and len(gan.lecam.variables) == 2


def test_lecam_is_on_by_default_but_off_for_checkpoints_from_before_it():
    assert (StableRecipe().lecam, StableRecipe().lecam_start) == (0.3, 1000)
    lecam = make_gan().lecam
    assert (lecam.weight, lecam.start) == (0.3, 1000)
    settings = json.loads(json.dumps(StableRecipe(width=8, lecam=0.3, lecam_start=9).settings()))
    assert StableRecipe.from_settings(settings).lecam == 0.3
    del settings["lecam"], settings["lecam_start"]
    assert (StableRecipe.from_settings(settings).lecam,
            StableRecipe.from_settings(settings).lecam_start) == (0.0, 1000)
