/* MessagePack: fastprod's fp_format for it (table.h; the mapping is in docs/tables.md). */
#include <string.h>

#include "cells.h"

#define RESERVE(n)                                 \
    do {                                           \
        if (fp_buf_reserve(out, (n)) != 0)         \
            return fp_out_of_memory(err, c);       \
    } while (0)

/* Big-endian: MessagePack's byte order. */
static inline void put_be(fp_buf *out, uint64_t v, int bytes) {
    for (int k = bytes - 1; k >= 0; k--)
        out->data[out->len++] = (char)(v >> (8 * k));
}

static inline void put_byte(fp_buf *out, unsigned v) {
    out->data[out->len++] = (char)v;
}

/* The smallest encoding of an unsigned integer (room for 9 bytes reserved). */
static void put_uint(fp_buf *out, uint64_t v) {
    if (v < 128) {
        put_byte(out, (unsigned)v);
    } else if (v < 256) {
        put_byte(out, 0xcc);
        put_byte(out, (unsigned)v);
    } else if (v < 65536) {
        put_byte(out, 0xcd);
        put_be(out, v, 2);
    } else if (v < 4294967296u) {
        put_byte(out, 0xce);
        put_be(out, v, 4);
    } else {
        put_byte(out, 0xcf);
        put_be(out, v, 8);
    }
}

static void put_int(fp_buf *out, int64_t v) {
    if (v >= 0) {
        put_uint(out, (uint64_t)v);
    } else if (v >= -32) {
        put_byte(out, (unsigned)(v & 0xff)); /* negative fixint */
    } else if (v >= -128) {
        put_byte(out, 0xd0);
        put_be(out, (uint64_t)v, 1);
    } else if (v >= -32768) {
        put_byte(out, 0xd1);
        put_be(out, (uint64_t)v, 2);
    } else if (v >= INT32_MIN) {
        put_byte(out, 0xd2);
        put_be(out, (uint64_t)v, 4);
    } else {
        put_byte(out, 0xd3);
        put_be(out, (uint64_t)v, 8);
    }
}

/* A header of a str (0xa0, 0xd9..0xdb), bin (0xc4..0xc6), array (0x90, 0xdc, 0xdd) or map
 * (0x80, 0xde, 0xdf) of n items; fix: its fixed-size form's tag and limit (0 for bin). */
static int put_header(fp_buf *out, int64_t n, unsigned fix, int64_t fix_limit, unsigned tag8,
                      unsigned tag16, unsigned tag32, const fp_col *c, fp_table_error *err) {
    RESERVE(5);
    if (n < fix_limit) {
        put_byte(out, fix | (unsigned)n);
    } else if (n < 256 && tag8) {
        put_byte(out, tag8);
        put_byte(out, (unsigned)n);
    } else if (n < 65536) {
        put_byte(out, tag16);
        put_be(out, (uint64_t)n, 2);
    } else if (n <= 0xffffffffll) {
        put_byte(out, tag32);
        put_be(out, (uint64_t)n, 4);
    } else {
        return fp_fail(err, c, "has an item of %lld bytes or items, more than MessagePack holds",
                       (long long)n);
    }
    return 0;
}

static int put_bytes(fp_buf *out, const char *s, int64_t n, int text, const fp_col *c,
                     fp_table_error *err) {
    if ((text ? put_header(out, n, 0xa0, 32, 0xd9, 0xda, 0xdb, c, err)
              : put_header(out, n, 0, 0, 0xc4, 0xc5, 0xc6, c, err)) != 0)
        return -1;
    RESERVE((size_t)n);
    memcpy(out->data + out->len, s, (size_t)n);
    out->len += (size_t)n;
    return 0;
}

/* ---- fp_msgpack_format -------------------------------------------------------------------- */

static int msgpack_null(fp_buf *out, const fp_col *c, fp_table_error *err) {
    RESERVE(1);
    put_byte(out, 0xc0);
    return 0;
}

static int msgpack_scalar(fp_buf *out, const fp_col *c, const void *data, int64_t j,
                          const fp_json_options *o, fp_table_error *err) {
    RESERVE(9);
    switch (c->kind) {
    case FP_COL_BOOL:
        put_byte(out, (((const uint8_t *)data)[j >> 3] >> (j & 7)) & 1 ? 0xc3 : 0xc2);
        return 0;
    case FP_COL_INT:
        put_int(out, fp_int_at(data, c->width, j));
        return 0;
    case FP_COL_UINT:
        put_uint(out, fp_uint_at(data, c->width, j));
        return 0;
    case FP_COL_HALF:
    case FP_COL_FLOAT: {
        float v = c->kind == FP_COL_FLOAT ? ((const float *)data)[j]
                                          : (float)fp_half_to_double(((const uint16_t *)data)[j]);
        uint32_t bits;
        memcpy(&bits, &v, 4);
        put_byte(out, 0xca);
        put_be(out, bits, 4);
        return 0;
    }
    case FP_COL_DOUBLE: {
        uint64_t bits;
        memcpy(&bits, (const double *)data + j, 8);
        put_byte(out, 0xcb);
        put_be(out, bits, 8);
        return 0;
    }
    case FP_COL_DURATION:
        put_int(out, ((const int64_t *)data)[j]);
        return 0;
    case FP_COL_TIMESTAMP:
        if (o->timestamps_epoch) {
            put_int(out, ((const int64_t *)data)[j]);
            return 0;
        }
        /* fall through: ISO 8601 */
    default: { /* dates, times, decimals: str of their text */
        char text[FP_TEXT_MAX];
        char *end = fp_value_text(text, c, data, j, err);
        return end == NULL ? -1 : put_bytes(out, text, end - text, 1, c, err);
    }
    }
}

static int msgpack_bytes(fp_buf *out, const fp_col *c, const char *s, int64_t n,
                         fp_table_error *err) {
    return put_bytes(out, s, n, c->kind == FP_COL_UTF8 || c->kind == FP_COL_UTF8_VIEW, c, err);
}

static int msgpack_open(fp_buf *out, const fp_col *c, int64_t n, int is_map,
                        fp_table_error *err) {
    return is_map ? put_header(out, n, 0x80, 16, 0, 0xde, 0xdf, c, err)
                  : put_header(out, n, 0x90, 16, 0, 0xdc, 0xdd, c, err);
}

static int msgpack_nothing(fp_buf *out, const fp_col *c, fp_table_error *err) {
    return 0;
}

static int msgpack_close(fp_buf *out, const fp_col *c, int is_map, fp_table_error *err) {
    return 0;
}

static int msgpack_field(fp_buf *out, const fp_col *c, int first, fp_table_error *err) {
    return put_bytes(out, c->name, (int64_t)strlen(c->name), 1, c, err);
}

static int msgpack_map_key(const fp_format *f, fp_buf *out, const fp_col *c,
                           const fp_arrow_array *a, int64_t i, const fp_json_options *o,
                           fp_table_error *err) {
    return fp_write_cell(f, out, c, a, i, o, err);
}

const fp_format fp_msgpack_format = {msgpack_null, msgpack_scalar, msgpack_bytes, msgpack_open,
                                     msgpack_close, msgpack_nothing, msgpack_field,
                                     msgpack_map_key};
