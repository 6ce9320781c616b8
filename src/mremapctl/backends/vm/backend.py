"""The vm backend as a Backend: the live experiment, inside a real Debian kernel under qemu.

Scenarios are batched: one boot runs them all (``mremapctl batch`` inside the guest), and
each comes back as schema-1 JSON, read into the same Run the other backends return.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Callable, List, Optional, Sequence

from mremapctl.errors import Unavailable
from mremapctl.lab import Lab
from mremapctl.primitives import RunOptions
from mremapctl.results import Run
from mremapctl.scenario.dump import dump_scenario
from mremapctl.scenario.load import Scenario

GUEST_SECONDS_PER_SCENARIO = 0.5  # generous: TCG runs the forked experiments slowly


def _import_paths() -> List[str]:
    """Where this Python finds mremapctl and its dependencies: the guest must see them too
    (its /tmp is a fresh tmpfs; a checkout under /tmp is bound back over it)."""
    import mremapctl

    package_root = str(Path(mremapctl.__file__).resolve().parent.parent)
    return sorted({package_root, *(p for p in sys.path if p and Path(p).is_dir())})


class VmBackend:
    name = "vm"
    page_size = 4096

    def __init__(self, kernel: str, progress: Optional[Callable[[str], None]] = None) -> None:
        from mremapctl.backends import vm

        self.progress = progress
        self.booted = vm.get(kernel, progress)
        self.kernel = self.booted.release
        self.kernel_version = self.booted.upstream  # Debian's 6.1.0-57-amd64 is Linux 6.1.192
        self.lab = Lab()

    def run(self, scenario: Scenario, options: Optional[RunOptions] = None) -> Run:
        return self.run_batch([scenario], options)[0]

    def run_batch(self, scenarios: Sequence[Scenario], options: Optional[RunOptions] = None) -> List[Run]:
        """Run every scenario in one boot of the kernel."""
        from mremapctl.backends import vm
        from mremapctl.documents import runs_from_json

        options = options or RunOptions()
        folder = Path(tempfile.mkdtemp(prefix="mremapctl-batch-"))
        try:
            batch = folder / "batch.json"
            batch.write_text(
                json.dumps(
                    {
                        "scenarios": [dump_scenario(s) for s in scenarios],
                        "options": asdict(options),
                    }
                )
            )
            argv = [sys.executable, "-m", "mremapctl", "batch", str(batch)]
            timeout = 60 + GUEST_SECONDS_PER_SCENARIO * len(scenarios) + options.timeout
            keep = [str(folder), *_import_paths()]
            result = vm.run_in_kernel(self.booted, argv, cwd=folder, timeout=timeout, keep=keep, progress=self.progress)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        if result.returncode != 0:
            why = result.stderr.decode(errors="replace").strip().splitlines()[-1:] or [result.console_tail[-200:]]
            raise Unavailable(f"the run inside {result.kernel_release} failed (exit {result.returncode}): {why[0]}")
        runs = runs_from_json(json.loads(result.stdout))
        for run in runs:
            run.backend = "vm"
            run.notes.insert(
                0, f"vm: Debian {result.package} (Linux {self.booted.upstream}) under qemu, {result.seconds:.1f} s"
            )
            run.kernel_version = run.kernel_version or self.booted.upstream
        return runs
