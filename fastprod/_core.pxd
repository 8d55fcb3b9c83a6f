# The C side of the compiled module's interface, as _core.pyi is its Python side: the layout of
# every extension type of fastprod._core, declared once. Implemented in src_ext/ (the .pxi files
# _core.pyx includes); Cython finds this file by the module's full name, fastprod/_core.pxd.
cimport cython
from libc.stdint cimport int32_t, int64_t, uint8_t, uint64_t

from cengine cimport *
from ctable cimport *

# Whether a future or batch given to ProducerCore._wait_resolved has resolved.
ctypedef bint (*_resolved_check)(object)


@cython.final
cdef class _Encoding:
    cdef int kind
    cdef object fn
    cdef object accepts
    cdef bytearray buffer
    cdef str what  # "key" or "value", for error messages

    @staticmethod
    cdef _Encoding of(object serializer, str what)
    cdef inline bint wants_headers(self)
    cdef object encode(self, str topic, object obj, list headers)
    cdef inline void give_back(self, object encoded) noexcept


cdef class _Dispatcher


@cython.final
cdef class _ClientEvents:
    cdef object logger
    cdef object error_cb, throttle_cb, stats_cb
    cdef dict last_logged  # (level, facility, message) -> [ms it was last logged, repeats since]
    cdef dict metrics  # librdkafka's latest statistics, parsed (metrics())
    cdef fp_events events

    cdef forward(self, fp_engine *engine, _Dispatcher dispatcher)
    cdef _error(self, int code, str reason)
    cdef _throttle(self, str broker_name, int32_t broker_id, int throttle_ms)
    cdef _log(self, int level, str facility, str message)


@cython.final
cdef class _Dispatcher:
    cdef fp_engine *engine
    cdef _ClientEvents client_events
    cdef uint64_t delivered, failed
    cdef bint finished  # the loop ended: the engine is stopped and nothing reads it here any more
    cdef bint free_when_finished  # the producer is gone: free the engine after the loop
    cdef size_t next_item  # _resolve's progress through a batch, where to go on if it raised
    # The first exception a delivery callback or on_delivery_error raised, for flush()/close().
    cdef object callback_error
    # send_and_forget()'s failed records go to on_delivery_error(exc, record), or else to the log,
    # one line per second at most: when the last line was written and how many failed since.
    cdef object on_delivery_error
    cdef int64_t lost_logged_ms
    cdef uint64_t lost_unlogged

    cdef _resolve_until_finished(self)
    cdef int _resolve(self, fp_completions *batch) except -1
    cdef _report_lost(self, fp_completion *c)
    cdef _log_lost(self, str topic, int32_t partition, exc)
    cdef _log_unlogged_lost(self)
    cdef callback_failed(self, BaseException exc)


cdef class ProducerCore:
    cdef fp_engine *_engine
    cdef dict _topics
    # The topic of the last send() and its registration: most jobs send to one topic, and an
    # identity check costs less than the dict lookup (~150 instructions per record).
    cdef str _last_topic
    cdef fp_topic *_last_topic_handle
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
    cdef int _users  # calls under way that may run Python code or wait (see send.pxi)
    cdef uint64_t _sent
    cdef fp_counters _final_counters  # the engine's counters when it was freed

    cdef inline void _leave(self) noexcept
    cdef void _free_engine(self) noexcept
    cdef int _check_usable(self) except -1
    cdef bint _on_dispatcher(self)
    cdef int _check_not_dispatcher(self, str what) except -1
    cdef int _wait_resolved(self, object waiter, _resolved_check resolved, timeout,
                            str what) except -1
    cdef _callback_failed(self, BaseException exc)
    cdef _raise_callback_error(self)


@cython.final
cdef class DeliveryFuture:
    # 96 bytes in all: with millions of futures alive, every field costs (on this VM, first-touch
    # page faults of a million 128-byte futures were 14 % of a keyed run's CPU).
    cdef ProducerCore _producer
    cdef str _topic
    cdef int64_t _offset
    cdef int64_t _timestamp_ms
    cdef int32_t _partition
    cdef int32_t _key_size
    cdef int32_t _value_size
    cdef int32_t _err
    cdef unsigned char _done
    cdef unsigned char _timestamp_type
    cdef unsigned char _cb_kind
    cdef unsigned char _status  # RDK_MSG_STATUS_* of a failed record
    cdef int32_t _header_size  # in the padding after the four chars: the size stays 96
    # The common case, one callback without extra arguments, lives here; anything else goes to
    # _more_callbacks as (kind, fn, args, kwargs).
    cdef object _cb_fn
    cdef list _more_callbacks

    cdef inline void *_open(self, ProducerCore producer, str topic) noexcept
    cdef inline _resolve(self, fp_completion *c)
    cdef _wait(self, timeout)
    cdef object _metadata(self)
    cdef object _exception(self)
    cdef _add(self, int kind, fn, tuple args, dict kwargs)
    cdef _run_callback(self, int kind, fn, tuple args, dict kwargs)
    cdef _run_callbacks(self)


# A block of BatchResult entries (one per record, each pointing back at its block), allocated
# with the entries after it; blocks are never moved, since queued records point into them, and
# a block is freed once its records resolved (a stream of any length keeps only what is pending).
ctypedef struct _BatchBlock:
    void *owner  # the BatchResult
    _BatchBlock *prev
    _BatchBlock *next
    Py_ssize_t base  # the index of its first entry
    Py_ssize_t pending  # its records queued and not resolved yet


@cython.final
cdef class BatchResult:
    cdef ProducerCore _producer
    cdef str _topic
    cdef _BatchBlock *_blocks  # the first block, for freeing
    cdef _BatchBlock *_last  # the block records are being queued into
    cdef Py_ssize_t _capacity  # entries in all blocks
    cdef Py_ssize_t _sent
    cdef Py_ssize_t _sent_bytes  # key and value bytes of the queued records
    cdef Py_ssize_t _delivered
    cdef Py_ssize_t _failed
    cdef bint _sealed  # send_batch() finished queueing
    cdef bint _holding  # the self-reference is held
    cdef list _failure_codes  # (index, librdkafka error code, RDK_MSG_STATUS_*), in completion order
    cdef list _rejected  # (index, exception) of records send_batch did not queue (on_invalid)

    cdef int _open(self, ProducerCore producer, str topic, Py_ssize_t n) except -1
    cdef int _grow(self, Py_ssize_t n) except -1
    cdef inline void *_next_opaque(self, Py_ssize_t index)
    cdef inline void _queued(self, Py_ssize_t payload_bytes)
    cdef void _drop_block(self, _BatchBlock *block)
    cdef _seal(self)
    cdef inline _resolve(self, fp_completion *c)
    cdef inline _release_if_resolved(self)
    cdef bint _resolved(self)


@cython.final
cdef class _ArrowColumn:
    cdef list chunks  # (buffers, validity, offsets, data, offset, length, wide) per chunk
    cdef Py_ssize_t length
    cdef Py_ssize_t chunk_start, chunk_end
    cdef Py_ssize_t chunk_index
    cdef const uint8_t *validity
    cdef const int32_t *offsets32
    cdef const int64_t *offsets64
    cdef const char *data
    cdef Py_ssize_t offset

    @staticmethod
    cdef _ArrowColumn of(object column, str name, Py_ssize_t n)
    cdef int _seek(self, Py_ssize_t i) except -1
    cdef inline int get(self, Py_ssize_t i, const char **data, Py_ssize_t *size) except -1
    cdef object item(self, Py_ssize_t i)


@cython.final
cdef class _TableSend:
    cdef fp_arrow_stream stream
    cdef fp_arrow_schema schema
    cdef fp_arrow_array single  # from __arrow_c_array__: the one batch, until taken
    cdef fp_arrow_array batch  # the batch being sent
    cdef fp_col *root
    cdef fp_table_plan plan
    cdef int32_t *columns  # value, key and header column indexes, pointed at by plan
    cdef list header_names  # bytes, one per header column
    cdef list names  # the table's column names
    cdef fp_encoded_batch encoded

    cdef int open(self, object data) except -1
    cdef int _raise_stream_error(self, int rc, str what) except -1
    cdef int next_batch(self) except -1
    cdef int32_t column(self, object name, str what) except -1
    cdef int plan_rows(self, object value, object columns, object key, object timestamp,
                       object partition, object headers, dict options) except -1
    cdef int check_shape(self, Py_ssize_t first_row) except -1
    cdef int encode(self, Py_ssize_t first_row, int64_t start, int64_t count) except -1
    cdef int64_t slices(self, int64_t slice_rows, Py_ssize_t first_row) except -1
