# ProducerCore: the compiled half of fastprod.Producer. Included into _core.pyx.
#
# send() runs in the caller's thread with the GIL: it validates, copies key/value/headers into a C
# record and queues it. The engine's drain thread (no GIL) hands records to librdkafka; the
# dispatcher thread (dispatch.pxi) takes delivery results in batches and resolves futures under one
# GIL acquisition per batch.
#
# Safety of the send path. Keep this list true when you change the code.
#
# Where Python code runs, or the GIL is released, in the middle of a call:
#   send(), per record, and send_batch(), per row:
#     - the ProducerRecord's fields, the topic name check (fastprod's own Python code);
#     - list(headers) for a kafka-python Serializer, the key and value serializers;
#     - dunders of the caller's objects: iteration and unpacking of header list/tuple
#       subclasses, a serializer's `accepts` isinstance check (__class__, __instancecheck__),
#       repr in error messages; on Python 3.12+ the __buffer__/__release_buffer__ of bytes and
#       bytearray subclasses (the release comes after the ring write);
#     - finalizers and weakref callbacks of _queue's locals (what a serializer returned, the
#       header list), released after the record is in the ring: its future's reference is taken
#       as the record is written (_hold_opaque), since the dispatcher may resolve it before
#       send() returns;
#     - the Python partitioner; the topic-limit warning (logging handlers);
#     - waits without the GIL: for the topic's metadata (_await_table), for buffer.memory or ring
#       space (_enqueue_waiting); Ctrl-C checks between wait slices run signal handlers;
#   send_batch() also: reading its columns (PySequence_Fast iterates a non-sequence; pyarrow);
#     key_field lookups (the dict's __hash__/__eq__), str() of an int subclass key;
#   flush(), future.get()/result()/exception(), BatchResult.wait(), close(): float(timeout)
#     (a __float__), then waits and signal handlers; close() waits for the dispatcher with the
#     GIL released;
#   any allocation of a GC-tracked object may run a collection, hence any object's __del__;
#   delivery callbacks run on the dispatcher thread, between other threads' bytecodes.
# What can happen there: another thread's send() (into the same reused encode buffer, or the same
# topic); close() from any thread, the serializer or partitioner itself included; os.fork(); the
# caller's lists shrinking or their items replaced; the last reference to the producer going away
# (a callback that drops it); interpreter shutdown (atexit closes producers; daemon threads stay
# parked in waits).
# The rules that keep it safe:
#   1. Bytes are owned before Python runs or the GIL is released: key/value/header bytes belong
#      to objects the call holds references to (a buffer export pins a bytearray's memory); the
#      built-in serializers' reused buffer is lent to one call at a time (serialize.pxi); headers
#      are copied into librdkafka's list at once; the ring copies key and value at write.
#   2. The engine outlives every call that uses it: a call that may run Python code or wait
#      counts itself in _users; close() stops the engine and waits for the dispatcher, and the
#      engine (ring, topics, partition tables, locks) is freed only when no call is under way and
#      the dispatcher has finished, by close() or by the last call to leave (_leave). So engine,
#      fp_topic and partition-table pointers loaded before Python code stay valid after it.
#   3. State is re-checked after Python code ran: every wait slice ends with _check_usable, and
#      _enqueue, the one door into the ring, checks closed/forked right before it reserves and
#      writes with the GIL held. A record never enters a ring the drain thread has left. Waits
#      convert their timeout (_deadline_ms) before they count themselves and read the engine.
#      The integers send() passes to C (partition, timestamp, a partitioner's answer) are read
#      from the int's own digits, not through its comparison dunders.
#   4. What is iterated is held by reference and its length re-read: send_batch reads every item
#      through _batch_item; a list that shrank raises RuntimeError naming what was queued.
#   5. No wait on threads that do not exist: in a forked child get()/wait() on a pending result
#      raises ProducerForkedError, and a child never frees the parent's engine; a result still
#      pending once the dispatcher ended raises ProducerClosedError; flush()/close()/get() from a
#      callback raise instead of waiting. The dispatcher survives what callbacks, logging
#      handlers and finalizers raise, and close()'s deadline bounds even a record librdkafka
#      keeps refusing as QUEUE_FULL.
#   6. Nothing but callers keep a producer alive: the dispatcher thread holds its _Dispatcher, not
#      the producer, and futures and batch results hold it only until they resolve. A producer
#      dropped unclosed is closed by __del__ (ResourceWarning); dropped on the dispatcher thread,
#      or not closed by __del__, it is stopped by __dealloc__ and its engine freed by the
#      dispatcher when its loop ends (no tp_clear: __dealloc__ needs _dispatch).


cdef int32_t _NO_SIZE = -1

cdef enum:
    # How long a producer dropped without close() gives its pending records in its finalizer.
    FINALIZE_CLOSE_MS = 5000
    # A partition beyond a topic's table gets this long for a fresher answer (the topic may have
    # grown) before send() calls it unknown.
    PARTITION_RECHECK_MS = 2000
    # A record this large waits for its topic's first metadata answer, which brings the topic's
    # max.message.bytes, so that it is checked against it; smaller ones fit any topic that is not
    # misconfigured, and do not wait.
    UNCHECKED_RECORD_BYTES = 1024
    # Likewise a record whose timestamp is further than this from the current time waits for the
    # topic's timestamp bounds.
    UNCHECKED_TIMESTAMP_SKEW_MS = 60000


cdef inline void _hold_opaque(void *opaque) noexcept:
    """The reference a record in the ring holds to its future, dropped by the dispatcher. Taken
    as the record is written, before any Python code runs (the finalizers of send()'s locals
    may let the dispatcher resolve the record before send() returns). A BatchResult holds
    itself instead."""
    if not _is_batch_opaque(opaque):
        Py_INCREF(<object>opaque)


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


cdef int64_t _own_digits(object value) noexcept:
    """value as a C integer read from the int's own digits (an int subclass's comparison dunders
    cannot make it pass a range check); -1 for a bool, a non-int or one beyond int64."""
    if not isinstance(value, int) or isinstance(value, bool):
        return -1
    try:
        return value
    except OverflowError:
        return -1


cdef int64_t _checked_int(object value, int64_t high, str what) except? -1:
    """value (an int, not a bool) as a C integer from 0 to high, else TypeError or ValueError."""
    cdef int64_t n
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{what} must be int or None, not {type(value).__name__}")
    n = _own_digits(value)
    if n < 0 or n > high:
        raise ValueError(f"{what} must be between 0 and {high}, not {int.__repr__(value)}")
    return n


cdef inline int _slice_ms(int64_t deadline) noexcept nogil:
    """How long the next GIL-free wait may last: one slice, or less to end on deadline (-1: none)."""
    cdef int64_t left
    if deadline < 0:
        return WAIT_SLICE_MS
    left = deadline - fp_now_ms()
    return <int>(1 if left < 1 else (WAIT_SLICE_MS if left > WAIT_SLICE_MS else left))


@cython.no_gc_clear  # __dealloc__ needs _dispatch, which tp_clear would set to None
cdef class ProducerCore:
    """Compiled core of :class:`fastprod.Producer`; use that class, not this one."""
    cdef fp_engine *_engine
    cdef dict _topics
    cdef int64_t _max_block_ms
    cdef size_t _buffer_memory
    cdef bint _closed
    cdef bint _forked
    cdef _Encoding _key_encoding
    cdef _Encoding _value_encoding
    cdef fp_partitioner _partitioner
    cdef object _partitioner_fn
    cdef int64_t _batch_size
    cdef int64_t _max_message_bytes
    cdef bint _topic_limit_checked  # records are checked against max.message.bytes (uncompressed)
    cdef dict _partition_tuples  # topic -> (table address, all, available) for _partitioner_fn
    cdef object _dispatcher  # its thread
    cdef _Dispatcher _dispatch
    cdef object _dispatcher_ident
    cdef object _callback_error
    cdef int _users  # calls under way that may run Python code or wait (see the top of this file)
    cdef uint64_t _sent
    cdef uint64_t _queue_full_retries  # the engine's count when it was freed

    # ProducerCore[K, V] for typing: fastprod.Producer subclasses it with its key/value types.
    __class_getitem__ = classmethod(types.GenericAlias)

    def __cinit__(self, *args, **kwargs):
        self._topics = {}
        self._partition_tuples = {}
        self._dispatch = _Dispatcher.__new__(_Dispatcher)  # _start replaces it with a running one
        self._dispatch.finished = True

    def _start(self, list properties, size_t buffer_memory, int64_t max_block_ms,
               key_serializer=None, value_serializer=None, partitioner=FP_PARTITIONER_MURMUR2,
               int64_t batch_size=1000000, int64_t metadata_refresh_ms=300000):
        """Creates the librdkafka producer from (name, value) string pairs and starts threads.
        partitioner: an fp_partitioner number or a callable(key_bytes, all, available) -> int."""
        cdef char errstr[512]
        cdef rd_kafka_conf_t *conf
        cdef int res
        if self._engine != NULL:
            raise RuntimeError("producer already started")
        self._buffer_memory = buffer_memory
        self._max_block_ms = max_block_ms
        self._key_encoding = _Encoding.of(key_serializer, "key")
        self._value_encoding = _Encoding.of(value_serializer, "value")
        self._batch_size = batch_size
        if callable(partitioner):
            self._partitioner = FP_PARTITIONER_CALLER
            self._partitioner_fn = partitioner
        else:
            self._partitioner = partitioner
            if self._partitioner == FP_PARTITIONER_XXHASH:
                _load_xxh3()
        # Records may wait up to 1 ms for the drain thread while librdkafka lingers >= 2 ms
        # anyway; with a shorter linger.ms every record wakes it at once.
        settings = dict(properties)
        linger_ms = float(settings.get("linger.ms", "5"))
        self._max_message_bytes = int(settings.get("message.max.bytes", "1000000"))
        # A broker judges the compressed batch, which send() cannot know: with compression a
        # record over the topic's limit may still be taken, so only uncompressed ones are checked.
        self._topic_limit_checked = settings.get(
            "compression.type", settings.get("compression.codec", "none")) == "none"
        conf = rdk.rd_kafka_conf_new()  # last: nothing that can raise leaks it
        try:
            for name, value in properties:
                res = rdk.rd_kafka_conf_set(conf, name.encode(), value.encode(), errstr,
                                            sizeof(errstr))
                if res == RDK_CONF_UNKNOWN:
                    raise _errors.ConfigError(f"unknown configuration property {name!r}")
                if res != RDK_CONF_OK:
                    raise _errors.ConfigError(
                        f"invalid value for {name!r}: {errstr.decode('utf-8', 'replace')}")
        except BaseException:
            rdk.rd_kafka_conf_destroy(conf)
            raise
        self._engine = fp_engine_new(conf, buffer_memory, metadata_refresh_ms,
                                     1 if linger_ms >= 2 else 0, errstr, sizeof(errstr))
        if self._engine == NULL:
            raise _errors.ConfigError(errstr.decode("utf-8", "replace"))
        # The thread holds the dispatcher, not this producer, so a dropped producer is collected.
        self._dispatch = _Dispatcher.__new__(_Dispatcher)
        self._dispatch.engine = self._engine
        self._dispatcher = threading.Thread(target=self._dispatch.run, daemon=True,
                                            name="fastprod-dispatcher")
        try:
            self._dispatcher.start()
        except BaseException:
            self._dispatch.finished = True  # never ran: __dealloc__ frees the engine itself
            raise
        self._dispatcher_ident = self._dispatcher.ident

    def __del__(self):
        """A producer dropped without close() is closed here, as an unclosed file is."""
        if self._closed or self._forked or self._engine == NULL:
            return
        try:  # apart from closing: with -W error the warning raises
            warnings.warn(f"{self!r} was dropped without close(); closing it (pending records "
                          f"get {FINALIZE_CLOSE_MS / 1000:g} s)", ResourceWarning, source=self)
        except BaseException:
            pass
        if self._on_dispatcher():
            return  # dropped by a delivery callback: __dealloc__ hands the engine to the dispatcher
        try:
            self._close(FINALIZE_CLOSE_MS / 1000.0)
        except BaseException as exc:  # a finalizer must not raise; close() logged callbacks' errors
            _log.debug("closing a dropped producer: %r", exc)

    def __dealloc__(self):
        cdef fp_engine *engine = self._engine
        if engine == NULL or self._forked:
            return  # after fork the engine's threads and locks belong to the parent: leak it
        if not self._dispatch.finished:
            # The dispatcher still takes completions from the engine: it frees it when done.
            # Stopped with the GIL held (short locks, no waits), so that the dispatcher cannot
            # see the flag and free the engine while fp_engine_stop still touches it.
            fp_engine_stop(engine, fp_now_ms() + FINALIZE_CLOSE_MS)
            self._dispatch.free_when_finished = True
            return
        self._engine = NULL
        with nogil:
            fp_engine_stop(engine, fp_now_ms())
            fp_engine_join(engine)
            fp_engine_free(engine)

    cdef inline void _leave(self) noexcept:
        """Ends a use begun with self._users += 1 (see the top of this file)."""
        self._users -= 1
        if self._users == 0 and self._closed:
            self._free_engine()

    cdef void _free_engine(self) noexcept:
        """Frees a closed producer's engine once nothing uses it: no call under way (_users)
        and no dispatcher taking completions; never in a forked child (the parent's threads)."""
        cdef fp_engine *engine = self._engine
        if engine == NULL or self._users or self._forked or not self._dispatch.finished:
            return
        self._queue_full_retries = fp_engine_queue_full_retries(engine)  # for stats()
        self._engine = NULL
        self._topics.clear()  # the engine owns and frees them
        with nogil:
            fp_engine_join(engine)
            fp_engine_free(engine)

    cdef int _check_usable(self) except -1:
        cdef const char *reason
        cdef int err
        if self._forked:
            raise _errors.ProducerForkedError(
                "this producer was created before os.fork(); create a new one in the child")
        if self._closed or self._engine == NULL:
            raise _errors.ProducerClosedError("the producer is closed")
        err = fp_engine_credentials_error(self._engine, &reason)
        if err:
            raise _errors.KafkaError.from_code(
                err, f"{reason.decode('utf-8', 'replace')} (the producer cannot deliver with these "
                     "credentials; create a new one with correct settings)")
        return 0

    cdef bint _on_dispatcher(self):
        # Once the dispatcher ended, a new thread may get its id.
        return threading.get_ident() == self._dispatcher_ident and not self._dispatch.finished

    cdef int _check_not_dispatcher(self, str what) except -1:
        if self._on_dispatcher():
            raise _errors.FastProdError(
                f"{what} called from a delivery callback would wait for itself")
        return 0

    cdef fp_topic *_topic(self, str topic) except NULL:
        cdef fp_topic *t
        handle = self._topics.get(topic)
        if handle is not None:
            return <fp_topic *><size_t>handle
        _check_topic_name(topic)
        handle = self._topics.get(topic)  # another thread may have registered it meanwhile
        if handle is not None:
            return <fp_topic *><size_t>handle
        if self._forked:  # a serializer forked: the parent's threads may hold the engine's locks
            self._check_usable()
        t = fp_engine_topic(self._engine, topic.encode())
        if t == NULL:
            raise ValueError(f"librdkafka refused the topic name {topic!r}")
        self._topics[topic] = <size_t>t
        return t

    cdef int32_t _partition(self, str topic, fp_topic *t, object partition,
                            const char *key_data, Py_ssize_t key_len, size_t record_bytes) except -2:
        """The record's partition, chosen here so that it follows send() order and the
        partitioner's rules; RDK_PARTITION_UA leaves it to librdkafka."""
        cdef const fp_partitions *table = fp_topic_table(t)
        cdef int64_t explicit
        if partition is not None:
            explicit = _checked_int(partition, INT32_MAX, "partition")
            if table != NULL and explicit >= table.count:
                self._await_table(topic, t, explicit)
            return <int32_t>explicit
        if self._partitioner == FP_PARTITIONER_LIBRDKAFKA:
            return RDK_PARTITION_UA
        if table == NULL:
            if self._partitioner == FP_PARTITIONER_MURMUR2:
                # Until the first metadata answer, librdkafka's murmur2_random places keyed
                # records exactly as we would, so this record need not wait for it.
                return RDK_PARTITION_UA
            table = self._await_table(topic, t, -1)
        if self._partitioner == FP_PARTITIONER_CALLER:
            return self._call_partitioner(topic, table, key_data, key_len)
        return fp_choose_partition(t, table, self._partitioner, key_data, key_len, record_bytes,
                                   self._batch_size)

    cdef const fp_partitions *_await_table(self, str topic, fp_topic *t,
                                           int64_t partition) except NULL:
        """Waits without the GIL for the topic's partition table (max.block.ms at most, as Java's
        send() waits for metadata) or, for a partition beyond it, for a fresher table that has it.
        Raises KafkaTimeoutError, or UnknownPartitionError for a partition that does not exist."""
        cdef fp_engine *engine = self._engine
        cdef const fp_partitions *table = fp_topic_table(t)
        cdef int64_t limit = self._max_block_ms
        if table != NULL:
            limit = min(limit, <int64_t>PARTITION_RECHECK_MS)
        cdef int64_t deadline = fp_now_ms() + limit
        cdef bint ask
        self._check_usable()  # before the engine's locks: Python code may have closed or forked
        while table == NULL or partition >= table.count:
            if fp_now_ms() >= deadline:
                break
            ask = table != NULL
            with nogil:
                table = fp_engine_wait_table(engine, t, ask, _slice_ms(deadline))
            PyErr_CheckSignals()
            self._check_usable()
        else:
            return table
        if table == NULL:
            err = t.last_error
            raise _errors.KafkaTimeoutError(
                f"topic {topic!r} not present in metadata after {limit} ms"
                + (f" (last error: {rdk.rd_kafka_err2name(err).decode()})" if err else ""))
        raise _errors.UnknownPartitionError.from_message(
            f"partition {partition} of topic {topic!r} does not exist (the topic has "
            f"{table.count} partitions)")

    cdef int32_t _call_partitioner(self, str topic, const fp_partitions *table,
                                   const char *key_data, Py_ssize_t key_len) except -2:
        cdef int32_t i
        cdef int64_t n
        cached = self._partition_tuples.get(topic)
        if cached is None or cached[0] != <size_t>table:
            cached = (<size_t>table, tuple(range(table.count)),
                      tuple([table.available[i] for i in range(table.available_count)]))
            self._partition_tuples[topic] = cached
        key = None if key_len < 0 else PyBytes_FromStringAndSize(key_data, key_len)
        chosen = self._partitioner_fn(key, cached[1], cached[2])
        n = _own_digits(chosen)
        if not 0 <= n < table.count:
            raise ValueError(f"the partitioner returned {chosen!r} for topic {topic!r}, which has "
                             f"partitions 0..{table.count - 1}")
        return <int32_t>n

    def send(self, topic, value=None, key=None, partition=None, timestamp_ms=None, headers=None):
        """Queue one record and return its :class:`DeliveryFuture`.

        ``value`` and ``key`` are bytes-like, str (sent as UTF-8) or None, after the configured
        serializers ran. ``partition`` wins over the partitioner; ``timestamp_ms`` defaults to now;
        ``headers`` are ``(str, bytes | str | None)`` pairs or a dict. While buffer.memory is
        full this waits without the GIL up to max.block.ms, then raises KafkaTimeoutError
        (QueueFullError at once with max_block_ms=0).
        """
        cdef Py_ssize_t sizes[2]
        cdef DeliveryFuture future
        cdef fp_topic *t
        self._check_usable()
        self._users += 1
        try:
            if type(topic) is not str:
                if not isinstance(topic, _ProducerRecord):
                    raise TypeError(
                        f"topic must be str or a ProducerRecord, not {type(topic).__name__}")
                if (value is not None or key is not None or partition is not None
                        or timestamp_ms is not None or headers is not None):
                    raise TypeError(
                        "send(record) takes no other arguments: they are the record's fields")
                record = topic
                topic, value, key = record.topic, record.value, record.key
                partition, timestamp_ms = record.partition, record.timestamp_ms
                headers = record.headers
                if type(topic) is not str:
                    raise TypeError(f"record.topic must be str, not {type(topic).__name__}")
            t = self._topic(<str>topic)
            future = DeliveryFuture.__new__(DeliveryFuture)
            future._producer = self
            future._topic = topic
            # _enqueue takes the record's reference to the future as it writes it.
            self._queue(topic, t, value, key, partition, timestamp_ms, headers, <void *>future,
                        sizes)
            future._key_size = <int32_t>sizes[0]
            future._value_size = <int32_t>sizes[1]
            self._sent += 1
            return future
        finally:
            self._leave()

    cdef int _queue(self, str topic, fp_topic *t, object value, object key, object partition,
                    object timestamp_ms, object headers, void *opaque,
                    Py_ssize_t *sizes) except -1:
        """Serializes one record and queues it with opaque (see _queue_bytes); sizes gets the
        serialized key and value sizes (-1: null). Nothing is queued when it raises."""
        cdef Py_buffer kview, vview
        cdef const char *kdata
        cdef const char *vdata
        cdef Py_ssize_t klen, vlen
        cdef int kheld = 0, vheld = 0
        cdef list header_list = None
        cdef object key_encoded = None, value_encoded = None
        try:
            if self._key_encoding.wants_headers() or self._value_encoding.wants_headers():
                # kafka-python's Serializer.serialize(topic, headers, obj) may add headers
                header_list = [] if headers is None else list(
                    (<dict>headers).items() if isinstance(headers, dict) else headers)
            if self._key_encoding.kind != ENC_AS_IS:
                key = key_encoded = self._key_encoding.encode(topic, key, header_list)
            if self._value_encoding.kind != ENC_AS_IS:
                value = value_encoded = self._value_encoding.encode(topic, value, header_list)
            if header_list is not None:
                headers = header_list or None
            kheld = _view(key, &kview, &kdata, &klen, "key", topic)
            vheld = _view(value, &vview, &vdata, &vlen, "value", topic)
            self._queue_bytes(topic, t, kdata, klen, vdata, vlen, partition, timestamp_ms,
                              headers, opaque)
            sizes[0] = klen
            sizes[1] = vlen
            return 0
        finally:
            if kheld:
                PyBuffer_Release(&kview)
            if vheld:
                PyBuffer_Release(&vview)
            self._key_encoding.give_back(key_encoded)
            self._value_encoding.give_back(value_encoded)

    cdef int _queue_bytes(self, str topic, fp_topic *t, const char *kdata, Py_ssize_t klen,
                          const char *vdata, Py_ssize_t vlen, object partition,
                          object timestamp_ms, object headers, void *opaque) except -1:
        """Validates, partitions and writes one serialized record (lengths -1: null) into the
        ring with opaque. Nothing is queued when it raises."""
        cdef int32_t part
        cdef int64_t ts
        cdef rd_kafka_headers_t *hdrs = NULL
        cdef size_t key_bytes = klen if klen > 0 else 0
        cdef size_t value_bytes = vlen if vlen > 0 else 0
        cdef size_t header_bytes, record_bytes, charge
        cdef int32_t limit
        if timestamp_ms is None:
            ts = fp_wallclock_ms()
        else:
            ts = _checked_int(timestamp_ms, INT64_MAX, "timestamp_ms")
            self._check_timestamp(topic, t, ts)
        if headers is not None:
            hdrs = _build_headers(headers, topic)
        try:
            header_bytes = fp_headers_bytes(hdrs)
            record_bytes = key_bytes + value_bytes + header_bytes
            if record_bytes > <size_t>self._max_message_bytes:
                raise _errors.MessageSizeTooLargeError.from_message(
                    f"the record to {topic!r} has {record_bytes} bytes "
                    f"of key, value and headers, more than max_request_size / message.max.bytes "
                    f"({self._max_message_bytes})")
            charge = fp_record_charge(key_bytes, value_bytes, header_bytes)
            if charge > self._buffer_memory:
                raise _errors.MessageSizeTooLargeError.from_message(
                    f"the record to {topic!r} needs {charge} bytes, more than buffer.memory "
                    f"({self._buffer_memory})")
            if (self._topic_limit_checked and fp_topic_table(t) == NULL
                    and record_bytes >= UNCHECKED_RECORD_BYTES):
                self._await_table(topic, t, -1)
            part = self._partition(topic, t, partition, kdata, klen, key_bytes + value_bytes)
            limit = fp_topic_limit(t) if self._topic_limit_checked else 0
            if limit != 0 and (limit != t.limit_seen or hdrs != NULL or key_bytes + value_bytes
                               + FP_RECORD_MAX_UNHEADED_OVERHEAD > <size_t>limit):
                self._check_topic_limit(topic, t, limit, klen, vlen, hdrs)
            self._enqueue(charge, topic, t.rkt, part, ts, kdata, klen, vdata, vlen, hdrs, opaque)
            hdrs = NULL  # the ring owns them now
            return 0
        finally:
            if hdrs != NULL:
                rdk.rd_kafka_headers_destroy(hdrs)

    cdef int _check_timestamp(self, str topic, fp_topic *t, int64_t ts) except -1:
        """Refuses a record whose timestamp the topic's brokers would refuse
        (message.timestamp.before/after.max.ms): sent, it would fail the whole batch around it."""
        cdef int64_t now = fp_wallclock_ms()
        cdef int64_t bound
        if fp_topic_table(t) == NULL and not -UNCHECKED_TIMESTAMP_SKEW_MS <= ts - now <= UNCHECKED_TIMESTAMP_SKEW_MS:
            self._await_table(topic, t, -1)  # it brings the topic's bounds
        bound = fp_topic_timestamp_refused(t, ts, now)
        if bound == 0:
            return 0
        if bound > 0:
            raise _errors.InvalidTimestampError.from_message(
                f"the record to {topic!r} is timestamped {ts - now} ms after the current time, "
                f"more than the topic's message.timestamp.after.max.ms "
                f"({0 if bound == INT64_MAX else bound}) allows")
        raise _errors.InvalidTimestampError.from_message(
            f"the record to {topic!r} is timestamped {now - ts} ms before the current time, "
            f"more than the topic's message.timestamp.before.max.ms "
            f"({0 if bound == INT64_MIN else -bound}) allows")

    cdef int _check_topic_limit(self, str topic, fp_topic *t, int32_t limit, Py_ssize_t klen,
                                Py_ssize_t vlen, rd_kafka_headers_t *hdrs) except -1:
        """Refuses a record that the topic's brokers would refuse: alone in a batch it would exceed
        the topic's max.message.bytes. Sent, it would fail the whole batch it shares with its
        neighbours (librdkafka does not split a refused batch as Java's producer does). Only
        without compression: the broker judges the compressed batch."""
        cdef int64_t batch_bytes
        if limit != t.limit_seen:
            t.limit_seen = limit
            if min(self._batch_size, self._max_message_bytes) > limit:
                _log.warning(
                    "topic %r accepts record batches up to %d bytes (max.message.bytes) but this "
                    "producer builds batches up to %d (batch_size, max_request_size): a batch "
                    "over the topic's limit fails whole; set batch_size <= %d for this topic",
                    topic, limit, min(self._batch_size, self._max_message_bytes), limit)
        batch_bytes = fp_record_batch_bytes(klen, vlen, hdrs)
        if batch_bytes > limit:
            raise _errors.MessageSizeTooLargeError.from_message(
                f"the record to {topic!r} makes a {batch_bytes}-byte record batch, more than the "
                f"topic's max.message.bytes ({limit})")
        return 0

    cdef int _enqueue(self, size_t charge, str topic, rd_kafka_topic_t *rkt, int32_t partition,
                      int64_t timestamp_ms, const char *key, Py_ssize_t key_len,
                      const char *value, Py_ssize_t value_len, rd_kafka_headers_t *headers,
                      void *opaque) except -1:
        """Charges the record against buffer.memory and writes it into the ring. While either is
        full it waits without the GIL, max.block.ms in all, then raises; nothing stays charged
        when it raises."""
        cdef fp_engine *engine = self._engine
        cdef bint reserved
        if self._closed or self._forked:
            self._check_usable()  # Python code that ran in this send() closed or forked
        reserved = fp_engine_try_reserve(engine, charge)
        if reserved and fp_engine_write(engine, rkt, partition, timestamp_ms, key, key_len, value,
                                        value_len, headers, opaque) == 1:
            _hold_opaque(opaque)
            return 0  # the common case, without the waiting loop's exception bookkeeping
        return self._enqueue_waiting(reserved, charge, topic, rkt, partition, timestamp_ms, key,
                                     key_len, value, value_len, headers, opaque)

    cdef int _enqueue_waiting(self, bint reserved, size_t charge, str topic, rd_kafka_topic_t *rkt,
                              int32_t partition, int64_t timestamp_ms, const char *key,
                              Py_ssize_t key_len, const char *value, Py_ssize_t value_len,
                              rd_kafka_headers_t *headers, void *opaque) except -1:
        """_enqueue when the buffer or the ring is full (or the write ran out of memory)."""
        cdef fp_engine *engine = self._engine
        cdef int written
        cdef int64_t deadline = -1
        try:
            while True:
                if reserved:
                    written = fp_engine_write(engine, rkt, partition, timestamp_ms, key, key_len,
                                              value, value_len, headers, opaque)
                    if written == 1:
                        _hold_opaque(opaque)
                        return 0
                    if written < 0:
                        raise MemoryError()
                full = "the record ring" if reserved else "buffer.memory"
                if self._max_block_ms == 0:
                    raise _errors.QueueFullError(
                        f"{full} ({self._buffer_memory} bytes) is full and max.block.ms is 0")
                if deadline < 0:
                    deadline = fp_now_ms() + self._max_block_ms
                elif fp_now_ms() >= deadline:
                    raise _errors.KafkaTimeoutError(
                        f"{full} ({self._buffer_memory} bytes) stayed full for max.block.ms "
                        f"({self._max_block_ms} ms)")
                with nogil:
                    if reserved:
                        fp_engine_wait_ring(engine, _slice_ms(deadline))
                    else:
                        reserved = fp_engine_wait_reserve(engine, charge, _slice_ms(deadline))
                PyErr_CheckSignals()
                self._check_usable()
        except BaseException:
            if reserved:
                fp_engine_unreserve(engine, charge)
            raise

    def send_batch(self, topic, values=None, keys=None, partitions=None, timestamps_ms=None,
                   headers=None, *, key_field=None):
        """Queue one record per item of ``values`` to ``topic`` in one compiled loop; returns a
        :class:`BatchResult` (counts, ``wait(timeout)``, ``failures`` by index) instead of one
        future per record.

        ``values``: a sequence of values (serialized like send()'s), a pyarrow Array or
        ChunkedArray of binary or string (read from Arrow's buffers, no Python object per record),
        or, with ``key_field``, a sequence of dicts whose ``key_field`` item is each record's key.
        ``send_batch(records)`` takes a sequence of :class:`ProducerRecord` instead.
        ``keys`` (a sequence or Arrow array), ``timestamps_ms`` and ``headers`` are None or as
        long as ``values``; ``partitions`` is None, one partition for all, or a sequence.
        Records are placed, ordered and bounded by buffer.memory exactly as with send(). A record
        send() would reject stops the loop: the exception's note names its index and
        ``exc.batch_result`` holds the records queued before it.
        """
        self._check_usable()
        self._users += 1
        try:
            return _send_batch(self, topic, values, keys, partitions, timestamps_ms, headers,
                               key_field)
        finally:
            self._leave()

    cdef int _wait_resolved(self, object waiter, _resolved_check resolved, timeout,
                            str what) except -1:
        """Blocks (GIL released, Ctrl-C honoured) until resolved(waiter); KafkaTimeoutError past
        timeout. Every resolved batch of completions wakes the waiters to look again."""
        cdef int64_t deadline = _deadline_ms(timeout)
        cdef uint64_t generation
        cdef fp_engine *engine
        if resolved(waiter):
            return 0
        if self._forked:
            raise _errors.ProducerForkedError(
                f"the {what} was pending when this process forked; only the parent learns its "
                "outcome")
        self._check_not_dispatcher(f"waiting for the {what}")
        self._users += 1
        try:
            engine = self._engine  # read after the last Python code (the timeout's float())
            if engine == NULL:
                raise _errors.ProducerClosedError(
                    f"the producer was closed before the {what} resolved")
            while True:
                # Read the generation before looking: a batch resolved in between bumps it.
                generation = fp_engine_generation(engine)
                if resolved(waiter):
                    return 0
                if self._dispatch.finished:  # nothing can resolve it any more
                    raise _errors.ProducerClosedError(
                        f"the producer was closed before the {what} resolved")
                if deadline >= 0 and fp_now_ms() >= deadline:
                    raise _errors.KafkaTimeoutError(f"{what} not acknowledged within {timeout} s")
                with nogil:
                    fp_engine_wait_generation(engine, generation, _slice_ms(deadline))
                PyErr_CheckSignals()
        finally:
            self._leave()

    def partitions_for(self, topic):
        """The topic's partition ids (a set), waiting for its metadata up to max.block.ms."""
        cdef const fp_partitions *table
        cdef fp_topic *t
        self._check_usable()
        if type(topic) is not str:
            raise TypeError(f"topic must be str, not {type(topic).__name__}")
        self._users += 1
        try:
            t = self._topic(<str>topic)
            table = fp_topic_table(t)
            if table == NULL:
                table = self._await_table(topic, t, -1)
            return set(range(table.count))
        finally:
            self._leave()

    def flush(self, timeout=None):
        """Wait until every record sent so far is acknowledged or failed. See Producer.flush."""
        cdef int64_t deadline = _deadline_ms(timeout)
        cdef uint64_t left
        cdef fp_engine *engine
        self._check_usable()  # after the timeout's float(), the last Python code before the engine
        self._check_not_dispatcher("flush()")
        engine = self._engine
        self._users += 1
        try:
            while True:
                with nogil:
                    left = fp_engine_wait_idle(engine, _slice_ms(deadline))
                if left == 0:
                    break
                PyErr_CheckSignals()
                self._check_usable()
                if self._dispatch.finished:  # it died: nothing resolves the rest
                    raise _errors.FastProdError(
                        f"the dispatcher thread ended with {left} records unresolved")
                if deadline >= 0 and fp_now_ms() >= deadline:
                    raise _errors.KafkaTimeoutError(
                        f"flush() timed out after {timeout} s with {left} records unacknowledged")
        finally:
            self._leave()
        self._raise_callback_error()

    def _close(self, timeout=None):
        """Flush up to timeout, fail what is left, stop the threads and free librdkafka."""
        cdef int64_t deadline = _deadline_ms(timeout)  # first: it may raise or run Python code
        cdef fp_engine *engine = self._engine
        if self._closed or engine == NULL or self._forked:
            self._closed = True
            return
        self._check_not_dispatcher("close()")
        self._closed = True
        if deadline < 0:
            deadline = fp_now_ms() + FOREVER_MS
        with nogil:
            fp_engine_stop(engine, deadline)
        # The dispatcher ends after the drain thread published its last completion.
        while self._dispatcher.is_alive():
            self._dispatcher.join(WAIT_SLICE_MS / 1000.0)
        # Calls under way in other threads notice the close within one wait slice, and one in
        # this thread (a serializer that closed its producer) when it returns: the last of them
        # frees the engine.
        self._free_engine()
        self._raise_callback_error()

    def _mark_forked(self):
        """Called in a child process after os.fork(): this producer's threads do not exist here."""
        self._forked = True

    @property
    def closed(self):
        """True once close() was called."""
        return self._closed

    def stats(self):
        """Counts since the producer started: records accepted by send() ("sent"), acknowledged
        ("delivered"), failed for good ("failed"), bytes now held against buffer.memory, and how
        often librdkafka's own queue was full so a record had to be retried in order
        ("queue_full_retries"; only with queue.buffering.max.* set below buffer.memory)."""
        return {"sent": self._sent, "delivered": self._dispatch.delivered,
                "failed": self._dispatch.failed,
                "buffered_bytes": self._held_bytes(),
                "queue_full_retries": fp_engine_queue_full_retries(self._engine)
                    if self._engine != NULL else self._queue_full_retries}

    def _held_bytes(self):
        """Bytes charged against buffer.memory right now (for tests)."""
        return fp_engine_held_bytes(self._engine) if self._engine != NULL else 0

    cdef _callback_failed(self, BaseException exc):
        if self._callback_error is None:
            self._callback_error = exc
        try:  # logging runs handlers and filters: user code that must not end the dispatcher
            _log.error("a delivery callback raised %r; it is re-raised by the next "
                       "flush()/close()", exc, exc_info=exc)
        except BaseException:
            pass

    cdef _raise_callback_error(self):
        exc = self._callback_error
        if exc is not None:
            self._callback_error = None
            raise exc
