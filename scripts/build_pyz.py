"""Build dist/mremapctl.pyz: one file that runs with Python >= 3.9 on a target machine.

    python scripts/build_pyz.py [--output dist/mremapctl.pyz]

The archive holds mremapctl and its pure-Python dependencies (click, rich and theirs, tomli),
chosen for Python 3.9 so they work on every newer Python too. cffi is compiled, so it is not
bundled: the tool uses the target's cffi when installed, and ctypes otherwise (the header of
every live run says which).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import zipapp
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# click 8.2 and later need Python 3.10: say so, rather than trust every index to tell pip (a mirror
# without data-requires-python once gave the 3.9 archive a click that 3.9 cannot import).
REQUIREMENTS = ["click>=8.1,<8.2", "rich>=13", "tomli>=1.1"]


def build(output: Path) -> Path:
    with tempfile.TemporaryDirectory() as tmp:
        staging = Path(tmp) / "app"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--target",
                str(staging),
                "--python-version",
                "3.9",
                "--only-binary=:all:",
                *REQUIREMENTS,
            ],
            check=True,
        )
        shutil.copytree(
            ROOT / "src" / "mremapctl", staging / "mremapctl", ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
        )
        for extra in staging.glob("*.dist-info"):
            shutil.rmtree(extra)
        output.parent.mkdir(parents=True, exist_ok=True)
        zipapp.create_archive(
            staging, output, interpreter="/usr/bin/env python3", main="mremapctl.cli:main", compressed=True
        )
    return output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=ROOT / "dist" / "mremapctl.pyz")
    built = build(parser.parse_args().output)
    print(f"built {built} ({built.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()
