"""The house rules (docs/layout.md, issue 17), checked so that breaking one fails a test.

- no module in kerasutil/ or gan_demo/ over 300 lines, no function over 60 (program.py's
  ``main`` aside: it mirrors the tutorial's Main line by line and stays one piece);
- no module there imports one of ours under another name: a clash of names is solved by
  naming things apart, not by ``import ... as``;
- README.md stays a five-minute read (at most 150 lines), and its test command is exactly a
  line of .ci/run, so CI runs what a new user runs;
- every relative link and picture in README.md and docs/*.md leads to a file that exists, and
  a link's #anchor to a heading of that page.

The checkers read the source as text and as Python syntax trees; nothing is imported. Each
checker is also shown a small breach of its rule, so a checker that finds nothing fails too.
"""

import ast
import re
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("kerasutil", "gan_demo")
MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 60
MAX_README_LINES = 150
# (module, function) allowed to be longer: program.py's main follows the tutorial's Main
LONG_FUNCTIONS_ALLOWED = {("gan_demo/program.py", "main")}
README = ROOT / "README.md"
CI_RUN = ROOT / ".ci" / "run"


def package_modules():
    """Every .py file of kerasutil/ and gan_demo/, as paths relative to the repository."""
    return sorted(path.relative_to(ROOT).as_posix()
                  for package in PACKAGES for path in (ROOT / package).rglob("*.py"))


def function_lengths(source):
    """(qualified name, lines) of every function and method in ``source``, nested ones too.

    A function's lines run from its ``def`` to its last line: docstring, comments and blank
    lines count, decorators do not (a click command's options are declarations, not code).
    """
    lengths = []

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = prefix + child.name
                lengths.append((name, child.end_lineno - child.lineno + 1))
                visit(child, name + ".")
            elif isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + ".")
            else:
                visit(child, prefix)

    visit(ast.parse(source), "")
    return lengths


def aliased_imports(source):
    """The import statements of ``source`` that bind a module or name of ours to another name,
    like ``from gan_demo import checkpoint as checkpoints`` or ``import kerasutil.gan as g``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [f"line {node.lineno}: import {alias.name} as {alias.asname}"
                      for alias in node.names
                      if alias.asname and alias.name.split(".")[0] in PACKAGES
                      and alias.asname != alias.name.split(".")[-1]]
        elif isinstance(node, ast.ImportFrom):
            ours = node.level > 0 or (node.module or "").split(".")[0] in PACKAGES
            module = "." * node.level + (node.module or "")
            found += [f"line {node.lineno}: from {module} import {alias.name} as {alias.asname}"
                      for alias in node.names
                      if ours and alias.asname and alias.asname != alias.name]
    return found


def fenced_blocks(text):
    """(language, body) of each ``` fenced block of a Markdown text."""
    return re.findall(r"^```(\w*)\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)


def without_fences(text):
    """A Markdown text without its fenced blocks (a shell comment there is no heading)."""
    return re.sub(r"^```.*?^```", "", text, flags=re.MULTILINE | re.DOTALL)


def prose(text):
    """A Markdown text without its fenced blocks and inline code, where no link can be."""
    return re.sub(r"`[^`\n]*`", "", without_fences(text))


def link_targets(text):
    """Every link and picture target of a Markdown text: [text](target), ![alt](target),
    <img src="target"> and <a href="target">."""
    text = prose(text)
    return (re.findall(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)", text)
            + re.findall(r"<(?:img|a)\s[^>]*?(?:src|href)=\"([^\"]+)\"", text))


def heading_anchors(text):
    """The #anchors GitHub gives a Markdown page's headings (a repeated one gets -1, -2...)."""
    anchors, seen = set(), Counter()
    for title in re.findall(r"^#{1,6}\s+(.+?)\s*#*\s*$", without_fences(text), re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")
        anchors.add(slug if not seen[slug] else f"{slug}-{seen[slug]}")
        seen[slug] += 1
    return anchors


def broken_links(page):
    """The relative links of Markdown file ``page`` whose file or #anchor does not exist."""
    broken = []
    for target in link_targets(page.read_text(encoding="utf-8")):
        if re.match(r"[a-z][a-z0-9+.-]*:", target, re.IGNORECASE):
            continue  # https:, mailto: and the like: not a file of this repository
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(f"{target}: no such file")
        elif anchor and file.suffix == ".md" and \
                anchor not in heading_anchors(file.read_text(encoding="utf-8")):
            broken.append(f"{target}: no heading with that anchor")
    return broken


def readme_test_commands(text):
    """The lines of the README's shell blocks that run pytest (the Windows block aside)."""
    return [line.strip() for language, body in fenced_blocks(text)
            if language in ("bash", "sh", "shell", "")
            for line in body.splitlines() if "-m pytest" in line]


@pytest.mark.parametrize("module", package_modules())
def test_no_module_is_over_300_lines(module):
    lines = len((ROOT / module).read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES, (
        f"{module} has {lines} lines, over {MAX_MODULE_LINES}: split it into modules with one "
        f"job each")


@pytest.mark.parametrize("module", package_modules())
def test_no_function_is_over_60_lines(module):
    long = [f"{name} ({lines} lines)"
            for name, lines in function_lengths((ROOT / module).read_text(encoding="utf-8"))
            if lines > MAX_FUNCTION_LINES and (module, name) not in LONG_FUNCTIONS_ALLOWED]
    assert not long, f"{module}: over {MAX_FUNCTION_LINES} lines: {', '.join(long)}"


def test_the_one_long_function_allowed_is_still_there():
    # an exception for a function that no longer exists would excuse whatever takes its name
    for module, name in LONG_FUNCTIONS_ALLOWED:
        names = dict(function_lengths((ROOT / module).read_text(encoding="utf-8")))
        assert name in names, f"{module} has no function {name}: drop it from the exceptions"


@pytest.mark.parametrize("module", package_modules())
def test_no_module_imports_one_of_ours_under_another_name(module):
    found = aliased_imports((ROOT / module).read_text(encoding="utf-8"))
    assert not found, (f"{module} renames an import of ours ({'; '.join(found)}): import the "
                       f"name itself, or rename what clashes with it")


def test_the_readme_is_at_most_150_lines():
    lines = len(README.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_README_LINES, (
        f"README.md has {lines} lines, over {MAX_README_LINES}: move reference to docs/")


def test_the_readmes_test_command_is_what_ci_runs():
    commands = readme_test_commands(README.read_text(encoding="utf-8"))
    assert len(commands) == 1, f"README.md should give one test command, not {commands}"
    ci_lines = [line.strip() for line in CI_RUN.read_text(encoding="utf-8").splitlines()]
    assert commands[0] in ci_lines, (
        f".ci/run does not run the README's test command, {commands[0]!r}, as one line")


@pytest.mark.parametrize("page", ["README.md"] + sorted(
    path.relative_to(ROOT).as_posix() for path in (ROOT / "docs").glob("*.md")))
def test_every_relative_link_and_picture_leads_to_a_file(page):
    broken = broken_links(ROOT / page)
    assert not broken, f"{page} links to what is not there: {'; '.join(broken)}"


def test_each_checker_finds_a_breach_of_its_rule(tmp_path):
    body = "\n".join(f"    x = {n}" for n in range(MAX_FUNCTION_LINES - 1))
    source = (f"class A:\n    def short(self):\n        pass\n\n"
              f"def exactly_60():\n{body}\n\ndef too_long():\n{body}\n    x = 0\n")
    assert [(name, lines) for name, lines in function_lengths(source) if lines > 60] == [
        ("too_long", 61)]
    assert ("A.short", 2) in function_lengths(source)

    assert aliased_imports("from gan_demo import checkpoint as checkpoints\n"
                           "import kerasutil.gan as g\nfrom . import x as y\n"
                           "import numpy as np\nfrom gan_demo import stable\n"
                           "import gan_demo.cifar\nfrom kerasutil.data import DataError\n") == [
        "line 1: from gan_demo import checkpoint as checkpoints",
        "line 2: import kerasutil.gan as g", "line 3: from . import x as y"]

    readme = ("```bash\npython3 -m venv .venv && .venv/bin/python -m pytest\n```\n"
              "```bat\npy -m venv .venv && .venv\\Scripts\\python -m pytest\n```\n")
    assert readme_test_commands(readme) == [
        "python3 -m venv .venv && .venv/bin/python -m pytest"]

    (tmp_path / "there.md").write_text("# A `--flag` heading\n\n## Again\n\n## Again\n")
    page = tmp_path / "page.md"
    page.write_text('[ok](there.md#a---flag-heading) [ok](there.md#again-1) [web](https://x.y)\n'
                    '![gone](gone.png) <img src="lost.gif"> [bad](there.md#nowhere) [self](#top)\n'
                    "```\n[in code](not/a/link.md)\n```\n`[inline](not/a/link.md)`\n# Top\n")
    assert sorted(broken_links(page)) == ["gone.png: no such file", "lost.gif: no such file",
                                          "there.md#nowhere: no heading with that anchor"]
