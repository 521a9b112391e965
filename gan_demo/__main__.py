"""``python -m gan_demo``: see gan_demo.cli."""

import os

# TensorFlow's C++ start-up notices (oneDNN, no CUDA driver found) would bury the tutorial's
# own output; its Python errors still show
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from gan_demo.cli import main  # noqa: E402

if __name__ == "__main__":
    main(prog_name="python -m gan_demo")
