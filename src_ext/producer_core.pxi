# ProducerCore: the compiled half of fastprod.Producer. Included into _core.pyx.
#
# send() runs in the caller's thread with the GIL: it validates, copies key/value/headers into a C
# record and queues it. The engine's drain thread (no GIL) hands records to librdkafka; the
# dispatcher thread (dispatch.pxi) takes delivery results in batches and resolves futures under one
# GIL acquisition per batch. The record path is in send.pxi (read its header, the safety audit,
# before changing anything a call does while Python code may run), routing.pxi and
# record_checks.pxi; waits are in waits.pxi.


cdef enum:
    # How long a producer dropped without close() gives its pending records in its finalizer.
    FINALIZE_CLOSE_MS = 5000


@cython.no_gc_clear  # __dealloc__ needs _dispatch, which tp_clear would set to None
cdef class ProducerCore:
    """Compiled core of :class:`fastprod.Producer`; use that class, not this one."""

    # ProducerCore[K, V] for typing: fastprod.Producer subclasses it with its key/value types.
    __class_getitem__ = classmethod(types.GenericAlias)

    def __cinit__(self, *args, **kwargs):
        self._topics = {}
        self._partition_tuples = {}
        self._dispatch = _Dispatcher.__new__(_Dispatcher)  # _start replaces it with a running one
        self._dispatch.finished = True

    def _start(self, config):
        """Creates the librdkafka producer and starts the threads, from a
        fastprod.config.ProducerConfig (the one place settings are parsed and defaulted)."""
        cdef char errstr[512]
        cdef rd_kafka_conf_t *conf
        cdef int res
        cdef _ClientEvents events
        if self._engine != NULL:
            raise RuntimeError("producer already started")
        properties = list(config.properties)
        self._buffer_memory = config.buffer_memory
        self._max_block_ms = config.max_block_ms
        self._key_encoding = _Encoding.of(config.key_serializer, "key")
        self._value_encoding = _Encoding.of(config.value_serializer, "value")
        self._batch_size = config.batch_size
        self._max_message_bytes = config.max_message_bytes
        self._topic_limit_checked = config.checks_topic_limit
        partitioner = config.partitioner
        if callable(partitioner):
            self._partitioner = FP_PARTITIONER_CALLER
            self._partitioner_fn = partitioner
        else:
            self._partitioner = partitioner
            if self._partitioner == FP_PARTITIONER_XXHASH:
                _load_xxh3()
        # Records may wait up to 1 ms for the drain thread while librdkafka lingers >= 2 ms
        # anyway; with a shorter linger.ms every record wakes it at once.
        nap_ms = 1 if config.linger_ms >= 2 else 0
        metadata_refresh_ms = config.metadata_refresh_ms
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
        self._engine = fp_engine_new(conf, self._buffer_memory, metadata_refresh_ms, nap_ms,
                                     errstr, sizeof(errstr))
        if self._engine == NULL:
            raise _errors.ConfigError(errstr.decode("utf-8", "replace"))
        # The thread holds the dispatcher, not this producer, so a dropped producer is collected.
        self._dispatch = _Dispatcher.__new__(_Dispatcher)
        self._dispatch.engine = self._engine
        self._dispatch.on_delivery_error = config.on_delivery_error
        events = self._dispatch.client_events = _ClientEvents.__new__(_ClientEvents)
        events.logger = config.logger if config.logger is not None else _librdkafka_logger
        events.error_cb = config.error_cb
        events.throttle_cb = config.throttle_cb
        events.stats_cb = config.stats_cb
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
        """Ends a use begun with self._users += 1 (see send.pxi)."""
        self._users -= 1
        if self._users == 0 and self._closed:
            self._free_engine()

    cdef void _free_engine(self) noexcept:
        """Frees a closed producer's engine once nothing uses it: no call under way (_users)
        and no dispatcher taking completions; never in a forked child (the parent's threads)."""
        cdef fp_engine *engine = self._engine
        if engine == NULL or self._users or self._forked or not self._dispatch.finished:
            return
        fp_engine_counters(engine, &self._final_counters)  # for stats()
        self._engine = NULL
        self._topics.clear()  # the engine owns and frees them
        self._last_topic = None
        self._last_topic_handle = NULL
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

    def send(self, topic, value=None, key=None, partition=None, timestamp_ms=None, headers=None):
        """Queue one record and return its :class:`DeliveryFuture`.

        ``value`` and ``key`` are bytes-like, str (sent as UTF-8) or None, after the configured
        serializers ran. ``partition`` wins over the partitioner; ``timestamp_ms`` defaults to now;
        ``headers`` are ``(str, bytes | str | None)`` pairs or a dict. While buffer.memory is
        full this waits without the GIL up to max.block.ms, then raises KafkaTimeoutError
        (QueueFullError at once with max_block_ms=0).
        """
        cdef Py_ssize_t sizes[3]
        cdef DeliveryFuture future
        cdef fp_topic *t
        self._check_usable()
        self._users += 1
        try:
            if type(topic) is not str:
                topic, value, key, partition, timestamp_ms, headers = _record_fields(
                    "send", topic, value, key, partition, timestamp_ms, headers)
            t = _topic(self, <str>topic)
            future = DeliveryFuture.__new__(DeliveryFuture)
            _queue_record(self, topic, t, value, key, partition, timestamp_ms, headers,
                          future._open(self, topic), sizes)
            future._key_size = <int32_t>sizes[0]
            future._value_size = <int32_t>sizes[1]
            future._header_size = <int32_t>sizes[2]
            self._sent += 1
            return future
        finally:
            self._leave()

    def send_and_forget(self, topic, value=None, key=None, partition=None, timestamp_ms=None,
                        headers=None):
        """Queue one record like :meth:`send`, without a future: nothing to keep or resolve, for
        jobs that only need to know that everything was delivered (``flush()``) and what failed.

        A failure is counted in ``stats()["failed"]`` and handed to the producer's
        ``on_delivery_error(exception, record)`` (a :class:`ProducerRecord` with the topic,
        partition, serialized key and value and timestamp; headers are not kept), or, without
        one, logged on the ``fastprod`` logger (one line per second at most, with a count).
        Invalid records raise here, as with send().
        """
        cdef Py_ssize_t sizes[3]
        self._check_usable()
        self._users += 1
        try:
            if type(topic) is not str:
                topic, value, key, partition, timestamp_ms, headers = _record_fields(
                    "send_and_forget", topic, value, key, partition, timestamp_ms, headers)
            _queue_record(self, topic, _topic(self, <str>topic), value, key, partition,
                          timestamp_ms, headers, NULL, sizes)
            self._sent += 1
        finally:
            self._leave()

    def send_batch(self, topic, values=None, keys=None, partitions=None, timestamps_ms=None,
                   headers=None, *, key_field=None, on_invalid="raise"):
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
        send() would reject (its value, key, partition, timestamp, headers or size) stops the
        loop: the exception's note names its index and ``exc.batch_result`` holds the records
        queued before it. With ``on_invalid="report"`` such records are skipped instead, as
        confluent-kafka's produce_batch does: each is in ``failures`` with its index and the
        exception send() would have raised (``rejected`` counts them), and the others are sent.
        A closed or forked producer and a buffer full past max.block.ms stop it in both modes.
        """
        if on_invalid not in ("raise", "report"):
            raise ValueError(f"on_invalid must be 'raise' or 'report', not {on_invalid!r}")
        self._check_usable()
        self._users += 1
        try:
            return _send_batch(self, topic, values, keys, partitions, timestamps_ms, headers,
                               key_field, on_invalid == "report")
        finally:
            self._leave()

    def send_table(self, topic, data, *, value="json", columns=None, key=None, timestamp=None,
                   partition=None, headers=None, nan="error", timestamps="iso",
                   decimals="string"):
        """Queue one record per row of Arrow data to ``topic``, each row encoded in C straight
        from Arrow's buffers (no Python object per row); returns a :class:`BatchResult` indexed
        by row.

        ``data``: anything that exports Arrow's PyCapsule interface (a pyarrow Table, RecordBatch
        or RecordBatchReader, a Polars DataFrame, a DuckDB relation, ...), a pandas DataFrame or
        a pyarrow dataset; streams are sent batch by batch in bounded memory.
        ``value``: ``"json"``, one compact JSON object per row of ``columns`` (default: every
        column), ``"msgpack"``, the same as a MessagePack map, or ``"raw:COLUMN"``, that column's
        bytes as they are. ``key``: a column (its
        bytes; integers as decimal text) or a list of them (a JSON object); ``timestamp``: a
        timestamp, date or integer (ms) column; ``partition``: an integer column; ``headers``:
        columns (or ``{header_name: column}``) sent as headers. A null timestamp, partition or
        key leaves it to the producer as send() would. ``nan="null"`` sends NaN and infinities
        as null (else an error), ``timestamps="epoch"`` timestamps as integers of their unit,
        ``decimals="number"`` decimals as JSON numbers. The type mapping is in docs/tables.md.

        A row that cannot be encoded raises SerializationError naming its column and row before
        any row of its record batch is queued; ``exc.batch_result`` holds the rows queued from
        earlier batches.
        """
        options = {"nan": nan, "timestamps": timestamps, "decimals": decimals}
        for name, allowed in _TABLE_OPTIONS.items():
            if options[name] not in allowed:
                raise ValueError(f"send_table {name} must be one of {', '.join(map(repr, allowed))},"
                                 f" not {options[name]!r}")
        if type(topic) is not str:
            raise TypeError(f"topic must be str, not {type(topic).__name__}")
        self._check_usable()
        self._users += 1
        try:
            return _send_table(self, topic, data, value, columns, key, timestamp, partition,
                               headers, options)
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
                if _past(deadline):
                    raise _errors.KafkaTimeoutError(f"{what} not acknowledged within {timeout} s")
                with nogil:
                    fp_engine_wait_generation(engine, generation, _slice_ms(deadline))
                _after_slice(self, False)
        finally:
            self._leave()

    def partitions_for(self, topic, timeout=None):
        """The topic's partition ids (a set), waiting for its metadata up to ``timeout`` seconds
        (default: max.block.ms), then KafkaTimeoutError."""
        cdef const fp_partitions *table
        cdef fp_topic *t
        cdef int64_t deadline = _deadline_ms(timeout)  # -1: none or too long to matter
        cdef int64_t limit = -1  # max.block.ms
        if timeout is not None:
            limit = max(0, deadline - fp_now_ms()) if deadline >= 0 else FOREVER_MS
        self._check_usable()
        if type(topic) is not str:
            raise TypeError(f"topic must be str, not {type(topic).__name__}")
        self._users += 1
        try:
            t = _topic(self, <str>topic)
            table = fp_topic_table(t)
            if table == NULL:
                table = _await_table(self, topic, t, -1, limit)
            return set(range(table.count))
        finally:
            self._leave()

    def flush(self, timeout=None):
        """Wait until every record sent so far is acknowledged or failed (their futures resolved
        and callbacks run), up to ``timeout`` seconds (None: as long as it takes), then
        KafkaTimeoutError, whose ``unacknowledged`` is the number left. Re-raises the first
        exception a delivery callback or on_delivery_error raised since the last flush()."""
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
                _after_slice(self, True)
                if self._dispatch.finished:  # it died: nothing resolves the rest
                    raise _errors.FastProdError(
                        f"the dispatcher thread ended with {left} records unresolved")
                if _past(deadline):
                    exc = _errors.KafkaTimeoutError(
                        f"flush() timed out after {timeout} s with {left} records unacknowledged")
                    exc.unacknowledged = left
                    raise exc
        finally:
            self._leave()
        self._raise_callback_error()

    def purge(self, in_queue=True, in_flight=True, blocking=True):
        """Give up on records not yet acknowledged (confluent-kafka's ``purge()``): with
        ``in_queue``, records not yet sent to a broker (in fastprod's buffer or librdkafka's
        queues) fail with :class:`~fastprod.errors.PurgeQueueError`; with ``in_flight``, those
        sent and awaiting an answer fail with :class:`~fastprod.errors.PurgeInflightError` (they
        may be in the log anyway). ``blocking=False`` does not wait for librdkafka's broker
        threads to let go of their queues. Returns once the records are failed; their futures
        and callbacks resolve on the dispatcher thread right after (``flush()`` waits for that).
        """
        cdef int flags = ((RDK_PURGE_F_QUEUE if in_queue else 0)
                          | (RDK_PURGE_F_INFLIGHT if in_flight else 0))
        cdef uint64_t ticket
        cdef bint done = False
        cdef fp_engine *engine
        if not blocking:
            flags |= RDK_PURGE_F_NON_BLOCKING
        self._check_usable()
        if not (in_queue or in_flight):
            return
        engine = self._engine
        self._users += 1
        try:
            with nogil:
                ticket = fp_engine_purge(engine, flags)
            while not done:
                with nogil:
                    done = fp_engine_wait_purged(engine, ticket, _slice_ms(-1))
                if not done:
                    _after_slice(self, True)
        finally:
            self._leave()

    def __len__(self):
        """Records sent and not yet acknowledged or failed (confluent-kafka's ``len(producer)``)."""
        return fp_engine_outstanding(self._engine) if self._engine != NULL else 0

    def __bool__(self):
        """Always true: a producer with nothing pending is still a producer (``__len__`` alone
        would make it false)."""
        return True

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
        ("queue_full_retries"; only with queue.buffering.max.* set below buffer.memory), and how
        many records went to librdkafka in runs ("batched_records": rd_kafka_produce_batch;
        the others, with headers, an explicit timestamp or taken by the drain thread after the
        millisecond of their send(), one by one)."""
        cdef fp_counters counters = self._final_counters
        if self._engine != NULL:
            fp_engine_counters(self._engine, &counters)
        return {"sent": self._sent,
                "delivered": self._dispatch.delivered + counters.untracked_delivered,
                "failed": self._dispatch.failed,
                "buffered_bytes": self._held_bytes(),
                "queue_full_retries": counters.queue_full_retries,
                "batched_records": counters.batched_records}

    def metrics(self):
        """librdkafka's latest statistics as a dict (its STATISTICS.md describes them; the same
        dict stats_cb gets), every ``statistics_interval_ms``; empty until the first arrive and
        without that setting."""
        return self._dispatch.client_events.metrics

    def _held_bytes(self):
        """Bytes charged against buffer.memory right now (for tests)."""
        return fp_engine_held_bytes(self._engine) if self._engine != NULL else 0

    cdef _callback_failed(self, BaseException exc):
        self._dispatch.callback_failed(exc)

    cdef _raise_callback_error(self):
        exc = self._dispatch.callback_error
        if exc is not None:
            self._dispatch.callback_error = None
            raise exc
