"""``python -m gan_demo evaluate``: score a generator's pictures against the real ones."""

import json
import os

import click
import numpy as np

from gan_demo import sample
from gan_demo.commands.errors import UserError, writable_folder
from gan_demo.commands.generate import MOST_SAMPLES
from gan_demo.metrics import inception, scoring
from kerasutil.data import DataError, DataUtil
from kerasutil.gan import to_pixels


@click.command("evaluate")
@click.option("--checkpoint", default=None, type=click.Path(dir_okay=False),
              help="A run's checkpoint.npz or generator.keras: score --count pictures it "
                   "draws.")
@click.option("--samples", default=None, type=click.Path(dir_okay=False),
              help="Score these pictures instead: an .npz from generate --output "
                   "samples.npz.")
@click.option("--count", default=None, type=click.IntRange(2, MOST_SAMPLES),
              help=f"Pictures to draw from --checkpoint [default: as many as the real ones in "
                   f"--data, at most {MOST_SAMPLES:,}]; with --samples, score only the first "
                   f"COUNT [default: all of them].")
@click.option("--data", default="frog_pictures.zip", show_default=True,
              type=click.Path(dir_okay=False), help="The real pictures, those the generator "
              "was trained on: the tutorial's frog_pictures.zip, or any file make-data writes "
              "(or the .bin inside it).")
@click.option("--pairs", default=None, type=click.Path(dir_okay=False),
              help="Where to write the 16 fakes nearest a training picture, each beside that "
                   "picture [default: closest_pairs.png beside --checkpoint or --samples].")
@click.option("--seed", default=0, show_default=True, type=int,
              help="Seed for the pictures drawn and the metrics' random subsets: the same seed "
                   "gives the same scores.")
@click.option("--no-fid", is_flag=True,
              help=f"Skip FID and KID, which need PyTorch ({inception.INSTALL}).")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON object (fid, kid, kid_std, count, swd, ...) instead.")
def evaluate(checkpoint, samples, count, data, pairs, seed, no_fid, as_json):
    """Score a generator's pictures against the real ones: FID, KID, SWD and a memorisation
    check.

    FID and KID (lower is better) compare Inception features, as published FIDs do; the real
    pictures' features are computed once (minutes on a CPU for a few thousand) and cached. SWD
    (lower is better) compares small patches at 32 and 16 pixels. The memorisation check finds
    each fake's nearest training picture: a fake closer to one than real pictures are to each
    other is likely a copy. The metrics' progress goes to stderr; the scores to stdout.
    """
    if (checkpoint is None) == (samples is None):
        raise UserError("pass exactly one of --checkpoint (a generator to draw pictures from) "
                        "and --samples (an .npz of pictures from generate)")
    if not no_fid:
        try:
            inception.require_fid()
        except inception.FidUnavailable as error:
            raise UserError(str(error)) from None
    source = checkpoint or samples
    pairs = pairs or os.path.join(os.path.dirname(source), "closest_pairs.png")
    writable_folder(os.path.dirname(os.path.abspath(pairs)), "--pairs")
    try:
        real = to_pixels(DataUtil.load_pictures(data))
        if samples is not None:
            fakes = sample.load_samples(samples)
            if count is not None and count > len(fakes):
                raise UserError(f"--count {count:,} is more than the {len(fakes):,} pictures in "
                                f"{samples}")
            fakes = fakes[:count]
        else:
            generator = sample.load_generator(checkpoint)
    except DataError as error:
        raise UserError(str(error)) from None
    if len(real) < 2:
        raise UserError(f"{data} holds 1 picture: scores need at least 2 real ones; pass the "
                        f"file the generator was trained on")
    if samples is None:
        count = count or min(len(real), MOST_SAMPLES)  # as many fakes as real pictures
        click.echo(f"Drawing {count:,} pictures from {checkpoint}...", err=True)
        fakes = sample.generate_pixels(generator, count, np.random.default_rng(seed))
    if fakes.shape[1:] != real.shape[1:]:
        raise UserError(f"{samples} holds {fakes.shape[2]}x{fakes.shape[1]} pictures but the "
                        f"real ones in {data} are {real.shape[2]}x{real.shape[1]}")
    if len(fakes) < 2:
        raise UserError(f"{samples} holds {len(fakes)} picture: scores need at least 2")
    click.echo(f"Scoring {len(fakes):,} pictures against the {len(real):,} real pictures in "
               f"{data}...", err=True)
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

