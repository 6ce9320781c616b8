"""The documentation cannot rot: every `$ mremapctl …` example in docs/*.md and README.md is
run and must still print what the page shows, and the generated pages (errno.md, timeline.md)
must match the rules and the models they are generated from.

When the CLI's output changes on purpose, rewrite the pages with
`.venv/bin/python scripts/update_docs.py` and review the diff. How examples are written, run
and normalised is described in scripts/doc_examples.py.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, List

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / "scripts"


def _load(name: str) -> ModuleType:
    """A module of scripts/ (not a package), importable by its siblings too."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    if str(SCRIPTS) not in sys.path:
        sys.path.insert(0, str(SCRIPTS))
    spec.loader.exec_module(module)
    return module


examples = _load("doc_examples")
gen_docs = _load("gen_docs")

BLOCKS = examples.all_blocks()
RUN = [b for b in BLOCKS if not b.illustrative]


def _id(block: Any) -> str:
    return f"{block.where} {block.commands[0].line[len('mremapctl ') :][:60]}"


@pytest.mark.parametrize("block", RUN, ids=[_id(b) for b in RUN])
def test_example_output_is_current(block: Any, request: pytest.FixtureRequest) -> None:
    if block.live:
        request.getfixturevalue("live_backend")  # skips (or fails in CI) where live cannot run
        recorded, here = examples.recorded_release(), os.uname().release
        if recorded and not examples.same_series(recorded, here):
            pytest.skip(f"live examples were recorded on {recorded}; this kernel is {here}")
    problem = examples.differences(block)
    if problem:
        pytest.fail(f"{problem}\n\nIf the new output is right: .venv/bin/python scripts/update_docs.py", pytrace=False)


def test_the_docs_have_examples() -> None:
    pages = {b.path.name for b in BLOCKS}
    missing = [p.name for p in sorted(examples.DOCS.glob("*.md")) if p.name not in pages and p.name != "index.md"]
    assert not missing, f"pages without a console example: {missing}"
    assert any(not b.live for b in RUN), "no deterministic examples"


def test_few_illustrative_blocks() -> None:
    illustrative: List[str] = [b.where for b in BLOCKS if b.illustrative]
    assert len(illustrative) <= examples.MAX_ILLUSTRATIVE, f"too many unchecked examples: {illustrative}"


def test_generated_pages_are_current() -> None:
    stale = [path.name for path, text in gen_docs.render_all().items() if not gen_docs.is_current(path, text)]
    assert not stale, f"{stale} out of date with the rules or the models: run .venv/bin/python scripts/gen_docs.py"


def test_every_page_is_linked_from_the_index() -> None:
    index = (examples.DOCS / "index.md").read_text()
    targets = [p.name for p in examples.DOCS.iterdir() if p.name != "index.md" and not p.name.startswith(".")]
    unlinked = [name for name in sorted(targets) if f"]({name})" not in index]
    assert not unlinked, f"docs/index.md does not link {unlinked}"


# -- the machinery itself ---------------------------------------------------------------------


def test_normalise_keeps_what_must_match() -> None:
    live = "lab ▕old▏ │ elsewhere ▕+new▏ 0x7f442d860000  \nkernel 6.18.44-fc-v595\n153 other mappings of the process"
    other = "lab ▕old▏ │ elsewhere ▕+new▏ 0x7e0000001000\nkernel 6.1.0-18-amd64\n7 other mappings of the process\n\n"
    assert examples.normalise(live) == examples.normalise(other)
    assert examples.normalise("= -1 EINVAL") != examples.normalise("= -1 EFAULT")
    # the lab's own addresses are fixed, and model names are not releases
    assert examples.normalise("0x100000000000 kernel 5.12") == "0x100000000000 kernel 5.12"
    assert examples.normalise("/tmp/mremapctl.4242.old") == examples.normalise("/tmp/mremapctl.123456.old")


def test_block_parsing(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "text\n```console\n$ mremapctl kernels | head -n 2\nmodel\n```\n"
        "```console {illustrative}\n$ mremapctl survey; echo $?\nx\n```\n"
        "````markdown\n```console\n$ ls\n```\n````\n"
    )
    first, second = examples.blocks_in(page)
    assert first.commands[0].args == ["kernels"] and first.commands[0].head == 2
    assert first.commands[0].expected == ["model"] and not first.illustrative and not first.live
    assert second.illustrative and second.commands[0].show_status and second.live
    page.write_text("```console\n$ ls -l\n```\n")
    with pytest.raises(examples.ExampleError, match="may only run"):
        examples.blocks_in(page)
    page.write_text("- item\n\n  ```console\n  $ mremapctl kernels\n  ```\n")
    with pytest.raises(examples.ExampleError, match="indented"):
        examples.blocks_in(page)


def test_update_rewrites_a_stale_output(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    text = "# t\n\n```console\n$ mremapctl explain EAGAIN --kernel 6.18\nsomething old\n```\n"
    new = examples.update_text(page, text)
    assert "something old" not in new and "mlock-limit" in new
    assert examples.update_text(page, new) == new
    page.write_text(new)
    (block,) = examples.blocks_in(page)
    assert examples.differences(block) is None


def test_doctests_of_the_scripts() -> None:
    import doctest

    for module in (examples, _load("build_site")):
        failures, _ = doctest.testmod(module)
        assert failures == 0, module.__name__
