# Cython view of the table encoder (src_ext/table/): declarations only; table.h and arrow_abi.h
# say what each does.
from libc.stdint cimport int32_t, int64_t


cdef extern from "arrow_abi.h" nogil:
    ctypedef struct fp_arrow_schema:
        const char *format
        const char *name
        int64_t n_children
        void (*release)(fp_arrow_schema *) noexcept nogil

    ctypedef struct fp_arrow_array:
        int64_t length
        void (*release)(fp_arrow_array *) noexcept nogil

    ctypedef struct fp_arrow_stream:
        int (*get_schema)(fp_arrow_stream *, fp_arrow_schema *out) noexcept nogil
        int (*get_next)(fp_arrow_stream *, fp_arrow_array *out) noexcept nogil
        const char *(*get_last_error)(fp_arrow_stream *) noexcept nogil
        void (*release)(fp_arrow_stream *) noexcept nogil

    const char *FP_ARROW_SCHEMA_CAPSULE
    const char *FP_ARROW_ARRAY_CAPSULE
    const char *FP_ARROW_STREAM_CAPSULE


cdef extern from "table.h" nogil:
    ctypedef struct fp_col:
        const char *name
        int64_t n_children
        fp_col *children

    ctypedef struct fp_buf:
        char *data
        size_t len

    ctypedef struct fp_table_error:
        const fp_col *col
        char reason[200]

    fp_col *fp_cols_from_schema(const fp_arrow_schema *schema, char *err, size_t err_size)
    void fp_cols_free(fp_col *root)
    void fp_col_path(const fp_col *col, char *out, size_t out_size)
    int fp_cols_check_batch(const fp_col *root, const fp_arrow_array *batch, fp_table_error *err)

    ctypedef struct fp_json_options:
        int nan_as_null
        int timestamps_epoch
        int decimals_as_numbers

    ctypedef enum fp_value_format:
        FP_VALUE_JSON
        FP_VALUE_COLUMN
        FP_VALUE_MSGPACK

    ctypedef struct fp_table_plan:
        fp_value_format value_format
        const int32_t *value_cols
        int n_value_cols
        const int32_t *key_cols
        int n_key_cols
        int require_key
        int32_t timestamp_col
        int32_t partition_col
        const int32_t *header_cols
        int n_header_cols
        fp_json_options json

    ctypedef struct fp_encoded_row:
        int64_t key_at, key_len
        int64_t value_at, value_len
        int64_t timestamp_ms
        int64_t partition
        int64_t headers_at

    ctypedef struct fp_encoded_batch:
        fp_buf bytes
        fp_encoded_row *rows
        int64_t n_rows
        int64_t *header_spans
        int64_t failed_row

    int fp_table_encode(const fp_table_plan *plan, const fp_col *root,
                        const fp_arrow_array *batch, int64_t first, int64_t count,
                        fp_encoded_batch *out, fp_table_error *err)
    int fp_table_check(const fp_table_plan *plan, const fp_col *root,
                       const fp_arrow_array *batch, fp_encoded_batch *scratch,
                       fp_table_error *err)
    void fp_encoded_batch_free(fp_encoded_batch *b)
