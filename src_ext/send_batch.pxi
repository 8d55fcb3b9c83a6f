# send_batch(): one compiled loop over columns of records. Included into _core.pyx.
#
# Columns are Python sequences (read with PySequence_Fast, no copy for lists and tuples) or Arrow
# arrays of binary/string, read straight from Arrow's offset and data buffers.
#
# A list is read in place, and serializers and partitioners run between its items: one may shrink
# the caller's list, so every item is read through _batch_item, which re-reads the length.


cdef object _send_batch(ProducerCore p, object topic, object values, object keys,
                        object partitions, object timestamps_ms, object headers,
                        object key_field, bint report_invalid):
    cdef Py_ssize_t n, i = 0
    cdef Py_ssize_t sizes[3]
    cdef object vseq = None, kseq = None, pseq = None, tseq = None, hseq = None
    cdef object part_obj = None, key_obj = None, value_obj, ts_obj = None, headers_obj = None
    cdef _ArrowColumn varrow = None, karrow = None
    cdef const char *kdata
    cdef const char *vdata
    cdef Py_ssize_t klen, vlen
    cdef Py_buffer kview
    cdef int kheld
    cdef fp_topic *t = NULL
    cdef BatchResult result
    if values is None and type(topic) is not str:
        if (keys is not None or partitions is not None or timestamps_ms is not None
                or headers is not None or key_field is not None):
            raise TypeError("send_batch(records) takes no other arguments: they are the records' "
                            "fields")
        return _send_records(p, topic, report_invalid)
    if type(topic) is not str:
        raise TypeError(f"topic must be str, not {type(topic).__name__}")
    t = _topic(p, <str>topic)
    varrow = _ArrowColumn.of(values, "values", -1)
    if varrow is None:
        vseq = _batch_column(values, "values", -1)
        n = PySequence_Fast_GET_SIZE(vseq)
    else:
        n = varrow.length
    if key_field is not None:
        if keys is not None:
            raise TypeError("send_batch takes keys or key_field, not both")
        if varrow is not None:
            raise TypeError("key_field needs a sequence of dicts, not an Arrow array")
    elif keys is not None:
        karrow = _ArrowColumn.of(keys, "keys", n)
        if karrow is None:
            kseq = _batch_column(keys, "keys", n)
    if isinstance(partitions, int):
        part_obj = partitions
    elif partitions is not None:
        pseq = _batch_column(partitions, "partitions", n)
    if timestamps_ms is not None:
        tseq = _batch_column(timestamps_ms, "timestamps_ms", n)
    if headers is not None:
        hseq = _batch_column(headers, "headers", n)
    result = BatchResult.__new__(BatchResult)
    result._open(p, topic, n)
    try:
        for i in range(n):
            try:
                if pseq is not None:
                    part_obj = _batch_item(pseq, i, "partitions")
                if tseq is not None:
                    ts_obj = _batch_item(tseq, i, "timestamps_ms")
                if hseq is not None:
                    headers_obj = _batch_item(hseq, i, "headers")
                if varrow is not None and kseq is None:
                    # Arrow values (and keys): bytes straight from Arrow's buffers, as they are
                    varrow.get(i, &vdata, &vlen)
                    if karrow is not None:
                        karrow.get(i, &kdata, &klen)
                    else:
                        kdata, klen = NULL, -1
                    _queue_serialized(p, topic, t, kdata, klen, vdata, vlen, part_obj, ts_obj,
                                      headers_obj, result._next_opaque(i))
                    sizes[0], sizes[1] = klen, vlen
                elif varrow is not None:  # Arrow values, keys from a sequence (key serializer)
                    varrow.get(i, &vdata, &vlen)
                    key_obj = p._key_encoding.encode(topic, _batch_item(kseq, i, "keys"), None)
                    kheld = 0
                    try:
                        kheld = _view(key_obj, &kview, &kdata, &klen, "key", topic)
                        _queue_serialized(p, topic, t, kdata, klen, vdata, vlen, part_obj, ts_obj,
                                          headers_obj, result._next_opaque(i))
                        sizes[0], sizes[1] = klen, vlen
                    finally:
                        if kheld:
                            PyBuffer_Release(&kview)
                        p._key_encoding.give_back(key_obj)
                else:
                    value_obj = _batch_item(vseq, i, "values")
                    if key_field is not None:
                        key_obj = _field_key(value_obj, key_field, topic)
                    elif karrow is not None:
                        key_obj = karrow.item(i)
                    else:
                        key_obj = None if kseq is None else _batch_item(kseq, i, "keys")
                    _queue_record(p, topic, t, value_obj, key_obj, part_obj, ts_obj, headers_obj,
                                  result._next_opaque(i), sizes)
            except _REJECTIONS as exc:
                if not report_invalid:
                    raise
                result._rejected.append((i, exc))
                continue
            result._queued(_payload_bytes(sizes))
            p._sent += 1
    except BaseException as exc:
        _note_batch_failure(exc, i, result)
        raise
    finally:
        result._seal()
    return result


cdef object _send_records(ProducerCore p, object records, bint report_invalid):
    """send_batch(records): each ProducerRecord carries its own topic and fields."""
    cdef Py_ssize_t n, i = 0
    cdef Py_ssize_t sizes[3]
    cdef object rseq = _batch_column(records, "records", -1)
    cdef BatchResult result
    cdef fp_topic *t
    n = PySequence_Fast_GET_SIZE(rseq)
    result = BatchResult.__new__(BatchResult)
    result._open(p, None, n)
    try:
        for i in range(n):
            record = _batch_item(rseq, i, "records")
            try:
                if not isinstance(record, _ProducerRecord):
                    raise TypeError(f"send_batch(records) takes ProducerRecords, not "
                                    f"{type(record).__name__}")
                topic = record.topic
                if type(topic) is not str:
                    raise TypeError(f"record.topic must be str, not {type(topic).__name__}")
                t = _topic(p, <str>topic)
                _queue_record(p, topic, t, record.value, record.key, record.partition,
                              record.timestamp_ms, record.headers, result._next_opaque(i), sizes)
            except _REJECTIONS as exc:
                if not report_invalid:
                    raise
                result._rejected.append((i, exc))
                continue
            result._queued(_payload_bytes(sizes))
            p._sent += 1
    except BaseException as exc:
        _note_batch_failure(exc, i, result)
        raise
    finally:
        result._seal()
    return result


cdef void _note_batch_failure(BaseException exc, Py_ssize_t i, BatchResult result) except *:
    queued = f"records 0..{i - 1} were" if i else "no record was"
    if result._rejected:
        queued += " handled, rejected ones in batch_result.failures"
    exc.add_note(f"send_batch: record {i} was not queued; {queued} (their outcome is this "
                 "exception's batch_result)")
    exc.batch_result = result


cdef inline Py_ssize_t _payload_bytes(Py_ssize_t *sizes):
    """Key and value bytes from _queue_record's sizes (-1: null)."""
    return (sizes[0] if sizes[0] > 0 else 0) + (sizes[1] if sizes[1] > 0 else 0)


cdef object _field_key(object record, object key_field, str topic):
    """The key of a dict record: its key_field item; ints become their decimal string."""
    if not isinstance(record, dict):
        raise _errors.SerializationError(
            f"key_field needs dict records, not {type(record).__name__}")
    try:
        key = (<dict>record)[key_field]
    except KeyError:
        raise _errors.SerializationError(
            f"a record to {topic!r} has no key field {key_field!r}") from None
    if isinstance(key, int) and not isinstance(key, bool):
        return str(key)
    return key


cdef inline object _batch_item(object column, Py_ssize_t i, str name):
    """Item i of a column from _batch_column (a new reference: the list may drop its own)."""
    if i >= PySequence_Fast_GET_SIZE(column):
        raise RuntimeError(f"send_batch {name} changed size while send_batch read it")
    return <object>PySequence_Fast_GET_ITEM(column, i)


cdef object _batch_column(object items, str name, Py_ssize_t n):
    """items as a fast sequence (a list or tuple) of n items (n -1: any length)."""
    if isinstance(items, (str, bytes, bytearray, memoryview, dict)):
        raise TypeError(f"send_batch {name} must be a sequence with one item per record, "
                        f"not {type(items).__name__}")
    try:
        column = PySequence_Fast(items, b"not a sequence")
    except TypeError:
        raise TypeError(f"send_batch {name} must be a sequence, not {type(items).__name__}") from None
    if n >= 0 and PySequence_Fast_GET_SIZE(column) != n:
        raise ValueError(f"send_batch got {n} values but {PySequence_Fast_GET_SIZE(column)} {name}")
    return column


@cython.final
cdef class _ArrowColumn:
    """A pyarrow Array or ChunkedArray of binary, string, large_binary or large_string, read
    chunk by chunk from its validity bitmap, offsets and data buffers (kept alive here)."""

    @staticmethod
    cdef _ArrowColumn of(object column, str name, Py_ssize_t n):
        """None unless column is an Arrow array; TypeError for Arrow arrays of other types."""
        cdef _ArrowColumn col
        if not type(column).__module__.startswith("pyarrow"):
            return None
        import pyarrow
        if not isinstance(column, (pyarrow.Array, pyarrow.ChunkedArray)):
            raise TypeError(f"send_batch {name} from pyarrow must be an Array or ChunkedArray, "
                            f"not {type(column).__name__}")
        chunks = column.chunks if isinstance(column, pyarrow.ChunkedArray) else [column]
        kind = column.type
        if not (pyarrow.types.is_binary(kind) or pyarrow.types.is_string(kind)
                or pyarrow.types.is_large_binary(kind) or pyarrow.types.is_large_string(kind)):
            raise TypeError(f"send_batch {name} as Arrow must be binary or string, not {kind}")
        wide = pyarrow.types.is_large_binary(kind) or pyarrow.types.is_large_string(kind)
        col = _ArrowColumn.__new__(_ArrowColumn)
        col.chunks = [(chunk.buffers(), chunk.offset, len(chunk), wide) for chunk in chunks
                      if len(chunk)]
        col.length = len(column)
        if n >= 0 and col.length != n:
            raise ValueError(f"send_batch got {n} values but {col.length} {name}")
        col.chunk_index = -1
        col.chunk_start = col.chunk_end = 0
        return col

    cdef int _seek(self, Py_ssize_t i) except -1:
        while i >= self.chunk_end:
            self.chunk_index += 1
            buffers, offset, length, wide = self.chunks[self.chunk_index]
            self.chunk_start = self.chunk_end
            self.chunk_end = self.chunk_start + length
            self.offset = offset
            # pyarrow Buffers give their address; self.chunks keeps them alive
            self.validity = NULL if buffers[0] is None else <const uint8_t *><size_t>buffers[0].address
            if wide:
                self.offsets64 = <const int64_t *><size_t>buffers[1].address
                self.offsets32 = NULL
            else:
                self.offsets32 = <const int32_t *><size_t>buffers[1].address
                self.offsets64 = NULL
            self.data = NULL if buffers[2] is None else <const char *><size_t>buffers[2].address
        return 0

    cdef inline int get(self, Py_ssize_t i, const char **data, Py_ssize_t *size) except -1:
        """Points data/size at item i (size -1 for a null). Items are read in ascending order."""
        cdef Py_ssize_t j
        cdef int64_t start, end
        if i >= self.chunk_end:
            self._seek(i)
        j = i - self.chunk_start + self.offset
        if self.validity != NULL and not (self.validity[j >> 3] >> (j & 7)) & 1:
            data[0] = NULL
            size[0] = -1
            return 0
        if self.offsets32 != NULL:
            start, end = self.offsets32[j], self.offsets32[j + 1]
        else:
            start, end = self.offsets64[j], self.offsets64[j + 1]
        data[0] = self.data + start if self.data != NULL else <const char *>""
        size[0] = <Py_ssize_t>(end - start)
        return 0

    cdef object item(self, Py_ssize_t i):
        """Item i as bytes (or None), for the rare path that needs an object."""
        cdef const char *data
        cdef Py_ssize_t size
        self.get(i, &data, &size)
        return None if size < 0 else PyBytes_FromStringAndSize(data, size)
