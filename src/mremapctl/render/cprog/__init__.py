"""The parts of ``--show-c``: a scenario turned into a stand-alone C program.

``mremapctl.render.c_program`` is the entry point; this package holds its pieces:

- ``text``: C literals, comments and flag expressions, safe for any scenario text;
- ``context``: what the step emitters share (``mremapctl.resolve`` decides what each step means);
- ``c_core``, ``c_kinds``, ``c_memory``, ``c_ops``: the C helper functions, each emitted only when used;
- ``registry``: which helper needs which, and the fallback definitions for older C libraries;
- ``ops`` and ``kinds``: one C block per scenario step;
- ``program``: the blocks assembled into main();
- ``output``: the one-line-per-step format the program prints, and its parser.
"""
