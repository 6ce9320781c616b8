"""The parts of ``--show-c``: a scenario turned into a stand-alone C program.

``mremapctl.render.c_program`` is the entry point; this package holds its pieces:

- ``text``: C literals, comments and flag expressions, safe for any scenario text;
- ``plan``: the engine's placement and expression rules, replayed at generation time;
- ``runtime``: the C helper functions a program needs, each emitted only when used;
- ``ops`` and ``kinds``: one C block per scenario step;
- ``output``: the one-line-per-step format the program prints, and its parser.
"""
