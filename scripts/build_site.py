"""Build the documentation site: docs/*.md rendered to HTML, one page each.

    .venv/bin/python scripts/build_site.py [--output DIR]    # default: /tmp/mremapctl-site

Links between pages (`tour.md`, `errno.md#einval`) become links between the HTML pages;
every heading gets the id GitHub would give it, so the same anchors work on both. Other files
in docs/ (run.schema.json) are copied as they are. The navigation follows the order of the
links in docs/index.md. Needs only markdown-it-py, which rich already depends on.
"""

from __future__ import annotations

import argparse
import html
import re
import shutil
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple
from urllib.parse import urlsplit

from markdown_it import MarkdownIt
from markdown_it.token import Token

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
DEFAULT_OUTPUT = Path("/tmp/mremapctl-site")

CSS = """\
:root { --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; --code-bg: #f6f8fa; --accent: #0a5dbd; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); font: 16px/1.6 system-ui, -apple-system, "Segoe UI", sans-serif; }
header { border-bottom: 1px solid var(--line); padding: 0.6rem 1.5rem; }
header nav { display: flex; flex-wrap: wrap; gap: 0.3rem 1.1rem; font-size: 0.92rem; }
header nav a { color: var(--muted); text-decoration: none; }
header nav a.here { color: var(--ink); font-weight: 600; }
header nav a:hover { color: var(--accent); }
main { max-width: 62rem; margin: 0 auto; padding: 1rem 1.5rem 4rem; }
a { color: var(--accent); }
h1, h2, h3 { line-height: 1.25; margin: 1.8em 0 0.6em; }
h1 { margin-top: 0.8em; font-size: 1.9rem; }
h2 { border-bottom: 1px solid var(--line); padding-bottom: 0.2em; }
code { font: 0.88em/1.45 ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; background: var(--code-bg);
       padding: 0.1em 0.3em; border-radius: 4px; }
pre { background: var(--code-bg); border: 1px solid var(--line); border-radius: 6px; padding: 0.8rem 1rem;
      overflow-x: auto; }
pre code { background: none; padding: 0; font-size: 0.8rem; white-space: pre; }
pre.console .prompt { color: var(--muted); user-select: none; }
pre.console .command { font-weight: 700; }
.illustrative { color: var(--muted); font-size: 0.85rem; margin: -0.6rem 0 1rem; }
table { border-collapse: collapse; margin: 1rem 0; font-size: 0.9rem; display: block; overflow-x: auto; }
th, td { border: 1px solid var(--line); padding: 0.3rem 0.6rem; vertical-align: top; text-align: left; }
th { background: var(--code-bg); }
blockquote { margin: 1rem 0; padding: 0 1rem; color: var(--muted); border-left: 4px solid var(--line); }
footer { max-width: 62rem; margin: 0 auto; padding: 1rem 1.5rem 2rem; color: var(--muted); font-size: 0.85rem; }
"""

PAGE = """\
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="style.css">
</head>
<body>
<header><nav>{nav}</nav></header>
<main>
{body}</main>
<footer>Built from docs/{source} by scripts/build_site.py.</footer>
</body>
</html>
"""


def markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True}).enable("table").enable("strikethrough")
    md.add_render_rule("fence", render_fence)
    return md


def slug(text: str) -> str:
    """The id GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens.

    >>> slug("DONTUNMAP and the 5.13 change")
    'dontunmap-and-the-513-change'
    >>> slug("What `old_size` 0 does")
    'what-old_size-0-does'
    """
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def inline_text(token: Token) -> str:
    return "".join(child.content for child in token.children or [] if child.type in ("text", "code_inline"))


def add_heading_ids(tokens: List[Token]) -> None:
    seen: Dict[str, int] = {}
    for i, token in enumerate(tokens):
        if token.type != "heading_open":
            continue
        base = slug(inline_text(tokens[i + 1]))
        count = seen.get(base, 0)
        seen[base] = count + 1
        token.attrSet("id", base if count == 0 else f"{base}-{count}")


def rewrite_links(tokens: Sequence[Token]) -> None:
    """foo.md and foo.md#bar, relative, become foo.html and foo.html#bar."""
    for token in tokens:
        if token.children:
            rewrite_links(token.children)
        if token.type == "link_open":
            href = str(token.attrGet("href") or "")
            token.attrSet("href", html_href(href))
        if token.type in ("html_inline", "html_block"):
            token.content = re.sub(r'href="([^"]*)"', lambda m: f'href="{html_href(m.group(1))}"', token.content)


def html_href(href: str) -> str:
    parts = urlsplit(href)
    if parts.scheme or parts.netloc or not parts.path.endswith(".md"):
        return href
    target = parts.path[: -len(".md")] + ".html"
    return target + (f"#{parts.fragment}" if parts.fragment else "")


def render_fence(renderer: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    token = tokens[idx]
    info = token.info.strip()
    lang = info.split(" ", 1)[0] if info else ""
    if lang != "console":
        css = f' class="language-{html.escape(lang)}"' if lang else ""
        return f"<pre><code{css}>{html.escape(token.content)}</code></pre>\n"
    lines = []
    for line in token.content.rstrip("\n").split("\n"):
        if line.startswith("$ "):
            lines.append(f'<span class="prompt">$ </span><span class="command">{html.escape(line[2:])}</span>')
        else:
            lines.append(html.escape(line))
    block = '<pre class="console"><code>' + "\n".join(lines) + "</code></pre>\n"
    if "illustrative" in info:
        block += '<p class="illustrative">Example output from one machine; yours will differ.</p>\n'
    return block


def nav_link(page: Path, title: str, here: bool) -> str:
    mark = ' class="here"' if here else ""
    return f'<a href="{page.stem}.html"{mark}>{html.escape(title)}</a>'


def page_title(tokens: Sequence[Token]) -> Optional[str]:
    for i, token in enumerate(tokens):
        if token.type == "heading_open" and token.tag == "h1":
            return inline_text(tokens[i + 1])
    return None


def nav_order(source: Path, pages: List[Path]) -> List[Path]:
    """index.md first, then the pages in the order index.md links them, then any others."""
    index = source / "index.md"
    order: List[Path] = [index] if index in pages else []
    if index.exists():
        for target in re.findall(r"\]\(([\w.-]+\.md)(?:#[^)]*)?\)", index.read_text()):
            path = source / target
            if path in pages and path not in order:
                order.append(path)
    return order + [p for p in pages if p not in order]


def build(source: Path = DOCS, output: Path = DEFAULT_OUTPUT) -> List[Path]:
    """Render every Markdown page of `source` into `output`; returns the files written."""
    md = markdown()
    pages = sorted(source.glob("*.md"))
    rendered: List[Tuple[Path, str, str]] = []
    for path in pages:
        tokens = md.parse(path.read_text())
        add_heading_ids(tokens)
        rewrite_links(tokens)
        title = page_title(tokens) or path.stem
        rendered.append((path, title, md.renderer.render(tokens, md.options, {})))
    titles = {path: title for path, title, _ in rendered}

    output.mkdir(parents=True, exist_ok=True)
    written: List[Path] = []
    order = nav_order(source, pages)
    for path, title, body in rendered:
        nav = " ".join(nav_link(p, "Home" if p.stem == "index" else titles[p], p == path) for p in order)
        target = output / f"{path.stem}.html"
        target.write_text(PAGE.format(title=html.escape(f"{title} · mremapctl"), nav=nav, body=body, source=path.name))
        written.append(target)
    for extra in sorted(source.iterdir()):
        if extra.is_file() and extra.suffix != ".md" and not extra.name.startswith("."):
            shutil.copyfile(extra, output / extra.name)
            written.append(output / extra.name)
    (output / "style.css").write_text(CSS)
    written.append(output / "style.css")
    return written


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--output", type=Path, default=DEFAULT_OUTPUT, help=f"Where to write the site (default: {DEFAULT_OUTPUT})."
    )
    args = parser.parse_args(argv)
    written = build(DOCS, args.output)
    pages = sum(1 for p in written if p.suffix == ".html")
    print(f"built {pages} pages in {args.output} (open {args.output / 'index.html'})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
