/* JSON: fastprod's fp_format for compact JSON (table.h; the mapping is in docs/tables.md). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cells.h"

#define RESERVE(n)                                 \
    do {                                           \
        if (fp_buf_reserve(out, (n)) != 0)         \
            return fp_out_of_memory(err, c);       \
    } while (0)

static inline void put(fp_buf *out, const char *s, size_t n) {
    fp_copy(out->data + out->len, s, n);
    out->len += n;
}

/* ---- scalars ------------------------------------------------------------------------------ */

/* (room for 21 bytes reserved) */
static inline void put_i64(fp_buf *out, int64_t v) {
    if (v < 0)
        out->data[out->len++] = '-';
    out->len += (size_t)fp_put_digits(out->data + out->len,
                                      v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v);
}

static inline void put_u64(fp_buf *out, uint64_t v) {
    out->len += (size_t)fp_put_digits(out->data + out->len, v);
}

static int put_real(fp_buf *out, double v, int is_single, const fp_col *c, fp_table_error *err) {
    RESERVE(32);
    out->len += (size_t)fp_format_real(v, is_single, out->data + out->len);
    return 0;
}

static int put_float(fp_buf *out, double v, int is_single, const fp_col *c,
                     const fp_json_options *o, fp_table_error *err) {
    if (!isfinite(v)) {
        if (!o->nan_as_null)
            return fp_nonfinite_error(err, c, v);
        RESERVE(4);
        put(out, "null", 4);
        return 0;
    }
    return put_real(out, v, is_single, c, err);
}

/* ---- strings and bytes -------------------------------------------------------------------- */

/* Whether any of the 8 bytes in w is below 0x20, '"' or '\\' (the bytes JSON escapes), by the
 * classic SWAR tests for a zero byte and for a byte below n. */
static inline int needs_escape(uint64_t w) {
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    uint64_t below_space = (w - ones * 0x20) & ~w;
    uint64_t quote = w ^ (ones * '"'), backslash = w ^ (ones * '\\');
    return ((below_space | ((quote - ones) & ~quote) | ((backslash - ones) & ~backslash)) &
            highs) != 0;
}

/* A string with something to escape, the slow way. */
static __attribute__((noinline)) int put_escaped(fp_buf *out, const char *s, int64_t n,
                                                 const fp_col *c, fp_table_error *err) {
    static const char hex[] = "0123456789abcdef";
    RESERVE((size_t)n + 2);
    out->data[out->len++] = '"';
    int64_t start = 0;
    for (int64_t k = 0; k < n; k++) {
        unsigned char ch = (unsigned char)s[k];
        if (ch >= 0x20 && ch != '"' && ch != '\\')
            continue;
        RESERVE((size_t)(k - start) + 7 + (size_t)(n - k));
        put(out, s + start, (size_t)(k - start));
        char *at = out->data + out->len;
        at[0] = '\\';
        switch (ch) {
        case '"': at[1] = '"'; out->len += 2; break;
        case '\\': at[1] = '\\'; out->len += 2; break;
        case '\n': at[1] = 'n'; out->len += 2; break;
        case '\r': at[1] = 'r'; out->len += 2; break;
        case '\t': at[1] = 't'; out->len += 2; break;
        default:
            memcpy(at + 1, "u00", 3);
            at[4] = hex[ch >> 4];
            at[5] = hex[ch & 15];
            out->len += 6;
        }
        start = k + 1;
    }
    /* the reservations above left room for the rest and the closing quote */
    put(out, s + start, (size_t)(n - start));
    out->data[out->len++] = '"';
    return 0;
}

/* A JSON string: checked 8 bytes at a time (a short tail padded with spaces), copied whole
 * when nothing needs escaping, as in nearly every value. */
static inline __attribute__((always_inline)) int put_string(fp_buf *out, const char *s,
                                                             int64_t n, const fp_col *c,
                                                             fp_table_error *err) {
    int64_t k = 0;
    for (; k + 8 <= n; k += 8) {
        uint64_t w;
        memcpy(&w, s + k, 8);
        if (needs_escape(w))
            return put_escaped(out, s, n, c, err);
    }
    if (k < n) {
        uint64_t w = 0x2020202020202020ull;
        char *d = (char *)&w;
        const char *tail = s + k;
        size_t t = (size_t)(n - k); /* 1 to 7 */
        if (t >= 4) {
            memcpy(d, tail, 4);
            memcpy(d + t - 4, tail + t - 4, 4);
        } else if (t >= 2) {
            memcpy(d, tail, 2);
            memcpy(d + t - 2, tail + t - 2, 2);
        } else {
            d[0] = tail[0];
        }
        if (needs_escape(w))
            return put_escaped(out, s, n, c, err);
    }
    RESERVE((size_t)n + 2);
    char *at = out->data + out->len;
    at[0] = '"';
    fp_copy(at + 1, s, (size_t)n);
    at[n + 1] = '"';
    out->len += (size_t)n + 2;
    return 0;
}

static int put_base64(fp_buf *out, const unsigned char *s, int64_t n, const fp_col *c,
                      fp_table_error *err) {
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    RESERVE((size_t)((n + 2) / 3 * 4 + 2));
    char *at = out->data + out->len;
    *at++ = '"';
    int64_t k = 0;
    for (; k + 3 <= n; k += 3) {
        uint32_t v = (uint32_t)s[k] << 16 | (uint32_t)s[k + 1] << 8 | s[k + 2];
        at[0] = alphabet[v >> 18];
        at[1] = alphabet[(v >> 12) & 63];
        at[2] = alphabet[(v >> 6) & 63];
        at[3] = alphabet[v & 63];
        at += 4;
    }
    if (n - k == 1) {
        uint32_t v = (uint32_t)s[k] << 16;
        at[0] = alphabet[v >> 18];
        at[1] = alphabet[(v >> 12) & 63];
        at[2] = at[3] = '=';
        at += 4;
    } else if (n - k == 2) {
        uint32_t v = (uint32_t)s[k] << 16 | (uint32_t)s[k + 1] << 8;
        at[0] = alphabet[v >> 18];
        at[1] = alphabet[(v >> 12) & 63];
        at[2] = alphabet[(v >> 6) & 63];
        at[3] = '=';
        at += 4;
    }
    *at++ = '"';
    out->len = (size_t)(at - out->data);
    return 0;
}

/* ---- fp_json_format ----------------------------------------------------------------------- */

static int json_null(fp_buf *out, const fp_col *c, fp_table_error *err) {
    RESERVE(4);
    put(out, "null", 4);
    return 0;
}

static int json_scalar(fp_buf *out, const fp_col *c, const void *data, int64_t j,
                       const fp_json_options *o, fp_table_error *err) {
    RESERVE(FP_TEXT_MAX + 2);
    switch (c->kind) {
    case FP_COL_BOOL: {
        int v = (((const uint8_t *)data)[j >> 3] >> (j & 7)) & 1;
        put(out, v ? "true" : "false", v ? 4 : 5);
        return 0;
    }
    case FP_COL_INT:
        put_i64(out, fp_int_at(data, c->width, j));
        return 0;
    case FP_COL_UINT:
        put_u64(out, fp_uint_at(data, c->width, j));
        return 0;
    case FP_COL_HALF:
        return put_float(out, fp_half_to_double(((const uint16_t *)data)[j]), 1, c, o, err);
    case FP_COL_FLOAT:
        return put_float(out, ((const float *)data)[j], 1, c, o, err);
    case FP_COL_DOUBLE:
        return put_float(out, ((const double *)data)[j], 0, c, o, err);
    case FP_COL_DURATION:
        put_i64(out, ((const int64_t *)data)[j]);
        return 0;
    case FP_COL_TIMESTAMP:
        if (o->timestamps_epoch) {
            put_i64(out, ((const int64_t *)data)[j]);
            return 0;
        }
        /* fall through: ISO 8601 */
    default: { /* dates, times, decimals */
        int quoted = c->kind != FP_COL_DECIMAL || !o->decimals_as_numbers;
        char *at = out->data + out->len;
        if (quoted)
            *at++ = '"';
        at = fp_value_text(at, c, data, j, err);
        if (at == NULL)
            return -1;
        if (quoted)
            *at++ = '"';
        out->len = (size_t)(at - out->data);
        return 0;
    }
    }
}

static int json_bytes(fp_buf *out, const fp_col *c, const char *s, int64_t n,
                      fp_table_error *err) {
    if (c->kind == FP_COL_UTF8 || c->kind == FP_COL_UTF8_VIEW)
        return put_string(out, s, n, c, err);
    return put_base64(out, (const unsigned char *)s, n, c, err);
}

static int json_open(fp_buf *out, const fp_col *c, int64_t n, int is_map, fp_table_error *err) {
    RESERVE(1);
    out->data[out->len++] = is_map ? '{' : '[';
    return 0;
}

static int json_close(fp_buf *out, const fp_col *c, int is_map, fp_table_error *err) {
    RESERVE(1);
    out->data[out->len++] = is_map ? '}' : ']';
    return 0;
}

static int json_separator(fp_buf *out, const fp_col *c, fp_table_error *err) {
    RESERVE(1);
    out->data[out->len++] = ',';
    return 0;
}

static int json_field(fp_buf *out, const fp_col *c, int first, fp_table_error *err) {
    RESERVE(c->json_key_len + 1);
    if (first)
        put(out, c->json_key, c->json_key_len);
    else
        put(out, c->json_next_key, c->json_key_len + 1);
    return 0;
}

/* JSON object keys are strings: a string key as it is, any other as its JSON text. */
static int json_map_key(const fp_format *f, fp_buf *out, const fp_col *c, const fp_arrow_array *a,
                        int64_t i, const fp_json_options *o, fp_table_error *err) {
    int text_key = c->dictionary == NULL && (c->kind == FP_COL_UTF8 || c->kind == FP_COL_UTF8_VIEW);
    if (text_key && !fp_cell_is_null(c, a, i)) {
        if (fp_write_cell(f, out, c, a, i, o, err) != 0)
            return -1;
    } else {
        fp_buf text = {NULL, 0, 0};
        int rc = fp_write_cell(f, &text, c, a, i, o, err);
        if (rc == 0)
            rc = put_string(out, text.data, (int64_t)text.len, c, err);
        free(text.data);
        if (rc != 0)
            return rc;
    }
    RESERVE(1);
    out->data[out->len++] = ':';
    return 0;
}

const fp_format fp_json_format = {json_null, json_scalar, json_bytes, json_open, json_close,
                                  json_separator, json_field, json_map_key};

/* ---- rows: a writer per column ------------------------------------------------------------ */

/* Item i's index into the column's buffers, or -1 for a null (written here). */
static inline int64_t flat_item(fp_buf *out, const fp_json_column *jc, int64_t i) {
    int64_t j = jc->array->offset + i;
    if (jc->validity != NULL && !((jc->validity[j >> 3] >> (j & 7)) & 1)) {
        put(out, "null", 4);
        return -1;
    }
    return j;
}

static int flat_int(fp_buf *out, const fp_json_column *jc, int64_t i, const fp_json_options *o,
                    fp_table_error *err) {
    const fp_col *c = jc->col;
    RESERVE(24);
    int64_t j = flat_item(out, jc, i);
    if (j >= 0)
        put_i64(out, fp_int_at(jc->data, c->width, j));
    return 0;
}

static int flat_double(fp_buf *out, const fp_json_column *jc, int64_t i, const fp_json_options *o,
                       fp_table_error *err) {
    const fp_col *c = jc->col;
    RESERVE(32);
    int64_t j = flat_item(out, jc, i);
    return j < 0 ? 0 : put_float(out, ((const double *)jc->data)[j], 0, c, o, err);
}

static int flat_bool(fp_buf *out, const fp_json_column *jc, int64_t i, const fp_json_options *o,
                     fp_table_error *err) {
    const fp_col *c = jc->col;
    RESERVE(5);
    int64_t j = flat_item(out, jc, i);
    if (j >= 0) {
        int v = (((const uint8_t *)jc->data)[j >> 3] >> (j & 7)) & 1;
        put(out, v ? "true" : "false", v ? 4 : 5);
    }
    return 0;
}

static int flat_utf8(fp_buf *out, const fp_json_column *jc, int64_t i, const fp_json_options *o,
                     fp_table_error *err) {
    const fp_col *c = jc->col;
    RESERVE(4);
    int64_t j = flat_item(out, jc, i);
    if (j < 0)
        return 0;
    const int32_t *offsets = (const int32_t *)jc->data + j;
    if (offsets[0] < 0 || offsets[1] < offsets[0])
        return fp_fail(err, c, "item %lld has offsets %d..%d", (long long)i, offsets[0],
                       offsets[1]);
    return put_string(out, jc->chars + offsets[0], offsets[1] - offsets[0], c, err);
}

static int flat_strings(fp_buf *out, const fp_json_column *jc, int64_t i,
                        const fp_json_options *o, fp_table_error *err) {
    const fp_col *c = jc->col;
    const char *bytes;
    int64_t size;
    RESERVE(4);
    if (flat_item(out, jc, i) < 0)
        return 0;
    if (fp_bytes_at(c, jc->array, i, &bytes, &size, err) != 0)
        return -1;
    return put_string(out, bytes, size, c, err);
}

static int flat_timestamp(fp_buf *out, const fp_json_column *jc, int64_t i,
                          const fp_json_options *o, fp_table_error *err) {
    const fp_col *c = jc->col;
    RESERVE(FP_TEXT_MAX + 2);
    int64_t j = flat_item(out, jc, i);
    if (j < 0)
        return 0;
    int64_t v = ((const int64_t *)jc->data)[j];
    if (o->timestamps_epoch) {
        put_i64(out, v);
        return 0;
    }
    char *at = out->data + out->len;
    *at++ = '"';
    at = fp_timestamp_text(at, v, c);
    *at++ = '"';
    out->len = (size_t)(at - out->data);
    return 0;
}

static int any_cell(fp_buf *out, const fp_json_column *jc, int64_t i, const fp_json_options *o,
                    fp_table_error *err) {
    return fp_write_cell(&fp_json_format, out, jc->col, jc->array, i, o, err);
}

void fp_json_columns(fp_json_column *columns, const fp_col *root, const fp_arrow_array *batch,
                     const int32_t *cols, int ncols) {
    for (int k = 0; k < ncols; k++) {
        fp_json_column *jc = &columns[k];
        const fp_col *c = &root->children[cols[k]];
        const fp_arrow_array *a = batch->children[cols[k]];
        jc->col = c;
        jc->array = a;
        jc->write = any_cell;
        if (c->dictionary != NULL || a->n_buffers < 2)
            continue;
        jc->validity = a->null_count == 0 ? NULL : (const uint8_t *)a->buffers[0];
        jc->data = a->buffers[1];
        jc->chars = a->n_buffers > 2 ? (const char *)a->buffers[2] : NULL;
        if (c->kind == FP_COL_INT)
            jc->write = flat_int;
        else if (c->kind == FP_COL_DOUBLE)
            jc->write = flat_double;
        else if (c->kind == FP_COL_BOOL)
            jc->write = flat_bool;
        else if (c->kind == FP_COL_UTF8 && c->width == 4 && jc->chars != NULL)
            jc->write = flat_utf8;
        else if (c->kind == FP_COL_UTF8 || c->kind == FP_COL_UTF8_VIEW)
            jc->write = flat_strings; /* large_utf8, string_view (Polars' strings) */
        else if (c->kind == FP_COL_TIMESTAMP)
            jc->write = flat_timestamp;
    }
}

int fp_json_columns_row(fp_buf *out, const fp_col *root, const fp_json_column *columns,
                        const int32_t *cols, int ncols, int64_t i, const fp_json_options *o,
                        fp_table_error *err) {
    const fp_col *c = root;
    RESERVE(2);
    out->data[out->len++] = '{';
    for (int k = 0; k < ncols; k++) {
        const fp_json_column *jc = &columns[k];
        RESERVE(jc->col->json_key_len + 1);
        if (k)
            put(out, jc->col->json_next_key, jc->col->json_key_len + 1);
        else
            put(out, jc->col->json_key, jc->col->json_key_len);
        if (jc->write(out, jc, i, o, err) != 0)
            return -1;
    }
    RESERVE(1);
    out->data[out->len++] = '}';
    return 0;
}

/* ---- keys, headers, timestamps, partitions ------------------------------------------------ */

int fp_cell_bytes(fp_buf *scratch, const fp_col *c, const fp_arrow_array *a, int64_t i,
                  const fp_json_options *o, const char **data, int64_t *size,
                  fp_table_error *err) {
    if (c->dictionary != NULL && !fp_cell_is_null(c, a, i) &&
        fp_dictionary_item(&c, &a, &i, err) != 0)
        return -1;
    if (fp_cell_is_null(c, a, i)) {
        *data = NULL;
        *size = -1;
        return 0;
    }
    switch (c->kind) {
    case FP_COL_UTF8: case FP_COL_UTF8_VIEW: case FP_COL_BINARY: case FP_COL_BINARY_VIEW:
    case FP_COL_FIXED_BINARY:
        return fp_bytes_at(c, a, i, data, size, err);
    default: {
        size_t start = scratch->len;
        if (fp_write_cell(&fp_json_format, scratch, c, a, i, o, err) != 0)
            return -1;
        *data = scratch->data + start;
        *size = (int64_t)(scratch->len - start);
        return 0;
    }
    }
}

