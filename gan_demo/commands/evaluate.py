"""``python -m gan_demo evaluate``: score a generator's frogs against the real ones."""

import json
import os

import click
import numpy as np
from click.core import ParameterSource

from gan_demo import sample
from gan_demo.commands.errors import UserError, writable_folder
from gan_demo.commands.generate import MOST_SAMPLES
from gan_demo.metrics import inception, scoring
from kerasutil.data import FROG_COUNT, DataError, DataUtil
from kerasutil.gan import to_pixels


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
        result = scoring.evaluate_pixels(fakes, real, fid=not no_fid, seed=seed,
                                         pairs_path=pairs)
    except OSError as error:
        raise UserError(f"cannot write --pairs '{pairs}' ({error.strerror or error}): choose "
                        f"another file") from None
    if as_json:
        click.echo(json.dumps(result))
    else:
        for line in scoring.report_lines(result):
            click.echo(line)

