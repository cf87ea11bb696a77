"""numba kernels: integer arrays in, arrays out; no pandas, no I/O, no mutable globals."""
