"""The zygote process itself: a small Python that forks the experiments of a batch.

Started by zygote.run_batch with ``python -m``; it reads the batch on stdin and streams each
run back on stdout, in the framing of frames.py.
"""

from __future__ import annotations

import sys

from mremapctl.backends.live.child import failure
from mremapctl.backends.live.frames import read_frames, write_frame
from mremapctl.backends.live.runner import LiveBackend
from mremapctl.errors import BatchInterrupted


def main() -> None:
    """The zygote's side: read the request, run it, stream each run back."""
    out = sys.stdout.fileno()
    try:
        scenarios, options, parallel, errors, share_children = next(read_frames(sys.stdin.fileno()))
        LiveBackend().run_many(
            scenarios,
            options,
            parallel=parallel,
            errors=errors,
            share_children=share_children,
            on_result=lambda i, run: write_frame(out, ("run", i, run)),
        )
    except BatchInterrupted:
        pass
    except Exception as err:  # reported to the parent, which raises it there
        write_frame(out, failure(err))


if __name__ == "__main__":
    main()
