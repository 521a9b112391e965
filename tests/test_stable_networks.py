"""The stable recipe's DCGAN networks: layer by layer, and chosen by the recipe."""

import json
from dataclasses import replace

import keras
import numpy as np
import pytest

from gan_demo import stable
from gan_demo.stable import StableGan, StableRecipe
from gan_demo.stable_networks import create_discriminator, create_generator
from tests.layer_tables import layer_table


def test_the_dcgan_generator_starts_at_4x4_and_doubles_three_times():
    assert layer_table(create_generator("dcgan", 64)) == [
        ("Dense", (4096,), 32 * 4096 + 4096),
        ("Reshape", (4, 4, 256), 0),
        ("BatchNormalization", (4, 4, 256), 4 * 256),
        ("Activation", (4, 4, 256), 0),
        ("Conv2DTranspose", (8, 8, 128), 4 * 4 * 256 * 128),  # no bias before a normalisation
        ("BatchNormalization", (8, 8, 128), 4 * 128),
        ("Activation", (8, 8, 128), 0),
        ("Conv2DTranspose", (16, 16, 64), 4 * 4 * 128 * 64),
        ("BatchNormalization", (16, 16, 64), 4 * 64),
        ("Activation", (16, 16, 64), 0),
        ("Conv2DTranspose", (32, 32, 32), 4 * 4 * 64 * 32),
        ("BatchNormalization", (32, 32, 32), 4 * 32),
        ("Activation", (32, 32, 32), 0),
        ("Conv2D", (32, 32, 3), 3 * 3 * 32 * 3 + 3),
        ("Activation", (32, 32, 3), 0),
    ]
    assert create_generator("dcgan", 64).count_params() == 826_083
    assert create_generator("dcgan", 64).layers[-1].get_config()["activation"] == "tanh"


def test_the_resize_generator_doubles_by_repeating_pixels_then_a_3x3_convolution():
    generator = create_generator("dcgan-resize", 64)
    assert layer_table(generator)[4:9] == [
        ("UpSampling2D", (8, 8, 256), 0),
        ("Conv2D", (8, 8, 128), 3 * 3 * 256 * 128),  # no bias before a normalisation
        ("BatchNormalization", (8, 8, 128), 4 * 128),
        ("Activation", (8, 8, 128), 0),
        ("UpSampling2D", (16, 16, 128), 0),
    ]
    assert [name for name, _, _ in layer_table(generator)].count("UpSampling2D") == 3
    assert not any(isinstance(layer, keras.layers.Conv2DTranspose) for layer in generator.layers)
    # DCGAN's generator with 3x3 filters where its transposed convolutions have 4x4 ones
    filter_pairs = 256 * 128 + 128 * 64 + 64 * 32
    assert generator.count_params() == 826_083 - 16 * filter_pairs + 9 * filter_pairs == 525_027
    # the discriminator is DCGAN's
    assert layer_table(create_discriminator("dcgan-resize", 64)) \
        == layer_table(create_discriminator("dcgan", 64))


def test_the_dcgan_discriminator_mirrors_it_without_normalisation():
    discriminator = create_discriminator("dcgan", 64)
    assert layer_table(discriminator) == [
        ("Conv2D", (16, 16, 32), 4 * 4 * 3 * 32 + 32),
        ("LeakyReLU", (16, 16, 32), 0),
        ("Conv2D", (8, 8, 64), 4 * 4 * 32 * 64 + 64),
        ("LeakyReLU", (8, 8, 64), 0),
        ("Conv2D", (4, 4, 128), 4 * 4 * 64 * 128 + 128),
        ("LeakyReLU", (4, 4, 128), 0),
        ("Flatten", (2048,), 0),
        ("Dense", (1,), 2049),
        ("Activation", (1,), 0),
    ]
    assert discriminator.count_params() == 167_649
    assert {layer.negative_slope for layer in discriminator.layers
            if isinstance(layer, keras.layers.LeakyReLU)} == {0.2}


def test_the_tutorial_networks_are_program_pys():
    assert create_generator("tutorial", 32).count_params() == 220_387
    assert create_discriminator("tutorial", 32).count_params() == 12_849


@pytest.mark.parametrize("make, message", [
    (lambda: create_generator("resnet", 64), "networks must be one of 'tutorial', 'dcgan', "
                                             "'dcgan-resize', got 'resnet'"),
    (lambda: create_discriminator("dcgan", 63), "width must be even for the dcgan networks, "
                                                "got 63"),
    (lambda: StableRecipe(networks="resnet"), "networks must be one of 'tutorial', 'dcgan'"),
])
def test_unknown_networks_and_odd_widths_are_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def make_dcgan(**recipe):
    keras.utils.set_random_seed(1)
    frogs = np.random.default_rng(1).random((64, 32, 32, 3), dtype=np.float32)
    return StableGan(frogs, recipe=StableRecipe(
        **{"networks": "dcgan", "width": 8, "batch_size": 4, "augment": (), **recipe}), seed=1)


def test_the_average_follows_batch_normalisations_running_statistics_too():
    gan = make_dcgan()
    statistics = [v for v in gan.generator.non_trainable_variables]
    assert len(statistics) == 8  # a running mean and variance for each of 4 normalisations
    before = [np.array(v) for v in gan.average.non_trainable_variables]
    gan.generator_step()
    # first update: decay 2/11, as for the weights
    for old, mine, theirs in zip(before, gan.average.non_trainable_variables, statistics):
        assert not np.allclose(np.array(theirs), old)
        assert np.allclose(mine, 2 / 11 * old + 9 / 11 * np.array(theirs), atol=1e-6)


def test_a_dcgan_step_trains_both_networks_and_the_sampler_draws_pictures():
    gan = make_dcgan()
    generator = [np.array(v) for v in gan.generator.trainable_variables]
    discriminator = [np.array(v) for v in gan.discriminator.trainable_variables]
    d_loss, g_loss = (float(x) for x in gan.train_step())
    assert 0.3 < d_loss < 1.2 and 0.3 < g_loss < 1.2  # near log 2 at the start
    assert all(not np.array_equal(a, np.array(b))
               for a, b in zip(generator, gan.generator.trainable_variables))
    assert all(not np.array_equal(a, np.array(b))
               for a, b in zip(discriminator, gan.discriminator.trainable_variables))
    pictures = np.asarray(gan.sampler(np.zeros((2, 32), np.float32)))
    assert pictures.shape == (2, 32, 32, 3) and 0 <= pictures.min() and pictures.max() <= 1


def test_a_checkpoint_from_before_the_choice_of_networks_trained_the_tutorials():
    settings = json.loads(json.dumps(StableRecipe(width=8).settings()))
    del settings["networks"]
    assert StableRecipe.from_settings(settings).networks == "tutorial"
    assert StableRecipe.from_settings({**settings, "networks": "dcgan"}).networks == "dcgan"


def test_a_resize_step_trains_both_networks_and_a_checkpoint_names_them():
    gan = make_dcgan(networks="dcgan-resize")
    generator = [np.array(v) for v in gan.generator.trainable_variables]
    d_loss, g_loss = (float(x) for x in gan.train_step())
    assert 0.3 < d_loss < 1.2 and 0.3 < g_loss < 1.2
    assert all(not np.array_equal(a, np.array(b))
               for a, b in zip(generator, gan.generator.trainable_variables))
    assert gan.average.count_params() == create_generator("dcgan-resize", 8).count_params()
    settings = json.loads(json.dumps(gan.recipe.settings()))
    assert StableRecipe.from_settings(settings).networks == "dcgan-resize"


def test_the_discriminator_can_be_wider_than_the_generator():
    gan = make_dcgan(discriminator_width=16)
    assert [layer.filters for layer in gan.discriminator.layers
            if isinstance(layer, keras.layers.Conv2D)] == [8, 16, 32]
    assert gan.generator.count_params() == create_generator("dcgan", 8).count_params()
    assert gan.critic.count_params() == create_discriminator("dcgan", 16).count_params()
    d_loss, g_loss = (float(x) for x in gan.train_step())
    assert 0.3 < d_loss < 1.2 and 0.3 < g_loss < 1.2


def test_a_checkpoint_from_before_the_discriminators_own_width_kept_the_generators():
    settings = json.loads(json.dumps(StableRecipe(width=8, discriminator_width=16).settings()))
    assert StableRecipe.from_settings(settings).discriminator_width == 16
    del settings["discriminator_width"]
    assert StableRecipe.from_settings(settings).discriminator_width is None


def test_a_checkpoint_from_before_the_choice_of_loss_trained_with_cross_entropies():
    settings = json.loads(json.dumps(StableRecipe(width=8, loss="hinge").settings()))
    assert StableRecipe.from_settings(settings).loss == "hinge"
    del settings["loss"]
    assert StableRecipe.from_settings(settings).loss == "logistic"


def test_load_sampler_rebuilds_the_networks_the_checkpoint_names(tmp_path):
    gan = make_dcgan()
    gan.train_step()
    checkpoint = {"settings": {"recipe": "stable", **gan.recipe.settings()},
                  **{f"average/{i}": np.array(v) for i, v in enumerate(gan.average.variables)}}
    sampler = stable.load_sampler(checkpoint, tmp_path / "checkpoint.npz")
    latent = np.random.default_rng(2).standard_normal((3, 32)).astype(np.float32)
    assert np.allclose(sampler(latent), gan.sampler(latent), atol=1e-6)


def train_dcgan(frog_zip, output, epochs):
    from gan_demo.commands.settings import run_settings
    from gan_demo.run import TrainingRun

    recipe = StableRecipe(networks="dcgan", width=8, batch_size=4, r1_interval=4)
    run = TrainingRun(str(output), epochs, 6, run_settings(recipe))
    stable.main(data=frog_zip, epochs=epochs, output=output, seed=5, save_every=6, run=run,
                recipe=recipe)
    run.close()


def test_a_stopped_and_resumed_dcgan_run_equals_an_unbroken_one(frog_zip, tmp_path):
    from click.testing import CliRunner

    from gan_demo.checkpoint import read_checkpoint
    from gan_demo.commands import main

    whole, broken = tmp_path / "whole", tmp_path / "broken"
    train_dcgan(frog_zip, whole, 12)
    train_dcgan(frog_zip, broken, 6)
    resumed = CliRunner().invoke(main, ["--data", str(frog_zip), "--output", str(broken),
                                        "--resume", "--epochs", "12", "--save-every", "6"])
    assert resumed.exit_code == 0, resumed.output
    saved, unbroken = (read_checkpoint(run / "checkpoint.npz") for run in (broken, whole))
    assert saved["settings"]["networks"] == "dcgan"
    # every variable, batch normalisation's running statistics (the non-trainable ones) too
    names = [key for key in unbroken if key.split("/")[0] in ("generator", "average")]
    assert len(names) == 2 * 23  # 15 weights and 8 running statistics in each
    for key in names + ["discriminator/0", "gan_learner/0"]:
        assert np.array_equal(saved[key], unbroken[key]), key


def test_the_recipe_trains_a_generator_at_32_against_a_discriminator_at_64():
    # the pair that scored the lower FID at 30 minutes (docs/stable-recipe.md)
    recipe = StableRecipe()
    assert (recipe.networks, recipe.width, recipe.discriminator_width) == ("dcgan", 32, 64)
    frogs = np.zeros((16, 32, 32, 3), np.float32)
    gan = StableGan(frogs, recipe=replace(recipe, batch_size=4), seed=1)
    assert [layer.filters for layer in gan.generator.layers
            if isinstance(layer, keras.layers.Conv2DTranspose)] == [64, 32, 16]
    assert [layer.filters for layer in gan.discriminator.layers
            if isinstance(layer, keras.layers.Conv2D)] == [32, 64, 128]
    assert gan.generator.count_params() == 241_011
    assert gan.discriminator.count_params() == 167_649
    # --width is the generator's: the discriminator keeps the recipe's
    narrower = StableGan(frogs, width=16, recipe=replace(recipe, batch_size=4), seed=1)
    assert narrower.generator.count_params() == create_generator("dcgan", 16).count_params()
    assert narrower.discriminator.count_params() == 167_649
