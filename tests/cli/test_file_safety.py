"""A user's own file is never written unless they asked for the write twice (writable and a fill
or write step): every combination of `try` flags and scenario keys, live and simulated."""

from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import Any, List, Tuple

import pytest

ORIGINAL = b"my notes, not yours\n" * 300  # 6000 bytes: one whole page, and part of a second


def fingerprint(path: Path) -> Tuple[bytes, int]:
    return path.read_bytes(), os.stat(path).st_mtime_ns


@pytest.fixture
def precious(tmp_path: Path) -> Path:
    path = tmp_path / "notes.txt"
    path.write_bytes(ORIGINAL)
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))  # an old mtime: any write would move it
    return path


SHARING = ([], ["--private"], ["--shared"])
WRITABLE = ([], ["--writable"])
FILL = ([], ["--fill"], ["--no-fill"])
MREMAPS = (["--dontunmap"], ["--maymove", "--grow"], ["--fixed"], ["--shrink"], ["--old-size", "0", "--maymove"])


@pytest.mark.parametrize("backend", ["live", "sim"])
def test_try_never_writes_a_file_unless_asked_twice(cli: Any, precious: Path, backend: str) -> None:
    before = fingerprint(precious)
    written: List[str] = []
    for sharing, writable, fill, mremap in itertools.product(SHARING, WRITABLE, FILL, MREMAPS):
        args = ["try", "--file", str(precious), *sharing, *writable, *fill, *mremap, "--backend", backend, "--json"]
        result = cli(args)
        assert result.exit_code in (0, 2), (args, result.stderr)
        asked = bool(writable and fill == ["--fill"] and sharing != ["--private"])
        if result.exit_code == 0 and asked:
            assert "writes 'A' into" in result.stdout, args  # said plainly, in the run's notes
        if asked and backend == "live" and result.exit_code == 0:  # the simulation never touches the file
            assert fingerprint(precious) != before, f"{' '.join(args)} asked for a write that did not happen"
            written.append(" ".join(args))
            precious.write_bytes(ORIGINAL)
            os.utime(precious, ns=(1_000_000_000, 1_000_000_000))
        assert fingerprint(precious) == before, f"{' '.join(args)} wrote into the file"
    assert bool(written) == (backend == "live"), written


def test_a_write_that_was_asked_for_does_happen(cli: Any, precious: Path) -> None:
    result = cli(["try", "--file", str(precious), "--writable", "--fill", "--fill-byte", "Z", "--dontunmap"])
    assert result.exit_code == 0, result.stderr
    assert "this experiment writes 'Z' into" in result.stdout
    assert precious.read_bytes() == b"Z" * len(ORIGINAL)  # the file's length, never more


SCENARIO_KEYS = (
    ("", "shared = false\n", "shared = true\n"),
    ("", "writable = true\n"),
    ("", 'fill = "W"\n'),
    ("", '[[step]]\nop = "write"\nat = "F"\nsize = "1p"\nbyte = "X"\n'),
)


@pytest.mark.parametrize("backend", ["live", "sim"])
def test_scenarios_never_write_a_file_unless_asked_twice(
    cli: Any, precious: Path, tmp_path: Path, backend: str
) -> None:
    for sharing, writable, fill, write in itertools.product(*SCENARIO_KEYS):
        text = (
            f'[[step]]\nop = "mmap"\nname = "F"\nkind = "file"\npath = "{precious}"\nsize = "2p"\n'
            f"{sharing}{writable}{fill}{write}"
            '[[step]]\nop = "mremap"\nold = "F"\nflags = ["MAYMOVE", "DONTUNMAP"]\nname = "G"\n'
        )
        scenario = tmp_path / "s.toml"
        scenario.write_text(text)
        result = cli(["run", str(scenario), "--backend", backend, "--json"])
        assert result.exit_code in (0, 2), (text, result.stderr)
        asked = bool(writable and (fill or write) and "false" not in sharing)
        if asked and backend == "live" and result.exit_code == 0:
            assert fingerprint(precious)[0] != ORIGINAL, text
            precious.write_bytes(ORIGINAL)
            os.utime(precious, ns=(1_000_000_000, 1_000_000_000))
        assert fingerprint(precious) == (ORIGINAL, 1_000_000_000), f"wrote into the file:\n{text}"
