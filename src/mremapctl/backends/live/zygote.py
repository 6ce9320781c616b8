"""A small process that forks the experiments of a batch.

Forking costs in proportion to the parent's memory: a fork of the CLI process (rich, click
and all) takes about three times as long as a fork of a Python that imported only the
engine and the live backend. A matrix therefore starts this zygote once, hands it the batch,
and reads the runs back as they finish.

    python -m mremapctl.backends.live.zygote   (stdin: a pickled request; stdout: framed results)
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import Callable, List, Optional, Sequence

from mremapctl.backends.base import RunOptions
from mremapctl.backends.live.child import BatchInterrupted, failure, raise_failure
from mremapctl.backends.live.frames import read_frames, write_frame
from mremapctl.results import Run
from mremapctl.scenario.load import Scenario


def run_batch(
    scenarios: Sequence[Scenario],
    options: RunOptions,
    parallel: int,
    errors: str,
    on_result: Optional[Callable[[int, Run], None]] = None,
) -> List[Run]:
    """Run the batch in a zygote; same contract as LiveBackend.run_many (BatchInterrupted on Ctrl-C)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "mremapctl.backends.live.zygote"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    write_frame(proc.stdin.fileno(), (list(scenarios), options, parallel, errors))
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
        os.killpg(proc.pid, signal.SIGINT)  # it kills its children and stops
        proc.wait()
        raise BatchInterrupted(runs) from None
    finally:
        proc.stdout.close()
        if proc.poll() is None:
            proc.wait()
    return [r for r in runs if r is not None]


def main() -> None:
    """The zygote's side: read the request, run it, stream each run back."""
    from mremapctl.backends.live.runner import LiveBackend  # here, not at the top: the runner imports this module

    out = sys.stdout.fileno()
    try:
        scenarios, options, parallel, errors = next(read_frames(sys.stdin.fileno()))
        LiveBackend().run_many(
            scenarios,
            options,
            parallel=parallel,
            errors=errors,
            on_result=lambda i, run: write_frame(out, ("run", i, run)),
        )
    except BatchInterrupted:
        pass
    except Exception as err:  # reported to the parent, which raises it there
        write_frame(out, failure(err))


if __name__ == "__main__":
    main()
