"""Choosing a backend and a model: versions, defaults, errors, and life off Linux."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from mremapctl.errors import BadInput
from mremapctl.kernel import MODELS, parse_version, resolve


@pytest.mark.parametrize("text", ["5.x", "99", "4.0", "5", "", "6.18.x.y"])
def test_bad_kernel_versions_list_the_models(text: str) -> None:
    with pytest.raises(BadInput, match=r"5\.4, 5\.7.*6\.18"):
        resolve(text)


def test_between_models_resolves_to_the_older_one() -> None:
    model, note = resolve("5.12")
    assert model.name == "5.11" and note and "5.11–5.12" in note
    model, note = resolve("6.18.44-fc-v595")
    assert model.name == "6.18" and note is None


def test_versions_parse_release_strings() -> None:
    assert parse_version("5.10.0-46-amd64") == (5, 10)
    assert parse_version("6.12.117+deb13-amd64") == (6, 12)


def test_models_are_ordered_and_cover_the_span() -> None:
    versions = [m.version for m in MODELS]
    assert versions == sorted(versions) and versions[0] == (5, 4) and versions[-1] == (6, 18)


def test_without_linux_everything_is_simulated() -> None:
    """Force a non-Linux platform in a fresh interpreter: commands work, live is never imported."""
    code = """
import sys, json, io, contextlib
sys.platform = "darwin"
from mremapctl.cli import main
out = io.StringIO()
codes = []
for args in (["try", "--memfd", "--dontunmap", "--json"], ["kinds", "--json"], ["explain", "EINVAL"],
             ["kernels"], ["run", "dontunmap-memfd", "--check"]):
    with contextlib.redirect_stdout(out):
        try:
            main(args)
        except SystemExit as e:
            codes.append(e.code)
live = sorted(m for m in sys.modules if m.startswith("mremapctl.backends.live") or m in ("cffi", "_cffi_backend"))
print(json.dumps({"codes": codes, "live": live}))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report == {"codes": [0, 0, 0, 0, 0], "live": []}, result.stderr
