from mremapctl.results import MapEntry, StepResult, diff_maps


def entry(start: int, end: int, label: str = "A", perms: str = "rw-p", flags: tuple = ("rd", "wr")) -> MapEntry:
    return MapEntry(start, end, perms, 0, "00:00", 0, "", flags, label)


def statuses(before, after):  # type: ignore[no-untyped-def]
    return [(r.status, (r.before or r.after).start) for r in diff_maps(before, after)]  # type: ignore[union-attr]


def test_unchanged_and_label_only_changes() -> None:
    assert statuses([entry(0x1000, 0x2000)], [entry(0x1000, 0x2000, label="B")]) == [("unchanged", 0x1000)]


def test_grow_is_one_changed_row() -> None:
    rows = diff_maps([entry(0x1000, 0x2000)], [entry(0x1000, 0x3000)])
    assert [r.status for r in rows] == ["changed"]


def test_move_is_removed_plus_added() -> None:
    assert statuses([entry(0x1000, 0x2000)], [entry(0x9000, 0xA000, label="A2")]) == [
        ("removed", 0x1000),
        ("added", 0x9000),
    ]


def test_flag_change_is_changed() -> None:
    rows = diff_maps([entry(0x1000, 0x2000, flags=("rd", "lo"))], [entry(0x1000, 0x2000, flags=("rd",))])
    assert rows[0].status == "changed"


def test_split_pairs_by_overlap() -> None:
    before = [entry(0x1000, 0x5000)]
    after = [entry(0x1000, 0x3000), entry(0x3000, 0x5000, perms="r--p")]
    assert [r.status for r in diff_maps(before, after)] == ["changed", "added"]


def test_expect_matching() -> None:
    ok = StepResult(1, "mremap", "c", expect="ok")
    assert ok.expect_met
    err = StepResult(1, "mremap", "c", status="failed", errno="EINVAL", expect="einval")
    assert err.expect_met
    read = StepResult(1, "read", "c", runs=[("zero", 1), ("data:A", 1)], expect="zero")
    assert read.expect_met
    skipped = StepResult(1, "read", "c", status="skipped", expect="zero")
    assert skipped.expect_met is None
