"""Training from the command line: ``python -m gan_demo [OPTIONS]``, with no subcommand.

The options, and what happens before program.main (the tutorial) or stable.main trains: a new
run's settings or, with --resume, the ones its checkpoint recorded; the one-line refusals of
options that do not fit; the exit codes.
"""

import contextlib
import os
import shlex
import sys

import click
import tensorflow as tf
from click.core import ParameterSource

from gan_demo import program, stable
from gan_demo.checkpoint import checkpoint_path
from gan_demo.cifar import DEFAULT_CLASS, class_of_zip
from gan_demo.commands.errors import UserError, writable_folder
from gan_demo.commands.make_data import write_class_zip
from gan_demo.commands.settings import PRECISIONS, RECIPES, resumed_settings, run_settings
from gan_demo.pictures_zip import count_pictures
from gan_demo.run import TrainingRun
from gan_demo.stable import StableRecipe
from kerasutil.data import FROG_COUNT, DataError
from kerasutil.step import mirrored_strategy, precision

# a run whose losses became NaN or infinite stops with this code
DIVERGED = 3
# the options the resume command repeats when given; the checkpoint holds the rest
REPEATED = ("data", "epochs", "output", "save_every", "logdir", "xla", "mixed_precision",
            "distribute", "eager")

HELP = f"""Train a GAN on the {FROG_COUNT:,} CIFAR-10 frogs, as the tutorial "Create AI-generated
wildlife" does, or on any pictures file make-data builds (another CIFAR-10 animal, or a folder
of your own pictures).

It shows a progress bar and prints both losses every {program.log_every} epochs. Every
--save-every epochs it writes, in --output: generated_frog_{{epoch}}.png (the tutorial's),
grid_{{epoch}}.png (64 pictures from fixed latent vectors), losses.csv, losses.png and
checkpoint.npz. At the end, or when stopped with Ctrl-C, it also writes progress.gif and
generator.keras, and tells you how to continue with --resume.
"""


def _no_preset(ctx, param, value):
    if value is not None:
        raise UserError(f"--preset {value} is gone: it was --recipe stable by another name; "
                        f"use --recipe stable")


OPTIONS = (
    click.option("--data", default="frog_pictures.zip", show_default=True,
                 type=click.Path(dir_okay=False),
                 help="The pictures to train on: the tutorial's frog_pictures.zip, or any file "
                      "make-data writes (or the .bin inside it)."),
    click.option("--epochs", default=program.num_epochs, show_default=True,
                 type=click.IntRange(min=0),
                 help="Train until this epoch: one discriminator and one GAN step each."),
    click.option("--recipe", type=click.Choice(RECIPES), default="tutorial", show_default=True,
                 help=f"tutorial: the tutorial's training; stable: "
                      f"{StableRecipe.networks.upper()}'s networks (generator width "
                      f"{StableRecipe.width}, discriminator "
                      f"{StableRecipe.discriminator_width}) with pictures in [-1, 1], DiffAugment, "
                      f"an R1 penalty and a weight average, at batch {StableRecipe.batch_size}, "
                      f"the learning rate halving every "
                      f"{StableRecipe.learning_rate_half_life:,} steps from "
                      f"{StableRecipe.learning_rate_decay_start:,} (good pictures sooner)."),
    click.option("--batch-size", default=None, type=click.IntRange(min=1),
                 help=f"Real pictures per step (and as many fakes), at most the pictures in "
                      f"--data.  [default: "
                      f"{program.batch_size}; stable: {StableRecipe.batch_size}]"),
    click.option("--output", default="images", show_default=True,
                 type=click.Path(file_okay=False),
                 help="Folder for the pictures, grids, GIF, losses and checkpoint."),
    click.option("--save-every", default=program.save_every, show_default=True,
                 type=click.IntRange(min=1),
                 help="Save a picture, a grid and a checkpoint every this many epochs."),
    click.option("--resume", is_flag=True,
                 help="Continue the run whose checkpoint is in --output, with its settings."),
    click.option("--logdir", default=None, type=click.Path(file_okay=False),
                 help="Also write TensorBoard summaries (losses, grids) here."),
    click.option("--width", default=None, type=click.IntRange(min=2),
                 help=f"Generator channels (smaller trains faster); the tutorial's "
                      f"discriminator gets half, the stable recipe's keeps its own "
                      f"({StableRecipe.discriminator_width}).  [default: "
                      f"{program.tutorial_width}; stable: {StableRecipe.width}]"),
    click.option("--seed", default=None, type=int,
                 help="Seed for a repeatable run; with --resume, a new path from the "
                      "checkpoint."),
    click.option("--download", is_flag=True,
                 help="Build --data from CIFAR-10 first if it is missing (needs internet): "
                      "the class its name says (deer_pictures.zip: the deer), else the "
                      "frogs."),
    click.option("--xla", is_flag=True,
                 help="Compile the training step with XLA too (a compile of ~20 s, then faster)."),
    click.option("--mixed-precision", is_flag=True,
                 help="Compute in bfloat16, keeping float32 weights (slower on CPUs without "
                      "bfloat16 units); a resumed run keeps the precision it was saved in."),
    click.option("--distribute", type=click.Choice(["none", "mirrored"]), default="none",
                 show_default=True,
                 help="mirrored: split each batch between all GPUs (tf.distribute."
                      "MirroredStrategy); the tutorial recipe only."),
    click.option("--eager", is_flag=True,
                 help="Run the training step as plain Python, one operation at a time, so a "
                      "print() or a debugger in it sees every epoch (many times slower)."),
    # gone: an old command line gets a one-line hint instead of click's "no such option"
    click.option("--preset", hidden=True, expose_value=False, callback=_no_preset),
)


def options(command):
    """Decorate ``command`` with the training options."""
    for option in reversed(OPTIONS):
        command = option(command)
    return command


def train(ctx, data, epochs, recipe, batch_size, output, save_every, resume, logdir, width, seed,
          download, xla, mixed_precision, distribute, eager):
    """Train as the options say (see :data:`HELP`); a new run or, with ``resume``, the one in
    ``output``.

    Raises:
        UserError: for options that do not fit, bad data or an unwritable --output.
        SystemExit: 3 when the run diverged, 128 + N when signal N stopped it, 130 on a second
            Ctrl-C.
    """
    settings = _settings(ctx, output, epochs, resume, recipe, width, batch_size,
                         mixed_precision)
    strategy = _strategy(distribute, settings["recipe"], settings["batch_size"], eager)
    if xla and eager:
        raise UserError("--eager runs the training step as plain Python, --xla compiles it: "
                        "drop one of them")
    if logdir:
        try:
            import tensorboard  # noqa: F401  (tf.summary needs it at the first write)
        except ImportError:
            raise UserError("--logdir needs TensorBoard: pip install tensorboard") from None
    if download and not os.path.exists(data):
        write_class_zip(data, None, class_of_zip(data) or DEFAULT_CLASS)
    check_batch_fits(data, settings["batch_size"], resumed=output if resume else None)
    created = not os.path.isdir(output)
    writable_folder(output, "--output")
    run = TrainingRun(output, epochs, save_every, settings, resume=resume, logdir=logdir,
                      grid_seed=seed, latent_dimensions=settings["latent_dimensions"],
                      resume_command=resume_command(ctx, output),
                      reseed=seed if resume else None)
    try:
        with strategy.scope(), precision(settings["precision"]), _eagerly(eager):
            _run_recipe(settings, data=data, epochs=epochs, output=output, seed=seed,
                        save_every=save_every, run=run, jit_compile=xla)
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


def _settings(ctx, output, epochs, resume, recipe, width, batch_size, mixed_precision):
    """A new run's settings from the options, or with ``resume`` the checkpoint's; checked."""
    if resume:
        settings = resumed_settings(ctx, output, epochs)
    elif os.path.exists(checkpoint_path(output)):
        raise UserError(f"'{output}' holds an earlier run's checkpoint: continue it with "
                        f"--resume, or pass another --output to start afresh")
    else:
        settings = run_settings(recipe, width, batch_size, PRECISIONS[mixed_precision])
    if settings["width"] % 2:
        halved = ("DCGAN's generator ends at" if settings.get("networks", "").startswith("dcgan")
                  else "the discriminator gets")
        raise UserError(f"--width {settings['width']} must be even: {halved} half of it")
    return settings


def check_batch_fits(data, batch_size, resumed=None):
    """Refuse, before anything is written, a batch of more pictures than ``data`` holds.

    The count is read from the file's size (:func:`count_pictures`). program.main walks the
    pictures a batch at a time from min(start, count - batch), which a larger batch would put
    before the first picture. A file that cannot be counted is left to the recipe's loading,
    which says what is wrong with it.

    Args:
        data: the pictures file (--data).
        batch_size: real pictures per step.
        resumed: the --output of a resumed run, whose batch size its checkpoint fixes; None for
            a new run.

    Raises:
        UserError: the batch is larger than the file's pictures (one line, exit code 2).
    """
    count = count_pictures(data)
    if count is None or batch_size <= count:
        return
    if resumed is not None:
        raise UserError(f"the run in '{resumed}' trains on batches of {batch_size} pictures, "
                        f"more than {data} holds ({count:,}): resume it with a --data of at "
                        f"least {batch_size} pictures")
    raise UserError(f"a batch of {batch_size} pictures (--batch-size) is more than {data} holds "
                    f"({count:,}): pass --batch-size {count:,} or less, or a --data of more "
                    f"pictures")


def _run_recipe(settings, **arguments):
    """Train with program.main or stable.main, at the settings' width, batch size and recipe."""
    sizes = {"width": settings["width"], "batch_size": settings["batch_size"]}
    if settings["recipe"] == "stable":
        stable.main(recipe=StableRecipe.from_settings(settings), **sizes, **arguments)
    else:
        program.main(**sizes, **arguments)


@contextlib.contextmanager
def _eagerly(eager):
    """Within the block, run TensorFlow functions as plain Python when ``eager`` (--eager)."""
    before = tf.config.functions_run_eagerly()
    tf.config.run_functions_eagerly(eager or before)
    try:
        yield
    finally:
        tf.config.run_functions_eagerly(before)


def _strategy(distribute, recipe, batch_size, eager):
    """The tf.distribute strategy the run trains under (the default one for --distribute none)."""
    if distribute == "none":
        return tf.distribute.get_strategy()
    if recipe != "tutorial":
        raise UserError("--distribute mirrored trains the tutorial recipe only: drop --recipe "
                        "stable or --distribute")
    if eager:
        raise UserError("--eager runs the training step on one device: drop --distribute or "
                        "--eager")
    strategy = mirrored_strategy()
    replicas = strategy.num_replicas_in_sync
    if batch_size % replicas:
        raise UserError(f"--batch-size {batch_size} does not split evenly between {replicas} "
                        f"replicas: pass a multiple of {replicas}")
    return strategy


def resume_command(ctx, output):
    """The command line that continues this run: the options that are not in its checkpoint,
    as given, plus --resume."""
    words = [ctx.find_root().info_name, "--resume"]
    for name in REPEATED:
        if ctx.get_parameter_source(name) is ParameterSource.DEFAULT:
            continue
        option, value = f"--{name.replace('_', '-')}", ctx.params[name]
        if value is True:
            words.append(option)  # a flag
        elif value is not False:
            words += [option, shlex.quote(str(value))]
    return " ".join(words)
