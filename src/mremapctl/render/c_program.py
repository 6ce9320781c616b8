"""``--show-c``: a scenario as a complete C program that runs the same experiment.

The program reserves the same lab, makes the same mappings at the same addresses, makes
the same calls with the same arguments (undefined flag bits included) and reads the same
way the tool does (through a pipe, never faulting), then prints one line per step —
the format is in ``mremapctl.render.cprog.output`` — so its answers can be compared with
the tool's. Anything the generator cannot reproduce exactly is refused with BadInput.
"""

from __future__ import annotations

from typing import Optional

from mremapctl.lab import Lab
from mremapctl.render.cprog.output import FORMAT_LINES, ProgramStep, parse_output
from mremapctl.render.cprog.program import generate
from mremapctl.scenario.load import Scenario

__all__ = ["FORMAT_LINES", "ProgramStep", "c_program", "parse_output"]


def c_program(scenario: Scenario, page_size: int = 4096, *, lab: Optional[Lab] = None) -> str:
    """The C source of a program doing ``scenario``'s experiment, for pages of ``page_size`` bytes.

    ``lab`` is the default one (0x100000000000) unless given: a live backend's ``lab`` differs
    on 39-bit address spaces. Raises BadInput (naming the step) for what cannot be written as
    exact C: a range that cannot be proven inside the lab before running, a placement that
    depends on a skipped step, a value the tool itself could not pass.
    """
    return generate(scenario, page_size, lab)
