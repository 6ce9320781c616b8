"""The matrix (kinds × flag sets × kernels × backends) and the survey built on it."""
