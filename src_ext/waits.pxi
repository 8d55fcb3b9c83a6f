# Waits without the GIL: cut into slices so that Ctrl-C and close() are seen between them.
# Included into _core.pyx.


cdef int64_t _deadline_ms(object timeout) except? -2:
    """The CLOCK_MONOTONIC ms at which a wait of timeout seconds ends; -1 for None (forever),
    and for timeouts too long to matter (inf included). Before any use of the engine: float()
    may run Python code."""
    cdef double seconds
    if timeout is None:
        return -1
    seconds = float(timeout)
    if seconds != seconds:
        raise ValueError("timeout must be a number of seconds or None, not nan")
    if seconds * 1000 >= FOREVER_MS:
        return -1
    return fp_now_ms() + <int64_t>(max(0.0, seconds) * 1000)


cdef inline int _slice_ms(int64_t deadline) noexcept nogil:
    """How long the next GIL-free wait may last: one slice, or less to end on deadline (-1: none)."""
    cdef int64_t left
    if deadline < 0:
        return WAIT_SLICE_MS
    left = deadline - fp_now_ms()
    return <int>(1 if left < 1 else (WAIT_SLICE_MS if left > WAIT_SLICE_MS else left))
