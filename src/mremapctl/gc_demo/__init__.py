"""``mremapctl demo gc``: the userfaultfd garbage-collector flow the 5.13 DONTUNMAP change was for.

``heap`` is the objects and the compaction, ``uffd`` the userfaultfd ABI written out by hand,
``threads`` the mutators and the fault handler, ``live`` the flow in a lab child, ``sim`` the
same flow through a kernel model, ``render`` the output.
"""
