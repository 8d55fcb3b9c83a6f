# What send() refuses before a record is queued, so that the broker never fails a whole batch
# for it: integers out of range, timestamps and sizes the topic's brokers would refuse. Included
# into _core.pyx.


cdef enum:
    # A record this large waits for its topic's first metadata answer, which brings the topic's
    # max.message.bytes, so that it is checked against it; smaller ones fit any topic that is not
    # misconfigured, and do not wait.
    UNCHECKED_RECORD_BYTES = 1024
    # Likewise a record whose timestamp is further than this from the current time waits for the
    # topic's timestamp bounds.
    UNCHECKED_TIMESTAMP_SKEW_MS = 60000


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


cdef int _check_timestamp(ProducerCore p, str topic, fp_topic *t, int64_t ts) except -1:
    """Refuses a record whose timestamp the topic's brokers would refuse
    (message.timestamp.before/after.max.ms): sent, it would fail the whole batch around it."""
    cdef int64_t now = fp_wallclock_ms()
    cdef int64_t bound
    if fp_topic_table(t) == NULL and not -UNCHECKED_TIMESTAMP_SKEW_MS <= ts - now <= UNCHECKED_TIMESTAMP_SKEW_MS:
        _await_table(p, topic, t, -1)  # it brings the topic's bounds
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


cdef int _check_topic_limit(ProducerCore p, str topic, fp_topic *t, int32_t limit, Py_ssize_t klen,
                            Py_ssize_t vlen, rd_kafka_headers_t *hdrs) except -1:
    """Refuses a record that the topic's brokers would refuse: alone in a batch it would exceed
    the topic's max.message.bytes. Sent, it would fail the whole batch it shares with its
    neighbours (librdkafka does not split a refused batch as Java's producer does). Only
    without compression: the broker judges the compressed batch."""
    cdef int64_t batch_bytes
    if limit != t.limit_seen:
        t.limit_seen = limit
        if min(p._batch_size, p._max_message_bytes) > limit:
            _log.warning(
                "topic %r accepts record batches up to %d bytes (max.message.bytes) but this "
                "producer builds batches up to %d (batch_size, max_request_size): a batch "
                "over the topic's limit fails whole; set batch_size <= %d for this topic",
                topic, limit, min(p._batch_size, p._max_message_bytes), limit)
    batch_bytes = fp_record_batch_bytes(klen, vlen, hdrs)
    if batch_bytes > limit:
        raise _errors.MessageSizeTooLargeError.from_message(
            f"the record to {topic!r} makes a {batch_bytes}-byte record batch, more than the "
            f"topic's max.message.bytes ({limit})")
    return 0
