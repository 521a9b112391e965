"""``python -m gan_demo``: the command line of :mod:`gan_demo.commands`."""

from gan_demo.commands import main

if __name__ == "__main__":
    main(prog_name="python -m gan_demo")
