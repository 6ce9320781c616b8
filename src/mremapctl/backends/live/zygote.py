"""The parent side of the zygote: a small process that forks the experiments of a batch.

Forking costs in proportion to the parent's memory: a fork of the CLI process (rich, click
and all) takes about three times as long as a fork of a Python that imported only the
engine and the live backend. A matrix therefore starts this zygote once, hands it the batch,
and reads the runs back as they finish.

    python -m mremapctl.backends.live.zygote_process   (stdin: a pickled request; stdout: framed results)
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

from mremapctl.backends.live.child import raise_failure
from mremapctl.backends.live.frames import read_frames, write_frame
from mremapctl.errors import BatchInterrupted, Unavailable
from mremapctl.primitives import RunOptions
from mremapctl.results import Run
from mremapctl.scenario.load import Scenario


def run_batch(
    scenarios: Sequence[Scenario],
    options: RunOptions,
    parallel: int,
    errors: str,
    on_result: Optional[Callable[[int, Run], None]] = None,
    share_children: bool = False,
) -> List[Run]:
    """Run the batch in a zygote; same contract as LiveBackend.run_many (BatchInterrupted on Ctrl-C)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "mremapctl.backends.live.zygote_process"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        start_new_session=True,
        env=_env_finding_this_package(),
    )
    assert proc.stdin is not None and proc.stdout is not None
    write_frame(proc.stdin.fileno(), (list(scenarios), options, parallel, errors, share_children))
    proc.stdin.close()
    runs: List[Optional[Run]] = [None] * len(scenarios)
    try:
        for message in read_frames(proc.stdout.fileno()):
            if message[0] != "run":
                raise_failure(message, "the experiment zygote")
            runs[message[1]] = message[2]
            if on_result:
                on_result(message[1], message[2])
    except KeyboardInterrupt:
        # SIGKILL, not SIGINT: the zygote and its children end without a word of their own (a
        # KeyboardInterrupt in one of them could print "Exception ignored in: …" on our stderr).
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise BatchInterrupted(runs) from None
    finally:
        proc.stdout.close()
        if proc.poll() is None:
            proc.wait()
    missing = sum(1 for r in runs if r is None)
    if missing:  # a zygote that died early must not pass for a smaller batch
        raise Unavailable(f"the experiment zygote stopped (exit {proc.returncode}) with {missing} experiments not run")
    return [r for r in runs if r is not None]


def _env_finding_this_package() -> Dict[str, str]:
    """The environment, with this copy of the package first on the zygote's import path: from
    a zipapp (mremapctl.pyz) `python -m` would not find it otherwise."""
    import mremapctl

    home = str(Path(mremapctl.__file__).resolve().parent.parent)  # the folder, or the .pyz, holding it
    paths = [home, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    return dict(os.environ, PYTHONPATH=os.pathsep.join(paths))
