"""quality.py's command line and the names its runs go by (quality.py is the script)."""

import argparse
import os

from gan_demo import program
from gan_demo.stable import StableRecipe
from gan_demo.stable_networks import NETWORKS
from kerasutil.data import FROG_COUNT

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DATA = os.path.join(HERE, "..", "..", "shared", "data", "frog_pictures.zip")
DEFAULT_RESULTS = os.path.join(HERE, "results", "quality.jsonl")


def parser(description):
    """quality.py's command line; each default read from where the setting lives."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--recipe", choices=("stable", "tutorial"), default="stable")
    parser.add_argument("--minutes", type=float, default=None, help="wall-clock training budget")
    parser.add_argument("--steps", type=int, default=None, help="or a budget in steps")
    parser.add_argument("--networks", choices=NETWORKS, default=StableRecipe.networks,
                        help=f"the stable recipe's networks [{StableRecipe.networks}]")
    parser.add_argument("--xla", action="store_true", help="compile the stable step with XLA")
    parser.add_argument("--width", type=int, default=None,
                        help=f"generator channels [{program.tutorial_width} tutorial, "
                             f"{StableRecipe.width} stable]")
    parser.add_argument("--discriminator-width", type=int,
                        default=StableRecipe.discriminator_width,
                        help=f"the discriminator's width; the generator's for both at one "
                             f"[{StableRecipe.discriminator_width} stable]")
    parser.add_argument("--loss", choices=StableRecipe.losses, default=StableRecipe.loss)
    parser.add_argument("--batch", type=int, default=None,
                        help=f"[{program.batch_size} tutorial, {StableRecipe.batch_size} stable]")
    parser.add_argument("--optimizer", choices=("adam", "adadelta"),
                        default=StableRecipe.optimizer)
    parser.add_argument("--lr", type=float, default=None,
                        help="[the optimizer's: %(adadelta)g AdaDelta, %(adam)g Adam]"
                        % StableRecipe.learning_rates)
    parser.add_argument("--augment", type=_policy, default=StableRecipe.augment,
                        help="DiffAugment operations, comma-separated [color,translation,cutout]")
    parser.add_argument("--mirror", action="store_true",
                        help="flip each real frog left-right with probability 1/2")
    parser.add_argument("--ema", type=float, default=StableRecipe.ema_decay)
    parser.add_argument("--also-ema", type=_decays, default=(), metavar="DECAYS",
                        help="also keep averages of the same run at these decays, e.g. 0.9999, "
                             "and score each beside the recipe's")
    parser.add_argument("--r1", type=float, default=StableRecipe.r1_gamma,
                        help=f"R1 penalty weight gamma, 0 for none [{StableRecipe.r1_gamma:g}]")
    parser.add_argument("--lecam", type=float, default=StableRecipe.lecam, metavar="WEIGHT",
                        help=f"LeCam penalty weight, 0 for none, e.g. 0.3 "
                             f"[{StableRecipe.lecam:g}]")
    parser.add_argument("--lr-half-life", type=int,
                        default=StableRecipe.learning_rate_half_life, metavar="STEPS",
                        help=f"halve both learning rates every STEPS steps after "
                             f"--lr-decay-start, 0 for a constant rate "
                             f"[{StableRecipe.learning_rate_half_life}]")
    parser.add_argument("--lr-decay-start", type=int,
                        default=StableRecipe.learning_rate_decay_start, metavar="STEPS",
                        help=f"steps at the full rate before it halves "
                             f"[{StableRecipe.learning_rate_decay_start}]")
    parser.add_argument("--curve", type=_minutes, default=(), metavar="MINUTES",
                        help="also draw samples at these training minutes, e.g. 5,10 "
                             "(scored afterwards with --score RUN_DIR)")
    parser.add_argument("--no-augment", action="store_true")
    parser.add_argument("--no-ema", action="store_true")
    parser.add_argument("--no-raw", action="store_true",
                        help="do not also score the raw generator (the average's ablation)")
    parser.add_argument("--count", type=int, default=FROG_COUNT, help="samples to score")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=None, help="TensorFlow CPU threads")
    parser.add_argument("--no-fid", action="store_true", help="SWD only")
    parser.add_argument("--floor", action="store_true",
                        help="score 2,500 real frogs against the other 2,500 and stop")
    parser.add_argument("--score", nargs="+", default=None, metavar="RUN_DIR",
                        help="score the samples earlier runs left unscored, and stop")
    parser.add_argument("--data", default=DEFAULT_DATA)
    parser.add_argument("--out", default=None, help="folder for samples, grid and result")
    parser.add_argument("--results", default=DEFAULT_RESULTS,
                        help="the file each run appends its result line to "
                             "[benchmarks/results/quality.jsonl]")
    return parser


def recipe_label(args):
    """The recipe as the curve names it: "tutorial", "stable" or "stable (tutorial networks)"."""
    if args.recipe == "stable" and args.networks != StableRecipe.networks:
        return f"stable ({args.networks} networks)"
    return args.recipe


def _numbers(text):
    """The comma-separated numbers in ``text``; () if any is not a number."""
    try:
        return tuple(float(number) for number in text.split(",") if number)
    except ValueError:
        return ()


def _minutes(text):
    marks = _numbers(text)
    if not marks or min(marks) <= 0:
        raise argparse.ArgumentTypeError(f"minutes must be numbers > 0, e.g. 5,10; got {text!r}")
    return marks


def _decays(text):
    decays = _numbers(text)
    if not decays or not all(0 < decay < 1 for decay in decays):
        raise argparse.ArgumentTypeError(f"decays must be numbers in (0, 1), e.g. 0.9999; "
                                         f"got {text!r}")
    return decays


def average_suffix(decay):
    return f"-ema{decay:g}"


def _policy(text):
    policy = tuple(name for name in text.split(",") if name)
    unknown = set(policy) - set(StableRecipe.augment)
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown augmentation {sorted(unknown)}")
    return policy


def run_name(args):
    parts = [args.recipe, f"w{args.width}"]
    if args.batch:
        parts.append(f"b{args.batch}")
    parts.append(f"{args.minutes:g}min" if args.minutes else f"{args.steps}steps")
    if args.recipe == "stable":
        if args.networks != StableRecipe.networks:
            parts.append(args.networks)
        if args.discriminator_width != StableRecipe.discriminator_width:
            parts.append(f"dw{args.discriminator_width}")
        if args.loss != StableRecipe.loss:
            parts.append(args.loss)
        if args.xla:
            parts.append("xla")
        if args.optimizer != StableRecipe.optimizer:
            parts.append(args.optimizer)
        if args.lr is not None:
            parts.append(f"lr{args.lr:g}")
        if args.no_augment:
            parts.append("noaug")
        elif args.augment != StableRecipe.augment:
            parts.append("aug-" + "-".join(args.augment))
        schedule = (args.lr_half_life, args.lr_decay_start)
        if not args.lr_half_life:
            parts.append("lrconstant")
        elif schedule != (StableRecipe.learning_rate_half_life,
                          StableRecipe.learning_rate_decay_start):
            parts.append(f"halve{args.lr_half_life}from{args.lr_decay_start}")
        if args.mirror:
            parts.append("mirror")
        if args.r1 != StableRecipe.r1_gamma:
            parts.append(f"r1-{args.r1:g}")
        if args.lecam != StableRecipe.lecam:
            parts.append(f"lecam{args.lecam:g}")
        if args.no_ema:
            parts.append("noema")
        elif args.ema != StableRecipe.ema_decay:
            parts.append(average_suffix(args.ema).lstrip("-"))
    return "-".join(parts)
