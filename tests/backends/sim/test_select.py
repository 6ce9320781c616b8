"""Choosing a backend and a model: versions, defaults, errors, and life off Linux."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from mremapctl.errors import BadInput
from mremapctl.kernel import models, parse_version, resolve, running_release, series_models


@pytest.mark.parametrize("text", ["5.x", "99", "4.0", "5", "", "6.18.x.y"])
def test_bad_kernel_versions_list_the_models(text: str) -> None:
    with pytest.raises(BadInput, match=r"5\.4|MAJOR\.MINOR"):
        resolve(text)


def test_a_version_is_answered_at_its_point_release() -> None:
    kernel = resolve("6.18.44-fc-v595")
    assert kernel.version == (6, 18, 44) and kernel.model.name == "6.18.37" and not kernel.notes
    assert resolve("5.12").model.span == "5.12" and not resolve("5.12").notes
    assert resolve("6.3").model.name == "6.1"


def test_a_series_without_its_point_release_says_where_stable_updates_change_it() -> None:
    (note,) = resolve("6.12").notes
    assert "6.12.0 as released" in note and "6.12.112" in note and "6.12.114" in note
    assert not resolve("6.13").notes  # no stable landing in 6.13.y


@pytest.mark.parametrize("text", ["7.4", "7.9.1", "8.0"])
def test_newer_than_every_model_is_said_not_hidden(text: str) -> None:
    kernel = resolve(text)
    assert kernel.newer_than_models and "newer than every model" in kernel.notes[0]
    assert kernel.model.name == "7.3"


def test_versions_parse_release_strings() -> None:
    assert parse_version("5.10.0-46-amd64") == (5, 10, 0)
    assert parse_version("6.12.117+deb13-amd64") == (6, 12, 117)
    assert parse_version("6.18") == (6, 18, 0)


def test_debian_abi_names_are_modelled_by_their_real_point_release() -> None:
    build = "#1 SMP PREEMPT_DYNAMIC Debian 6.1.192-3 (2026-11-02)"
    assert running_release("6.1.0-57-amd64", build) == "6.1.192"
    assert running_release("6.12.118+deb13-amd64", "#1 SMP Debian 6.12.118-1") == "6.12.118+deb13-amd64"
    assert running_release("6.18.44-fc-v669", "#1 SMP") == "6.18.44-fc-v669"


def test_models_are_ordered_and_cover_the_span() -> None:
    versions = [m.since for m in models()]
    assert versions == sorted(versions) and versions[0] == (5, 4, 0) and series_models()[-1].since == (7, 3, 0)
    for series in ("6.19", "7.0", "7.1", "7.2", "7.3"):
        assert resolve(series).model.since[:2] <= parse_version(series)[:2]


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


def test_a_run_on_a_kernel_newer_than_every_model_says_so_in_its_json() -> None:
    from tests.cli.conftest import invoke

    document = json.loads(invoke(["try", "--anon", "--backend", "sim", "--kernel", "7.4", "--json"]).stdout)
    assert document["model"] == {"version": "7.4", "span": "7.3+", "newer_than_models": True}
    assert any("newer than every model" in note for note in document["notes"])
    older = json.loads(invoke(["try", "--anon", "--backend", "sim", "--kernel", "6.12.118", "--json"]).stdout)
    assert older["model"] == {"version": "6.12.118", "span": "6.12.114–6.12.y", "newer_than_models": False}
