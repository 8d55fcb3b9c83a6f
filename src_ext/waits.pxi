# Waits without the GIL: every wait (send() for metadata or buffer space, flush(), get(), close())
# is a loop of slices of at most WAIT_SLICE_MS, so that Ctrl-C and close() are seen between them:
#     while <not done>:
#         if _past(deadline): raise <timeout>
#         with nogil: <engine wait>(..., _slice_ms(deadline))
#         _after_slice(p, <needs an open producer>)
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


cdef inline bint _past(int64_t deadline) noexcept nogil:
    """Whether a wait's deadline (-1: none) has passed."""
    return deadline >= 0 and fp_now_ms() >= deadline


cdef int _after_slice(ProducerCore p, bint needs_open) except -1:
    """Between two slices of a wait: signal handlers run (Ctrl-C raises here), and a wait that
    needs an open producer re-checks it (a handler or another thread may have closed or forked
    it). Waits for results do not: a closed producer still resolves what it had."""
    PyErr_CheckSignals()
    if needs_open:
        p._check_usable()
    return 0
