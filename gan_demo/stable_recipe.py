"""The stable recipe's settings, all in one place (stable.py trains with them)."""

from dataclasses import asdict, dataclass, field, fields
from typing import ClassVar

import keras

from gan_demo import program
from gan_demo.stable_networks import check_networks
from kerasutil.augment import POLICIES
from kerasutil.network import ADA_DELTA_EPSILON, ADA_DELTA_RHO


@dataclass(frozen=True)
class StableRecipe:
    """The stable recipe's settings, all in one place; a checkpoint stores them all.

    Args:
        networks: "dcgan" (stable_networks.py); "dcgan-resize", the same with the generator's
            transposed convolutions replaced by resize-convolutions; or "tutorial", the
            tutorial's networks.
        width: the generator's width (stable_networks.py says what width means for each).
        discriminator_width: the width the discriminator is built at; None for ``width``.
            A generator at 32 and a discriminator at 64 make 1.7 times the steps of both at
            64 in the same time, and scored the lower FID at 30 minutes on two seeds
            (docs/stable-recipe.md).
        batch_size: real images per step (and as many fakes).
        optimizer: "adadelta", the tutorial's AdaDelta with CNTK's constants, or "adam".
            AdaDelta measured better: FID 312 against Adam's 411 after the same 30 minutes
            (benchmarks/results/quality-2026-11-29.jsonl).
        learning_rate: both networks' learning rate; None takes the optimizer's own from
            ``learning_rates``: the tutorial's for AdaDelta.
        beta_1: Adam's first-moment decay (AdaDelta ignores it).
        loss: "logistic", the tutorial's cross-entropies (on logits, so the generator's does
            not saturate), or "hinge" (Lim & Ye 2017; SNGAN's and BigGAN's): the
            discriminator is only pushed while a picture sits within a margin of 1 of the
            wrong side, so it stops sharpening what it already tells apart. A 10-minute
            screen scored it worse (docs/stable-recipe.md).
        augment: the DiffAugment operations, () for none.
        mirror: flip each real frog left-right with probability 1/2 (StyleGAN's ``--mirror``):
            10,000 frogs from 5,000, as DiffAugment's and ADA's CIFAR-10 runs train. Only the
            real frogs: the generator learns both ways round, as a frog may face either way.
        ema_decay: the generator average's decay; 0 samples the raw generator. 0.9999 (with
            the warm-up, about the last ninth of a 30-minute run) scored a lower FID than
            0.999 in seven of eight pairs drawn from the same runs (docs/stable-recipe.md).
        r1_gamma: weight of the R1 penalty on the discriminator's gradient at real frogs; 0 for
            none. After the same 30 minutes, FID (5k) 113.8 at 4, 140.3 at 1 and 145.8 without
            it (benchmarks/results/quality-2026-11-29-quiet.jsonl).
        r1_interval: lazy regularisation (StyleGAN2): the penalty every this many steps,
            this many times as heavy.
        lecam: weight of the LeCam regulariser (Tseng et al. 2021), 0 for none: once the
            discriminator has taken ``lecam_start`` steps, it pays for scoring a real frog
            as more real than fakes score on average (and a fake as more fake than frogs
            do), the averages being moving averages of its own scores at decay 0.99. Made
            for discriminators that overfit a few thousand pictures; 0.3 in its CIFAR-10 runs.
            0.3 here too: FID 75.1 against 111.4 and 78.3 against 98.2 after 45 minutes on
            seeds 8 and 7, 67.8 against 107.8 at 30 minutes on seed 8, at the same speed
            (one core each: 49,224 to 73,044 steps at 361 to 440 images/s; real frogs
            against real frogs 17.6; docs/stable-recipe.md).
        lecam_start: the discriminator steps before LeCam starts (its CIFAR-10 runs: 1,000).
        learning_rate_half_life: after ``learning_rate_decay_start`` steps, both learning
            rates halve every this many steps (:class:`HalvingRate`); 0 keeps them constant,
            as the tutorial does. At a constant rate the frogs break up into texture after
            about 40,000 steps: FID 88.4 after 2 hours (160,513 steps, seed 8). Halving every
            20,000 steps from 20,000, seeds 8 to 10: 66.1 (63.4 to 68.3) after 30 minutes
            (42,979 to 46,215 steps), 57.0 (53.9 to 61.0) after 2 hours (163,774 to 183,906);
            every 40,000 from 40,000, seed 8: 56.4 after 2 hours (183,105). One core at 357
            to 418 images/s; real frogs against real frogs 17.6 (docs/stable-recipe.md).
        learning_rate_decay_start: the steps at the full rate before it starts to halve; at
            the defaults the rate is 0.5 after 40,000 steps, 0.15 after 75,000.

    Example:
        >>> recipe = StableRecipe(r1_gamma=1.0)
        >>> StableRecipe.from_settings(recipe.settings()) == recipe
        True
    """

    networks: str = "dcgan"
    width: int = 32
    discriminator_width: int | None = 64
    batch_size: int = 16
    optimizer: str = "adadelta"
    learning_rate: float | None = None
    beta_1: float = 0.5
    loss: str = "logistic"
    augment: tuple = field(default=POLICIES)
    mirror: bool = False
    ema_decay: float = 0.9999
    r1_gamma: float = 4.0
    r1_interval: int = 16
    lecam: float = 0.3
    lecam_start: int = 1000
    learning_rate_half_life: int = 20000
    learning_rate_decay_start: int = 20000

    learning_rates: ClassVar[dict] = {"adadelta": program.learning_rate, "adam": 2e-4}
    losses: ClassVar[tuple] = ("logistic", "hinge")

    def __post_init__(self):
        check_networks(self.networks)
        if self.optimizer not in self.learning_rates:
            raise ValueError(f"optimizer must be 'adam' or 'adadelta', got {self.optimizer!r}")
        if self.loss not in self.losses:
            raise ValueError(f"loss must be 'logistic' or 'hinge', got {self.loss!r}")
        if self.learning_rate is not None and not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be > 0, got {self.learning_rate!r}")
        if not self.r1_gamma >= 0:
            raise ValueError(f"r1_gamma must be >= 0, got {self.r1_gamma!r}")
        if not self.lecam >= 0:
            raise ValueError(f"lecam must be >= 0, got {self.lecam!r}")
        if not isinstance(self.lecam_start, int) or self.lecam_start < 0:
            raise ValueError(f"lecam_start must be an int >= 0, got {self.lecam_start!r}")
        for name in ("learning_rate_half_life", "learning_rate_decay_start"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be an int >= 0, got {value!r}")
        if not isinstance(self.mirror, bool):
            raise ValueError(f"mirror must be True or False, got {self.mirror!r}")
        if not 0 <= self.ema_decay < 1:
            raise ValueError(f"ema_decay must be in [0, 1), got {self.ema_decay!r}")
        for name, value in (("width", self.width), ("batch_size", self.batch_size),
                            ("r1_interval", self.r1_interval)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        width = self.discriminator_width
        if width is not None and (not isinstance(width, int) or width < 1):
            raise ValueError(f"discriminator_width must be a positive int or None, got {width!r}")

    def learner(self):
        """A new optimizer for one network."""
        # Keras 3 refuses an integer learning rate, so the tutorial's 1 must arrive as 1.0
        rate = float(self.learning_rate or self.learning_rates[self.optimizer])
        if self.learning_rate_half_life:
            rate = HalvingRate(rate, self.learning_rate_decay_start, self.learning_rate_half_life)
        if self.optimizer == "adadelta":
            return keras.optimizers.Adadelta(learning_rate=rate, rho=ADA_DELTA_RHO,
                                             epsilon=ADA_DELTA_EPSILON)
        return keras.optimizers.Adam(learning_rate=rate, beta_1=self.beta_1)

    def settings(self):
        """The recipe as JSON-able settings, for a checkpoint."""
        return {**asdict(self), "augment": list(self.augment)}

    @classmethod
    def from_settings(cls, settings):
        """The recipe :meth:`settings` wrote, ignoring other keys (KeyError if one is missing)."""
        # checkpoints written before these settings existed trained the tutorial's networks,
        # the discriminator at the generator's width, with cross-entropies, unmirrored,
        # without LeCam, at a constant learning rate
        settings = {"networks": "tutorial", "discriminator_width": None, "loss": "logistic",
                    "mirror": False, "lecam": 0.0, "lecam_start": 1000,
                    "learning_rate_half_life": 0, "learning_rate_decay_start": 0,
                    **settings}
        given = {item.name: settings[item.name] for item in fields(cls)}
        return cls(**{**given, "augment": tuple(given["augment"])})


class HalvingRate(keras.optimizers.schedules.LearningRateSchedule):
    """A learning rate constant for ``start`` steps, then halving every ``half_life`` steps.

    The optimizer computes it from its own step count, which a checkpoint holds, so a resumed
    run continues on the same curve.

    Example:
        >>> rate = HalvingRate(1.0, start=100, half_life=50)
        >>> [float(rate(step)) for step in (0, 100, 150, 200)]
        [1.0, 1.0, 0.5, 0.25]
    """

    def __init__(self, rate, start, half_life):
        self.rate, self.start, self.half_life = rate, start, half_life

    def __call__(self, step):
        late = keras.ops.maximum(keras.ops.cast(step, "float32") - self.start, 0.0)
        return self.rate * keras.ops.power(0.5, late / self.half_life)

    def get_config(self):
        return {"rate": self.rate, "start": self.start, "half_life": self.half_life}
