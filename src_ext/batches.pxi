# BatchResult: the outcome of one send_batch() or send_table(). Included into _core.pyx.
#
# A batch of n records costs one object and n pointers: each record's opaque is the address of
# its entry in a _BatchBlock (tagged with the low bit so the dispatcher tells it from a future),
# and every entry points at its block, which knows the batch and the index of its first entry.
# send_batch() allocates one block; send_table() one per Arrow record batch, as it learns their
# lengths. The batch holds one reference to itself from the first queued record until the last
# one resolved.

cdef inline void *_batch_opaque(void **entry):
    return <void *>((<size_t>entry) | 1)


cdef inline bint _is_batch_opaque(void *opaque):
    return (<size_t>opaque) & 1


cdef inline void **_batch_entry(void *opaque):
    return <void **>((<size_t>opaque) & ~(<size_t>1))


cdef inline void **_block_entries(_BatchBlock *block):
    return <void **>(<char *>block + sizeof(_BatchBlock))


cdef inline BatchResult _batch_of(void *opaque):
    """The BatchResult a tagged opaque belongs to."""
    return <BatchResult>(<_BatchBlock *>_batch_entry(opaque)[0]).owner


cdef inline void _hold_result(void *opaque) noexcept:
    """The reference a record in the ring holds to its DeliveryFuture, dropped by its _resolve.
    Taken as the record is written, before any Python code runs (the finalizers of send()'s
    locals may let the dispatcher resolve the record before send() returns). A BatchResult
    holds itself from _open until its last record resolved; send_and_forget() has none (NULL)."""
    if opaque != NULL and not _is_batch_opaque(opaque):
        Py_INCREF(<object>opaque)


cdef object _first(tuple pair):
    return pair[0]


# What send() raises for a record that it refuses (its value, key, partition, timestamp, headers
# or size), as opposed to the producer's state (closed, forked, buffer full past max.block.ms),
# which stops send_batch(on_invalid="report") as well.
_REJECTIONS = (TypeError, ValueError, OverflowError, _errors.MessageSizeTooLargeError,
               _errors.InvalidTimestampError, _errors.InvalidRecordError)


@cython.final
cdef class BatchResult:
    """The outcome of one :meth:`fastprod.Producer.send_batch`: counts, a wait, and which records
    failed with which error. Resolved by the dispatcher thread like futures, without one Python
    object per record."""

    def __dealloc__(self):
        cdef _BatchBlock *block = self._blocks
        cdef _BatchBlock *next_block
        while block != NULL:
            next_block = block.next
            free(block)
            block = next_block

    cdef int _open(self, ProducerCore producer, str topic, Py_ssize_t n) except -1:
        self._producer = producer
        self._topic = topic
        self._failure_codes = []
        self._rejected = []
        self._grow(n)
        Py_INCREF(self)
        self._holding = True
        return 0

    cdef int _grow(self, Py_ssize_t n) except -1:
        """Room for n more records, in a new block."""
        cdef _BatchBlock *block
        if n <= 0:
            return 0
        block = <_BatchBlock *>malloc(sizeof(_BatchBlock) + n * sizeof(void *))
        if block == NULL:
            raise MemoryError()
        block.owner = <void *>self
        block.prev = self._last
        block.next = NULL
        block.base = self._capacity
        block.pending = 0
        if self._last == NULL:
            self._blocks = block
        else:
            self._last.next = block
        self._last = block
        self._capacity += n
        return 0

    cdef inline void *_next_opaque(self, Py_ssize_t index):
        """The opaque of record `index` (of the sequences given to send_batch, or of the rows of
        send_table), which lies in the last block. Counted pending from here: a record that
        then fails to be queued keeps its block until the batch is freed, never the reverse (a
        block freed under a record in the ring)."""
        cdef void **entry = _block_entries(self._last) + (index - self._last.base)
        entry[0] = <void *>self._last
        self._last.pending += 1
        return _batch_opaque(entry)

    cdef inline void _queued(self, Py_ssize_t payload_bytes):
        """The record of the last _next_opaque is in the ring."""
        self._sent += 1
        self._sent_bytes += payload_bytes

    cdef void _drop_block(self, _BatchBlock *block):
        """Frees a block none of whose records is pending (nor will be: the last block only once
        sealed)."""
        if block.prev != NULL:
            block.prev.next = block.next
        else:
            self._blocks = block.next
        if block.next != NULL:
            block.next.prev = block.prev
        if block == self._last:
            self._last = block.prev
        free(block)

    cdef _seal(self):
        self._sealed = True
        if self._last != NULL and self._last.pending == 0:
            self._drop_block(self._last)
        self._release_if_resolved()

    cdef inline _resolve(self, fp_completion *c):
        """Dispatcher thread: one record's outcome; the last one drops the self-reference."""
        cdef void **entry = _batch_entry(c.opaque)
        cdef _BatchBlock *block = <_BatchBlock *>entry[0]
        cdef Py_ssize_t index = block.base + (entry - _block_entries(block))
        if c.err:
            self._failed += 1
            self._failure_codes.append((index, c.err, c.status))
        else:
            self._delivered += 1
        # records are counted before they are written, so a block reaches 0 only when none of
        # its records can still resolve, except the last one while records are being added
        block.pending -= 1
        if block.pending == 0 and (block != self._last or self._sealed):
            self._drop_block(block)
        self._release_if_resolved()

    cdef inline _release_if_resolved(self):
        if self._holding and self._sealed and self._delivered + self._failed == self._sent:
            self._holding = False
            self._producer = None  # resolved: it no longer keeps the producer alive
            Py_DECREF(self)  # callers hold their own reference

    cdef bint _resolved(self):
        return self._sealed and self._delivered + self._failed == self._sent

    @property
    def topic(self):
        """The topic every record of the batch went to."""
        return self._topic

    @property
    def sent(self):
        """Records queued (all of them, unless send_batch raised part-way)."""
        return self._sent

    @property
    def sent_bytes(self):
        """Key and value bytes of the queued records (serialized, headers not counted)."""
        return self._sent_bytes

    @property
    def delivered(self):
        """Records acknowledged so far."""
        return self._delivered

    @property
    def failed(self):
        """Records whose delivery failed for good so far."""
        return self._failed

    @property
    def rejected(self):
        """Records send_batch(on_invalid="report") did not queue because send() would have
        refused them; they are in ``failures`` with the exception send() would have raised."""
        return len(self._rejected)

    @property
    def pending(self):
        """Records neither acknowledged nor failed yet."""
        return self._sent - self._delivered - self._failed

    def done(self):
        """True once every queued record was acknowledged or failed."""
        return self._resolved()

    def wait(self, timeout=None):
        """Wait up to ``timeout`` seconds (None: forever) until every record resolved; returns the
        batch. Raises KafkaTimeoutError if records are still pending then."""
        if self._resolved():
            return self
        if self._producer is None:
            raise _errors.FastProdError("this BatchResult was not returned by send_batch()")
        self._producer._wait_resolved(self, _batch_resolved, timeout,
                                      f"send_batch to {self._topic!r}")
        return self

    @property
    def failures(self):
        """``[(index, exception), ...]`` by index: a KafkaError for each record whose delivery
        failed so far, and what send() would have raised for each rejected record."""
        errors = {}
        out = list(self._rejected)
        for index, err, status in self._failure_codes:
            exc = errors.get((err, status))
            if exc is None:
                exc = errors[err, status] = _kafka_error(err, status)
            out.append((index, exc))
        out.sort(key=_first)
        return out

    @property
    def failed_indices(self):
        """Indexes (into the sequences given to send_batch) of the records that failed so far,
        rejected ones included."""
        return sorted([failure[0] for failure in self._failure_codes]
                      + [rejected[0] for rejected in self._rejected])

    def __len__(self):
        return self._sent

    def __repr__(self):
        return (f"<BatchResult {self._topic} sent={self._sent} delivered={self._delivered} "
                f"failed={self._failed} pending={self.pending}>")


cdef bint _batch_resolved(object batch):
    return (<BatchResult>batch)._resolved()


cdef bint _future_resolved(object future):
    return (<DeliveryFuture>future)._done
