/* The Arrow C Data Interface and C Stream Interface, declared from their specification
 * (https://arrow.apache.org/docs/format/CDataInterface.html, .../CStreamInterface.html): the ABI
 * that pyarrow, Polars, pandas, DuckDB and others export through __arrow_c_stream__ and
 * __arrow_c_array__ (the PyCapsule interface), so that fastprod reads their data without
 * importing any of them. Field order and types are the ABI; the names are fastprod's.
 */
#ifndef FASTPROD_ARROW_ABI_H
#define FASTPROD_ARROW_ABI_H

#include <stdint.h>

#define FP_ARROW_FLAG_DICTIONARY_ORDERED 1
#define FP_ARROW_FLAG_NULLABLE 2
#define FP_ARROW_FLAG_MAP_KEYS_SORTED 4

typedef struct fp_arrow_schema {
    const char *format;   /* the type, e.g. "l" int64, "u" utf8, "+s" struct, "tsu:UTC" */
    const char *name;     /* the field's name, may be NULL */
    const char *metadata; /* binary key/value metadata, may be NULL */
    int64_t flags;
    int64_t n_children;
    struct fp_arrow_schema **children;
    struct fp_arrow_schema *dictionary; /* dictionary-encoded: the values' type */
    void (*release)(struct fp_arrow_schema *); /* NULL once released */
    void *private_data;
} fp_arrow_schema;

typedef struct fp_arrow_array {
    int64_t length;
    int64_t null_count; /* -1: not computed */
    int64_t offset;     /* of the first item in the buffers (a slice) */
    int64_t n_buffers;
    int64_t n_children;
    const void **buffers; /* buffers[0] is the validity bitmap (NULL: no nulls) where the type has one */
    struct fp_arrow_array **children;
    struct fp_arrow_array *dictionary;
    void (*release)(struct fp_arrow_array *);
    void *private_data;
} fp_arrow_array;

typedef struct fp_arrow_stream {
    int (*get_schema)(struct fp_arrow_stream *, fp_arrow_schema *out); /* 0 or an errno */
    int (*get_next)(struct fp_arrow_stream *, fp_arrow_array *out);    /* out->release NULL: end */
    const char *(*get_last_error)(struct fp_arrow_stream *);
    void (*release)(struct fp_arrow_stream *);
    void *private_data;
} fp_arrow_stream;

/* The PyCapsule names of the three structs. */
#define FP_ARROW_SCHEMA_CAPSULE "arrow_schema"
#define FP_ARROW_ARRAY_CAPSULE "arrow_array"
#define FP_ARROW_STREAM_CAPSULE "arrow_array_stream"

#endif
