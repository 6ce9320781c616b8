import pytest

from mremapctl.errors import BadInput
from mremapctl.survey import grid
from mremapctl.survey.grid import COLUMNS, Column, Row, rows_for, scenario_for
from mremapctl.survey.matrix import Cell


def test_default_grid_is_big_enough() -> None:
    from mremapctl.kinds import KINDS

    rows = rows_for(list(KINDS), grid.VARIANTS)
    assert len(rows) * len(COLUMNS) >= 500
    assert Row("devzero", "shared") in rows and Row("anon", "shared") not in rows


def test_selection_refuses_unknown_names() -> None:
    assert grid.select(["MAYMOVE,FIXED"], list(grid.FLAG_SETS), "flag set", "--flags") == ["MAYMOVE", "FIXED"]
    with pytest.raises(BadInput, match="unknown flag set 'MOVE'"):
        grid.select(["MOVE"], list(grid.FLAG_SETS), "flag set", "--flags")


@pytest.mark.parametrize("column", COLUMNS, ids=lambda c: c.label)
def test_every_cell_is_a_valid_scenario(column: Column) -> None:
    for row in (Row("anon"), Row("memfd", "private"), Row("vdso", "prot-none"), Row("hugetlb", "sealed")):
        scenario = scenario_for(row, column)
        mremap = scenario.steps[-1]
        assert mremap.op == "mremap" and (mremap.new_address is not None) == ("FIXED" in column.flags)


def test_cell_answers_and_json_round_trip() -> None:
    cell = Cell("memfd", "plain", ("MAYMOVE", "DONTUNMAP"), "same", "5.12", "sim", "EINVAL", False, "r")
    assert cell.answer == "EINVAL" and Cell.from_json(cell.to_json()) == cell
    assert Cell("a", "plain", (), "grow", "k", "live", "ok", False).answer == "in place"
