"""The documentation site builds with its one documented command, and every internal link
(page, file or #anchor) resolves."""

from __future__ import annotations

import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Dict, List, Set, Tuple
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: Set[str] = set()
        self.links: List[str] = []

    def handle_starttag(self, tag: str, attrs: List[Tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name == "id" and value:
                self.ids.add(value)
            if name in ("href", "src") and value is not None:
                self.links.append(value)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_site.py"), "--output", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "built" in result.stdout
    return out


def _parse(site: Path) -> Dict[Path, _Links]:
    parsed = {}
    for page in site.glob("*.html"):
        links = _Links()
        links.feed(page.read_text())
        parsed[page] = links
    return parsed


def test_every_page_is_built(site: Path) -> None:
    sources = {p.stem for p in (ROOT / "docs").glob("*.md")}
    assert sources == {p.stem for p in site.glob("*.html")}
    assert (site / "style.css").is_file()
    assert (site / "run.schema.json").read_bytes() == (ROOT / "docs" / "run.schema.json").read_bytes()


def test_internal_links_resolve(site: Path) -> None:
    parsed = _parse(site)
    broken = []
    for page, links in parsed.items():
        for href in links.links:
            parts = urlsplit(href)
            if parts.scheme or parts.netloc:
                continue
            target = (page.parent / parts.path).resolve() if parts.path else page
            if not target.is_file():
                broken.append(f"{page.name}: {href} (no such file)")
            elif parts.fragment and target.suffix == ".html" and parts.fragment not in parsed[target].ids:
                broken.append(f"{page.name}: {href} (no such anchor)")
            if parts.path.endswith(".md"):
                broken.append(f"{page.name}: {href} (a Markdown link left unconverted)")
    assert not broken, "\n".join(broken)


def test_console_examples_are_rendered(site: Path) -> None:
    tour = (site / "tour.html").read_text()
    assert '<pre class="console">' in tour
    assert '<span class="command">mremapctl try --memfd --dontunmap</span>' in tour
    assert "<table>" in (site / "errno.html").read_text()
