# The record path of send() and send_batch(): serialize (_queue_record), check and partition
# (_queue_serialized), and write into the engine's ring (_write_record, its one door). Included
# into _core.pyx.
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
#     - finalizers and weakref callbacks of _queue_record's locals (what a serializer returned, the
#       header list), released after the record is in the ring: its future's reference is taken
#       as the record is written (_hold_result), since the dispatcher may resolve it before
#       send() returns;
#     - the Python partitioner; the topic-limit warning (logging handlers);
#     - waits without the GIL: for the topic's metadata (_await_table), for buffer.memory or ring
#       space (_write_record_waiting); Ctrl-C checks between wait slices run signal handlers;
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
#      built-in serializers' reused buffer is lent to one call at a time (encodings.pxi); headers
#      are copied into librdkafka's list at once; the ring copies key and value at write.
#   2. The engine outlives every call that uses it: a call that may run Python code or wait
#      counts itself in _users; close() stops the engine and waits for the dispatcher, and the
#      engine (ring, topics, partition tables, locks) is freed only when no call is under way and
#      the dispatcher has finished, by close() or by the last call to leave (_leave). So engine,
#      fp_topic and partition-table pointers loaded before Python code stay valid after it.
#   3. State is re-checked after Python code ran: every wait slice ends with _check_usable, and
#      _write_record, the one door into the ring, checks closed/forked right before it reserves and
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


cdef tuple _record_fields(str call, record, value, key, partition, timestamp_ms, headers):
    """send(record)'s and send_and_forget(record)'s arguments, from a ProducerRecord."""
    if not isinstance(record, _ProducerRecord):
        raise TypeError(f"topic must be str or a ProducerRecord, not {type(record).__name__}")
    if (value is not None or key is not None or partition is not None
            or timestamp_ms is not None or headers is not None):
        raise TypeError(f"{call}(record) takes no other arguments: they are the record's fields")
    if type(record.topic) is not str:
        raise TypeError(f"record.topic must be str, not {type(record.topic).__name__}")
    return (record.topic, record.value, record.key, record.partition, record.timestamp_ms,
            record.headers)


cdef int _queue_record(ProducerCore p, str topic, fp_topic *t, object value, object key,
                       object partition, object timestamp_ms, object headers, void *opaque,
                       Py_ssize_t *sizes) except -1:
    """Serializes one record and queues it with opaque (see _queue_serialized); sizes gets the
    serialized key, value and header sizes (-1: null, no headers). Nothing is queued when it
    raises."""
    cdef Py_buffer kview, vview
    cdef const char *kdata
    cdef const char *vdata
    cdef Py_ssize_t klen, vlen
    cdef int kheld = 0, vheld = 0
    cdef list header_list = None
    cdef object key_encoded = None, value_encoded = None
    try:
        if p._key_encoding.wants_headers() or p._value_encoding.wants_headers():
            # kafka-python's Serializer.serialize(topic, headers, obj) may add headers
            header_list = [] if headers is None else list(
                (<dict>headers).items() if isinstance(headers, dict) else headers)
        if p._key_encoding.kind != ENC_AS_IS:
            key = key_encoded = p._key_encoding.encode(topic, key, header_list)
        if p._value_encoding.kind != ENC_AS_IS:
            value = value_encoded = p._value_encoding.encode(topic, value, header_list)
        if header_list is not None:
            headers = header_list or None
        kheld = _view(key, &kview, &kdata, &klen, "key", topic)
        vheld = _view(value, &vview, &vdata, &vlen, "value", topic)
        sizes[2] = _queue_serialized(p, topic, t, kdata, klen, vdata, vlen, partition,
                                     timestamp_ms, headers, opaque)
        sizes[0] = klen
        sizes[1] = vlen
        return 0
    finally:
        if kheld:
            PyBuffer_Release(&kview)
        if vheld:
            PyBuffer_Release(&vview)
        p._key_encoding.give_back(key_encoded)
        p._value_encoding.give_back(value_encoded)


cdef Py_ssize_t _queue_serialized(ProducerCore p, str topic, fp_topic *t, const char *kdata,
                                  Py_ssize_t klen, const char *vdata, Py_ssize_t vlen,
                                  object partition, object timestamp_ms, object headers,
                                  void *opaque) except -2:
    """Validates, partitions and writes one serialized record (lengths -1: null) into the
    ring with opaque; returns the bytes of its header names and values (-1: no headers, as
    kafka-python's serialized_header_size). Nothing is queued when it raises."""
    cdef int64_t ts = FP_TIMESTAMP_AT_SEND  # fp_engine_write takes the time
    cdef int64_t explicit = -1
    if timestamp_ms is not None:
        ts = _checked_int(timestamp_ms, INT64_MAX, "timestamp_ms")
    if partition is not None:
        explicit = _checked_int(partition, INT32_MAX, "partition")
    return _queue_built(p, topic, t, kdata, klen, vdata, vlen, explicit, ts,
                        NULL if headers is None else _build_headers(headers, topic), opaque)


cdef Py_ssize_t _queue_built(ProducerCore p, str topic, fp_topic *t, const char *kdata,
                             Py_ssize_t klen, const char *vdata, Py_ssize_t vlen,
                             int64_t partition, int64_t ts, rd_kafka_headers_t *hdrs,
                             void *opaque) except -2:
    """_queue_serialized with the partition (-1: the partitioner's choice) and timestamp
    (FP_TIMESTAMP_AT_SEND: none) as C integers and the headers built; owns hdrs (the ring takes
    them, or they are destroyed)."""
    cdef int32_t part
    cdef size_t key_bytes = klen if klen > 0 else 0
    cdef size_t value_bytes = vlen if vlen > 0 else 0
    cdef size_t header_bytes, record_bytes, charge
    cdef int32_t limit
    try:
        if klen < 0 and fp_topic_compacted(t) == 1:
            raise _errors.InvalidRecordError.from_message(
                f"the record to {topic!r} has no key, and the topic is compacted "
                "(cleanup.policy=compact): its brokers would refuse the whole batch around it")
        if ts != FP_TIMESTAMP_AT_SEND:
            _check_timestamp(p, topic, t, ts)
        header_bytes = fp_headers_bytes(hdrs)
        record_bytes = key_bytes + value_bytes + header_bytes
        if record_bytes > <size_t>p._max_message_bytes:
            raise _errors.MessageSizeTooLargeError.from_message(
                f"the record to {topic!r} has {record_bytes} bytes "
                f"of key, value and headers, more than max_request_size / message.max.bytes "
                f"({p._max_message_bytes})")
        charge = fp_record_charge(key_bytes, value_bytes, header_bytes)
        if charge > p._buffer_memory:
            raise _errors.MessageSizeTooLargeError.from_message(
                f"the record to {topic!r} needs {charge} bytes, more than buffer.memory "
                f"({p._buffer_memory})")
        if (p._topic_limit_checked and fp_topic_table(t) == NULL
                and record_bytes >= UNCHECKED_RECORD_BYTES):
            _await_table(p, topic, t, -1)
        part = _partition(p, topic, t, partition, kdata, klen, key_bytes + value_bytes)
        limit = fp_topic_limit(t) if p._topic_limit_checked else 0
        if limit != 0 and (limit != t.limit_seen or hdrs != NULL or key_bytes + value_bytes
                           + FP_RECORD_MAX_UNHEADED_OVERHEAD > <size_t>limit):
            _check_topic_limit(p, topic, t, limit, klen, vlen, hdrs)
        _write_record(p, charge, topic, t.rkt, part, ts, kdata, klen, vdata, vlen, hdrs, opaque)
        if hdrs == NULL:
            return -1
        hdrs = NULL  # the ring owns them now
        return <Py_ssize_t>header_bytes
    finally:
        if hdrs != NULL:
            rdk.rd_kafka_headers_destroy(hdrs)


cdef int _write_record(ProducerCore p, size_t charge, str topic, rd_kafka_topic_t *rkt,
                       int32_t partition, int64_t timestamp_ms, const char *key,
                       Py_ssize_t key_len, const char *value, Py_ssize_t value_len,
                       rd_kafka_headers_t *headers, void *opaque) except -1:
    """Charges the record against buffer.memory and writes it into the ring. While either is
    full it waits without the GIL, max.block.ms in all, then raises; nothing stays charged
    when it raises."""
    cdef fp_engine *engine = p._engine
    cdef bint reserved
    if p._closed or p._forked:
        p._check_usable()  # Python code that ran in this send() closed or forked
    reserved = fp_engine_try_reserve(engine, charge)
    if reserved and fp_engine_write(engine, rkt, partition, timestamp_ms, key, key_len, value,
                                    value_len, headers, opaque) == 1:
        _hold_result(opaque)
        return 0  # the common case, without the waiting loop's exception bookkeeping
    return _write_record_waiting(p, reserved, charge, topic, rkt, partition, timestamp_ms, key,
                                 key_len, value, value_len, headers, opaque)


cdef int _write_record_waiting(ProducerCore p, bint reserved, size_t charge, str topic,
                               rd_kafka_topic_t *rkt, int32_t partition, int64_t timestamp_ms,
                               const char *key, Py_ssize_t key_len, const char *value,
                               Py_ssize_t value_len, rd_kafka_headers_t *headers,
                               void *opaque) except -1:
    """_write_record when the buffer or the ring is full (or the write ran out of memory)."""
    cdef fp_engine *engine = p._engine
    cdef int written
    cdef int64_t deadline = -1
    try:
        while True:
            if reserved:
                written = fp_engine_write(engine, rkt, partition, timestamp_ms, key, key_len,
                                          value, value_len, headers, opaque)
                if written == 1:
                    _hold_result(opaque)
                    return 0
                if written < 0:
                    raise MemoryError()
            full = "the record ring" if reserved else "buffer.memory"
            if p._max_block_ms == 0:
                raise _errors.QueueFullError(
                    f"{full} ({p._buffer_memory} bytes) is full and max.block.ms is 0")
            if deadline < 0:
                deadline = fp_now_ms() + p._max_block_ms
            elif _past(deadline):
                raise _errors.KafkaTimeoutError(
                    f"{full} ({p._buffer_memory} bytes) stayed full for max.block.ms "
                    f"({p._max_block_ms} ms)")
            with nogil:
                if reserved:
                    fp_engine_wait_ring(engine, _slice_ms(deadline))
                else:
                    reserved = fp_engine_wait_reserve(engine, charge, _slice_ms(deadline))
            _after_slice(p, True)
    except BaseException:
        if reserved:
            fp_engine_unreserve(engine, charge)
        raise
