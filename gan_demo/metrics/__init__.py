"""How good are the fakes? The scoring engines behind ``python -m gan_demo evaluate``.

- :mod:`~gan_demo.metrics.inception`: the TF-2015 Inception's pool3 features (the optional
  ``fid`` extra), cached on disk.
- :mod:`~gan_demo.metrics.distances`: FID (Frechet Inception distance) and KID (kernel Inception
  distance) between two sets of features.
- :mod:`~gan_demo.metrics.swd`: the sliced Wasserstein distance of local patches at two scales;
  it needs nothing extra.
- :mod:`~gan_demo.metrics.memorisation`: whether fakes lie closer to a training frog than real
  frogs lie to each other: a generator that copies its training data scores a low FID but is no
  good.
- :mod:`~gan_demo.metrics.scoring`: all of them at once (``evaluate_pixels``) and their report.

Every metric takes uint8 RGB pixels (n, 32, 32, 3), as ``kerasutil.gan.to_pixels`` makes them,
so scores of a checkpoint and of samples exported with ``generate --output x.npz`` agree.
"""
