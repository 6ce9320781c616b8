"""Bad input: one line naming the value, exit 2, no traceback, nothing mapped outside the lab."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, List

import pytest

CASES = [
    (["try", "--size", "-5"], "bad size '-5'"),
    (["try", "--size", "1Q"], "bad size '1Q'"),
    (["try", "--size", "0x"], "bad size '0x'"),
    (["try", "--size", "99999999999999999999"], "bad size '99999999999999999999'"),
    (["try", "--size", ""], "Invalid value for '--size': bad size ''"),
    (["try", "--new-size", "2p+"], "bad size '2p+'"),
    (["try", "--kind", "gpu"], "Invalid value for '--kind': unknown kind 'gpu'"),
    (["try", "--raw-flags", "0xZZ"], "Invalid value for '--raw-flags': bad raw flags '0xZZ'"),
    (["try", "--raw-flags", "-1"], "Invalid value for '--raw-flags': bad raw flags '-1'"),
    (["try", "--raw-flags", "99999999999999999999"], "bad raw flags '99999999999999999999'"),
    (["try", "--fill-byte", "0x100"], "Invalid value for '--fill-byte': bad byte '0x100'"),
    (["try", "--fill-byte", ""], "Invalid value for '--fill-byte': bad byte ''"),
    (["try", "--fill-byte", "12"], "Invalid value for '--fill-byte': bad byte '12'"),
    (["try", "--prot", "rq"], "bad protection 'rq'"),
    (["try", "--fixed", "0x7f0000000000"], "outside the lab"),
    (["try", "--fixed", "lab+40G"], "outside the lab"),
    (["try", "--fixed", ""], "Invalid value for '--fixed': bad address ''"),
    (["try", "--frobnicate"], "No such option '--frobnicate'"),
    (["try", "--grow", "--shrink"], "--grow and --shrink exclude each other"),
    (["try", "--anon", "--shrink", "--old-size", "1"], "--shrink halves old_size"),
    (["try", "--anon", "--memfd"], "--anon and --memfd exclude each other"),
    (["try", "--kind", "shmem", "--memfd"], "--memfd and --kind shmem exclude each other"),
    (["try", "--anon", "--private"], "--private does not apply to --anon"),
    (["try", "--shmem", "--shared"], "--shared does not apply to --shmem"),
    (["try", "--memfd", "--private", "--shared"], "--private and --shared exclude each other"),
    (["try", "--anon", "--huge"], "--huge applies to memfd and shmem only, not --anon"),
    (["try", "--perf", "--fill"], "--perf has contents the kernel owns; drop --fill"),
    (["try", "--anon", "--writable"], "--writable applies to file mappings only, not --anon"),
    (["try", "--file", "--writable"], "--writable is about an existing file: give --file PATH too"),
    (["try", "--size", "1T"], "mmap of 1 TiB at 0x100000000000"),
    (["try", "--size", "16G", "--fill"], "refusing to populate 16 GiB (fill)"),
    (["try", "--file", "/nonexistent/file"], "Invalid value for '--file': bad path '/nonexistent/file'"),
    (["try", "--file", "/tmp"], "bad path '/tmp': a directory"),
    (["try", "--file", "/dev/null"], "bad path '/dev/null': not a regular file"),
    (["try", "--file", "/proc/self/status"], "bad path '/proc/self/status': a kernel interface file"),
    (["try", "--file", ""], "Invalid value for '--file': bad path ''"),
    (["try", "--file", "--dir", "/nonexistent"], "Invalid value for '--dir': bad dir '/nonexistent'"),
    (["try", "--timeout", "0"], "Invalid value for '--timeout'"),
    (["try", "--timeout", "-1"], "Invalid value for '--timeout'"),
    (["try", "--svg", "/nonexistent/x.svg"], "Invalid value for '--svg': '/nonexistent' is not an existing folder"),
    (["try", "--html", "/nonexistent/x.html"], "Invalid value for '--html'"),
    (["try", "--save-scenario", "/nonexistent/x.toml"], "Invalid value for '--save-scenario'"),
    (["matrix", "--kinds", ""], "--kinds '' names no kind"),
    (["matrix", "--kinds", "gpu"], "--kinds: unknown kind 'gpu'"),
    (["matrix", "--parallel", "0"], "Invalid value for '--parallel'"),
    (["matrix", "--parallel", "-3"], "Invalid value for '--parallel'"),
    (["matrix", "--backend", ","], "--backend ',' names no backend"),
    (["survey", "--parallel", "0"], "Invalid value for '--parallel'"),
    (["run", "no-such-scenario"], "no scenario file or bundled scenario named 'no-such-scenario'"),
    (["run"], "give a scenario file"),
    # contradictory output options: one mechanism, one line naming both
    (["try", "--json", "--show-c"], "--json and --show-c exclude each other"),
    (["try", "--json", "--svg", "/tmp/x.svg"], "--json and --svg exclude each other"),
    (["run", "dontunmap-memfd", "--html", "/tmp/x.html", "--json"], "--json and --html exclude each other"),
    (["survey", "--markdown", "--json"], "--json and --markdown exclude each other"),
    (["try", "--show-c", "--svg", "/tmp/x.svg"], "--show-c and --svg exclude each other"),
    (["survey", "--compare", "--markdown", "--json"], "--json and --markdown exclude each other"),
    (["bench", "--json", "--csv"], "--json and --csv exclude each other"),
]


@pytest.mark.parametrize(("args", "message"), CASES, ids=lambda v: " ".join(v) if isinstance(v, list) else "")
def test_one_line_exit_2(cli: Any, args: List[str], message: str) -> None:
    result = cli(args)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout


SCENARIOS = [
    ('[[step]]\nop = "mmap"\n', "needs the key 'name'"),
    ('[[step]]\nop = "mmap"\nname = "A"\n[[step]]\nop = "mmap"\nname = "A"\n', "already defined"),
    ('[[step]]\nop = "jump"\n', "unknown op 'jump'"),
    ('[[step]]\nop = "mmap"\nname = "A"\nwhen = 1\n', "unknown key 'when'"),
    ("[[step]\n", "TOML syntax error"),
    ('[[step]]\nop = "mmap"\nname = "A"\nkind = "anon"\nshared = false\n', "shared = false does not apply to"),
    ('[[step]]\nop = "mmap"\nname = "A"\nfill = "AB"\n', "bad byte 'AB'"),
    ('[[step]]\nop = "mmap"\nname = "A"\nkind = "file"\npath = "/dev/null"\n', "bad path '/dev/null'"),
    ('[[step]]\nop = "mmap"\nname = "A"\n[[step]]\nop = "mremap"\nold = "A"\nraw = -1\n', "bad raw flags -1"),
    ('[[step]]\nop = "mmap"\nname = "A"\nat = "0x7f0000000000"\n', "outside the lab"),
    ('[[step]]\nop = "mmap"\nname = "A"\n[[step]]\nop = "munmap"\nat = "A-1p"\nsize = "1p"\n', "outside the lab"),
    ('[[step]]\nop = "read"\nat = "Z"\n', "unknown region 'Z'"),
]


@pytest.mark.parametrize(("text", "message"), SCENARIOS)
def test_bad_scenario_files(cli: Any, tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    result = cli(["run", str(path)])
    assert result.exit_code == 2, result.stdout
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_unreadable_scenario(cli: Any, tmp_path: Path) -> None:
    result = cli(["run", str(tmp_path / "missing.toml")])
    assert result.exit_code == 2 and "cannot read scenario" in result.stderr


def test_user_files_are_never_written(cli: Any, tmp_path: Path) -> None:
    target = tmp_path / "precious.bin"
    target.write_bytes(b"x" * 16384)
    result = cli(["try", "--file", str(target), "--dontunmap", "--json"])
    assert result.exit_code == 0, result.stderr
    entry = json.loads(result.stdout)["maps_before"][0]
    assert entry["path"] == str(target) and entry["perms"] == "rw-p"
    assert target.read_bytes() == b"x" * 16384
    shared = cli(["try", "--file", str(target), "--shared"])
    assert shared.exit_code == 2 and "writable" in shared.stderr
    assert target.read_bytes() == b"x" * 16384


def test_unavailable_kind_is_exit_1(cli: Any) -> None:
    with open("/proc/sys/vm/nr_hugepages") as f:
        if int(f.read()):
            pytest.skip("huge pages are reserved here")
    result = cli(["try", "--hugetlb"])
    assert result.exit_code == 1
    assert "no huge pages reserved (vm.nr_hugepages = 0)" in result.stderr
