"""demo gc: heap, userfaultfd ABI, the model walk, and small live runs."""
