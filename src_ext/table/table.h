/* Rows of Arrow data encoded in C, for send_table(): the columns' types parsed once from the
 * Arrow schema, then each record batch checked and its rows encoded straight from its buffers.
 *
 * Nothing here sees Python.h or takes a lock: a batch is owned by the caller for as long as it
 * encodes it, so these functions may run without the GIL.
 */
#ifndef FASTPROD_TABLE_H
#define FASTPROD_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "arrow_abi.h"

typedef enum fp_col_kind {
    FP_COL_NULL,
    FP_COL_BOOL,
    FP_COL_INT,          /* width 1, 2, 4 or 8 */
    FP_COL_UINT,         /* width 1, 2, 4 or 8 */
    FP_COL_HALF,
    FP_COL_FLOAT,
    FP_COL_DOUBLE,
    FP_COL_UTF8,         /* offsets of width 4 or 8 */
    FP_COL_BINARY,       /* offsets of width 4 or 8 */
    FP_COL_UTF8_VIEW,
    FP_COL_BINARY_VIEW,
    FP_COL_FIXED_BINARY, /* fixed_size bytes */
    FP_COL_DATE,         /* width 4: days (date32); 8: milliseconds (date64) */
    FP_COL_TIMESTAMP,    /* int64 in unit since the epoch; has_zone: an instant (UTC) */
    FP_COL_TIME,         /* width 4 (s, ms) or 8 (us, ns) since midnight */
    FP_COL_DURATION,     /* int64 in unit */
    FP_COL_DECIMAL,      /* width 4, 8, 16 or 32; precision, scale */
    FP_COL_LIST,         /* offsets of width 4 or 8 */
    FP_COL_LIST_VIEW,    /* offsets and sizes of width 4 or 8 */
    FP_COL_FIXED_LIST,   /* fixed_size items */
    FP_COL_STRUCT,
    FP_COL_MAP           /* one child: a struct of key and value */
} fp_col_kind;

typedef enum fp_time_unit { FP_UNIT_S = 0, FP_UNIT_MS = 1, FP_UNIT_US = 2, FP_UNIT_NS = 3 } fp_time_unit;

/* One column (or nested field) of a schema. A dictionary-encoded column has kind and width of
 * its indices (FP_COL_INT/UINT) and its values' column in dictionary. */
typedef struct fp_col {
    fp_col_kind kind;
    int width;
    fp_time_unit unit;
    int has_zone;
    int32_t fixed_size;
    int precision, scale;
    const char *name;         /* borrowed from the schema, "" when it has none */
    const struct fp_col *parent;
    int64_t n_children;
    struct fp_col *children;
    struct fp_col *dictionary;
    char *json_key;           /* the name as a JSON object key with its colon: "name": */
    size_t json_key_len;
    char *json_next_key;      /* the same after a comma, for every field but the first */
} fp_col;

/* A growable byte buffer (malloc'd). */
typedef struct fp_buf {
    char *data;
    size_t len, cap;
} fp_buf;

/* 0, or -1 when memory ran out. */
int fp_buf_grow(fp_buf *b, size_t extra);
static inline int fp_buf_reserve(fp_buf *b, size_t extra) {
    return b->cap - b->len >= extra ? 0 : fp_buf_grow(b, extra);
}

/* Why a value could not be encoded: the field (its path from fp_col_path) and the reason. The
 * caller adds the row. */
typedef struct fp_table_error {
    const fp_col *col;
    char reason[200];
} fp_table_error;

/* The column tree of a schema (a struct: its children are the columns). NULL with err set for a
 * type fastprod cannot encode, naming the field. Free with fp_cols_free. */
fp_col *fp_cols_from_schema(const fp_arrow_schema *schema, char *err, size_t err_size);
void fp_cols_free(fp_col *root);
/* The field's path from the top column: "a.b", "tags[]" for a list's items. */
void fp_col_path(const fp_col *col, char *out, size_t out_size);

/* Checks that a record batch has the shape of root's schema (buffers and children present,
 * lengths and offsets not negative), so that encoding reads nothing outside what it exported.
 * 0, or -1 with err set. */
int fp_cols_check_batch(const fp_col *root, const fp_arrow_array *batch, fp_table_error *err);

/* Item i (a logical index, 0 <= i < a->length) is null. Inline: asked for every item. */
static inline int fp_cell_is_null(const fp_col *c, const fp_arrow_array *a, int64_t i) {
    if (c->kind == FP_COL_NULL)
        return 1;
    const uint8_t *validity = (const uint8_t *)a->buffers[0];
    if (validity == NULL || a->null_count == 0)
        return 0;
    int64_t j = a->offset + i;
    return !((validity[j >> 3] >> (j & 7)) & 1);
}

/* How values without one JSON form are written. */
typedef struct fp_json_options {
    int nan_as_null;        /* NaN and infinities: null (else an error) */
    int timestamps_epoch;   /* timestamps as integers of their unit since the epoch (else ISO 8601) */
    int decimals_as_numbers; /* decimals as JSON numbers (else strings) */
} fp_json_options;

/* Writes finite v (as a float if single) at out (32 bytes at least) in the shortest decimal form
 * that reads back as the same value, as Python's repr() lays it out ("0.1", "1.0", "1e+16");
 * returns its length (shortest.c). */
int fp_format_real(double v, int single, char *out);

/* How an output format writes what fp_write_cell walks through (json_cells.c,
 * msgpack_cells.c): nulls, dictionaries and nesting are the walk's, values the format's. Each
 * returns 0, or -1 with err set (err->reason empty: out of memory). */
typedef struct fp_format {
    int (*null)(fp_buf *out, const fp_col *c, fp_table_error *err);
    /* a bool, number, date, time, timestamp, duration or decimal: item j of data (buffer 1) */
    int (*scalar)(fp_buf *out, const fp_col *c, const void *data, int64_t j,
                  const fp_json_options *o, fp_table_error *err);
    /* a string or binary item */
    int (*bytes)(fp_buf *out, const fp_col *c, const char *s, int64_t n, fp_table_error *err);
    /* around a list (is_map 0) or a struct or map (1) of n items, and between items */
    int (*open)(fp_buf *out, const fp_col *c, int64_t n, int is_map, fp_table_error *err);
    int (*close)(fp_buf *out, const fp_col *c, int is_map, fp_table_error *err);
    int (*separator)(fp_buf *out, const fp_col *c, fp_table_error *err);
    /* before a struct field's value: its name (first: the struct's first field) */
    int (*field)(fp_buf *out, const fp_col *field, int first, fp_table_error *err);
    /* before a map entry's value: its key, item ki of ka */
    int (*map_key)(const struct fp_format *f, fp_buf *out, const fp_col *key,
                   const fp_arrow_array *ka, int64_t ki, const fp_json_options *o,
                   fp_table_error *err);
} fp_format;

/* JSON (compact, the mapping of docs/tables.md) and MessagePack (NaN and infinities as they are,
 * map keys of any type). */
extern const fp_format fp_json_format, fp_msgpack_format;
/* The walk alone, writing nothing: fails where JSON (or MessagePack) would (fp_table_check). */
extern const fp_format fp_check_json_format, fp_check_msgpack_format;

/* Appends item i of column c in format f (walk.c). */
int fp_write_cell(const fp_format *f, fp_buf *out, const fp_col *c, const fp_arrow_array *a,
                  int64_t i, const fp_json_options *o, fp_table_error *err);
/* Appends row i of a batch as one object (map) of the columns whose indexes are in cols (ncols
 * of them, in that order). */
int fp_write_row(const fp_format *f, fp_buf *out, const fp_col *root, const fp_arrow_array *batch,
                 int64_t i, const int32_t *cols, int ncols, const fp_json_options *o,
                 fp_table_error *err);

/* Item i as the bytes a key or header takes: a string or binary item as it is (*data points into
 * the batch, no copy), an integer as its decimal digits, anything else as its JSON text; the
 * latter two are written to scratch and *data points there. *size -1 for a null. 0 or -1. */
int fp_cell_bytes(fp_buf *scratch, const fp_col *c, const fp_arrow_array *a, int64_t i,
                  const fp_json_options *o, const char **data, int64_t *size, fp_table_error *err);
/* Item i of an integer, timestamp or date column as an int64: timestamps and dates in
 * milliseconds since the epoch (rounded down), integers as they are. 1 for a value, 0 for a
 * null, -1 with err set (an unsigned value past INT64_MAX). */
int fp_cell_int(const fp_col *c, const fp_arrow_array *a, int64_t i, int64_t *out,
                fp_table_error *err);

/* ---- whole batches (rows.c) -------------------------------------------------------------- */

typedef enum fp_value_format {
    FP_VALUE_JSON = 0,   /* one JSON object of value_cols per row */
    FP_VALUE_COLUMN = 1, /* value_cols[0]'s item as fp_cell_bytes gives it */
    FP_VALUE_MSGPACK = 2, /* one MessagePack map of value_cols per row */
} fp_value_format;

/* What send_table makes of each row: indexes of the table's columns. */
typedef struct fp_table_plan {
    fp_value_format value_format;
    const int32_t *value_cols;
    int n_value_cols;
    const int32_t *key_cols; /* none: null keys; one: its bytes; more: a JSON object of them */
    int n_key_cols;
    int require_key;         /* a null key is an error (the topic is compacted) */
    int32_t timestamp_col;   /* -1: the time of send_table */
    int32_t partition_col;   /* -1: the partitioner */
    const int32_t *header_cols; /* a header per column, named after it (fp_cell_bytes values) */
    int n_header_cols;
    fp_json_options json;
} fp_table_plan;

/* One encoded row: its key, value and header values are spans of fp_encoded_batch.bytes. */
typedef struct fp_encoded_row {
    int64_t key_at, key_len;     /* len -1: null */
    int64_t value_at, value_len;
    int64_t timestamp_ms;        /* -1: none */
    int64_t partition;           /* -1: none */
    int64_t headers_at;          /* index of its first header span in header_spans */
} fp_encoded_row;

/* A column of JSON rows with its writer, chosen per batch by type (json_cells.c): the common
 * flat types are written without the walk's dispatch, the others through fp_write_cell. */
typedef struct fp_json_column {
    int (*write)(fp_buf *out, const struct fp_json_column *jc, int64_t i,
                 const fp_json_options *o, fp_table_error *err);
    const fp_col *col;
    const fp_arrow_array *array;
    const uint8_t *validity; /* NULL when the column has no nulls */
    const void *data;        /* buffer 1 */
    const char *chars;       /* buffer 2 (strings) */
} fp_json_column;

/* Fills columns[k] for the batch's columns cols[k]. */
void fp_json_columns(fp_json_column *columns, const fp_col *root, const fp_arrow_array *batch,
                     const int32_t *cols, int ncols);
/* Appends row i of the batch (a logical index into its columns) as one JSON object. */
int fp_json_columns_row(fp_buf *out, const fp_col *root, const fp_json_column *columns,
                        const int32_t *cols, int ncols, int64_t i, const fp_json_options *o,
                        fp_table_error *err);

typedef struct fp_encoded_batch {
    fp_buf bytes;
    fp_json_column *json_columns; /* the value columns' writers for the current batch */
    int json_columns_cap;
    fp_encoded_row *rows;
    int64_t n_rows, rows_cap;
    int64_t *header_spans;       /* (at, len) pairs, n_header_cols per row */
    int64_t spans_cap;
    int64_t failed_row;          /* the row fp_table_encode stopped at */
} fp_encoded_batch;

/* Encodes rows first..first+count-1 of batch as plan says into out's rows 0..count-1, replacing
 * its previous rows (its memory is reused). 0, or -1 with err and out->failed_row set (a row of
 * the batch; err->reason empty: out of memory). */
int fp_table_encode(const fp_table_plan *plan, const fp_col *root, const fp_arrow_array *batch,
                    int64_t first, int64_t count, fp_encoded_batch *out, fp_table_error *err);
/* Whether every row of batch would encode, keeping nothing (scratch holds one row at a time):
 * a batch too large to encode at once is checked whole, then encoded and queued in slices, so
 * that a bad row still stops it before any of its rows is queued. 0, or -1 as above. */
int fp_table_check(const fp_table_plan *plan, const fp_col *root, const fp_arrow_array *batch,
                   fp_encoded_batch *scratch, fp_table_error *err);
void fp_encoded_batch_free(fp_encoded_batch *b);

#endif
