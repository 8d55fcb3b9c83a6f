# Where a record goes: its topic's registration and partition table, and the partitioner (in C,
# librdkafka's, or a Python callable). Included into _core.pyx.


cdef enum:
    # A partition beyond a topic's table gets this long for a fresher answer (the topic may have
    # grown) before send() calls it unknown.
    PARTITION_RECHECK_MS = 2000


cdef inline fp_topic *_topic(ProducerCore p, str topic) except NULL:
    if topic is p._last_topic:
        return p._last_topic_handle
    return _topic_lookup(p, topic)


cdef fp_topic *_topic_lookup(ProducerCore p, str topic) except NULL:
    """The topic's registration in the engine, made on its first use; remembered as the last."""
    cdef fp_topic *t
    handle = p._topics.get(topic)
    if handle is not None:
        t = <fp_topic *><size_t>handle
        p._last_topic_handle = t
        p._last_topic = topic
        return t
    _check_topic_name(topic)
    handle = p._topics.get(topic)  # another thread may have registered it meanwhile
    if handle is not None:
        return <fp_topic *><size_t>handle
    if p._forked:  # a serializer forked: the parent's threads may hold the engine's locks
        p._check_usable()
    t = fp_engine_topic(p._engine, topic.encode())
    if t == NULL:
        raise ValueError(f"librdkafka refused the topic name {topic!r}")
    p._topics[topic] = <size_t>t
    p._last_topic_handle = t
    p._last_topic = topic
    return t


cdef int32_t _partition(ProducerCore p, str topic, fp_topic *t, int64_t explicit,
                        const char *key_data, Py_ssize_t key_len,
                        size_t payload_bytes) except -2:
    """The record's partition: explicit if it is not -1, else chosen here so that it follows
    send() order and the partitioner's rules; RDK_PARTITION_UA leaves it to librdkafka."""
    cdef const fp_partitions *table = fp_topic_table(t)
    if explicit >= 0:
        if table != NULL and explicit >= table.count:
            _await_table(p, topic, t, explicit)
        return <int32_t>explicit
    if p._partitioner == FP_PARTITIONER_LIBRDKAFKA:
        return RDK_PARTITION_UA
    if table == NULL:
        if p._partitioner == FP_PARTITIONER_MURMUR2:
            # Until the first metadata answer, librdkafka's murmur2_random places keyed
            # records exactly as we would, so this record need not wait for it.
            return RDK_PARTITION_UA
        table = _await_table(p, topic, t, -1)
    if p._partitioner == FP_PARTITIONER_CALLER:
        return _call_partitioner(p, topic, table, key_data, key_len)
    return fp_choose_partition(t, table, p._partitioner, key_data, key_len, payload_bytes,
                               p._batch_size)


cdef const fp_partitions *_await_table(ProducerCore p, str topic, fp_topic *t,
                                       int64_t partition, int64_t limit=-1) except NULL:
    """Waits without the GIL for the topic's partition table (limit ms, by default max.block.ms
    as Java's send() waits for metadata) or, for a partition beyond it, for a fresher table
    that has it. Raises KafkaTimeoutError, or UnknownPartitionError for a partition that does
    not exist."""
    cdef fp_engine *engine = p._engine
    cdef const fp_partitions *table = fp_topic_table(t)
    if limit < 0:
        limit = p._max_block_ms
    if table != NULL:
        limit = min(limit, <int64_t>PARTITION_RECHECK_MS)
    cdef int64_t deadline = fp_now_ms() + limit
    cdef bint ask
    p._check_usable()  # before the engine's locks: Python code may have closed or forked
    while table == NULL or partition >= table.count:
        if _past(deadline):
            break
        ask = table != NULL
        with nogil:
            table = fp_engine_wait_table(engine, t, ask, _slice_ms(deadline))
        _after_slice(p, True)
    else:
        return table
    if table == NULL:
        # The last answer's error is the cause: a broker's (UNKNOWN_TOPIC_OR_PART, positive code)
        # tells that brokers answer, a local one (e.g. _TRANSPORT) that none did.
        err = t.last_error
        raise _errors.KafkaTimeoutError(
            f"topic {topic!r} not present in metadata after {limit} ms"
            + (f" (last error: {rdk.rd_kafka_err2name(err).decode()})" if err else "")
        ) from (_kafka_error(err) if err else None)
    raise _errors.UnknownPartitionError.from_message(
        f"partition {partition} of topic {topic!r} does not exist (the topic has "
        f"{table.count} partitions)")


cdef int32_t _call_partitioner(ProducerCore p, str topic, const fp_partitions *table,
                               const char *key_data, Py_ssize_t key_len) except -2:
    cdef int32_t i
    cdef int64_t n
    cached = p._partition_tuples.get(topic)
    if cached is None or cached[0] != <size_t>table:
        cached = (<size_t>table, tuple(range(table.count)),
                  tuple([table.available[i] for i in range(table.available_count)]))
        p._partition_tuples[topic] = cached
    key = None if key_len < 0 else PyBytes_FromStringAndSize(key_data, key_len)
    chosen = p._partitioner_fn(key, cached[1], cached[2])
    n = _own_digits(chosen)
    if not 0 <= n < table.count:
        raise ValueError(f"the partitioner returned {chosen!r} for topic {topic!r}, which has "
                         f"partitions 0..{table.count - 1}")
    return <int32_t>n
