# send_table(): Arrow tables, record batches and streams into records, each row encoded in C from
# Arrow's buffers (src_ext/table/), no Python object per row. Included into _core.pyx.
#
# Per Arrow record batch: pass one encodes every row (GIL released: the batch and the encoded
# bytes belong to this call alone) and stops at the first row that cannot be encoded, so that
# nothing of a bad batch is queued; pass two queues the rows through _queue_built, the door
# send() uses, under the same rules (send.pxi). A batch of more than TABLE_SLICE_ROWS rows is
# checked whole first, then encoded and queued a slice at a time. Then the batch is released:
# memory stays within one Arrow batch and one slice of encoded rows besides buffer.memory.

cdef enum:
    # Rows of an Arrow batch encoded at once: a longer batch is checked whole first, then encoded
    # and queued this many rows at a time (~13 MiB of 200-byte JSON rows), bounding memory.
    TABLE_SLICE_ROWS = 65536

_TABLE_OPTIONS = {
    "nan": ("error", "null"),
    "timestamps": ("iso", "epoch"),
    "decimals": ("string", "number"),
}


@cython.final
cdef class _TableSend:
    """One send_table() call's Arrow data (moved out of its PyCapsules: this releases it), its
    column tree, what to make of each row, and the encoded rows of the current batch."""

    def __dealloc__(self):
        if self.batch.release != NULL:
            self.batch.release(&self.batch)
        if self.single.release != NULL:
            self.single.release(&self.single)
        if self.schema.release != NULL:
            self.schema.release(&self.schema)
        if self.stream.release != NULL:
            self.stream.release(&self.stream)
        fp_cols_free(self.root)
        free(self.columns)
        fp_encoded_batch_free(&self.encoded)

    cdef int open(self, object data) except -1:
        """Takes data's Arrow export (a stream, or a schema and one array) and its schema."""
        cdef fp_arrow_stream *stream
        cdef fp_arrow_schema *schema
        cdef fp_arrow_array *array
        cdef int rc
        cdef char err[512]
        kind = type(data)
        if getattr(kind, "__arrow_c_stream__", None) is None and getattr(kind, "__arrow_c_array__",
                                                                        None) is None:
            data = _arrow_exporter(data)
            kind = type(data)
        if getattr(kind, "__arrow_c_stream__", None) is not None:
            capsule = data.__arrow_c_stream__()
            stream = <fp_arrow_stream *>PyCapsule_GetPointer(capsule, FP_ARROW_STREAM_CAPSULE)
            if stream.release == NULL:
                raise ValueError("send_table: the Arrow stream was already consumed")
            memcpy(&self.stream, stream, sizeof(fp_arrow_stream))
            stream.release = NULL  # moved: the capsule no longer releases it
            with nogil:
                rc = self.stream.get_schema(&self.stream, &self.schema)
            if rc != 0:
                self._raise_stream_error(rc, "its schema")
        else:
            schema_capsule, array_capsule = data.__arrow_c_array__()
            schema = <fp_arrow_schema *>PyCapsule_GetPointer(schema_capsule, FP_ARROW_SCHEMA_CAPSULE)
            array = <fp_arrow_array *>PyCapsule_GetPointer(array_capsule, FP_ARROW_ARRAY_CAPSULE)
            if schema.release == NULL or array.release == NULL:
                raise ValueError("send_table: the Arrow array was already consumed")
            memcpy(&self.schema, schema, sizeof(fp_arrow_schema))
            schema.release = NULL
            memcpy(&self.single, array, sizeof(fp_arrow_array))
            array.release = NULL
        self.root = fp_cols_from_schema(&self.schema, err, sizeof(err))
        if self.root == NULL:
            raise TypeError(f"send_table: {err.decode('utf-8', 'replace')}")
        self.names = [self.root.children[k].name.decode("utf-8", "replace")
                      for k in range(self.root.n_children)]
        return 0

    cdef int _raise_stream_error(self, int rc, str what) except -1:
        cdef const char *message = NULL
        if self.stream.get_last_error != NULL:
            message = self.stream.get_last_error(&self.stream)
        text = message.decode("utf-8", "replace") if message != NULL else os.strerror(rc)
        raise OSError(rc, f"send_table: reading {what} from the Arrow stream failed: {text}")

    cdef int next_batch(self) except -1:
        """Releases the current batch and takes the next: 1, or 0 at the end."""
        cdef int rc = 0
        if self.batch.release != NULL:
            self.batch.release(&self.batch)
        if self.single.release != NULL:
            memcpy(&self.batch, &self.single, sizeof(fp_arrow_array))
            self.single.release = NULL
            return 1
        if self.stream.release == NULL:
            return 0
        with nogil:
            rc = self.stream.get_next(&self.stream, &self.batch)
        if rc != 0:
            self.batch.release = NULL
            self._raise_stream_error(rc, "a record batch")
        return self.batch.release != NULL

    cdef int32_t column(self, object name, str what) except -1:
        if type(name) is not str:
            raise TypeError(f"send_table {what} must name a column (str), not {type(name).__name__}")
        try:
            return self.names.index(name)
        except ValueError:
            raise ValueError(f"send_table {what}: the table has no column {name!r} (its columns: "
                             f"{', '.join(self.names)})") from None

    cdef int plan_rows(self, object value, object columns, object key, object timestamp,
                       object partition, object headers, dict options) except -1:
        cdef int k
        cdef list value_cols, key_cols, header_cols
        if value == "json" or value == "msgpack":
            self.plan.value_format = FP_VALUE_JSON if value == "json" else FP_VALUE_MSGPACK
            if columns is None:
                value_cols = list(range(len(self.names)))
            else:
                value_cols = [self.column(c, "columns") for c in _name_list(columns, "columns")]
        elif isinstance(value, str) and value.startswith("raw:"):
            if columns is not None:
                raise TypeError("send_table takes columns= with value='json' or 'msgpack' only")
            self.plan.value_format = FP_VALUE_COLUMN
            value_cols = [self.column(value[4:], "value")]
        else:
            raise ValueError(f"send_table value must be 'json', 'msgpack' or 'raw:COLUMN', not "
                             f"{value!r}")
        key_cols = [] if key is None else [self.column(c, "key") for c in _name_list(key, "key")]
        if isinstance(headers, dict):
            header_cols = [self.column(c, "headers") for c in headers.values()]
            names = list(headers)
        else:
            names = [] if headers is None else _name_list(headers, "headers")
            header_cols = [self.column(c, "headers") for c in names]
        for name in names:
            if type(name) is not str or not name or "\0" in name:
                raise ValueError(f"send_table header names must be non-empty str, not {name!r}")
        self.header_names = [name.encode() for name in names]
        self.plan.timestamp_col = -1 if timestamp is None else self.column(timestamp, "timestamp")
        self.plan.partition_col = -1 if partition is None else self.column(partition, "partition")
        every = value_cols + key_cols + header_cols
        self.columns = <int32_t *>malloc(max(len(every), 1) * sizeof(int32_t))
        if self.columns == NULL:
            raise MemoryError()
        for k in range(len(every)):
            self.columns[k] = every[k]
        self.plan.value_cols = self.columns
        self.plan.n_value_cols = len(value_cols)
        self.plan.key_cols = self.columns + len(value_cols)
        self.plan.n_key_cols = len(key_cols)
        self.plan.header_cols = self.columns + len(value_cols) + len(key_cols)
        self.plan.n_header_cols = len(header_cols)
        self.plan.json.nan_as_null = options["nan"] == "null"
        self.plan.json.timestamps_epoch = options["timestamps"] == "epoch"
        self.plan.json.decimals_as_numbers = options["decimals"] == "number"
        return 0

    cdef int check_shape(self, Py_ssize_t first_row) except -1:
        """That the current batch is what its schema says (first_row: its first row's number)."""
        cdef fp_table_error err
        cdef char path[256]
        err.col = NULL
        err.reason[0] = 0
        if fp_cols_check_batch(self.root, &self.batch, &err) != 0:
            fp_col_path(err.col, path, sizeof(path))
            raise ValueError(f"send_table: the record batch from row {first_row} does not match "
                             f"its schema at column {path.decode('utf-8', 'replace')!r}: "
                             f"{err.reason.decode('utf-8', 'replace')}")
        return 0

    cdef int encode(self, Py_ssize_t first_row, int64_t start, int64_t count) except -1:
        """Rows start..start+count-1 of the current batch into self.encoded (count 0: only check
        that every row of it would encode). Without the GIL: the batch and the encoded bytes
        belong to this call."""
        cdef fp_table_error err
        cdef char path[256]
        cdef int rc
        err.col = NULL
        err.reason[0] = 0
        with nogil:
            if count == 0:
                rc = fp_table_check(&self.plan, self.root, &self.batch, &self.encoded, &err)
            else:
                rc = fp_table_encode(&self.plan, self.root, &self.batch, start, count,
                                     &self.encoded, &err)
        if rc == 0:
            return 0
        if err.reason[0] == 0:
            raise MemoryError()
        fp_col_path(err.col, path, sizeof(path))
        last = first_row + self.batch.length - 1
        queued = (f"no row of its record batch (rows {first_row}..{last}) was queued" if not start
                  else f"rows {first_row}..{first_row + start - 1} of its record batch were queued")
        raise _errors.SerializationError(
            f"send_table: column {path.decode('utf-8', 'replace')!r}, row "
            f"{first_row + self.encoded.failed_row}: {err.reason.decode('utf-8', 'replace')}; "
            f"{queued}")

    cdef int64_t slices(self, int64_t slice_rows, Py_ssize_t first_row) except -1:
        """Checks the current batch and returns how many rows to encode at a time: all of them,
        or, for a batch of more than slice_rows, slice_rows after checking every row (so that
        memory stays bounded and a bad row still stops the batch before any row is queued)."""
        self.check_shape(first_row)
        if self.batch.length <= slice_rows:
            return max(self.batch.length, 1)
        self.encode(first_row, 0, 0)
        return slice_rows


cdef object _arrow_exporter(object data):
    """What exports data's Arrow stream, for objects without the PyCapsule interface: pandas
    DataFrames without it (pandas < 2.2) through pyarrow, pyarrow datasets through a scanner."""
    module = type(data).__module__
    if module.startswith("pandas"):
        import pyarrow
        return pyarrow.Table.from_pandas(data, preserve_index=False)
    if module.startswith("pyarrow") and hasattr(data, "scanner"):
        return data.scanner().to_reader()
    raise TypeError(f"send_table needs Arrow data (an object with __arrow_c_stream__ or "
                    f"__arrow_c_array__: a pyarrow Table, RecordBatch or RecordBatchReader, a "
                    f"Polars or pandas DataFrame, ...), not {type(data).__name__}")


cdef list _name_list(object names, str what):
    if isinstance(names, str):
        return [names]
    if isinstance(names, (list, tuple)) and names:
        return list(names)
    raise TypeError(f"send_table {what} must be a column name or a non-empty list of them, not "
                    f"{names!r}")


cdef object _send_table(ProducerCore p, str topic, object data, object value, object columns,
                        object key, object timestamp, object partition, object headers,
                        dict options):
    cdef _TableSend work = _TableSend.__new__(_TableSend)
    cdef fp_topic *t = _topic(p, topic)
    cdef BatchResult result
    cdef Py_ssize_t first_row = 0, n, start, step
    work.open(data)
    work.plan_rows(value, columns, key, timestamp, partition, headers, options)
    if fp_topic_compacted(t) < 0 and fp_topic_table(t) == NULL:
        _await_table(p, topic, t, -1)  # it brings the topic's configuration: compacted or not
    if fp_topic_compacted(t) == 1:
        if work.plan.n_key_cols == 0:
            raise _errors.InvalidRecordError.from_message(
                f"send_table: topic {topic!r} is compacted (cleanup.policy=compact): its brokers "
                "refuse records without a key; name a key column (key=)")
        work.plan.require_key = True
    result = BatchResult.__new__(BatchResult)
    result._open(p, topic, 0)
    try:
        while work.next_batch():
            n = work.batch.length
            step = work.slices(TABLE_SLICE_ROWS, first_row)
            result._grow(n)
            for start in range(0, n, step):
                work.encode(first_row, start, min(step, n - start))
                _queue_table_rows(p, topic, t, work, result, first_row + start)
            first_row += n
    except BaseException as exc:
        exc.add_note(f"send_table: rows 0..{result._sent - 1} were queued, the others not (their "
                     "outcome is this exception's batch_result)" if result._sent else
                     "send_table: no row was queued")
        exc.batch_result = result
        raise
    finally:
        result._seal()
    return result


cdef int _queue_table_rows(ProducerCore p, str topic, fp_topic *t, _TableSend work,
                           BatchResult result, Py_ssize_t first) except -1:
    """Queues the encoded rows (the table's rows first, first + 1, ...) through _queue_built."""
    cdef const char *data_at = work.encoded.bytes.data
    cdef fp_encoded_row *row
    cdef rd_kafka_headers_t *hdrs
    cdef int64_t *span
    cdef Py_ssize_t r
    cdef int h, nh = work.plan.n_header_cols
    cdef bytes name
    for r in range(work.encoded.n_rows):
        row = &work.encoded.rows[r]
        hdrs = NULL
        if nh:
            hdrs = rdk.rd_kafka_headers_new(nh)
            for h in range(nh):
                span = &work.encoded.header_spans[2 * (row.headers_at + h)]
                name = work.header_names[h]
                rdk.rd_kafka_header_add(
                    hdrs, name, len(name),
                    <const void *>NULL if span[1] < 0 else <const void *>(data_at + span[0]),
                    span[1] if span[1] > 0 else 0)
        _queue_built(p, topic, t, data_at + row.key_at, row.key_len, data_at + row.value_at,
                     row.value_len, row.partition,
                     FP_TIMESTAMP_AT_SEND if row.timestamp_ms < 0 else row.timestamp_ms, hdrs,
                     result._next_opaque(first + r))
        result._queued((row.key_len if row.key_len > 0 else 0)
                       + (row.value_len if row.value_len > 0 else 0))
        p._sent += 1
    return 0


def _table_rows(data, *, value="json", columns=None, key=None, timestamp=None, partition=None,
                headers=None, nan="error", timestamps="iso", decimals="string",
                slice_rows=TABLE_SLICE_ROWS):
    """What send_table would queue for each row, without a producer: a list of (key, value,
    timestamp_ms or None, partition or None, [(header, value), ...]) tuples. For tests."""
    cdef _TableSend work = _TableSend.__new__(_TableSend)
    cdef Py_ssize_t first_row = 0, r, n, start, step
    cdef fp_encoded_row *row
    cdef const char *data_at
    cdef int64_t *span
    work.open(data)
    work.plan_rows(value, columns, key, timestamp, partition, headers,
                   {"nan": nan, "timestamps": timestamps, "decimals": decimals})
    rows = []
    while work.next_batch():
        n = work.batch.length
        step = work.slices(slice_rows, first_row)
        for start in range(0, n, step):
            work.encode(first_row, start, min(step, n - start))
            data_at = work.encoded.bytes.data
            for r in range(work.encoded.n_rows):
                row = &work.encoded.rows[r]
                found = []
                for h in range(work.plan.n_header_cols):
                    span = &work.encoded.header_spans[2 * (row.headers_at + h)]
                    found.append((work.header_names[h].decode(), None if span[1] < 0 else
                                  PyBytes_FromStringAndSize(data_at + span[0], span[1])))
                rows.append((
                    None if row.key_len < 0 else
                    PyBytes_FromStringAndSize(data_at + row.key_at, row.key_len),
                    None if row.value_len < 0 else
                    PyBytes_FromStringAndSize(data_at + row.value_at, row.value_len),
                    None if row.timestamp_ms < 0 else row.timestamp_ms,
                    None if row.partition < 0 else row.partition,
                    found))
        first_row += n
    return rows
