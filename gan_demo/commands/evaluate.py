"""The tools around training: ``make-data``, ``generate`` and ``evaluate`` subcommands."""

import json
import os

import click
import numpy as np
from click.core import ParameterSource

from gan_demo import evaluate as evaluation
from gan_demo import frog_data, inception, sample
from gan_demo.user_errors import UserError, writable_folder
from kerasutil.data import FROG_COUNT, DataError, DataUtil
from kerasutil.gan import to_pixels

# generate draws at most this many frogs into a picture, and this many into an .npz
MOST_PICTURED = 10_000
MOST_SAMPLES = 50_000


@click.command("make-data")
@click.option("--output", default="frog_pictures.zip", show_default=True,
              type=click.Path(dir_okay=False), help="The zip to write.")
@click.option("--cifar", default=None, type=click.Path(dir_okay=False),
              help="A local cifar-10-python.tar.gz; without it Keras downloads CIFAR-10.")
def make_data(output, cifar):
    """Build the tutorial's frog_pictures.zip from CIFAR-10's 5,000 training frogs."""
    write_frog_zip(output, cifar)


@click.command()
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
        writable_folder(output, "--output")
        paths = sample.write_separate(generator, count, output, rng)
        click.echo(f"Wrote {len(paths):,} frogs to {output}/")
        return
    output = output or ("frogs.gif" if interpolate else "frogs.png")
    writable_folder(os.path.dirname(os.path.abspath(output)), "--output")
    if pixels:
        write = sample.write_npz
    else:
        write = sample.write_interpolation if interpolate else sample.write_grid
    write(generator, count, output, rng)
    click.echo(f"Wrote {count:,} frogs to {output}")


@click.command("evaluate")
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
    writable_folder(os.path.dirname(os.path.abspath(pairs)), "--pairs")
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


def write_frog_zip(output, cifar):
    """Build the frogs zip at ``output`` from CIFAR-10 (``cifar`` or a download), in one line."""
    source = cifar or "CIFAR-10 (downloading through Keras)"
    click.echo(f"Building {output} from {source}...")
    try:
        count = frog_data.build_frog_zip(output, cifar_archive=cifar)
    except DataError as error:
        raise UserError(str(error)) from None
    click.echo(f"Wrote {count:,} frogs to {output}")
