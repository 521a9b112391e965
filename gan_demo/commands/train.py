"""The command line: ``python -m gan_demo`` runs the tutorial; subcommands add tools around it.

The training options live here; ``make-data``, ``generate`` and ``evaluate`` live in
:mod:`gan_demo.tools`, and the one-line error plumbing in :mod:`gan_demo.user_errors`.
"""

import os
import shlex
import sys

import click
import tensorflow as tf
from click.core import ParameterSource

from gan_demo import program, stable, tools
from gan_demo.checkpoint import CheckpointError, checkpoint_path, read_checkpoint
from gan_demo.run import TrainingRun
from gan_demo.user_errors import OneLineErrors, UserError, writable_folder
from kerasutil.data import FROG_COUNT, DataError
from kerasutil.step import mirrored_strategy, precision

# a run whose losses became NaN or infinite stops with this code
DIVERGED = 3
RECIPES = ("tutorial", "stable")
# --preset laptop: the recipe that measured best in 30 minutes on a 2-core CPU (README, "Frogs
# sooner"); its width and batch size are the recipe's own
LAPTOP_RECIPE = "stable"


@click.group(cls=OneLineErrors, invoke_without_command=True,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--data", default="frog_pictures.zip", show_default=True,
              type=click.Path(dir_okay=False),
              help="The tutorial's frog_pictures.zip (or the .bin inside it).")
@click.option("--epochs", default=100_000, show_default=True, type=click.IntRange(min=0),
              help="Train until this epoch: one discriminator and one GAN step each.")
@click.option("--recipe", type=click.Choice(RECIPES), default="tutorial", show_default=True,
              help="tutorial: the tutorial's training; stable: the same networks with frogs in "
                   "[-1, 1], DiffAugment and a weight average, at width 32 and batch 16 (frogs "
                   "sooner).")
@click.option("--batch-size", default=None, type=click.IntRange(1, FROG_COUNT),
              help="Real images per step (and as many fakes).  [default: 8; stable: 16]")
@click.option("--output", default="images", show_default=True, type=click.Path(file_okay=False),
              help="Folder for the frogs, grids, GIF, losses and checkpoint.")
@click.option("--save-every", default=1000, show_default=True, type=click.IntRange(min=1),
              help="Save a frog, a grid and a checkpoint every this many epochs.")
@click.option("--resume", is_flag=True, help="Continue the run whose checkpoint is in --output.")
@click.option("--logdir", default=None, type=click.Path(file_okay=False),
              help="Also write TensorBoard summaries (losses, grids) here.")
@click.option("--width", default=None, type=click.IntRange(min=2),
              help="Generator channels; the discriminator gets half (smaller trains faster).  "
                   "[default: 256; stable: 32]")
@click.option("--seed", default=None, type=int,
              help="Seed for a repeatable run; with --resume, a new path from the checkpoint.")
@click.option("--download", is_flag=True,
              help="Build --data from CIFAR-10 first if it is missing (needs internet).")
@click.option("--xla", is_flag=True,
              help="Compile the training step with XLA too (slower on a 2-core CPU).")
@click.option("--mixed-precision", is_flag=True,
              help="Compute in bfloat16, keeping float32 weights (slower on CPUs without "
                   "bfloat16 units).")
@click.option("--preset", type=click.Choice(["laptop"]), default=None,
              help="laptop: what reached the best FID in 30 minutes on a 2-core CPU, --recipe "
                   "stable at width 32 and batch 16 (options given still win).")
@click.option("--distribute", type=click.Choice(["none", "mirrored"]), default="none",
              show_default=True,
              help="mirrored: split each batch between all GPUs (tf.distribute."
                   "MirroredStrategy); the tutorial recipe only.")
@click.pass_context
def main(ctx, data, epochs, recipe, batch_size, output, save_every, resume, logdir, width, seed,
         download, xla, mixed_precision, distribute, preset):
    """Train a GAN on the 5,000 CIFAR-10 frogs, as the tutorial "Create AI-generated wildlife" does.

    It shows a progress bar and prints both losses every 100 epochs. Every --save-every
    epochs it writes, in --output: generated_frog_{epoch}.png (the tutorial's), grid_{epoch}.png
    (64 frogs from fixed latent vectors), losses.csv, losses.png and checkpoint.npz. At the end,
    or when stopped with Ctrl-C, it also writes progress.gif and generator.keras, and tells you
    how to continue with --resume.
    """
    if ctx.invoked_subcommand is not None:
        return
    if preset == "laptop" and ctx.get_parameter_source("recipe") is ParameterSource.DEFAULT:
        recipe = ctx.params["recipe"] = LAPTOP_RECIPE
    if resume:
        recipe, width, batch_size, first_epoch = _resumed_settings(ctx, output)
        if first_epoch >= epochs:
            raise UserError(f"the run in '{output}' has already trained {_epochs(first_epoch)}: "
                            f"pass a larger --epochs to continue it")
    elif os.path.exists(checkpoint_path(output)):
        raise UserError(f"'{output}' holds an earlier run's checkpoint: continue it with "
                        f"--resume, or pass another --output to start afresh")
    stable_recipe = recipe == "stable"
    width, batch_size = recipe_sizes(recipe, width, batch_size)
    if width % 2:
        raise UserError(f"--width {width} must be even: the discriminator gets half of it")
    strategy = _strategy(distribute, recipe, batch_size)
    if logdir:
        try:
            import tensorboard  # noqa: F401  (tf.summary needs it at the first write)
        except ImportError:
            raise UserError("--logdir needs TensorBoard: pip install tensorboard") from None
    if download and not os.path.exists(data):
        tools.write_frog_zip(data, None)
    created = not os.path.isdir(output)
    writable_folder(output, "--output")
    run = TrainingRun(
        output, epochs, save_every, resume=resume, logdir=logdir, grid_seed=seed,
        settings={"recipe": recipe, "width": width, "batch_size": batch_size,
                  "latent_dimensions": 32},
        resume_command=_resume_command(ctx, output), reseed=seed if resume else None)
    try:
        train = stable.main if stable_recipe else program.main
        with strategy.scope(), precision("mixed_bfloat16" if mixed_precision else "float32"):
            train(data=data, epochs=epochs, batch_size=batch_size, output=output, seed=seed,
                  width=width, save_every=save_every, run=run, jit_compile=xla)
    except DataError as error:
        if created and not os.listdir(output):
            os.rmdir(output)  # leave nothing behind for a run that never started
        raise UserError(str(error)) from None
    except OSError as error:  # a full disk, or a folder that became read-only
        raise UserError(f"cannot write to --output '{output}' ({error.strerror or error}): free "
                        f"some space or choose another folder; the last checkpoint there is "
                        f"intact") from None
    except KeyboardInterrupt:
        click.echo("\nStopped.", err=True)
        sys.exit(130)
    finally:
        run.close()
    if run.stopped_by is not None:
        sys.exit(128 + run.stopped_by)
    if run.diverged_at is not None:
        sys.exit(DIVERGED)


def _strategy(distribute, recipe, batch_size):
    """The tf.distribute strategy the run trains under (the default one for --distribute none)."""
    if distribute == "none":
        return tf.distribute.get_strategy()
    if recipe != "tutorial":
        raise UserError("--distribute mirrored trains the tutorial recipe only: drop --recipe "
                        "stable or --distribute")
    strategy = mirrored_strategy()
    replicas = strategy.num_replicas_in_sync
    if batch_size % replicas:
        raise UserError(f"--batch-size {batch_size} does not split evenly between {replicas} "
                        f"replicas: pass a multiple of {replicas}")
    return strategy


def recipe_sizes(recipe, width=None, batch_size=None):
    """The width and batch size a run trains with: those given, else the recipe's."""
    if recipe == "stable":
        return width or stable.STABLE_WIDTH, batch_size or stable.StableRecipe.batch_size
    return width or program.tutorial_width, batch_size or 8


def _epochs(count):
    return f"{count:,} epoch" + ("" if count == 1 else "s")


def _resumed_settings(ctx, output):
    """The recipe, width and batch size of the run to resume, and its next epoch."""
    try:
        saved = read_checkpoint(checkpoint_path(output))
    except CheckpointError as error:
        raise UserError(str(error)) from None
    settings = {"recipe": "tutorial", **saved["settings"]}  # runs saved before --recipe
    for option, name in (("--recipe", "recipe"), ("--width", "width"),
                         ("--batch-size", "batch_size")):
        given = ctx.params[name]
        explicit = ctx.get_parameter_source(name) is not ParameterSource.DEFAULT
        if explicit and given != settings[name]:
            raise UserError(f"the run in '{output}' was trained with {option} "
                            f"{settings[name]}, not {given}: drop {option} to resume it")
    return (settings["recipe"], settings["width"], settings["batch_size"],
            int(saved["epoch"]) + 1)


def _resume_command(ctx, output):
    """The command line that continues this run: the same options, plus --resume."""
    words = ["python -m gan_demo", "--resume"]
    for name in ("data", "epochs", "output", "save_every", "logdir"):
        if ctx.get_parameter_source(name) is not ParameterSource.DEFAULT:
            words += [f"--{name.replace('_', '-')}", shlex.quote(str(ctx.params[name]))]
    return " ".join(words)


for command in (tools.make_data, tools.generate, tools.evaluate):
    main.add_command(command)
