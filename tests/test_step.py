"""The compiled training step: the tutorial's helpers as TensorFlow operations, one graph an epoch.

The helpers given a ``tf.random.Generator`` must build the same batches the NumPy helpers do,
and program.py's compiled epoch must train exactly as the same Python run step by step would.
"""

import json
import shutil

import numpy as np
import pytest
import tensorflow as tf

from gan_demo import program
from gan_demo.checkpoint import read_checkpoint
from gan_demo.commands import main
from kerasutil import Gan, compile_step, input_variable, step_random
from kerasutil.gan import LABEL_NOISE
from tests.test_crash_safety import train


def test_compile_step_traces_once_and_returns_numpy():
    rng = tf.random.Generator.from_seed(4)
    step = compile_step(lambda start, scale: (start * 2, scale * rng.normal((3,))))
    results = [step(start, 1.5) for start in (0, 7, 3500)]
    assert [int(doubled) for doubled, _ in results] == [0, 14, 7000]
    assert all(isinstance(noise, np.ndarray) and noise.shape == (3,) for _, noise in results)
    # each call drew new noise from the one generator, in the graph
    expected = tf.random.Generator.from_seed(4)
    for _, noise in results:
        np.testing.assert_allclose(noise, 1.5 * expected.normal((3,)).numpy(), rtol=1e-6)
    assert step.graph.experimental_get_tracing_count() == 1  # new values did not retrace


def test_step_random_repeats_for_a_seed_and_differs_without_one():
    draws = [step_random(seed).normal((4,)).numpy() for seed in (5, 5, None, None)]
    np.testing.assert_array_equal(draws[0], draws[1])
    np.testing.assert_array_equal(draws[0], tf.random.Generator.from_seed(5).normal((4,)))
    assert not np.array_equal(draws[2], draws[3])


def test_tensor_training_batch_is_the_numpy_one_built_in_the_graph():
    fakes = tf.fill((6, 2, 2, 3), -1.0)
    real = tf.reshape(tf.range(1000 * 12, dtype=tf.float32), (1000, 2, 2, 3))
    rng = tf.random.Generator.from_seed(9)
    batch = compile_step(lambda start: Gan.get_training_batch(fakes, real, 4, start, rng))
    features, labels = batch(996)  # the last 4 frogs
    assert features.shape == (8, 2, 2, 3) and labels.shape == (8, 1)
    np.testing.assert_array_equal(features[:4], -1.0)
    np.testing.assert_array_equal(features[4:], real.numpy()[996:])
    noise = LABEL_NOISE * tf.random.Generator.from_seed(9).normal((8, 1)).numpy()
    expected = np.clip(np.concatenate([np.ones((4, 1)), np.zeros((4, 1))]) + noise, 0, 1)
    np.testing.assert_allclose(labels, expected, rtol=1e-6)
    assert labels.min() >= 0 and labels.max() <= 1


def test_tensor_misleading_batch_and_fakes_come_from_the_generator():
    generator = input_variable((5,)).dense(3, activation="tanh").to_network()
    gan = generator  # get_misleading_batch only needs its input size
    rng = tf.random.Generator.from_seed(2)
    latent, labels = Gan.get_misleading_batch(gan, 7, 5, rng)
    images = Gan.generate_images(generator, 7, 5, rng)
    assert tf.is_tensor(latent) and tf.is_tensor(images) and tf.is_tensor(labels)
    expected = tf.random.Generator.from_seed(2)
    np.testing.assert_allclose(latent, expected.normal((7, 5)), rtol=1e-6)
    np.testing.assert_allclose(images, generator(expected.normal((7, 5))), rtol=1e-6)
    np.testing.assert_array_equal(labels, np.zeros((7, 1)))


def test_a_compiled_epoch_trains_as_the_same_epoch_run_step_by_step(frog_zip, tmp_path,
                                                                    capsys):
    def train_three_epochs(name):
        generator, discriminator = program.main(data=frog_zip, epochs=3, batch_size=4, width=8,
                                                output=tmp_path / name, seed=11)
        return capsys.readouterr().out, generator.get_weights() + discriminator.get_weights()

    compiled_log, compiled = train_three_epochs("compiled")
    tf.config.run_functions_eagerly(True)
    try:
        eager_log, eager = train_three_epochs("eager")
    finally:
        tf.config.run_functions_eagerly(False)
    assert "Epoch: 0, Discriminator loss: " in compiled_log
    for got, expected in zip(compiled, eager):
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6)
    assert compiled_log.count("Epoch: ") == eager_log.count("Epoch: ") == 1


def test_the_helpers_run_once_to_build_the_graph_then_only_the_graph_runs(frog_zip, tmp_path,
                                                                         monkeypatch):
    calls, steps = [], []
    real_generate, real_compile = Gan.generate_images, program.compile_step

    def counting_generate(*args):
        calls.append(args[1])
        return real_generate(*args)

    def keeping_compile(step, **options):
        steps.append(real_compile(step, **options))
        return steps[-1]

    monkeypatch.setattr(program.Gan, "generate_images", staticmethod(counting_generate))
    monkeypatch.setattr(program, "compile_step", keeping_compile)
    program.main(data=frog_zip, epochs=6, batch_size=4, width=8, output=tmp_path, seed=1)
    assert calls == [4]  # traced once, though the cursor took six values
    assert steps[0].graph.experimental_get_tracing_count() == 1


@pytest.fixture(scope="module")
def two_epoch_run(tmp_path_factory, frog_zip):
    """run(recipe): the output folder of a width-8, two-epoch, seed-3 run of that recipe,
    trained once for the tests that read it (a test that writes copies it first)."""
    from click.testing import CliRunner

    folders = {}

    def run(recipe):
        if recipe not in folders:
            output = tmp_path_factory.mktemp(recipe) / "out"
            result = CliRunner().invoke(main, ["--data", str(frog_zip), "--output", str(output),
                                               "--recipe", recipe, "--width", "8", "--epochs",
                                               "2", "--seed", "3"])
            assert result.exit_code == 0, result.output
            folders[recipe] = output
        return folders[recipe]

    return run


def test_a_checkpoint_from_before_the_compiled_step_is_refused_in_one_line(two_epoch_run,
                                                                          frog_zip, tmp_path):
    output = shutil.copytree(two_epoch_run("tutorial"), tmp_path / "out")
    # what checkpoints held before (format 1): no "random/*" arrays for the step's generator
    saved = dict(np.load(output / "checkpoint.npz"))
    assert [key for key in saved if key.startswith("random/")] == ["random/0"]
    settings = {**read_checkpoint(output / "checkpoint.npz")["settings"], "format": 1}
    saved["settings"] = np.array(json.dumps(settings))
    np.savez(output / "checkpoint.npz", **{key: value for key, value in saved.items()
                                           if not key.startswith("random/")})
    resumed = train(frog_zip, output, "--resume", "--epochs", 3)
    assert resumed.exit_code == 2
    assert resumed.output.startswith(f"Error: {output}/checkpoint.npz was saved by an earlier "
                                     f"gan_demo (checkpoint format 1,")
    assert len(resumed.output.splitlines()) == 1


@pytest.mark.parametrize("recipe", ["tutorial", "stable"])
def test_the_checkpoint_holds_the_steps_random_generator(two_epoch_run, recipe):
    state = read_checkpoint(two_epoch_run(recipe) / "checkpoint.npz")["random/0"]
    fresh = tf.random.Generator.from_seed(3).state.numpy()
    assert state.shape == fresh.shape and not np.array_equal(state, fresh)  # it moved


@pytest.mark.parametrize("recipe", ["tutorial", "stable"])
def test_mixed_precision_computes_in_bfloat16_and_keeps_float32_weights(frog_zip, tmp_path,
                                                                        recipe):
    import keras
    from click.testing import CliRunner

    result = CliRunner().invoke(main, ["--data", str(frog_zip), "--output", str(tmp_path),
                                       "--recipe", recipe, "--width", "8", "--epochs", "2",
                                       "--save-every", "1", "--mixed-precision"])
    assert result.exit_code == 0, result.output
    assert keras.mixed_precision.global_policy().name == "float32"  # restored after the run
    saved = read_checkpoint(tmp_path / "checkpoint.npz")
    weights = [saved[key] for key in saved if key.startswith(("generator/", "discriminator/"))]
    assert {value.dtype for value in weights if value.dtype.kind == "f"} == {np.dtype("float32")}
    generator = keras.saving.load_model(tmp_path / "generator.keras")
    convolutions = [layer for layer in generator.layers if "conv" in layer.name]
    assert {layer.dtype_policy.name for layer in convolutions} == {"mixed_bfloat16"}
    assert {layer.compute_dtype for layer in convolutions} == {"bfloat16"}
    assert sorted(path.name for path in tmp_path.glob("grid_*.png")) == ["grid_0.png",
                                                                        "grid_1.png"]
    assert saved["settings"]["precision"] == "mixed_bfloat16"


def test_a_mixed_precision_run_resumes_in_mixed_precision(frog_zip, tmp_path):
    import keras
    from click.testing import CliRunner

    def run(*args):
        return CliRunner().invoke(main, ["--data", str(frog_zip), "--output", str(tmp_path),
                                         "--width", "8", "--save-every", "1", *args])

    assert run("--epochs", "1", "--mixed-precision").exit_code == 0
    resumed = run("--epochs", "2", "--resume")  # the checkpoint says bfloat16, not the flag
    assert resumed.exit_code == 0, resumed.output
    generator = keras.saving.load_model(tmp_path / "generator.keras")
    assert {layer.compute_dtype for layer in generator.layers if "conv" in layer.name} == \
        {"bfloat16"}
    assert read_checkpoint(tmp_path / "checkpoint.npz")["settings"]["precision"] == \
        "mixed_bfloat16"


# slow: one XLA compilation of a whole training step takes 10 to 20 s on a CPU (that it is
# compiled once, not once per batch start, is test_gan's gather test)
@pytest.mark.slow
@pytest.mark.parametrize("recipe", ["tutorial", "stable"])
def test_xla_compiles_the_training_step_with_jit(frog_zip, tmp_path, monkeypatch, recipe):
    from click.testing import CliRunner

    options = []
    real_function = tf.function

    def recording_function(*args, **kwargs):
        options.append(kwargs.get("jit_compile"))
        return real_function(*args, **kwargs)

    monkeypatch.setattr(tf, "function", recording_function)
    result = CliRunner().invoke(main, ["--data", str(frog_zip), "--output", str(tmp_path),
                                       "--recipe", recipe, "--width", "8", "--epochs", "3",
                                       "--xla", "--seed", "2"])
    assert result.exit_code == 0, result.output
    assert True in options
    losses = np.loadtxt(tmp_path / "losses.csv", delimiter=",", skiprows=1)
    assert losses.shape == (3, 3) and np.isfinite(losses).all()
