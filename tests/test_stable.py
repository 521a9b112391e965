"""The stable recipe: which weights each step moves, the average, the sampler, exact resume."""

import csv
import json
import os
import re
import shutil

import keras
import numpy as np
import pytest
import tensorflow as tf
from click.testing import CliRunner
from PIL import Image

from gan_demo import sample, stable
from gan_demo.checkpoint import read_checkpoint
from gan_demo.commands import main
from gan_demo.stable import StableGan, StableRecipe
from gan_demo.stable_recipe import HalvingRate

LATENT = 32


def make_gan(seed=1, **recipe):
    keras.utils.set_random_seed(seed)
    frogs = np.random.default_rng(seed).random((64, 32, 32, 3), dtype=np.float32)
    return StableGan(frogs, width=8, recipe=StableRecipe(**{"batch_size": 4, **recipe}),
                     seed=seed)


def values(network):
    return [np.array(v) for v in network.trainable_variables]


def moved(before, network):
    return [not np.array_equal(a, b) for a, b in zip(before, values(network))]


def test_the_frogs_sit_on_the_device_in_the_tanh_range():
    gan = make_gan()
    assert isinstance(gan.frogs, tf.Tensor) and gan.frogs.shape == (64, 32, 32, 3)
    assert float(tf.reduce_min(gan.frogs)) >= -1 and float(tf.reduce_max(gan.frogs)) <= 1
    assert float(tf.reduce_min(gan.frogs)) < -0.9 and float(tf.reduce_max(gan.frogs)) > 0.9


def test_the_critic_is_the_discriminator_before_its_sigmoid():
    gan = make_gan()
    images = tf.random.uniform((3, 32, 32, 3), -1, 1, seed=4)
    assert np.allclose(tf.sigmoid(gan.critic(images)), gan.discriminator(images), atol=1e-6)
    assert gan.critic.trainable_variables[0] is gan.discriminator.trainable_variables[0]


def test_the_discriminator_step_moves_only_the_discriminator():
    gan = make_gan()
    generator, discriminator = values(gan.generator), values(gan.discriminator)
    gan.discriminator_step()
    assert all(moved(discriminator, gan.discriminator))
    assert not any(moved(generator, gan.generator))


def test_the_generator_step_moves_only_the_generator_and_its_average():
    gan = make_gan()
    generator, discriminator, average = (values(gan.generator), values(gan.discriminator),
                                         values(gan.average))
    gan.generator_step()
    assert all(moved(generator, gan.generator)) and all(moved(average, gan.average))
    assert not any(moved(discriminator, gan.discriminator))


def test_the_average_is_warmed_up_then_decays_at_the_recipes_0_9999():
    gan = make_gan()
    assert gan.recipe.ema_decay == 0.9999
    start = values(gan.generator)
    assert all(np.array_equal(a, b) for a, b in zip(start, values(gan.average)))
    gan.generator_step()
    # first update: decay = min(0.9999, (1 + 1) / (10 + 1)) = 2/11
    expected = [2 / 11 * a + 9 / 11 * b for a, b in zip(start, values(gan.generator))]
    assert all(np.allclose(e, a, atol=1e-6) for e, a in zip(expected, values(gan.average)))
    gan.generator_learner.iterations.assign(100_000)
    for variable in gan.generator.trainable_variables:  # a generator 1 away, so 1e-4 shows
        variable.assign_add(tf.ones_like(variable))
    average, generator = values(gan.average), values(gan.generator)
    gan.generator_step()  # late in training the cap holds: 0.9999 of the average stays
    moved = values(gan.generator)
    assert not all(np.array_equal(a, b) for a, b in zip(generator, moved))
    expected = [0.9999 * a + 0.0001 * g for a, g in zip(average, moved)]
    assert all(np.allclose(e, a, rtol=0, atol=2e-6) for e, a in zip(expected, values(gan.average)))
    assert all(np.abs(a - b).max() > 5e-5 for a, b in zip(values(gan.average), average))


def test_a_new_average_starts_at_the_generator_and_follows_its_own_decay():
    gan = make_gan()
    gan.generator_step()
    other = gan.new_average()
    assert all(np.array_equal(a, b) for a, b in zip(values(gan.generator), values(other)))
    before = values(other)
    gan.generator_step()
    gan.generator_learner.iterations.assign(100_000)
    gan.update_average(other, 0.99)
    expected = [0.99 * a + 0.01 * g for a, g in zip(before, values(gan.generator))]
    assert all(np.allclose(e, a, atol=1e-6) for e, a in zip(expected, values(other)))


def test_without_the_average_the_sampler_draws_the_raw_generator():
    gan = make_gan(ema_decay=0.0, augment=())  # without augmentation: half the tracing
    gan.train_step()
    latent = np.random.default_rng(0).standard_normal((5, LATENT)).astype(np.float32)
    assert np.allclose(gan.sampler(latent), (gan.generator(latent) + 1) / 2, atol=1e-6)


@pytest.fixture(scope="module")
def stepped_gan():
    """make_gan() after three compiled steps, and the losses of each: tracing a step takes
    seconds, so the tests that only watch the steps share one."""
    gan = make_gan()
    return gan, [tuple(float(x) for x in gan.train_step()) for _ in range(3)]


def test_the_sampler_maps_the_average_to_save_images_range(stepped_gan):
    gan, _ = stepped_gan
    latent = np.random.default_rng(0).standard_normal((5, LATENT)).astype(np.float32)
    assert np.allclose(gan.sampler(latent), (gan.average(latent) + 1) / 2, atol=1e-6)


def test_a_seed_repeats_the_losses_and_another_seed_changes_them(stepped_gan):
    def losses(seed):
        gan = make_gan(seed)
        return [tuple(float(x) for x in gan.train_step()) for _ in range(3)]

    _, seed_1 = stepped_gan  # make_gan's seed is 1
    assert losses(1) == seed_1 != losses(3)


def test_the_first_losses_are_near_log_2(stepped_gan):
    _, losses = stepped_gan
    discriminator_loss, gan_loss = losses[0]
    assert abs(float(discriminator_loss) - np.log(2)) < 0.1
    assert abs(float(gan_loss) - np.log(2)) < 0.1


def test_the_r1_penalty_is_half_gamma_times_the_squared_input_gradient_every_16th_step():
    gan = make_gan(r1_gamma=2.0, augment=())
    interval = gan.recipe.r1_interval
    assert interval == StableRecipe().r1_interval == 16
    # a linear critic: its gradient at any image is its weights, 0.01 on each of 3,072 inputs
    gan.critic = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Flatten(),
                                   keras.layers.Dense(1, use_bias=False,
                                                      kernel_initializer="zeros")])
    gan.critic.layers[-1].kernel.assign(np.full((3072, 1), 0.01, np.float32))
    real = tf.zeros((4, 32, 32, 3))
    assert float(gan._r1_penalty(real)) == pytest.approx(2.0 / 2 * interval * 3072 * 1e-4)
    gan.discriminator_learner.iterations.assign(1)
    assert float(gan._r1_penalty(real)) == 0.0


def test_the_losses_are_the_tutorials_cross_entropies_or_the_hinge():
    fake, real = tf.constant([2.0, 0.0]), tf.constant([-2.0, 0.0])
    logistic, hinge = make_gan(), make_gan(loss="hinge")
    assert StableRecipe().loss == "logistic"
    # fakes should score high (label 1, "fake"), frogs low; a logit of 0 is a coin toss
    def softplus(logits):
        return np.log1p(np.exp(logits)).mean()

    assert float(logistic._discriminator_loss(fake, real)) == pytest.approx(
        (softplus([-2.0, 0.0]) + softplus([-2.0, 0.0])) / 2)
    assert float(logistic._generator_loss(fake)) == pytest.approx(softplus([2.0, 0.0]))
    # the hinge: only the two logits within the margin of 1 count, each at 1
    assert float(hinge._discriminator_loss(fake, real)) == pytest.approx((0.5 + 0.5) / 2)
    assert float(hinge._generator_loss(fake)) == pytest.approx(1.0)
    for _ in range(2):
        assert all(np.isfinite(float(loss)) for loss in hinge.train_step())


def test_the_r1_penalty_is_on_by_default_at_gamma_4():
    # FID (5k) 113.8 at 4, 140.3 at 1, 145.8 without it, after 30 minutes
    assert StableRecipe().r1_gamma == 4.0


def test_the_r1_penalty_changes_the_discriminator_step_only_when_asked():
    plain, penalised = make_gan(r1_gamma=0.0), make_gan(r1_gamma=10.0)
    plain.discriminator_step()
    penalised.discriminator_step()
    assert not np.allclose(values(plain.discriminator)[0], values(penalised.discriminator)[0])
    assert penalised.discriminator_learner.iterations.numpy() == 1
    for _ in range(2):  # compiled, across a step with the penalty and one without
        assert all(np.isfinite(float(loss)) for loss in penalised.train_step())


@pytest.mark.parametrize("wrong, message", [
    ({"optimizer": "sgd"}, "optimizer must be 'adam' or 'adadelta', got 'sgd'"),
    ({"ema_decay": 1.0}, r"ema_decay must be in \[0, 1\), got 1.0"),
    ({"learning_rate": 0}, "learning_rate must be > 0, got 0"),
    ({"r1_gamma": -1.0}, "r1_gamma must be >= 0, got -1.0"),
    ({"width": 0}, "width must be a positive int, got 0"),
    ({"batch_size": 2.5}, "batch_size must be a positive int, got 2.5"),
    ({"r1_interval": 0}, "r1_interval must be a positive int, got 0"),
    ({"loss": "wasserstein"}, "loss must be 'logistic' or 'hinge', got 'wasserstein'"),
    ({"discriminator_width": 0}, "discriminator_width must be a positive int or None, got 0"),
    ({"mirror": 1}, "mirror must be True or False, got 1"),
    ({"lecam": -0.3}, "lecam must be >= 0, got -0.3"),
    ({"lecam_start": 2.5}, "lecam_start must be an int >= 0, got 2.5"),
    ({"learning_rate_half_life": -1}, "learning_rate_half_life must be an int >= 0, got -1"),
    ({"learning_rate_decay_start": 1e4},
     "learning_rate_decay_start must be an int >= 0, got 10000.0"),
])
def test_a_bad_recipe_is_refused(wrong, message):
    with pytest.raises(ValueError, match=f"^{message}$"):
        StableRecipe(**wrong)


def test_the_default_optimizer_is_the_tutorials_adadelta_and_adam_is_an_option():
    learner = StableRecipe().learner()  # it measured the better FID in 30 minutes
    assert isinstance(learner, keras.optimizers.Adadelta)
    assert (float(learner.learning_rate), learner.rho, learner.epsilon) == (1.0, 0.95, 1e-8)
    adam = StableRecipe(optimizer="adam").learner()
    assert isinstance(adam, keras.optimizers.Adam)
    assert (round(float(adam.learning_rate), 6), adam.beta_1) == (2e-4, 0.5)


def test_a_learning_rate_applies_to_either_optimizer():
    adadelta = StableRecipe(learning_rate=0.5).learner()
    assert (float(adadelta.learning_rate), adadelta.rho) == (0.5, 0.95)
    adam = StableRecipe(optimizer="adam", learning_rate=1e-3).learner()
    assert round(float(adam.learning_rate), 6) == 1e-3


@pytest.mark.parametrize("optimizer", ["adam", "adadelta"])
def test_an_integer_learning_rate_is_taken_as_a_float(optimizer):
    # Keras 3 refuses learning_rate=1 (an int); the tutorial writes it so
    learner = StableRecipe(optimizer=optimizer, learning_rate=1).learner()
    assert float(learner.learning_rate) == 1.0


# -- the command line ----------------------------------------------------------------------

def run_cli(frog_zip, output, *args):
    result = CliRunner().invoke(main, ["--data", str(frog_zip), "--output", str(output), *args])
    return result


def losses(output):
    with open(output / "losses.csv", newline="") as file:
        return list(csv.reader(file))


def train_at_gamma_1(frog_zip, output, epochs):
    """A stable run at R1 gamma 1 with LeCam from step 4 and learning rates halving every 8
    steps from step 6 (not the recipe's defaults), as a script would start it."""
    from gan_demo.commands.settings import run_settings
    from gan_demo.run import TrainingRun

    recipe = StableRecipe(width=8, batch_size=4, r1_gamma=1.0, r1_interval=4, lecam=0.3,
                          lecam_start=4, learning_rate_half_life=8, learning_rate_decay_start=6)
    run = TrainingRun(str(output), epochs, 10, run_settings(recipe))
    stable.main(data=frog_zip, epochs=epochs, output=output, seed=5, save_every=10, run=run,
                recipe=recipe)
    run.close()


@pytest.fixture(scope="module")
def stable_runs(tmp_path_factory, frog_zip):
    """The output folders of a 24-epoch run at R1 gamma 1 every 4 steps (not the recipe's
    defaults) and of one stopped at 12 and resumed to 24 by the command line, trained once for
    the tests that read them (a test that writes copies one first); and the recipes the resume
    built."""
    folder = tmp_path_factory.mktemp("stable_runs")
    whole, broken = folder / "whole", folder / "broken"
    train_at_gamma_1(frog_zip, whole, 24)
    train_at_gamma_1(frog_zip, broken, 12)
    recipes = []
    real_init = stable.StableGan.__init__

    def recording_init(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        recipes.append(self.recipe)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(stable.StableGan, "__init__", recording_init)
        resumed = run_cli(frog_zip, broken, "--resume", "--epochs", "24", "--save-every", "10")
    assert resumed.exit_code == 0, resumed.output
    return whole, broken, recipes


def test_a_stopped_and_resumed_stable_run_equals_an_unbroken_one(stable_runs):
    whole, broken, _ = stable_runs
    # epochs 12, 16 and 20, after the break, are penalised as in the unbroken run
    assert losses(broken) == losses(whole) and len(losses(whole)) == 25
    for run in (whole, broken):  # the tutorial's frogs, as program.main's loop saves them
        assert sorted(name for name in os.listdir(run) if name.startswith("generated")) == \
            ["generated_frog_0.png", "generated_frog_10.png", "generated_frog_20.png"]
    saved = read_checkpoint(broken / "checkpoint.npz")
    # the whole recipe, so that --resume trains on exactly as the run started
    assert saved["settings"] == {
        "format": 2, "recipe": "stable", "width": 8, "batch_size": 4, "latent_dimensions": 32,
        "precision": "float32", "networks": "dcgan", "discriminator_width": 64,
        "optimizer": "adadelta", "learning_rate": None, "beta_1": 0.5, "loss": "logistic",
        "augment": ["color", "translation", "cutout"], "mirror": False,
        "ema_decay": 0.9999, "r1_gamma": 1.0, "r1_interval": 4, "lecam": 0.3,
        "lecam_start": 4, "learning_rate_half_life": 8, "learning_rate_decay_start": 6}
    unbroken = read_checkpoint(whole / "checkpoint.npz")
    for key in ("average/0", "random/0", "gan_learner/0", "discriminator/0", "lecam/0",
                "lecam/1"):
        assert np.array_equal(saved[key], unbroken[key])
    assert saved["lecam/0"] < 0 < saved["lecam/1"]  # the anchors: frogs low, fakes high


EPOCH_LINE = re.compile(r"Epoch: (\d+), Discriminator loss: (\S+), Gan loss: (\S+)")


def test_stable_main_prints_the_tutorials_line_and_saves_its_frogs(frog_zip, tmp_path, capsys):
    stable.main(data=frog_zip, epochs=101, batch_size=4, output=tmp_path, seed=5, width=8,
                save_every=50)
    lines = capsys.readouterr().out.splitlines()
    assert lines[:2] == ["Loading data files...", "Training Gan (stable recipe)..."]
    printed = [EPOCH_LINE.fullmatch(line) for line in lines[2:]]
    assert all(printed) and [int(match[1]) for match in printed] == [0, 100]
    assert all(np.isfinite(float(value)) for match in printed for value in match.groups())
    assert sorted(os.listdir(tmp_path)) == \
        ["generated_frog_0.png", "generated_frog_100.png", "generated_frog_50.png"]
    with Image.open(tmp_path / "generated_frog_100.png") as frog:
        assert (frog.format, frog.mode, frog.size) == ("PNG", "RGB", (32, 32))


def test_generate_draws_from_the_average(stable_runs):
    output, _, _ = stable_runs
    path = str(output / "checkpoint.npz")
    sampler = sample.load_generator(path)
    saved = read_checkpoint(path)
    latent = np.random.default_rng(0).standard_normal((4, LATENT)).astype(np.float32)
    # the sampler is the saved average, rescaled: recompute it from the raw arrays
    average = make_gan().average
    for variable, index in zip(average.variables, range(len(average.variables))):
        variable.assign(saved[f"average/{index}"])
    assert np.allclose(sampler(latent), (average(latent) + 1) / 2, atol=1e-6)
    keras_file = sample.load_generator(str(output / "generator.keras"))
    assert np.allclose(keras_file(latent), sampler(latent), atol=1e-6)


def test_resuming_with_another_recipe_is_one_line(stable_runs, frog_zip, tmp_path):
    output = tmp_path / "run"
    shutil.copytree(stable_runs[0], output)
    result = run_cli(frog_zip, output, "--resume", "--recipe", "tutorial", "--epochs", "30")
    assert result.exit_code == 2
    assert result.output == (f"Error: the run in '{output}' was trained with --recipe stable, "
                             f"not tutorial: drop --recipe to resume it\n")


def test_a_checkpoint_from_before_recipes_is_refused_in_one_line(frog_zip, tmp_path):
    output = tmp_path / "run"
    args = ["--width", "8", "--batch-size", "4", "--save-every", "10", "--seed", "1"]
    assert run_cli(frog_zip, output, *args, "--epochs", "2").exit_code == 0
    # what the first release saved: format 1, no recipe in the settings
    with np.load(output / "checkpoint.npz") as archive:
        arrays = dict(archive)
    settings = read_checkpoint(output / "checkpoint.npz")["settings"]
    del settings["recipe"]
    arrays["settings"] = np.array(json.dumps({**settings, "format": 1}))
    np.savez(output / "checkpoint.npz", **arrays)
    before = (output / "checkpoint.npz").read_bytes()
    result = run_cli(frog_zip, output, "--resume", "--epochs", "3")
    assert result.exit_code == 2
    assert result.output == (
        f"Error: {output}/checkpoint.npz was saved by an earlier gan_demo (checkpoint format 1, "
        f"without its recipe's settings), which this one cannot read: train afresh in another "
        f"--output, or pass the run's generator.keras to generate and evaluate\n")
    assert (output / "checkpoint.npz").read_bytes() == before and len(losses(output)) == 3


def test_a_recipe_survives_its_settings():
    recipe = StableRecipe(width=8, optimizer="adam", learning_rate=1e-3, augment=("color",),
                          mirror=True, r1_gamma=1.0, r1_interval=4, lecam=0.3, lecam_start=10,
                          learning_rate_half_life=500, learning_rate_decay_start=100)
    settings = json.loads(json.dumps(recipe.settings()))  # as a checkpoint stores them
    assert StableRecipe.from_settings({"recipe": "stable", **settings}) == recipe


def test_a_checkpoint_from_before_mirroring_trained_on_unmirrored_frogs():
    settings = json.loads(json.dumps(StableRecipe(width=8, mirror=True).settings()))
    assert StableRecipe.from_settings(settings).mirror is True
    del settings["mirror"]
    assert StableRecipe.from_settings(settings).mirror is False


def test_a_checkpoint_from_before_decay_trained_at_a_constant_rate():
    settings = StableRecipe(width=8, learning_rate_half_life=500).settings()
    for key in ("learning_rate_half_life", "learning_rate_decay_start"):
        del settings[key]
    recipe = StableRecipe.from_settings(settings)
    assert recipe.learning_rate_half_life == 0
    assert isinstance(recipe.learner().learning_rate, keras.Variable)  # not a schedule


def test_both_learning_rates_halve_every_half_life_after_the_start():
    gan = make_gan(learning_rate_half_life=2, learning_rate_decay_start=2)
    rates = []
    for _ in range(6):
        gan.train_step()
        rates.append([float(learner.learning_rate)  # the rate the next step will use
                      for learner in (gan.discriminator_learner, gan.generator_learner)])
    expected = [1.0, 1.0, 2 ** -0.5, 0.5, 2 ** -1.5, 0.25]
    assert np.allclose(rates, [[rate, rate] for rate in expected], rtol=1e-6)


def test_the_recipes_rate_halves_every_20000_steps_from_the_20000th():
    # a constant rate broke the frogs up into texture after 2 hours (docs/stable-recipe.md)
    recipe = StableRecipe()
    assert (recipe.learning_rate_half_life, recipe.learning_rate_decay_start) == (20000, 20000)
    schedule = recipe.learner().get_config()["learning_rate"]  # Keras's record of the schedule
    assert schedule["class_name"] == "HalvingRate"
    rate = HalvingRate.from_config(schedule["config"])
    assert [float(rate(step)) for step in (0, 20000, 40000, 80000)] == [1.0, 1.0, 0.5, 0.125]


def test_a_halved_rate_moves_the_discriminator_half_as_far():
    # from the same weights, state and random numbers, AdaDelta's step is the same, times the
    # rate: 1 in step 0 for both, then 0.5 against 1
    constant, halving = make_gan(), make_gan(learning_rate_half_life=1,
                                             learning_rate_decay_start=0)
    for gan in (constant, halving):
        gan.train_step()
    before = values(constant.discriminator)
    assert all(np.array_equal(a, b) for a, b in zip(before, values(halving.discriminator)))
    for gan in (constant, halving):
        gan.discriminator_step()
    for start, full, half in zip(before, values(constant.discriminator),
                                 values(halving.discriminator)):
        assert np.allclose(half - start, (full - start) / 2, rtol=1e-4, atol=1e-7)
    assert any(np.any(full != start) for start, full in zip(before, values(constant.discriminator)))


def test_mirror_flips_about_half_the_frogs_left_right_and_nothing_else():
    gan = make_gan(mirror=True)
    frogs = tf.tile(gan.frogs[:1], [200, 1, 1, 1])  # one frog, not left-right symmetric
    flipped = np.asarray(frogs[:1, :, ::-1])
    mirrored = np.asarray(gan._mirror(frogs))
    as_is = np.all(mirrored == np.asarray(frogs[:1]), axis=(1, 2, 3))
    reversed_ = np.all(mirrored == flipped, axis=(1, 2, 3))
    assert np.all(as_is != reversed_)  # each frog exactly one way round
    assert 70 < reversed_.sum() < 130  # p = 1/2: 100 +- 30 is 4.2 standard deviations


@pytest.mark.parametrize("mirror", [False, True])
def test_the_discriminator_step_mirrors_the_real_frogs_only_when_asked(mirror):
    gan, seen = make_gan(mirror=mirror), []

    def spy(images):  # traced once into the compiled step
        seen.append(images.shape)
        return images

    gan._mirror = spy
    gan.train_step()
    assert seen == ([tf.TensorShape([4, 32, 32, 3])] if mirror else [])


def test_a_run_saved_at_r1_gamma_1_resumes_at_gamma_1(stable_runs):
    # the command line has no option for gamma: --resume takes it from the checkpoint
    *_, recipes = stable_runs
    assert [(recipe.r1_gamma, recipe.r1_interval, recipe.lecam, recipe.lecam_start,
             recipe.learning_rate_half_life, recipe.learning_rate_decay_start)
            for recipe in recipes] == [(1.0, 4, 0.3, 4, 8, 6)]
