"""Values over ranges of page numbers, kept as runs: the model's page tables and page caches.

A 64 GiB region filled with one byte is one run, not sixteen million entries, so the model's
cost follows the number of distinct ranges an experiment makes, not its size.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from typing import Callable, Generic, Iterator, List, Optional, Tuple, TypeVar

V = TypeVar("V")
Run = Tuple[int, int, V]  # [lo, hi) and its value


class Extents(Generic[V]):
    """Disjoint runs [lo, hi) -> value, sorted; touching runs with equal values are joined.

    >>> e = Extents[str](); e.set(0, 10, "a"); e.set(4, 6, "b"); e.runs(0, 10)
    [(0, 4, 'a'), (4, 6, 'b'), (6, 10, 'a')]
    >>> e.move(0, 4, 100); e.get(101), e.get(2)
    ('a', None)
    """

    __slots__ = ("ends", "starts", "values")

    def __init__(self) -> None:
        self.starts: List[int] = []
        self.ends: List[int] = []
        self.values: List[V] = []

    def __len__(self) -> int:
        return len(self.starts)

    def get(self, i: int) -> Optional[V]:
        k = bisect_right(self.starts, i) - 1
        return self.values[k] if k >= 0 and i < self.ends[k] else None

    def runs(self, lo: int, hi: int) -> List[Run[V]]:
        """The runs meeting [lo, hi), clipped to it."""
        starts, ends, values = self.starts, self.ends, self.values  # the simulation's hottest loop
        k = max(0, bisect_right(starts, lo) - 1)
        count = len(starts)
        out: List[Run[V]] = []
        while k < count and starts[k] < hi:
            start, end = starts[k], ends[k]
            if end > lo:
                out.append((start if start > lo else lo, end if end < hi else hi, values[k]))
            k += 1
        return out

    def pieces(self, lo: int, hi: int) -> Iterator[Tuple[int, int, Optional[V]]]:
        """[lo, hi) cut at every run boundary: each piece with its value, or None where there is none."""
        at = lo
        for start, end, value in self.runs(lo, hi):
            if start > at:
                yield at, start, None
            yield start, end, value
            at = end
        if at < hi:
            yield at, hi, None

    def any(self, lo: int, hi: int, test: Callable[[V], bool]) -> bool:
        return any(test(value) for _, _, value in self.runs(lo, hi))

    def delete(self, lo: int, hi: int) -> None:
        if lo >= hi or not self.starts:
            return
        self._cut(lo)
        self._cut(hi)
        a, b = bisect_left(self.starts, lo), bisect_left(self.starts, hi)
        del self.starts[a:b], self.ends[a:b], self.values[a:b]

    def set(self, lo: int, hi: int, value: V) -> None:
        if lo >= hi:
            return
        self.delete(lo, hi)
        k = bisect_left(self.starts, lo)
        self.starts.insert(k, lo)
        self.ends.insert(k, hi)
        self.values.insert(k, value)
        self._join(k)

    def move(self, lo: int, hi: int, to: int) -> None:
        """What [lo, hi) holds now lives at [to, to + hi - lo); both ranges lose what they had."""
        taken = self.runs(lo, hi)
        self.delete(lo, hi)
        self.delete(to, to + hi - lo)
        for start, end, value in taken:
            self.set(start - lo + to, end - lo + to, value)

    def _cut(self, at: int) -> None:
        """Make `at` a run boundary (if it falls inside a run)."""
        k = bisect_right(self.starts, at) - 1
        if k >= 0 and self.starts[k] < at < self.ends[k]:
            self.starts.insert(k + 1, at)
            self.ends.insert(k + 1, self.ends[k])
            self.values.insert(k + 1, self.values[k])
            self.ends[k] = at

    def _join(self, k: int) -> None:
        """Join run k with equal neighbours it touches."""
        if k + 1 < len(self.starts) and self.ends[k] == self.starts[k + 1] and self.values[k] == self.values[k + 1]:
            self.ends[k] = self.ends[k + 1]
            del self.starts[k + 1], self.ends[k + 1], self.values[k + 1]
        if k > 0 and self.ends[k - 1] == self.starts[k] and self.values[k - 1] == self.values[k]:
            self.ends[k - 1] = self.ends[k]
            del self.starts[k], self.ends[k], self.values[k]
