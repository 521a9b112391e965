"""Training-step speed, side by side in one run: the naive Keras loop against ours.

    python benchmarks/speed.py [--steps 20] [--widths 256,64] [--batches 8,64] [--variants]

(a) naive: generator.predict + discriminator.train_on_batch + gan.train_on_batch, with the
    discriminator's ``trainable`` flag toggled so that it really trains in its own step;
(b) ours: program.py's own loop, program.main itself: each epoch one compiled graph (noise,
    batch slicing, both updates), the frogs on the device.
With --variants, also ours with --xla and with --mixed-precision (bfloat16); --variants xla
for the first alone. With --stable-widths, also the stable recipe's own compiled loop
(stable.main) at those widths and its own batch size, for each of --stable-networks (and with
XLA too when --variants has xla): the steps per second a student gets from --recipe stable.

For each width and batch it prints ms/step, images/s (real + fake images the discriminator
sees per second), the ratio a/b, the process's peak memory, and the GFLOP/s achieved (from the
networks' FLOP count) against this machine's fp32 ceiling, measured in the same run with a
large matrix product. "% fwd" compares it with a second ceiling for each width, the GFLOP/s of
the generator's forward pass alone at batch 64 (no training, no Python): what the convolution
kernels reach on this machine. Figures are only comparable within one run: the machine may be
shared.
"""

import argparse
import functools
import itertools
import os
import resource
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from gan_demo import program, stable  # noqa: E402
from gan_demo.program import create_discriminator, create_generator, latent_dimensions  # noqa
from gan_demo.run import Run  # noqa: E402
from gan_demo.stable_networks import NETWORKS  # noqa: E402
from kerasutil import Gan  # noqa: E402
from kerasutil.data import FROG_COUNT  # noqa: E402
from kerasutil.network import ADA_DELTA_EPSILON, ADA_DELTA_RHO  # noqa: E402
from kerasutil.step import precision  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REAL_FROGS = os.path.join(HERE, "..", "..", "shared", "data", "frog_pictures.zip")
WARM_UP = 2

BCE = "binary_crossentropy"


def matmul_ceiling(size=2048, repeats=10, trials=5):
    """GFLOP/s of a large fp32 matrix product, the best of a few trials: this CPU's best."""
    a = tf.random.normal((size, size))
    product = tf.function(lambda x: tf.matmul(x, x))
    product(a).numpy()
    return max(2 * size ** 3 * repeats / _seconds(lambda: product(a).numpy(), repeats) / 1e9
               for _ in range(trials))


def _seconds(call, repeats):
    began = time.perf_counter()
    for _ in range(repeats):
        call()
    return time.perf_counter() - began


def forward_ceiling(width, batch=64, trials=3):
    """GFLOP/s of the tutorial generator's compiled forward pass, the best of a few trials:
    what the convolution kernels reach at best."""
    generator = create_generator(width)
    latent = tf.random.normal((batch, latent_dimensions))
    forward = tf.function(lambda x: generator(x, training=False))
    forward(latent).numpy()
    return max(batch * forward_flops(generator) / _seconds(lambda: forward(latent).numpy(), 1)
               / 1e9 for _ in range(trials))


def forward_flops(network):
    """Multiply-adds x 2 of one sample's forward pass, from the layers' shapes."""
    flops = 0
    for layer in network.layers:
        if isinstance(layer, keras.layers.Dense):
            flops += 2 * layer.kernel.shape[0] * layer.kernel.shape[1]
        elif isinstance(layer, keras.layers.Conv2DTranspose):
            kh, kw, _, cin = layer.kernel.shape  # (k, k, out, in)
            _, h, w, cout = layer.input.shape[:3] + (layer.filters,)
            flops += 2 * kh * kw * cin * cout * h * w
        elif isinstance(layer, keras.layers.Conv2D):
            kh, kw, cin, cout = layer.kernel.shape
            _, h, w, _ = layer.output.shape
            flops += 2 * kh * kw * cin * cout * h * w
    return flops


def step_flops(generator, discriminator, batch):
    """FLOPs of one tutorial step: a backward pass costs about twice its forward pass."""
    g, d = forward_flops(generator), forward_flops(discriminator)
    return (batch * g              # generate the fakes
            + 2 * batch * 3 * d    # discriminator step on fakes + reals
            + batch * 3 * (g + d))  # GAN step through both networks


def ada_delta():
    """The tutorial's learner: AdaDelta at its rate, with CNTK's constants."""
    return keras.optimizers.Adadelta(float(program.learning_rate), rho=ADA_DELTA_RHO,
                                     epsilon=ADA_DELTA_EPSILON)


def naive_loop(width, batch, frogs):
    generator, discriminator = create_generator(width), create_discriminator(width)
    discriminator.compile(ada_delta(), BCE)
    gan = keras.Model(generator.input, discriminator(generator.output))
    discriminator.trainable = False
    gan.compile(ada_delta(), BCE)

    def step(start):
        latent = np.random.standard_normal((batch, latent_dimensions)).astype(np.float32)
        fakes = generator.predict(latent, verbose=0)
        features, labels = Gan.get_training_batch(fakes, frogs, batch, start)
        discriminator.trainable = True
        discriminator.train_on_batch(features, labels)
        discriminator.trainable = False
        latent, labels = Gan.get_misleading_batch(gan, batch, latent_dimensions)
        gan.train_on_batch(latent, labels)

    return step, generator, discriminator


class TimingRun(Run):
    """program.main's run hooks, timing the epochs after the warm-up and printing nothing."""

    def __init__(self, steps):
        self.steps = steps
        self.times = []

    def log(self, text):
        pass

    def end_epoch(self, epoch, start, discriminator_loss, gan_loss):
        self.times.append(time.perf_counter())
        return len(self.times) > WARM_UP + self.steps


def ours(width, batch, steps, data, variant, main=program.main):
    """Seconds per step of program.main's own loop (or stable.main's), and what it returns."""
    timing = TimingRun(steps)
    with precision("mixed_bfloat16" if variant == "bf16" else "float32"):
        trained = main(
            data=data, epochs=10 ** 9, batch_size=batch, output=tempfile.mkdtemp(),
            width=width, save_every=10 ** 9, run=timing, jit_compile=variant == "xla")
    seconds = (timing.times[-1] - timing.times[WARM_UP]) / steps
    return seconds, trained


def stable_rows(widths, steps, data, networks, variants, ceiling):
    """The stable recipe's ms/step, images/s and GFLOP/s for each of its networks and widths,
    at its own batch size; compiled with XLA too when ``variants`` has "xla"."""
    batch = stable.StableRecipe.batch_size
    print(f"stable recipe (stable.main), batch {batch}, discriminator width "
          f"{stable.StableRecipe.discriminator_width}:")
    print(f"{'networks':>8} {'width':>5} {'loop':>6} {'ms/step':>8} {'steps/s':>8} "
          f"{'images/s':>9} {'GFLOP/s':>8} {'% ceil':>6}")
    loops = ("ours", "xla") if "xla" in variants else ("ours",)
    for name, width, loop in itertools.product(networks, widths, loops):
        main = functools.partial(stable.main, recipe=stable.StableRecipe(networks=name))
        seconds, gan = ours(width, batch, steps, data, "xla" if loop == "xla" else None, main)
        gflops = step_flops(gan.generator, gan.discriminator, batch) / seconds / 1e9
        print(f"{name:>8} {width:>5} {loop:>6} {seconds * 1e3:8.1f} {1 / seconds:8.2f} "
              f"{2 * batch / seconds:9.0f} {gflops:8.1f} {100 * gflops / ceiling:6.0f}",
              flush=True)


def time_steps(step, steps, batch, frogs):
    """Seconds per step after two warm-up steps (tracing, first allocations)."""
    for warm_up in range(WARM_UP):
        step(warm_up * batch)
    began = time.perf_counter()
    for index in range(steps):
        step((index * batch) % (len(frogs) - batch))
    return (time.perf_counter() - began) / steps


def peak_memory_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--widths", default=f"{program.tutorial_width},64")
    parser.add_argument("--batches", default=f"{program.batch_size},64")
    parser.add_argument("--variants", nargs="?", const="xla,bf16", default="",
                        help="also time ours with --xla and with --mixed-precision (bf16); "
                             "--variants xla times only the first")
    parser.add_argument("--stable-widths", default="",
                        help="also time the stable recipe at these widths, e.g. 16,32,64")
    parser.add_argument("--stable-networks", default=stable.StableRecipe.networks,
                        help=f"the stable recipe's networks to time, e.g. "
                             f"{','.join(NETWORKS)} [{stable.StableRecipe.networks}]")
    parser.add_argument("--data", default=REAL_FROGS, help="frog_pictures.zip for ours")
    args = parser.parse_args()
    frogs = np.random.default_rng(0).random(
        (FROG_COUNT, program.image_height, program.image_width, program.channels),
        dtype=np.float32)
    ceiling = matmul_ceiling()
    print(f"fp32 ceiling (2048^2 matmul): {ceiling:.0f} GFLOP/s; "
          f"{os.cpu_count()} CPUs; TensorFlow {tf.__version__}, Keras {keras.__version__}")
    print(f"{'width':>5} {'batch':>5} {'loop':>6} {'ms/step':>8} {'images/s':>9} "
          f"{'GFLOP/s':>8} {'% ceil':>6} {'% fwd':>6} {'a/b':>5} {'peak MiB':>8}")
    for width in (int(w) for w in args.widths.split(",") if w):
        forward = forward_ceiling(width)
        print(f"{width:>5} generator forward pass, batch 64: {forward:.0f} GFLOP/s "
              f"({100 * forward / ceiling:.0f}% of the matmul ceiling)", flush=True)
        for batch in (int(b) for b in args.batches.split(",")):
            seconds = {}
            names = ("naive", "ours") + tuple(v for v in args.variants.split(",") if v)
            for name in names:
                if name == "naive":
                    step, generator, discriminator = naive_loop(width, batch, frogs)
                    seconds[name] = time_steps(step, args.steps, batch, frogs)
                else:
                    seconds[name], (generator, discriminator) = ours(
                        width, batch, args.steps, args.data, name if name != "ours" else None)
                gflops = step_flops(generator, discriminator, batch) / seconds[name] / 1e9
                ratio = f"{seconds['naive'] / seconds[name]:5.2f}" if name != "naive" else ""
                print(f"{width:>5} {batch:>5} {name:>6} {seconds[name] * 1e3:8.1f} "
                      f"{2 * batch / seconds[name]:9.0f} {gflops:8.1f} "
                      f"{100 * gflops / ceiling:6.0f} {100 * gflops / forward:6.0f} {ratio:>5} "
                      f"{peak_memory_mib():8.0f}",
                      flush=True)
    if args.stable_widths:
        stable_rows([int(w) for w in args.stable_widths.split(",")], args.steps, args.data,
                    args.stable_networks.split(","), args.variants, ceiling)


if __name__ == "__main__":
    main()
