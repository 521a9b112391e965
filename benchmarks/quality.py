"""How close to real frogs a recipe gets in a fixed training budget: FID, KID and SWD.

    python benchmarks/quality.py --recipe stable --minutes 30
    python benchmarks/quality.py --recipe tutorial --minutes 30
    python benchmarks/quality.py --floor            # real frogs: 2,500 against the other 2,500
    python benchmarks/quality.py --recipe stable --steps 600 --no-augment   # an ablation

Each run trains from scratch on ../shared/data/frog_pictures.zip (or --data) until the budget is
spent (wall-clock --minutes, or --steps), then draws --count samples (5,000: as many as there
are frogs) and scores them against all 5,000 real frogs. It writes samples.npz, a grid of 64
samples and result.json to --out and appends one line to --results (benchmarks/results/
quality.jsonl, which docs/benchmarks.md cites). The tutorial recipe runs
program.py's own loop; the stable recipe gan_demo.stable's compiled step. FID and KID need the
``fid`` extra (pip install -e '.[fid]'); SWD needs nothing more. Figures from different runs
are comparable only when the machine was equally busy: run the recipes side by side.
"""

import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.dirname(HERE), HERE]  # gan_demo, kerasutil and quality_args

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from gan_demo import program  # noqa: E402
from gan_demo.pictures import grid_image, save_picture  # noqa: E402
from gan_demo.run import Run  # noqa: E402
from gan_demo.sample import generate_pixels  # noqa: E402
from gan_demo.stable import StableGan, StableRecipe, to_pixel_range  # noqa: E402
from kerasutil import DataUtil  # noqa: E402
from kerasutil.gan import to_pixels  # noqa: E402
from quality_args import DEFAULT_RESULTS  # noqa: E402,F401  (the file the docs cite)
from quality_args import average_suffix as _average_suffix  # noqa: E402
from quality_args import recipe_label as _recipe_label  # noqa: E402
from quality_args import run_name as _run_name  # noqa: E402
import quality_args  # noqa: E402


def _parser():
    return quality_args.parser(__doc__.split("\n\n")[0])


class Budget:
    """A training budget in wall-clock seconds or steps, with the curve's snapshots on the way.

    ``tick(sampler)`` after every step; it returns True once the budget is spent. At each of
    ``marks`` (minutes) ``snapshot(sampler, minutes, steps, seconds)`` runs, and the time it
    takes is not counted: the clock measures training only.
    """

    def __init__(self, seconds=None, steps=None, marks=(), snapshot=None):
        self.seconds, self.steps_left = seconds, steps
        self.marks, self.snapshot = sorted(marks), snapshot
        self.steps = 0
        self.began = time.perf_counter()
        self.paused = 0.0

    @property
    def elapsed(self):
        """Seconds spent training so far."""
        return time.perf_counter() - self.began - self.paused

    def tick(self, sampler):
        self.steps += 1
        while self.marks and self.elapsed >= self.marks[0] * 60:
            paused = time.perf_counter()
            self.snapshot(sampler, self.marks.pop(0), self.steps, self.elapsed)
            self.paused += time.perf_counter() - paused
        if self.steps_left is not None and self.steps >= self.steps_left:
            return True
        return self.seconds is not None and self.elapsed >= self.seconds


class BudgetRun(Run):
    """The tutorial's run, stopped when the budget is spent; it prints nothing."""

    def __init__(self, budget):
        self.budget = budget

    def begin(self, generator, *parts, **named):
        self.generator = generator
        return super().begin(generator, *parts, **named)

    def log(self, text):
        pass

    def end_epoch(self, epoch, start, discriminator_loss, gan_loss):
        return self.budget.tick(self.generator)


def train_tutorial(args, budget, batch):
    generator, _ = program.main(data=args.data, epochs=10 ** 9, batch_size=batch,
                                output=os.path.join(args.out, "tutorial_pngs"), seed=args.seed,
                                width=args.width, save_every=10 ** 9, run=BudgetRun(budget))
    return generator


def train_stable(args, budget, frogs, batch, extras):
    """Train the stable recipe; ``extras`` gets a sampler per --also-ema average."""
    recipe = StableRecipe(
        networks=args.networks, width=args.width, batch_size=batch,
        discriminator_width=args.discriminator_width, loss=args.loss,
        optimizer=args.optimizer, learning_rate=args.lr,
        augment=() if args.no_augment else args.augment, mirror=args.mirror,
        ema_decay=0.0 if args.no_ema else args.ema, r1_gamma=args.r1, lecam=args.lecam,
        learning_rate_half_life=args.lr_half_life, learning_rate_decay_start=args.lr_decay_start)
    gan = StableGan(frogs, recipe=recipe, seed=args.seed, jit_compile=args.xla)
    if args.also_ema:
        # more averages of the same generator, updated in the same compiled step: a
        # comparison of decays free of the noise between two training runs
        averages = {decay: gan.new_average() for decay in args.also_ema}

        def step():
            losses = gan._train_step()
            for decay, average in averages.items():
                gan.update_average(average, decay)
            return losses

        gan.train_step = tf.function(step, jit_compile=args.xla)
        extras.update({_average_suffix(decay): to_pixel_range(average)
                       for decay, average in averages.items()})
    budget.began = time.perf_counter()  # the clock starts with the first step
    while True:  # a step, then the budget counts it
        gan.train_step()
        if budget.tick(gan.sampler):
            break
    return gan


def score(fake, real, fid, pairs_path=None):
    """FID/KID (when the extra is installed and ``fid``), SWD and the memorisation check."""
    from gan_demo.metrics.scoring import evaluate_pixels
    return evaluate_pixels(fake, real, fid=fid, pairs_path=pairs_path)


def main():
    parser = _parser()
    args = parser.parse_args()
    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    frogs = DataUtil.load_frog_pictures(args.data)
    real = to_pixels(frogs)
    if args.floor:
        order = np.random.default_rng(args.seed).permutation(len(real))
        half = len(real) // 2
        result = {"run": "real frogs 2,500 vs 2,500",
                  **score(real[order[:half]], real[order[half:]], not args.no_fid)}
        _append(args.results, result)  # quality_curve.py draws it as the floor
        print(json.dumps(result))
        return
    if args.score:
        return rescore(args, real)
    if args.minutes is None and args.steps is None:
        parser.error("give a budget: --minutes or --steps")
    if args.also_ema and args.recipe == "tutorial":
        parser.error("--also-ema keeps more averages of the stable recipe's generator: "
                     "the tutorial recipe has none")
    args.width = args.width or (program.tutorial_width if args.recipe == "tutorial"
                                else StableRecipe.width)
    name = _run_name(args)
    args.out = args.out or os.path.join(HERE, "quality_runs", name)
    os.makedirs(args.out, exist_ok=True)
    batch = args.batch or (program.batch_size if args.recipe == "tutorial"
                           else StableRecipe.batch_size)

    extras = {}  # suffix: sampler, for the --also-ema averages

    def snapshot(sampler, minutes, steps, seconds):
        # scored afterwards (--score), so the curve costs the training run seconds, not minutes
        for average, drawn in {"": sampler, **extras}.items():
            suffix = f"{average}-{minutes:g}min"
            _draw(args, drawn, suffix)
            _save_result(args, suffix,
                         {**_facts(name + suffix, steps, batch, seconds, args, average),
                          "unscored": "a curve snapshot: score it with --score"})

    budget = Budget(args.minutes * 60 if args.minutes else None, args.steps,
                    [mark for mark in args.curve if not args.minutes or mark < args.minutes],
                    snapshot)
    samplers = {}
    if args.recipe == "tutorial":
        samplers[""] = train_tutorial(args, budget, batch)
    else:
        gan = train_stable(args, budget, frogs, batch, extras)
        samplers[""] = gan.sampler
        samplers.update(extras)
        if not (args.no_ema or args.no_raw):  # the average's ablation: the raw generator
            samplers["-raw"] = to_pixel_range(gan.generator)
    steps, trained = budget.steps, budget.elapsed
    for suffix, sampler in samplers.items():
        fake = _draw(args, sampler, suffix)
        _record(args, suffix, _facts(name + suffix, steps, batch, trained, args, suffix),
                fake, real)


def _facts(name, steps, batch, seconds, args, suffix=""):
    recipe = _recipe_label(args)
    if suffix.startswith("-ema"):  # an --also-ema average: a curve of its own
        recipe += f" (average {suffix[len('-ema'):]})"
    facts = {"run": name, "recipe": recipe, "minutes": round(seconds / 60, 1),
             "steps": steps, "batch": batch, "width": args.width,
             "train_seconds": round(seconds, 1),
             "images_per_second": round(steps * batch / seconds, 1), "count": args.count,
             "seed": args.seed}
    if args.recipe == "stable":  # the networks in full: the run's name says only what differs
        facts.update(networks=args.networks, discriminator_width=args.discriminator_width)
    return facts


def _draw(args, sampler, suffix):
    """--count samples of ``sampler``, saved with a grid of the first 64."""
    fake = generate_pixels(sampler, args.count, np.random.default_rng(args.seed + 1))
    np.savez_compressed(os.path.join(args.out, f"samples{suffix}.npz"), images=fake)
    save_picture(grid_image(fake[:64] / 255.0), os.path.join(args.out, f"grid{suffix}.png"))
    return fake


def _record(args, suffix, result, fake, real):
    try:
        result.update(score(fake, real, not args.no_fid,
                            os.path.join(args.out, f"closest_pairs{suffix}.png")))
    except ImportError as error:  # scored later with --score
        result["unscored"] = str(error)
    _save_result(args, suffix, result)
    _append(args.results, result)
    print(json.dumps(result), flush=True)


def _append(results, result):
    os.makedirs(os.path.dirname(os.path.abspath(results)), exist_ok=True)
    with open(results, "a") as file:
        file.write(json.dumps(result) + "\n")


def _save_result(args, suffix, result):
    with open(os.path.join(args.out, f"result{suffix}.json"), "w") as file:
        json.dump(result, file, indent=1)


def rescore(args, real):
    """Score the samples of earlier runs whose scoring was skipped."""
    for folder in args.score:
        for name in sorted(os.listdir(folder)):
            if name.startswith("result") and name.endswith(".json"):
                suffix = name[len("result"):-len(".json")]
                with open(os.path.join(folder, name)) as file:
                    result = json.load(file)
                if "unscored" not in result:
                    continue
                result.pop("unscored")
                with np.load(os.path.join(folder, f"samples{suffix}.npz")) as saved:
                    fake = saved["images"][:args.count]  # --count: score fewer, faster
                result["count"] = len(fake)
                args.out = folder
                _record(args, suffix, result, fake, real)


if __name__ == "__main__":
    main()
