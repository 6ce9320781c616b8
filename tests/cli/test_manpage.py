"""The manual page: written from the commands' help (so the shipped one must be the fresh one), and
one that man renders."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from mremapctl.cli import COMMANDS
from mremapctl.cli.manpage import MANPAGE, manual


def test_the_shipped_page_is_the_help_of_today() -> None:
    assert MANPAGE.read_text() == manual(), "stale: run .venv/bin/python scripts/update_docs.py"


def test_every_command_has_a_section_and_internal_ones_none() -> None:
    page = manual()
    for name, (_, _, summary) in COMMANDS.items():
        assert (f'.SS "mremapctl {name}"' in page) == bool(summary), name
    assert '.SS "mremapctl vm fetch"' in page and '.SS "mremapctl demo gc"' in page  # subcommands too
    assert r"\fB\-\-smaps\fR" in page and ".SH EXIT STATUS" in page


def test_man_renders_it() -> None:
    man = shutil.which("man")
    if man is None:
        if os.environ.get("CI"):
            pytest.fail("CI must render the manual page: install man-db and groff-base (.ci/run does)")
        pytest.skip("man is not installed here (apt-get install man-db groff-base), so the page cannot be rendered")
    env = {**os.environ, "MANWIDTH": "100", "LC_ALL": "C.UTF-8"}
    done = subprocess.run([man, "-l", str(MANPAGE)], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    text = re.sub(".\b", "", done.stdout)  # bold and underline are overstrikes on a pipe
    assert text.startswith("MREMAPCTL(1)") and "NAME" in text and "SYNOPSIS" in text
    assert "mremapctl try [OPTIONS]" in text and "--dontunmap" in text and "EXIT STATUS" in text
    assert "warning" not in done.stderr.lower()  # groff says so of a request it does not know
