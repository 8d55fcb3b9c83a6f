/* What the row encoders (json_cells.c, msgpack_cells.c) share: reading Arrow items, and the
 * text of dates, times and decimals. Internal to src_ext/table/. */
#ifndef FASTPROD_CELLS_H
#define FASTPROD_CELLS_H

#include <stdint.h>
#include <string.h>

#include "table.h"

/* Sets err (the column and a printf-style reason) and returns -1. */
int fp_fail(fp_table_error *err, const fp_col *c, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
/* Sets err for a NaN or infinity v that JSON cannot hold and returns -1. */
int fp_nonfinite_error(fp_table_error *err, const fp_col *c, double v);
/* Sets err for "out of memory" (an empty reason) and returns -1. */
int fp_out_of_memory(fp_table_error *err, const fp_col *c);

static inline int64_t fp_int_at(const void *data, int width, int64_t j) {
    switch (width) {
    case 1: return ((const int8_t *)data)[j];
    case 2: return ((const int16_t *)data)[j];
    case 4: return ((const int32_t *)data)[j];
    default: return ((const int64_t *)data)[j];
    }
}

static inline uint64_t fp_uint_at(const void *data, int width, int64_t j) {
    switch (width) {
    case 1: return ((const uint8_t *)data)[j];
    case 2: return ((const uint16_t *)data)[j];
    case 4: return ((const uint32_t *)data)[j];
    default: return ((const uint64_t *)data)[j];
    }
}

static inline int64_t fp_floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* memcpy for the short runs rows are made of (names, words, numbers), without a call: whole
 * words, the last one overlapping, never reading outside src. */
static inline void fp_copy(char *dst, const char *src, size_t n) {
    if (n >= 8) {
        if (n > 32) {
            memcpy(dst, src, n);
            return;
        }
        for (size_t k = 0; k + 8 < n; k += 8)
            memcpy(dst + k, src + k, 8);
        memcpy(dst + n - 8, src + n - 8, 8);
    } else if (n >= 4) {
        memcpy(dst, src, 4);
        memcpy(dst + n - 4, src + n - 4, 4);
    } else if (n >= 2) {
        memcpy(dst, src, 2);
        memcpy(dst + n - 2, src + n - 2, 2);
    } else if (n) {
        dst[0] = src[0];
    }
}

/* "00" to "99", for writing two digits at a time. */
extern const char fp_two_digits[200];

/* 10^k for k = 0..19. */
extern const uint64_t fp_pow10_u64[20];

/* v's decimal digits at dst; returns how many. */
static inline int fp_put_digits(char *dst, uint64_t v) {
    if (v < 10) {
        dst[0] = (char)('0' + v);
        return 1;
    }
    /* bits to digits: 1233/4096 ~ log10(2), then one comparison */
    int n = ((64 - __builtin_clzll(v)) * 1233) >> 12;
    n += v >= fp_pow10_u64[n];
    char *at = dst + n;
    while (v >= 100) {
        at -= 2;
        memcpy(at, fp_two_digits + 2 * (v % 100), 2);
        v /= 100;
    }
    if (v >= 10)
        memcpy(at - 2, fp_two_digits + 2 * v, 2);
    else
        at[-1] = (char)('0' + v);
    return n;
}

double fp_half_to_double(uint16_t h);
/* fp_bytes_at for every layout (cells.c). */
int fp_bytes_at_any(const fp_col *c, const fp_arrow_array *a, int64_t i, const char **data,
                    int64_t *size, fp_table_error *err);
/* Item i of a string or binary column (any layout) as a pointer into the batch. Inline for the
 * common layout (32-bit offsets, data present), which rows read for every string. */
static inline int fp_bytes_at(const fp_col *c, const fp_arrow_array *a, int64_t i,
                              const char **data, int64_t *size, fp_table_error *err) {
    if (c->width == 4 && (c->kind == FP_COL_UTF8 || c->kind == FP_COL_BINARY) &&
        a->buffers[2] != NULL) {
        const int32_t *offsets = (const int32_t *)a->buffers[1] + a->offset + i;
        if (offsets[0] >= 0 && offsets[1] >= offsets[0]) {
            *data = (const char *)a->buffers[2] + offsets[0];
            *size = offsets[1] - offsets[0];
            return 0;
        }
    }
    return fp_bytes_at_any(c, a, i, data, size, err);
}
/* The item range [*start, *end) of list (or map) item i in its child array. */
int fp_list_range(const fp_col *c, const fp_arrow_array *a, int64_t i, int64_t *start,
                  int64_t *end, fp_table_error *err);
/* Moves (c, a, i), a non-null item of a dictionary-encoded column, to the value it stands for. */
int fp_dictionary_item(const fp_col **c, const fp_arrow_array **a, int64_t *i,
                       fp_table_error *err);

/* Texts written at `at` (room for FP_TEXT_MAX bytes); each returns the end. */
#define FP_TEXT_MAX 192
/* YYYY-MM-DD (years outside 0..9999 with a sign and more digits, as ISO 8601 extends them) */
char *fp_date_text(char *at, int64_t days);
/* HH:MM:SS[.fff] of a time of day in unit, 0 <= v < one day (fraction digits by unit) */
char *fp_time_text(char *at, int64_t v, fp_time_unit unit);
/* A timestamp of column c (its unit; Z for a zoned one) as ISO 8601 */
char *fp_timestamp_text(char *at, int64_t v, const fp_col *c);
/* A decimal of column c (width, scale), exactly: "-0.005", "12300" */
char *fp_decimal_text(char *at, const void *value, const fp_col *c);
/* The text of item j (an index into the buffers) of a date, time, timestamp or decimal column
 * (timestamps as fp_timestamp_text); NULL with err set for a time of day outside one day. */
char *fp_value_text(char *at, const fp_col *c, const void *data, int64_t j, fp_table_error *err);
/* Ticks of a unit per second. */
extern const int64_t fp_per_second[4];

#endif
