"""Assemble the program: header comment, includes, fallbacks, helpers, and main() step by step."""

from __future__ import annotations

from typing import List, Optional

from mremapctl.lab import Lab
from mremapctl.render.cprog import c_core, c_kinds, c_memory, c_ops  # noqa: F401  (they register the C helpers)
from mremapctl.render.cprog.context import Block, Context
from mremapctl.render.cprog.ops import EMITTERS
from mremapctl.render.cprog.output import FORMAT_LINES
from mremapctl.render.cprog.registry import FALLBACKS, Collected, collect
from mremapctl.render.cprog.text import comment_text
from mremapctl.resolve import Resolver, referenced_regions
from mremapctl.scenario import steps as S
from mremapctl.scenario.load import Scenario

INDENT = "    "


def generate(scenario: Scenario, page_size: int, lab: Optional[Lab] = None) -> str:
    """The whole program; BadInput where the scenario cannot be written as exact C."""
    ctx = Context(Resolver(page_size, lab, strict=True), set(referenced_regions(scenario.steps)))
    ctx.need("setup")
    blocks = [_step_code(ctx, index, step) for index, step in enumerate(scenario.steps, 1)]
    helpers = collect(ctx.helpers)
    parts = [
        _header(scenario, page_size, ctx),
        "#define _GNU_SOURCE",
        "\n".join(f"#include <{h}>" for h in sorted(helpers.headers)),
        _fallbacks(helpers, ctx),
        _constants(page_size, ctx.resolver.lab),
        *helpers.code,
        _main(ctx, helpers, blocks),
    ]
    return "\n\n".join(p for p in parts if p) + "\n"


def _step_code(ctx: Context, index: int, step: S.Step) -> List[str]:
    """One step's block in main(), skipped at run time when a region it needs is missing."""
    block: Block = EMITTERS[step.op](ctx, index, step)
    comment = [f"Step {index}: {comment_text(block.title)}.", *map(comment_text, block.notes)]
    expect = _expect_text(step.expect)
    if expect:
        comment.append(f"Expected: {expect}")
    lines = [f"/* {comment[0]}", *(f" * {c}" for c in comment[1:])]
    lines[-1] += " */"
    refs = step.region_refs()
    if not refs:
        return lines + block.body
    ctx.need("skipped")
    have = " || ".join(f"!have_{ctx.cname(r)}" for r in refs)
    body = [INDENT + line for line in block.body]
    return [*lines, f"if ({have}) {{", f'{INDENT}skipped({index}, "{step.op}");', "} else {", *body, "}"]


def _expect_text(expect: Optional[S.Expect]) -> str:
    if expect is None:
        return ""
    if isinstance(expect, str):
        return expect
    return ", ".join(f"{answer} on kernels {versions}" for versions, answer in expect)


def _header(scenario: Scenario, page_size: int, ctx: Context) -> str:
    build = (
        "cc -O2 -pthread -o exp exp.c && ./exp" if "uffd_register" in ctx.helpers else "cc -O2 -o exp exp.c && ./exp"
    )
    title = comment_text(scenario.description or "an mremapctl scenario")
    lab = ctx.resolver.lab
    text = [
        title,
        "",
        f"Written by mremapctl from a scenario of {len(scenario.steps)} steps: the experiment the tool runs",
        "live, as a program of its own. Build and run it on Linux (as root for some kinds):",
        "",
        f"    {build}",
        "",
        f"Like the tool, it works in the lab, {lab.size >> 30} GiB of address space at {lab.start:#x} that",
        "nothing else uses, and puts every mapping where the tool puts it (sizes in pages were",
        f"computed for {page_size}-byte pages). It never touches the memory it studies: reads and",
        "writes go through a pipe, so a bad address is an EFAULT, reported as the signal a real",
        "access would have got.",
        "",
        *FORMAT_LINES,
    ]
    return "/*\n" + "\n".join((" * " + line).rstrip() for line in text) + "\n */"


def _fallbacks(helpers: Collected, ctx: Context) -> str:
    blocks = [FALLBACKS[name] for name in helpers.fallbacks] + [ctx.macros[k] for k in sorted(ctx.macros)]
    if not blocks:
        return ""
    return "/* What older C library headers lack, with the kernel's values. */\n" + "\n".join(blocks)


def _constants(page_size: int, lab: Lab) -> str:
    return "\n".join(
        [
            f"#define PAGE {page_size}UL /* the page size the scenario's sizes were computed with */",
            f"#define LAB_START {lab.start:#x}UL /* the lab: where the tool runs every experiment */",
            f"#define LAB_SIZE {lab.size:#x}UL /* {lab.size >> 30} GiB */",
        ]
    )


def _main(ctx: Context, helpers: Collected, blocks: List[List[str]]) -> str:
    lines = ["int main(void)", "{"]
    if ctx.uses_ret:
        lines.append(INDENT + "long ret;")
    lines += [INDENT + decl for decl in ctx.decls]
    lines += ["", INDENT + "setup();"]
    if any("probe_pipe" in code for code in helpers.code):
        lines += [INDENT + "if (pipe(probe_pipe) == -1)", INDENT * 2 + 'die(1, "pipe: %s", strerror(errno));']
    for block in blocks:
        lines.append("")
        lines += [INDENT + line for line in block]
    lines += ["", INDENT + "return 0;", "}"]
    return "\n".join(lines)
