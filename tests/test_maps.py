from pathlib import Path

from mremapctl.maps import find, parse_maps, parse_maps_line, parse_smaps
from mremapctl.results import MemoryUse

DATA = Path(__file__).parent / "data"
LAB = [(0x200000000000, 0x200800000000)]


def test_maps_lines_with_spaces_empty_paths_and_special_names() -> None:
    entries, skipped = parse_maps((DATA / "maps-6.18.txt").read_text())
    assert skipped == 0
    by_path = {e.path: e for e in entries}
    memfd = by_path["/memfd:A (deleted)"]
    assert (memfd.start, memfd.end, memfd.perms, memfd.dev) == (0x200000000000, 0x200000004000, "rw-s", "00:01")
    assert by_path["anon_inode:[perf_event]"].size == 3 * 4096
    assert {"[vvar]", "[vvar_vclock]", "[vdso]", "[stack]", "[heap]"} <= set(by_path)
    anon = find(entries, 0x200000200000)
    assert anon is not None and anon.path == "" and anon.perms == "---p"


def test_maps_window_counts_the_rest() -> None:
    entries, skipped = parse_maps((DATA / "maps-6.18.txt").read_text(), LAB)
    assert [e.path for e in entries] == ["/memfd:A (deleted)", "anon_inode:[perf_event]", ""]
    assert skipped == 15


def test_smaps_vmflags() -> None:
    entries, _ = parse_smaps((DATA / "smaps-6.18.txt").read_text())
    flags = {e.path: e.vm_flags for e in entries}
    assert flags["anon_inode:[perf_event]"] == ("rd", "wr", "sh", "mr", "mw", "ms", "pf", "io", "dc", "de", "dd")
    assert flags["[vvar]"] == ("rd", "mr", "pf", "io", "de", "dd")
    assert flags["[vdso]"] == ("rd", "ex", "mr", "mw", "me", "de")
    assert flags["/memfd:A (deleted)"] == ("rd", "wr", "sh", "mr", "mw", "me", "ms")
    assert all(f is not None for f in flags.values())


def test_smaps_window_and_unknown_keys() -> None:
    text = (DATA / "smaps-6.18.txt").read_text().replace("Rss:", "FutureKey: 1 kB\nRss:")
    entries, skipped = parse_smaps(text, LAB)
    assert len(entries) == 3 and skipped == 4


def test_not_a_maps_line() -> None:
    assert parse_maps_line("VmFlags: rd wr") is None
    assert parse_maps_line("Size:   4 kB") is None


def test_smaps_memory_counters_in_bytes() -> None:
    text = (
        "200000000000-200000004000 rw-s 00000000 00:01 8    /memfd:A (deleted)\n"
        "Size:                 16 kB\nRss:                  12 kB\nPss:                   6 kB\n"
        "Swap:                  4 kB\nLocked:                0 kB\nAnonHugePages:         0 kB\n"
        "THPeligible:    0\nVmFlags: rd wr sh mr mw me ms\n"
        "200000004000-200000005000 rw-p 00000000 00:00 0\nVmFlags: rd wr mr mw me ac\n"
    )
    (memfd, bare), _ = parse_smaps(text)
    assert memfd.memory == MemoryUse(rss=12288, pss=6144, swap=4096, locked=0, anon_huge_pages=0)
    assert memfd.vm_flags == ("rd", "wr", "sh", "mr", "mw", "me", "ms")
    assert bare.memory is None  # no counters printed: unknown, not zero
