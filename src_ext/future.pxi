# DeliveryFuture: the result of one send(). Included into _core.pyx.
#
# A future is one small C object: the dispatcher thread fills its fields from a delivery report
# under the GIL; RecordMetadata and exceptions are built only when someone asks. Waiting uses the
# producer's shared condition (no lock or event per future).


@cython.final
@cython.freelist(1024)
cdef class DeliveryFuture:
    """The outcome of one ``send()``: kafka-python's future methods and concurrent.futures' ones.

    Resolved by fastprod's dispatcher thread when the broker acknowledged the record (a
    :class:`RecordMetadata`) or delivery failed for good (a :class:`fastprod.errors.KafkaError`).
    """
    cdef ProducerCore _producer
    cdef str _topic
    cdef int64_t _offset
    cdef int64_t _timestamp_ms
    cdef int32_t _partition
    cdef int32_t _key_size
    cdef int32_t _value_size
    cdef int32_t _err
    cdef int32_t _timestamp_type
    cdef bint _done
    cdef object _error
    cdef list _callbacks

    def __repr__(self):
        state = "pending" if not self._done else ("failed" if self._err else "succeeded")
        return f"<DeliveryFuture {self._topic} {state}>"

    cdef inline void _complete(self, fp_completion *c):
        # librdkafka says -1001 (OFFSET_INVALID) where Java's RecordMetadata says -1 (acks=0)
        self._offset = c.offset if c.offset >= 0 else -1
        self._timestamp_ms = c.timestamp_ms
        self._timestamp_type = c.timestamp_type
        self._partition = c.partition
        self._err = c.err
        self._done = True

    cdef _wait(self, timeout):
        """Blocks (GIL released, Ctrl-C honoured) until resolved; KafkaTimeoutError past timeout."""
        cdef int64_t deadline = 0
        cdef uint64_t generation
        cdef fp_engine *engine
        if self._done:
            return
        self._producer._check_not_dispatcher("future.get()")
        if timeout is not None:
            deadline = fp_now_ms() + <int64_t>(float(timeout) * 1000)
        engine = self._producer._engine
        if engine == NULL:
            raise _errors.ProducerClosedError("the producer was closed before this record resolved")
        self._producer._waiters += 1
        try:
            while True:
                # Read the generation before _done: a batch resolved in between bumps it.
                generation = fp_engine_generation(engine)
                if self._done:
                    return
                if timeout is not None and fp_now_ms() >= deadline:
                    raise _errors.KafkaTimeoutError(
                        f"record to {self._topic!r} not acknowledged within {timeout} s")
                with nogil:
                    fp_engine_wait_generation(engine, generation, WAIT_SLICE_MS)
                PyErr_CheckSignals()
        finally:
            self._producer._waiters -= 1

    cdef object _metadata(self):
        return _RecordMetadata(self._topic, self._partition, self._offset, self._timestamp_ms,
                               _TimestampType(self._timestamp_type - 1), self._key_size,
                               self._value_size)

    cdef object _exception(self):
        if self._error is None:
            self._error = _kafka_error(self._err)
        return self._error

    def get(self, timeout=None):
        """Wait up to ``timeout`` seconds (None: forever) and return the RecordMetadata.

        Raises the delivery error (a KafkaError) if the record failed, KafkaTimeoutError if it
        is still pending after ``timeout``.
        """
        self._wait(timeout)
        if self._err:
            raise self._exception()
        return self._metadata()

    def result(self, timeout=None):
        """Same as :meth:`get` (concurrent.futures name)."""
        return self.get(timeout)

    def exception(self, timeout=None):
        """Wait like :meth:`get`; return the delivery error, or None if the record was delivered."""
        self._wait(timeout)
        return self._exception() if self._err else None

    def done(self):
        """True once the record was acknowledged or failed."""
        return self._done

    @property
    def is_done(self):
        """kafka-python's name for :meth:`done`."""
        return self._done

    def succeeded(self):
        """True if the record was acknowledged."""
        return self._done and not self._err

    def failed(self):
        """True if delivery failed."""
        return self._done and self._err != 0

    def cancel(self):
        """Records cannot be recalled once accepted: always False."""
        return False

    def cancelled(self):
        """Always False (see :meth:`cancel`)."""
        return False

    def running(self):
        """True while the record is pending."""
        return not self._done

    def add_callback(self, fn, *args, **kwargs):
        """Call ``fn(*args, metadata, **kwargs)`` when the record is acknowledged."""
        return self._add(0, fn, args, kwargs)

    def add_errback(self, fn, *args, **kwargs):
        """Call ``fn(*args, exception, **kwargs)`` when delivery fails."""
        return self._add(1, fn, args, kwargs)

    def add_both(self, fn, *args, **kwargs):
        """Call ``fn(*args, metadata_or_exception, **kwargs)`` on either outcome."""
        return self._add(2, fn, args, kwargs)

    def add_done_callback(self, fn):
        """Call ``fn(future)`` on either outcome (concurrent.futures)."""
        return self._add(3, fn, (), None)

    cdef _add(self, int kind, fn, tuple args, dict kwargs):
        if not callable(fn):
            raise TypeError(f"callback must be callable, not {type(fn).__name__}")
        entry = (kind, fn, args, kwargs)
        if self._done:
            self._run_callback(entry)
        else:
            if self._callbacks is None:
                self._callbacks = []
            self._callbacks.append(entry)
        return self

    cdef _run_callback(self, tuple entry):
        kind, fn, args, kwargs = entry
        if kind == 3:
            fn(self)
            return
        if kind == 0 and self._err:
            return
        if kind == 1 and not self._err:
            return
        outcome = self._exception() if self._err else self._metadata()
        if kwargs:
            fn(*args, outcome, **kwargs)
        else:
            fn(*args, outcome)

    cdef _run_callbacks(self):
        """Runs on the dispatcher thread; a raising callback is logged and handed to the producer."""
        cdef list callbacks = self._callbacks
        self._callbacks = None
        for entry in callbacks:
            try:
                self._run_callback(entry)
            except BaseException as exc:
                self._producer._callback_failed(exc)
