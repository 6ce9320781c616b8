"""Bring the documentation's examples up to date: regenerate docs/errno.md and docs/timeline.md
from the rules and the models and the manual page (src/mremapctl/man/mremapctl.1) from the
commands' help, then rerun every `$ mremapctl …` console example in docs/*.md and README.md and
write its output in place.

    .venv/bin/python scripts/update_docs.py           # rewrite what changed
    .venv/bin/python scripts/update_docs.py --check   # only report; exit 1 if anything is stale

An output that still matches once normalised (addresses the kernel chose, timings, the
release string) is left as written. Blocks marked {illustrative} are never run.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List

sys.path.insert(0, str(Path(__file__).resolve().parent))

import doc_examples
import gen_docs


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="Report stale files, change nothing; exit 1 if any.")
    parser.add_argument("files", nargs="*", type=Path, help="Only these Markdown files (default: all).")
    args = parser.parse_args(argv)

    stale: List[str] = []
    generated = {gen_docs.ERRNO_PAGE, gen_docs.TIMELINE_PAGE}
    if not args.files:
        for path, text in gen_docs.render_all().items():
            if not gen_docs.is_current(path, text):
                stale.append(str(path.relative_to(doc_examples.ROOT)))
                if not args.check:
                    path.write_text(text)
    if not args.files:
        from mremapctl.cli.manpage import MANPAGE, manual

        page = manual()
        if MANPAGE.read_text() != page:
            stale.append(str(MANPAGE.relative_to(doc_examples.ROOT)))
            if not args.check:
                MANPAGE.write_text(page)
    for path in args.files or doc_examples.doc_files():
        path = path.resolve()
        if path in generated:
            continue  # written above, examples included
        text = path.read_text()
        new = doc_examples.update_text(path, text)
        if new != text:
            stale.append(str(path.relative_to(doc_examples.ROOT)))
            if not args.check:
                path.write_text(new)
    verb = "stale" if args.check else "updated"
    print(f"{verb}: {', '.join(stale)}" if stale else "the docs are up to date")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
