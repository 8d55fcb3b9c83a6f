# DeliveryFuture: the result of one send(). Included into _core.pyx.

# RecordMetadata.timestamp_type by librdkafka's rd_kafka_timestamp_type_t (0, 1, 2).
cdef tuple _TIMESTAMP_TYPES = (_TimestampType.NO_TIMESTAMP_TYPE, _TimestampType.CREATE_TIME,
                               _TimestampType.LOG_APPEND_TIME)
# The RecordMetadata namedtuple class, held here: a module global would be looked up per record.
cdef object _metadata_type = _RecordMetadata
cdef enum:
    _METADATA_FIELDS = 8
if len(_RecordMetadata._fields) != _METADATA_FIELDS:  # _metadata fills exactly these items
    raise ImportError("fastprod._core was built for another RecordMetadata")

cdef extern from "Python.h":
    object PyType_GenericAlloc(PyTypeObject *type, Py_ssize_t nitems)


cdef inline void _put(object t, Py_ssize_t i, object item) noexcept:
    Py_INCREF(item)  # PyTuple_SET_ITEM steals the reference
    PyTuple_SET_ITEM(t, i, item)

cdef enum:
    CB_SUCCESS = 0  # add_callback
    CB_FAILURE = 1  # add_errback
    CB_BOTH = 2     # add_both
    CB_FUTURE = 3   # add_done_callback
#
# A future is one small C object: the dispatcher thread fills its fields from a delivery report
# under the GIL; RecordMetadata and exceptions are built only when someone asks. Waiting uses the
# producer's shared condition (no lock or event per future).


# no_gc: a pending future can sit in a cycle only through its callbacks (a closure over the
# future), and those are dropped when it resolves; tracking millions of live futures made the
# cyclic GC the largest cost of send() (perf: gc_collect_main 21 %, visit_* 15 %).
@cython.final
@cython.no_gc
@cython.freelist(1024)
cdef class DeliveryFuture:
    """The outcome of one ``send()``: kafka-python's future methods and concurrent.futures' ones.

    Resolved by fastprod's dispatcher thread when the broker acknowledged the record (a
    :class:`RecordMetadata`) or delivery failed for good (a :class:`fastprod.errors.KafkaError`).
    """

    def __repr__(self):
        state = "pending" if not self._done else ("failed" if self._err else "succeeded")
        return f"<DeliveryFuture {self._topic} {state}>"

    cdef inline void *_open(self, ProducerCore producer, str topic) noexcept:
        """The opaque of the record this future stands for. The record's own reference to it is
        taken as the record is written (_hold_result) and dropped by _resolve."""
        self._producer = producer
        self._topic = topic
        return <void *>self

    cdef inline _resolve(self, fp_completion *c):
        """Dispatcher thread: the record's outcome. Drops the record's reference (the caller
        holds one), runs the callbacks, and lets go of the producer."""
        Py_DECREF(self)
        # librdkafka says -1001 (OFFSET_INVALID) where Java's RecordMetadata says -1 (acks=0)
        self._offset = c.offset if c.offset >= 0 else -1
        self._timestamp_ms = c.timestamp_ms
        self._timestamp_type = <unsigned char>c.timestamp_type
        self._partition = c.partition
        self._err = c.err
        self._status = <unsigned char>c.status
        self._done = 1
        if self._cb_fn is not None or self._more_callbacks is not None:
            self._run_callbacks()
        self._producer = None  # resolved: it no longer keeps the producer alive

    cdef _wait(self, timeout):
        """Blocks (GIL released, Ctrl-C honoured) until resolved; KafkaTimeoutError past timeout."""
        if not self._done:
            if self._producer is None:
                raise _errors.FastProdError("this future was not returned by send()")
            self._producer._wait_resolved(self, _future_resolved, timeout,
                                          f"record to {self._topic!r}")

    cdef object _metadata(self):
        # Built as tuple.__new__(RecordMetadata, ...) builds it (allocate the subclass, fill its
        # items) without the argument tuples and the call: callgrind, 937 instructions per
        # record for tuple.__new__ (the namedtuple's own __new__ and the enum call cost more).
        md = PyType_GenericAlloc(<PyTypeObject *>_metadata_type, _METADATA_FIELDS)
        _put(md, 0, self._topic)
        _put(md, 1, self._partition)
        _put(md, 2, self._offset)
        _put(md, 3, self._timestamp_ms)
        _put(md, 4, _TIMESTAMP_TYPES[self._timestamp_type])
        _put(md, 5, self._key_size)
        _put(md, 6, self._value_size)
        _put(md, 7, self._header_size)
        return md

    cdef object _exception(self):
        return _kafka_error(self._err, self._status)  # on demand: failures are rare, futures many

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
        return self._done != 0

    @property
    def is_done(self):
        """kafka-python's name for :meth:`done`."""
        return self._done != 0

    def succeeded(self):
        """True if the record was acknowledged."""
        return self._done != 0 and self._err == 0

    def failed(self):
        """True if delivery failed."""
        return self._done != 0 and self._err != 0

    def cancel(self):
        """Records cannot be recalled once accepted: always False."""
        return False

    def cancelled(self):
        """Always False (see :meth:`cancel`)."""
        return False

    def running(self):
        """True while the record is pending."""
        return self._done == 0

    def add_callback(self, fn, *args, **kwargs):
        """Call ``fn(*args, metadata, **kwargs)`` when the record is acknowledged."""
        return self._add(CB_SUCCESS, fn, args, kwargs)

    def add_errback(self, fn, *args, **kwargs):
        """Call ``fn(*args, exception, **kwargs)`` when delivery fails."""
        return self._add(CB_FAILURE, fn, args, kwargs)

    def add_both(self, fn, *args, **kwargs):
        """Call ``fn(*args, metadata_or_exception, **kwargs)`` on either outcome."""
        return self._add(CB_BOTH, fn, args, kwargs)

    def add_done_callback(self, fn):
        """Call ``fn(future)`` on either outcome (concurrent.futures)."""
        return self._add(CB_FUTURE, fn, (), None)

    cdef _add(self, int kind, fn, tuple args, dict kwargs):
        if not callable(fn):
            raise TypeError(f"callback must be callable, not {type(fn).__name__}")
        if self._done:
            self._run_callback(kind, fn, args, kwargs)
        elif self._cb_fn is None and not args and not kwargs:
            self._cb_kind = kind
            self._cb_fn = fn
        else:
            if self._more_callbacks is None:
                self._more_callbacks = []
            self._more_callbacks.append((kind, fn, args, kwargs))
        return self

    cdef _run_callback(self, int kind, fn, tuple args, dict kwargs):
        if kind == CB_FUTURE:
            fn(self)
            return
        if (kind == CB_SUCCESS and self._err) or (kind == CB_FAILURE and not self._err):
            return
        outcome = self._exception() if self._err else self._metadata()
        if kwargs:
            fn(*args, outcome, **kwargs)
        elif args:
            fn(*args, outcome)
        else:
            fn(outcome)

    cdef _run_callbacks(self):
        """Runs on the dispatcher thread; a raising callback is logged and handed to the producer."""
        fn, self._cb_fn = self._cb_fn, None
        more, self._more_callbacks = self._more_callbacks, None
        if fn is not None:
            try:
                self._run_callback(self._cb_kind, fn, (), None)
            except BaseException as exc:
                self._producer._callback_failed(exc)
        if more is not None:
            for kind, fn, args, kwargs in more:
                try:
                    self._run_callback(kind, fn, args, kwargs)
                except BaseException as exc:
                    self._producer._callback_failed(exc)
