import pytest

from mremapctl.errors import BadInput
from mremapctl.scenario import Mmap, Mremap, parse_scenario

GOOD = """
description = "seed"

[[step]]
op = "mmap"
name = "A"
kind = "memfd"
size = "5p"
fill = "0x41"

[[step]]
op = "mremap"
old = "A+1p"
old_size = "4097"
new_size = "4p"
flags = ["MAYMOVE", "DONTUNMAP"]
new_address = "lab+8G"
name = "A2"
expect = "EINVAL"

[[step]]
op = "read"
at = "A2"

[[step]]
op = "setrlimit"
memlock = "2p"
as = "unlimited"
"""


def test_contract_example_loads() -> None:
    scenario = parse_scenario(GOOD)
    assert scenario.description == "seed"
    mmap, mremap = scenario.steps[0], scenario.steps[1]
    assert isinstance(mmap, Mmap) and mmap.kind == "memfd" and str(mmap.size) == "5p" and mmap.fill == "0x41"
    assert isinstance(mremap, Mremap) and mremap.flag_bits == 5 and mremap.expect == "EINVAL"
    assert scenario.steps[3].limits(4096) == {"memlock": 8192, "address_space": 2**64 - 1}  # type: ignore[attr-defined]


def test_raw_flags_keep_undefined_bits() -> None:
    text = '[[step]]\nop = "mmap"\nname = "A"\n[[step]]\nop = "mremap"\nold = "A"\nraw = 0x9\n'
    step = parse_scenario(text).steps[1]
    assert isinstance(step, Mremap) and step.flag_bits == 9


BAD = [
    ('[[step]]\nop = "mmap"\n', "needs the key 'name'"),
    ('[[step]]\nop = "mmap"\nname = "A"\n[[step]]\nop = "mmap"\nname = "A"\n', "'A' is already defined by step 1"),
    ('[[step]]\nop = "frobnicate"\n', "unknown op 'frobnicate'"),
    ('[[step]]\nop = "mmap"\nname = "A"\ncolour = "red"\n', "unknown key 'colour'"),
    ('[[step]]\nop = "mmap"\nname = "A"\nkind = "gpu"\n', "unknown kind 'gpu'"),
    ('[[step]]\nop = "mmap"\nname = "A"\nsize = "1Q"\n', "bad size '1Q'"),
    ('[[step]]\nop = "mmap"\nname = "A"\nsize = -5\n', "must not be negative"),
    ('[[step]]\nop = "read"\nat = "B"\n', "unknown region 'B'"),
    (
        '[[step]]\nop = "mmap"\nname = "A"\n[[step]]\nop = "mremap"\nold = "A"\nflags = ["MOVE"]\n',
        "unknown mremap flag 'MOVE'",
    ),
    ('[[step]\nop = "mmap"\n', "TOML syntax error"),
    ('[[step]]\nop = "mmap"\nname = "lab"\n', "'lab' is reserved"),
    ('[[step]]\nop = "mmap"\nname = "A"\nkind = "anon"\nshared = true\n', "shared = true does not apply to kind"),
    ('[[step]]\nop = "mmap"\nname = "A"\nkind = "anon"\ndir = "/tmp"\n', "dir applies to file mappings only"),
    (
        '[[step]]\nop = "mmap"\nname = "A"\nkind = "file"\npath = "/etc/hostname"\nshared = true\nfill = "A"\n',
        "could write the file",
    ),
    ("x = 1\n", "unknown top-level key 'x'"),
    ("", "no \\[\\[step\\]\\] tables"),
    ('[[step]]\nop = "mmap"\nname = "A"\nfill = "AB"\n', "bad byte 'AB'"),
]


@pytest.mark.parametrize(("text", "message"), BAD)
def test_bad_scenarios_name_the_problem(text: str, message: str) -> None:
    with pytest.raises(BadInput, match=message):
        parse_scenario(text, "s.toml")


def test_expectations_per_kernel() -> None:
    from mremapctl.scenario import dump_scenario
    from mremapctl.scenario.steps import expected_for

    text = (
        '[[step]]\nop = "mmap"\nname = "A"\nkind = "memfd"\n[[step]]\nop = "mremap"\nold = "A"\n'
        'flags = ["MAYMOVE", "DONTUNMAP"]\nexpect = { "..5.6" = "EINVAL", "5.7..5.12" = "EINVAL", "5.13.." = "ok" }\n'
    )
    scenario = parse_scenario(text)
    expect = scenario.steps[1].expect
    versions = ((5, 4, 0), (5, 12, 19), (5, 13, 0), (6, 18, 44))  # "5.7..5.12" holds every 5.12.y
    assert [expected_for(expect, v) for v in versions] == ["EINVAL", "EINVAL", "ok", "ok"]
    assert parse_scenario(dump_scenario(scenario)) == scenario
    with pytest.raises(BadInput, match=r"bad kernel range '5\.x\.\.'"):
        parse_scenario(text.replace('"5.13.."', '"5.x.."'))
