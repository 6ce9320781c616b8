"""The command line: a thin click layer over the library.

Subcommands are imported only when invoked, so ``mremapctl try`` does not pay for the
modules of ``matrix`` or ``bench``. Every expected failure becomes one line on stderr
with the exit code of the contract (1: could not be carried out, 2: bad input).
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any, List, NoReturn, Optional

import click

from mremapctl import __version__
from mremapctl.errors import Interrupted, MremapctlError

COMMANDS = {
    "try": ("mremapctl.cli.try_cmd", "try_cmd", "One experiment: map a region, mremap it, show what changed."),
    "run": ("mremapctl.cli.run_cmd", "run_cmd", "Run a multi-step scenario file (TOML)."),
    "kinds": ("mremapctl.cli.kinds_cmd", "kinds_cmd", "List mapping kinds, whether each works here, and its VmFlags."),
    "explain": (
        "mremapctl.cli.explain_cmd",
        "explain_cmd",
        "The rules behind an errno or a flag, with kernel versions.",
    ),
    "matrix": ("mremapctl.cli.matrix_cmd", "matrix_cmd", "Every kind × flag set as one grid, across kernels."),
    "survey": (
        "mremapctl.cli.survey_cmd",
        "survey_cmd",
        "This kernel against every model: 'behaves like', deviations.",
    ),
    "vm": ("mremapctl.cli.vm_cmd", "vm_cmd", "Real Debian kernels under qemu: list, fetch, clean."),
    "batch": ("mremapctl.cli.batch_cmd", "batch_cmd", ""),
    "kernels": ("mremapctl.cli.kernels_cmd", "kernels_cmd", "The kernel models and what changed in each."),
    "bench": ("mremapctl.cli.bench_cmd", "bench_cmd", "mremap latency against size and alignment (PTE/PMD/PUD)."),
    "demo": (
        "mremapctl.cli.demo_cmd",
        "demo_cmd",
        "Live demos: `demo gc`, the userfaultfd GC pause of the 5.13 patch.",
    ),
    "completion": (
        "mremapctl.cli.completion_cmd",
        "completion_cmd",
        "Print the shell completion script: bash, zsh or fish.",
    ),
}

PROG = "mremapctl"
COMPLETE_VAR = "_MREMAPCTL_COMPLETE"  # set by the completion script when the shell asks for words

# Click 8.2 added it; older ones (the 3.9 zipapp bundles 8.1) print the help themselves.
NO_ARGS_IS_HELP: Any = getattr(click.exceptions, "NoArgsIsHelpError", ())

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> List[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> Optional[click.Command]:
        if name not in COMMANDS:
            return None
        module, attr, _ = COMMANDS[name]
        command: click.Command = getattr(importlib.import_module(module), attr)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, summary) for name, (_, _, summary) in COMMANDS.items() if summary]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, prog_name="mremapctl")
def cli() -> None:
    """Explore Linux mremap(2): create mappings, remap them, see the maps diff and the errno.

    \b
    Examples:
      mremapctl try --memfd --dontunmap        # the 5.13 change: DONTUNMAP on shared memory
      mremapctl try --anon --maymove --grow     # grow in place, or move when blocked
      mremapctl try --perf --dontunmap          # refused: the ring buffer is VM_PFNMAP
      mremapctl run scenario.toml --check       # a multi-step scenario with expectations
      mremapctl kinds                           # what can be mapped here
    """


def main(argv: Optional[List[str]] = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    instruction = os.environ.get(COMPLETE_VAR)
    if instruction:  # the shell asks what may come next (`mremapctl completion` installs the asking)
        from click.shell_completion import shell_complete

        sys.exit(shell_complete(cli, {}, PROG, COMPLETE_VAR, instruction))
    try:
        # Not cli.main(): it turns a closed pipe into exit 1 and prints a blank line on Ctrl-C.
        # obj: the arguments as typed, for a report that gives the exact command (survey)
        with cli.make_context(PROG, list(args), obj={"argv": list(args)}) as ctx:
            code: Any = cli.invoke(ctx)
        sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
    except click.exceptions.Exit as done:  # --help, --version
        sys.exit(done.exit_code)
    except NO_ARGS_IS_HELP as err:  # click >= 8.2 raises it for a bare group
        click.echo(err.ctx.get_help() if err.ctx else str(err))
        sys.exit(0)
    except click.UsageError as err:
        hint = f" (see '{err.ctx.command_path} --help')" if err.ctx else ""
        fail(f"{err.format_message()}{hint}", 2)
    except (click.Abort, KeyboardInterrupt):
        fail("interrupted", Interrupted.exit_code)
    except BrokenPipeError:
        end_like_a_c_tool_on_a_closed_pipe()
    except MremapctlError as err:
        fail(str(err), err.exit_code)
    except click.ClickException as err:
        fail(err.format_message(), err.exit_code)
    sys.exit(code if isinstance(code, int) else 0)


def fail(message: str, code: int) -> NoReturn:
    """The contract's one line on stderr, and the exit code."""
    click.echo(f"mremapctl: error: {' '.join(message.split())}", err=True)
    sys.exit(code)


def end_like_a_c_tool_on_a_closed_pipe() -> NoReturn:
    """`mremapctl … | head`: stop quietly, killed by SIGPIPE as a C tool would be (the shell sees 141)."""
    import os
    import signal

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())  # Python's exit-time flush must not complain either
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGPIPE)
    sys.exit(128 + signal.SIGPIPE)  # not reached where SIGPIPE exists
