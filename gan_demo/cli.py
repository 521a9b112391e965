"""The command line: ``python -m gan_demo`` runs the tutorial; subcommands add tools around it."""

import json
import os
import shlex
import sys

import click
import numpy as np
import tensorflow as tf
from click.core import ParameterSource

from gan_demo import evaluate as evaluation
from gan_demo import frog_data, inception, program, sample, stable
from gan_demo.checkpoint import CheckpointError, checkpoint_path, read_checkpoint
from gan_demo.run import TrainingRun
from kerasutil.data import FROG_COUNT, DataError, DataUtil
from kerasutil.gan import to_pixels
from kerasutil.step import mirrored_strategy, precision

# a user mistake exits with this code and one line, never a traceback
USAGE_ERROR = 2
# a run whose losses became NaN or infinite stops with this code
DIVERGED = 3
# generate draws at most this many frogs into a picture, and this many into an .npz
MOST_PICTURED = 10_000
MOST_SAMPLES = 50_000
RECIPES = ("tutorial", "stable")
# --preset laptop: the recipe that measured best in 30 minutes on a 2-core CPU (README, "Frogs
# sooner"); its width and batch size are the recipe's own
LAPTOP_RECIPE = "stable"


class UserError(click.ClickException):
    """A mistake the user can fix: printed as one line, exit code 2."""

    exit_code = USAGE_ERROR


class OneLineErrors(click.Group):
    """A command group whose every error, click's own option checks too, is one line."""

    def main(self, *args, standalone_mode=True, **kwargs):
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            exit_code = super().main(*args, standalone_mode=False, **kwargs)
        except click.ClickException as error:
            click.echo(f"Error: {error.format_message()}", err=True)
            sys.exit(error.exit_code)
        except click.Abort:  # Ctrl-C outside training (training handles its own)
            sys.exit(130)
        sys.exit(exit_code if isinstance(exit_code, int) else 0)


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
        _make_data(data, None)
    created = not os.path.isdir(output)
    _writable_folder(output, "--output")
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


@main.command("make-data")
@click.option("--output", default="frog_pictures.zip", show_default=True,
              type=click.Path(dir_okay=False), help="The zip to write.")
@click.option("--cifar", default=None, type=click.Path(dir_okay=False),
              help="A local cifar-10-python.tar.gz; without it Keras downloads CIFAR-10.")
def make_data(output, cifar):
    """Build the tutorial's frog_pictures.zip from CIFAR-10's 5,000 training frogs."""
    _make_data(output, cifar)


@main.command()
@click.option("--checkpoint", required=True, type=click.Path(dir_okay=False),
              help="A run's checkpoint.npz or generator.keras.")
@click.option("--count", default=64, show_default=True,
              type=click.IntRange(1, MOST_SAMPLES),
              help=f"How many frogs (at most {MOST_PICTURED:,} in a picture).")
@click.option("--output", default=None, type=click.Path(),
              help="Where to write [default: frogs.png; frogs/ with --separate; frogs.gif with "
                   "--interpolate]. A name ending in .npz writes the pixels instead: uint8 "
                   "(count, 32, 32, 3) under the key \"images\", for evaluate --samples.")
@click.option("--separate", is_flag=True, help="One 32x32 PNG per frog instead of a grid.")
@click.option("--interpolate", is_flag=True,
              help="A looping GIF of the frogs morphing as they walk through latent space.")
@click.option("--seed", default=None, type=int, help="Seed for the same frogs every time.")
def generate(checkpoint, count, output, separate, interpolate, seed):
    """Draw frogs with a trained generator."""
    if separate and interpolate:
        raise UserError("--separate and --interpolate cannot be combined: pick one")
    pixels = output is not None and output.lower().endswith(".npz")
    if pixels and (separate or interpolate):
        raise UserError(f"--output {output} writes the frogs' pixels: drop "
                        f"{'--separate' if separate else '--interpolate'}, or write a picture")
    if count > MOST_PICTURED and not pixels:
        raise UserError(f"--count {count:,} is too many frogs for a picture (at most "
                        f"{MOST_PICTURED:,}): write an .npz (--output samples.npz) for up to "
                        f"{MOST_SAMPLES:,}")
    try:
        generator = sample.load_generator(checkpoint)
    except DataError as error:
        raise UserError(str(error)) from None
    rng = np.random.default_rng(seed)
    if separate:
        output = output or "frogs"
        _writable_folder(output, "--output")
        paths = sample.write_separate(generator, count, output, rng)
        click.echo(f"Wrote {len(paths):,} frogs to {output}/")
        return
    output = output or ("frogs.gif" if interpolate else "frogs.png")
    _writable_folder(os.path.dirname(os.path.abspath(output)), "--output")
    if pixels:
        write = sample.write_npz
    else:
        write = sample.write_interpolation if interpolate else sample.write_grid
    write(generator, count, output, rng)
    click.echo(f"Wrote {count:,} frogs to {output}")


@main.command("evaluate")
@click.option("--checkpoint", default=None, type=click.Path(dir_okay=False),
              help="A run's checkpoint.npz or generator.keras: score --count frogs it draws.")
@click.option("--samples", default=None, type=click.Path(dir_okay=False),
              help="Score these frogs instead: an .npz from generate --output samples.npz.")
@click.option("--count", default=FROG_COUNT, show_default=True,
              type=click.IntRange(2, MOST_SAMPLES),
              help="Frogs to draw from --checkpoint (with --samples: score only the first "
                   "COUNT; all of them by default).")
@click.option("--data", default="frog_pictures.zip", show_default=True,
              type=click.Path(dir_okay=False), help="The real frogs: the tutorial's "
              "frog_pictures.zip (or the .bin inside it).")
@click.option("--pairs", default=None, type=click.Path(dir_okay=False),
              help="Where to write the 16 fakes nearest a training frog, each beside that "
                   "frog [default: closest_pairs.png beside --checkpoint or --samples].")
@click.option("--seed", default=0, show_default=True, type=int,
              help="Seed for the frogs drawn and the metrics' random subsets: the same seed "
                   "gives the same scores.")
@click.option("--no-fid", is_flag=True,
              help=f"Skip FID and KID, which need PyTorch ({inception.INSTALL}).")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON object (fid, kid, kid_std, count, swd, ...) instead.")
@click.pass_context
def evaluate(ctx, checkpoint, samples, count, data, pairs, seed, no_fid, as_json):
    """Score a generator's frogs against the real ones: FID, KID, SWD and a memorisation check.

    FID and KID (lower is better) compare Inception features, as published FIDs do; the real
    frogs' features are computed once (minutes on a CPU) and cached. SWD (lower is better)
    compares small patches at 32 and 16 pixels. The memorisation check finds each fake's
    nearest training frog: a fake closer to one than real frogs are to each other is likely a
    copy. The metrics' progress goes to stderr; the scores to stdout.
    """
    if (checkpoint is None) == (samples is None):
        raise UserError("pass exactly one of --checkpoint (a generator to draw frogs from) and "
                        "--samples (an .npz of frogs from generate)")
    explicit_count = ctx.get_parameter_source("count") is not ParameterSource.DEFAULT
    if not no_fid:
        try:
            inception.require_fid()
        except inception.FidUnavailable as error:
            raise UserError(str(error)) from None
    source = checkpoint or samples
    pairs = pairs or os.path.join(os.path.dirname(source), "closest_pairs.png")
    _writable_folder(os.path.dirname(os.path.abspath(pairs)), "--pairs")
    try:
        real = to_pixels(DataUtil.load_frog_pictures(data))
        if samples is not None:
            fakes = sample.load_samples(samples)
            if explicit_count and count > len(fakes):
                raise UserError(f"--count {count:,} is more than the {len(fakes):,} frogs in "
                                f"{samples}")
            fakes = fakes[:count] if explicit_count else fakes
        else:
            generator = sample.load_generator(checkpoint)
    except DataError as error:
        raise UserError(str(error)) from None
    if samples is None:
        click.echo(f"Drawing {count:,} frogs from {checkpoint}...", err=True)
        fakes = sample.generate_pixels(generator, count, np.random.default_rng(seed))
    if fakes.shape[1:] != real.shape[1:]:
        raise UserError(f"{samples} holds {fakes.shape[2]}x{fakes.shape[1]} frogs but the real "
                        f"ones in {data} are {real.shape[2]}x{real.shape[1]}")
    if len(fakes) < 2:
        raise UserError(f"{samples} holds {len(fakes)} frog: scores need at least 2")
    click.echo(f"Scoring {len(fakes):,} frogs against the {len(real):,} real frogs in {data}...",
               err=True)
    try:
        result = evaluation.evaluate_pixels(fakes, real, fid=not no_fid, seed=seed,
                                            pairs_path=pairs)
    except OSError as error:
        raise UserError(f"cannot write --pairs '{pairs}' ({error.strerror or error}): choose "
                        f"another file") from None
    if as_json:
        click.echo(json.dumps(result))
    else:
        for line in evaluation.report_lines(result):
            click.echo(line)


def _make_data(output, cifar):
    source = cifar or "CIFAR-10 (downloading through Keras)"
    click.echo(f"Building {output} from {source}...")
    try:
        count = frog_data.build_frog_zip(output, cifar_archive=cifar)
    except DataError as error:
        raise UserError(str(error)) from None
    click.echo(f"Wrote {count:,} frogs to {output}")


def _writable_folder(folder, option):
    """Create ``folder`` or fail with one line naming the option, before any slow work starts."""
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as error:
        raise UserError(f"{option} '{folder}' cannot be created: {error.strerror}; "
                        f"choose a folder you can write to") from None
    if not os.access(folder, os.W_OK):
        raise UserError(f"{option} '{folder}' is not writable; choose a folder you can "
                        f"write to") from None
