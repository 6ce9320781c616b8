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

from mremapctl.backends.vm.qemu import GuestResult
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
    """A real Debian kernel of `arch` (None: this machine's) and `page_size` ("16K"; None: 4K) under qemu.

    Runs carry the guest's page size: scenarios are built for it, and the guest reports it.
    """

    name = "vm"

    def __init__(
        self,
        kernel: str,
        progress: Optional[Callable[[str], None]] = None,
        arch: Optional[str] = None,
        page_size: Optional[str] = None,
    ) -> None:
        from mremapctl.backends import vm
        from mremapctl.backends.vm.arch import get_arch
        from mremapctl.platforms import parse_page_size

        self.progress = progress
        self.booted = vm.get(kernel, progress, arch=get_arch(arch).name, page_size=parse_page_size(page_size))
        self.kernel = self.booted.release
        self.kernel_version = self.booted.upstream  # Debian's 6.1.0-57-amd64 is Linux 6.1.192
        self.page_size = self.booted.page_size
        self.lab = Lab()

    def run(self, scenario: Scenario, options: Optional[RunOptions] = None) -> Run:
        return self.run_batch([scenario], options)[0]

    def run_batch(
        self,
        scenarios: Sequence[Scenario],
        options: Optional[RunOptions] = None,
        *,
        parallel: Optional[int] = None,
        on_result: Optional[Callable[[int, Run], None]] = None,
    ) -> List[Run]:
        """Run every scenario in one boot of the kernel (``on_result`` hears of each when the
        guest is done; ``parallel`` means nothing here)."""
        from mremapctl.documents import runs_from_json

        options = options or RunOptions()
        request = json.dumps({"scenarios": [dump_scenario(s) for s in scenarios], "options": asdict(options)})
        timeout = 60 + GUEST_SECONDS_PER_SCENARIO * len(scenarios) + options.timeout
        if self.booted.target.host_userland:
            result = self._run_host(request, timeout)
        else:
            result = self._run_userland(request, timeout)
        if result.returncode != 0:
            why = result.stderr.decode(errors="replace").strip().splitlines()[-1:] or [result.console_tail[-200:]]
            raise Unavailable(f"the run inside {result.kernel_release} failed (exit {result.returncode}): {why[0]}")
        runs = runs_from_json(json.loads(result.stdout))
        for run in runs:
            run.backend = "vm"
            run.notes.insert(0, self._note(result))
            run.kernel_version = run.kernel_version or self.booted.upstream
        for index, run in enumerate(runs):
            if on_result:
                on_result(index, run)
        return runs

    def _note(self, result: GuestResult) -> str:
        """What was booted and how: the package(s), architecture and page size, the emulator, the userland."""
        k = self.booted
        line = f"vm: Debian {k.packages} {k.version} (Linux {k.upstream}, {k.describe}) under {k.target.qemu}"
        if result.userland:
            line += f" with {result.userland}"
        return f"{line}, {result.seconds:.1f} s"

    def _run_host(self, request: str, timeout: float) -> GuestResult:
        """amd64: this Python and this source tree, seen through the host's root."""
        from mremapctl.backends import vm

        folder = Path(tempfile.mkdtemp(prefix="mremapctl-batch-"))
        try:
            (folder / "batch.json").write_text(request)
            argv = [sys.executable, "-m", "mremapctl", "batch", str(folder / "batch.json")]
            keep = [str(folder), *_import_paths()]
            return vm.run_in_kernel(self.booted, argv, cwd=folder, timeout=timeout, keep=keep, progress=self.progress)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def _run_userland(self, request: str, timeout: float) -> GuestResult:
        """arm64: the guest's Python runs the zipapp of this source tree from its initramfs."""
        from mremapctl.backends import vm
        from mremapctl.backends.vm.pyz import GUEST_PYZ

        argv = ["python3", GUEST_PYZ, "batch", "batch.json"]
        inputs = {"batch.json": request.encode()}
        return vm.run_in_kernel(self.booted, argv, timeout=timeout, inputs=inputs, progress=self.progress)
