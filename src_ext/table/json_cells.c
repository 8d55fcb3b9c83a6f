/* Arrow items as JSON (table.h; the mapping is documented in docs/tables.md). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"

static int fail(fp_table_error *err, const fp_col *c, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(fp_table_error *err, const fp_col *c, const char *format, ...) {
    va_list args;
    err->col = c;
    va_start(args, format);
    vsnprintf(err->reason, sizeof err->reason, format, args);
    va_end(args);
    return -1;
}

static int out_of_memory(fp_table_error *err, const fp_col *c) {
    err->col = c;
    err->reason[0] = '\0';
    return -1;
}

#define RESERVE(n)                                 \
    do {                                           \
        if (fp_buf_reserve(out, (n)) != 0)         \
            return out_of_memory(err, c);          \
    } while (0)

static inline void put(fp_buf *out, const char *s, size_t n) {
    memcpy(out->data + out->len, s, n);
    out->len += n;
}

/* ---- scalars ------------------------------------------------------------------------------ */

static inline int64_t int_at(const void *data, int width, int64_t j) {
    switch (width) {
    case 1: return ((const int8_t *)data)[j];
    case 2: return ((const int16_t *)data)[j];
    case 4: return ((const int32_t *)data)[j];
    default: return ((const int64_t *)data)[j];
    }
}

static inline uint64_t uint_at(const void *data, int width, int64_t j) {
    switch (width) {
    case 1: return ((const uint8_t *)data)[j];
    case 2: return ((const uint16_t *)data)[j];
    case 4: return ((const uint32_t *)data)[j];
    default: return ((const uint64_t *)data)[j];
    }
}

/* Writes v's digits at the end of tmp[24]; returns where they start. */
static inline char *digits_u64(uint64_t v, char *end) {
    char *p = end;
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return p;
}

static inline void put_i64(fp_buf *out, int64_t v) {
    char tmp[24], *end = tmp + sizeof tmp;
    char *p = digits_u64(v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v, end);
    if (v < 0)
        *--p = '-';
    put(out, p, (size_t)(end - p));
}

static inline void put_u64(fp_buf *out, uint64_t v) {
    char tmp[24], *end = tmp + sizeof tmp;
    char *p = digits_u64(v, end);
    put(out, p, (size_t)(end - p));
}

static inline void put_padded(char *at, unsigned v, int width) {
    for (int k = width - 1; k >= 0; k--) {
        at[k] = (char)('0' + v % 10);
        v /= 10;
    }
}

static int put_real(fp_buf *out, double v, int is_single, const fp_col *c, fp_table_error *err) {
    RESERVE(32);
    out->len += (size_t)fp_format_real(v, is_single, out->data + out->len);
    return 0;
}

static double half_to_double(uint16_t h) {
    int exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
    double v;
    if (exponent == 0)
        v = ldexp(mantissa, -24);
    else if (exponent == 31)
        v = mantissa ? NAN : INFINITY;
    else
        v = ldexp(mantissa + 1024, exponent - 25);
    return (h & 0x8000) ? -v : v;
}

static int put_float(fp_buf *out, double v, int is_single, const fp_col *c,
                     const fp_json_options *o, fp_table_error *err) {
    if (!isfinite(v)) {
        if (!o->nan_as_null)
            return fail(err, c, "%s has no JSON form (nan=\"null\" sends null instead)",
                        isnan(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity");
        RESERVE(4);
        put(out, "null", 4);
        return 0;
    }
    return put_real(out, v, is_single, c, err);
}

/* ---- strings and bytes -------------------------------------------------------------------- */

static int put_string(fp_buf *out, const char *s, int64_t n, const fp_col *c,
                      fp_table_error *err) {
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
    RESERVE((size_t)(n - start) + 1);
    put(out, s + start, (size_t)(n - start));
    out->data[out->len++] = '"';
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

/* Item i of a string or binary column (any layout) as a pointer into the batch. */
static int bytes_at(const fp_col *c, const fp_arrow_array *a, int64_t i, const char **data,
                    int64_t *size, fp_table_error *err) {
    int64_t j = a->offset + i;
    int64_t start, end;
    switch (c->kind) {
    case FP_COL_UTF8:
    case FP_COL_BINARY:
        if (c->width == 4) {
            start = ((const int32_t *)a->buffers[1])[j];
            end = ((const int32_t *)a->buffers[1])[j + 1];
        } else {
            start = ((const int64_t *)a->buffers[1])[j];
            end = ((const int64_t *)a->buffers[1])[j + 1];
        }
        if (start < 0 || end < start || (end > start && a->buffers[2] == NULL))
            return fail(err, c, "item %lld has offsets %lld..%lld", (long long)i,
                        (long long)start, (long long)end);
        *data = end > start ? (const char *)a->buffers[2] + start : "";
        *size = end - start;
        return 0;
    case FP_COL_FIXED_BINARY:
        *data = (const char *)a->buffers[1] + j * c->fixed_size;
        *size = c->fixed_size;
        return 0;
    case FP_COL_UTF8_VIEW:
    case FP_COL_BINARY_VIEW: {
        const char *view = (const char *)a->buffers[1] + 16 * j;
        int32_t length, index, offset;
        memcpy(&length, view, 4);
        if (length < 0)
            return fail(err, c, "item %lld has a negative length", (long long)i);
        if (length <= 12) {
            *data = view + 4;
            *size = length;
            return 0;
        }
        memcpy(&index, view + 8, 4);
        memcpy(&offset, view + 12, 4);
        int64_t n_data = a->n_buffers - 3;
        const int64_t *sizes = a->buffers[a->n_buffers - 1];
        if (index < 0 || index >= n_data || offset < 0 || a->buffers[2 + index] == NULL ||
            (int64_t)offset + length > sizes[index])
            return fail(err, c, "item %lld points outside its data buffers", (long long)i);
        *data = (const char *)a->buffers[2 + index] + offset;
        *size = length;
        return 0;
    }
    default:
        return fail(err, c, "is not a string or binary column");
    }
}

/* ---- dates and times ---------------------------------------------------------------------- */

static inline int64_t floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's civil_from_days). */
static void civil_from_days(int64_t z, int64_t *year, unsigned *month, unsigned *day) {
    z += 719468;
    int64_t era = floor_div(z, 146097);
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *day = doy - (153 * mp + 2) / 5 + 1;
    *month = mp < 10 ? mp + 3 : mp - 9;
    *year = (int64_t)yoe + era * 400 + (*month <= 2);
}

/* YYYY-MM-DD (years outside 0..9999 with a sign and more digits, as ISO 8601 extends them) */
static void put_date_text(fp_buf *out, int64_t days) {
    int64_t year;
    unsigned month, day;
    civil_from_days(days, &year, &month, &day);
    char *at = out->data + out->len;
    if (year >= 0 && year <= 9999) {
        put_padded(at, (unsigned)year, 4);
        at += 4;
    } else {
        at += sprintf(at, "%+05lld", (long long)year);
    }
    *at++ = '-';
    put_padded(at, month, 2);
    at[2] = '-';
    put_padded(at + 3, day, 2);
    out->len = (size_t)(at + 5 - out->data);
}

static const int64_t per_second[] = {1, 1000, 1000000, 1000000000};
static const int fraction_digits[] = {0, 3, 6, 9};

/* HH:MM:SS[.fff] of a time of day in unit, 0 <= v < one day */
static void put_time_text(fp_buf *out, int64_t v, fp_time_unit unit) {
    int64_t seconds = v / per_second[unit], fraction = v % per_second[unit];
    char *at = out->data + out->len;
    put_padded(at, (unsigned)(seconds / 3600), 2);
    at[2] = ':';
    put_padded(at + 3, (unsigned)(seconds / 60 % 60), 2);
    at[5] = ':';
    put_padded(at + 6, (unsigned)(seconds % 60), 2);
    at += 8;
    if (unit != FP_UNIT_S) {
        *at++ = '.';
        put_padded(at, (unsigned)fraction, fraction_digits[unit]);
        at += fraction_digits[unit];
    }
    out->len = (size_t)(at - out->data);
}

static int put_timestamp(fp_buf *out, int64_t v, const fp_col *c, const fp_json_options *o,
                         fp_table_error *err) {
    RESERVE(48);
    if (o->timestamps_epoch) {
        put_i64(out, v);
        return 0;
    }
    int64_t seconds = floor_div(v, per_second[c->unit]);
    int64_t within = v - seconds * per_second[c->unit];
    int64_t days = floor_div(seconds, 86400);
    out->data[out->len++] = '"';
    put_date_text(out, days);
    out->data[out->len++] = 'T';
    put_time_text(out, (seconds - days * 86400) * per_second[c->unit] + within, c->unit);
    if (c->has_zone)
        out->data[out->len++] = 'Z';
    out->data[out->len++] = '"';
    return 0;
}

/* ---- decimals ----------------------------------------------------------------------------- */

/* The unscaled value's magnitude as decimal digits at the end of buf; returns the start. */
static char *decimal_digits(const void *value, int width, int *negative, char *end) {
    uint64_t limbs[4] = {0, 0, 0, 0};
    int n = width <= 8 ? 1 : width / 8;
    if (width == 4) {
        int32_t v;
        memcpy(&v, value, 4);
        limbs[0] = (uint64_t)(int64_t)v;
    } else {
        memcpy(limbs, value, (size_t)n * 8);
    }
    *negative = (int64_t)limbs[n - 1] < 0;
    if (width == 4 && !*negative)
        limbs[0] &= 0xffffffffu;
    if (*negative) { /* two's complement: invert and add one */
        unsigned carry = 1;
        for (int k = 0; k < n; k++) {
            limbs[k] = ~limbs[k] + carry;
            carry = carry && limbs[k] == 0;
        }
    }
    char *p = end;
    for (;;) { /* divide by 10^19 until nothing is left */
        unsigned __int128 rest = 0;
        int zero = 1;
        for (int k = n - 1; k >= 0; k--) {
            unsigned __int128 cur = (rest << 64) | limbs[k];
            limbs[k] = (uint64_t)(cur / 10000000000000000000ull);
            rest = cur % 10000000000000000000ull;
            zero = zero && limbs[k] == 0;
        }
        uint64_t chunk = (uint64_t)rest;
        if (zero) {
            p = digits_u64(chunk, p);
            return p;
        }
        for (int d = 0; d < 19; d++) {
            *--p = (char)('0' + chunk % 10);
            chunk /= 10;
        }
    }
}

static int put_decimal(fp_buf *out, const void *value, const fp_col *c, const fp_json_options *o,
                       fp_table_error *err) {
    char tmp[96], *end = tmp + sizeof tmp;
    int negative;
    char *digits = decimal_digits(value, c->width, &negative, end);
    int64_t count = end - digits;
    int scale = c->scale;
    RESERVE((size_t)count + (size_t)(scale < 0 ? -scale : scale) + 8);
    if (!o->decimals_as_numbers)
        out->data[out->len++] = '"';
    if (negative)
        out->data[out->len++] = '-';
    if (scale <= 0) {
        put(out, digits, (size_t)count);
        for (int k = 0; k < -scale && !(count == 1 && digits[0] == '0'); k++)
            out->data[out->len++] = '0';
    } else if (count > scale) {
        put(out, digits, (size_t)(count - scale));
        out->data[out->len++] = '.';
        put(out, digits + count - scale, (size_t)scale);
    } else {
        put(out, "0.", 2);
        for (int64_t k = count; k < scale; k++)
            out->data[out->len++] = '0';
        put(out, digits, (size_t)count);
    }
    if (!o->decimals_as_numbers)
        out->data[out->len++] = '"';
    return 0;
}

/* ---- nested ------------------------------------------------------------------------------- */

/* The item range [*start, *end) of list item i in its child array. */
static int list_range(const fp_col *c, const fp_arrow_array *a, int64_t i, int64_t *start,
                      int64_t *end, fp_table_error *err) {
    int64_t j = a->offset + i;
    if (c->kind == FP_COL_FIXED_LIST) {
        *start = j * c->fixed_size;
        *end = *start + c->fixed_size;
        return 0;
    }
    if (c->width == 4) {
        *start = ((const int32_t *)a->buffers[1])[j];
        *end = c->kind == FP_COL_LIST_VIEW ? *start + ((const int32_t *)a->buffers[2])[j]
                                           : ((const int32_t *)a->buffers[1])[j + 1];
    } else {
        *start = ((const int64_t *)a->buffers[1])[j];
        *end = c->kind == FP_COL_LIST_VIEW ? *start + ((const int64_t *)a->buffers[2])[j]
                                           : ((const int64_t *)a->buffers[1])[j + 1];
    }
    if (*start < 0 || *end < *start || *end > a->children[0]->length)
        return fail(err, c, "item %lld has items %lld..%lld of %lld", (long long)i,
                    (long long)*start, (long long)*end, (long long)a->children[0]->length);
    return 0;
}

static int put_map(fp_buf *out, const fp_col *c, const fp_arrow_array *a, int64_t i,
                   const fp_json_options *o, fp_table_error *err) {
    int64_t start, end;
    if (list_range(c, a, i, &start, &end, err) != 0)
        return -1;
    const fp_col *entries = &c->children[0], *key = &entries->children[0],
                 *value = &entries->children[1];
    const fp_arrow_array *ea = a->children[0];
    const fp_arrow_array *ka = ea->children[0], *va = ea->children[1];
    int string_keys = key->dictionary == NULL &&
                      (key->kind == FP_COL_UTF8 || key->kind == FP_COL_UTF8_VIEW);
    fp_buf text = {NULL, 0, 0};
    int rc = 0;
    RESERVE(2);
    out->data[out->len++] = '{';
    for (int64_t k = start; k < end && rc == 0; k++) {
        int64_t ki = ea->offset + k;
        if (k > start) {
            RESERVE(1);
            out->data[out->len++] = ',';
        }
        if (string_keys && !fp_cell_is_null(key, ka, ki)) {
            rc = fp_json_cell(out, key, ka, ki, o, err);
        } else { /* other keys as their JSON text, in a string */
            text.len = 0;
            rc = fp_json_cell(&text, key, ka, ki, o, err);
            if (rc == 0)
                rc = put_string(out, text.data, (int64_t)text.len, key, err);
        }
        if (rc == 0 && fp_buf_reserve(out, 1) != 0)
            rc = out_of_memory(err, c);
        if (rc == 0) {
            out->data[out->len++] = ':';
            rc = fp_json_cell(out, value, va, ki, o, err);
        }
    }
    free(text.data);
    if (rc != 0)
        return rc;
    RESERVE(1);
    out->data[out->len++] = '}';
    return 0;
}

static int put_struct(fp_buf *out, const fp_col *c, const fp_arrow_array *a, int64_t j,
                      const int32_t *cols, int64_t ncols, const fp_json_options *o,
                      fp_table_error *err) {
    RESERVE(2);
    out->data[out->len++] = '{';
    for (int64_t k = 0; k < ncols; k++) {
        int64_t index = cols ? cols[k] : k;
        const fp_col *child = &c->children[index];
        RESERVE(child->json_key_len + 1);
        if (k)
            out->data[out->len++] = ',';
        put(out, child->json_key, child->json_key_len);
        if (fp_json_cell(out, child, a->children[index], j, o, err) != 0)
            return -1;
    }
    RESERVE(1);
    out->data[out->len++] = '}';
    return 0;
}

/* ---- one item ----------------------------------------------------------------------------- */

/* Moves (c, a, i), a non-null item of a dictionary-encoded column, to the value it stands for. */
static int dictionary_item(const fp_col **c, const fp_arrow_array **a, int64_t *i,
                           fp_table_error *err) {
    int64_t j = (*a)->offset + *i;
    int64_t index = (*c)->kind == FP_COL_INT ? int_at((*a)->buffers[1], (*c)->width, j)
                                             : (int64_t)uint_at((*a)->buffers[1], (*c)->width, j);
    if (index < 0 || index >= (*a)->dictionary->length)
        return fail(err, *c, "item %lld has dictionary index %lld of %lld", (long long)*i,
                    (long long)index, (long long)(*a)->dictionary->length);
    *c = (*c)->dictionary;
    *a = (*a)->dictionary;
    *i = index;
    return 0;
}

int fp_json_cell(fp_buf *out, const fp_col *c, const fp_arrow_array *a, int64_t i,
                 const fp_json_options *o, fp_table_error *err) {
    int64_t j = a->offset + i;
    if (fp_cell_is_null(c, a, i)) {
        RESERVE(4);
        put(out, "null", 4);
        return 0;
    }
    if (c->dictionary != NULL) {
        if (dictionary_item(&c, &a, &i, err) != 0)
            return -1;
        return fp_json_cell(out, c, a, i, o, err);
    }
    const void *data = a->n_buffers > 1 ? a->buffers[1] : NULL;
    switch (c->kind) {
    case FP_COL_NULL:
        RESERVE(4);
        put(out, "null", 4);
        return 0;
    case FP_COL_BOOL: {
        int v = (((const uint8_t *)data)[j >> 3] >> (j & 7)) & 1;
        RESERVE(5);
        put(out, v ? "true" : "false", v ? 4 : 5);
        return 0;
    }
    case FP_COL_INT:
        RESERVE(24);
        put_i64(out, int_at(data, c->width, j));
        return 0;
    case FP_COL_UINT:
        RESERVE(24);
        put_u64(out, uint_at(data, c->width, j));
        return 0;
    case FP_COL_HALF:
        return put_float(out, half_to_double(((const uint16_t *)data)[j]), 1, c, o, err);
    case FP_COL_FLOAT:
        return put_float(out, ((const float *)data)[j], 1, c, o, err);
    case FP_COL_DOUBLE:
        return put_float(out, ((const double *)data)[j], 0, c, o, err);
    case FP_COL_UTF8:
    case FP_COL_UTF8_VIEW:
    case FP_COL_BINARY:
    case FP_COL_BINARY_VIEW:
    case FP_COL_FIXED_BINARY: {
        const char *bytes;
        int64_t size;
        if (bytes_at(c, a, i, &bytes, &size, err) != 0)
            return -1;
        if (c->kind == FP_COL_UTF8 || c->kind == FP_COL_UTF8_VIEW)
            return put_string(out, bytes, size, c, err);
        return put_base64(out, (const unsigned char *)bytes, size, c, err);
    }
    case FP_COL_DATE: {
        int64_t days = c->width == 4 ? ((const int32_t *)data)[j]
                                     : floor_div(((const int64_t *)data)[j], 86400000);
        RESERVE(32);
        out->data[out->len++] = '"';
        put_date_text(out, days);
        out->data[out->len++] = '"';
        return 0;
    }
    case FP_COL_TIMESTAMP:
        return put_timestamp(out, ((const int64_t *)data)[j], c, o, err);
    case FP_COL_TIME: {
        int64_t v = int_at(data, c->width, j);
        if (v < 0 || v >= 86400 * per_second[c->unit])
            return fail(err, c, "time of day %lld is outside one day", (long long)v);
        RESERVE(24);
        out->data[out->len++] = '"';
        put_time_text(out, v, c->unit);
        out->data[out->len++] = '"';
        return 0;
    }
    case FP_COL_DURATION:
        RESERVE(24);
        put_i64(out, ((const int64_t *)data)[j]);
        return 0;
    case FP_COL_DECIMAL:
        return put_decimal(out, (const char *)data + j * c->width, c, o, err);
    case FP_COL_LIST:
    case FP_COL_LIST_VIEW:
    case FP_COL_FIXED_LIST: {
        int64_t start, end;
        if (list_range(c, a, i, &start, &end, err) != 0)
            return -1;
        RESERVE(2);
        out->data[out->len++] = '[';
        for (int64_t k = start; k < end; k++) {
            if (k > start) {
                RESERVE(1);
                out->data[out->len++] = ',';
            }
            if (fp_json_cell(out, &c->children[0], a->children[0], k, o, err) != 0)
                return -1;
        }
        RESERVE(1);
        out->data[out->len++] = ']';
        return 0;
    }
    case FP_COL_STRUCT:
        return put_struct(out, c, a, j, NULL, c->n_children, o, err);
    case FP_COL_MAP:
        return put_map(out, c, a, i, o, err);
    }
    return fail(err, c, "has a kind fastprod does not know");
}

int fp_json_row(fp_buf *out, const fp_col *root, const fp_arrow_array *batch, int64_t i,
                const int32_t *cols, int ncols, const fp_json_options *o, fp_table_error *err) {
    return put_struct(out, root, batch, batch->offset + i, cols, ncols, o, err);
}

/* ---- keys, headers, timestamps, partitions ------------------------------------------------ */

int fp_cell_bytes(fp_buf *scratch, const fp_col *c, const fp_arrow_array *a, int64_t i,
                  const fp_json_options *o, const char **data, int64_t *size,
                  fp_table_error *err) {
    if (c->dictionary != NULL && !fp_cell_is_null(c, a, i) &&
        dictionary_item(&c, &a, &i, err) != 0)
        return -1;
    if (fp_cell_is_null(c, a, i)) {
        *data = NULL;
        *size = -1;
        return 0;
    }
    switch (c->kind) {
    case FP_COL_UTF8: case FP_COL_UTF8_VIEW: case FP_COL_BINARY: case FP_COL_BINARY_VIEW:
    case FP_COL_FIXED_BINARY:
        return bytes_at(c, a, i, data, size, err);
    default: {
        size_t start = scratch->len;
        if (fp_json_cell(scratch, c, a, i, o, err) != 0)
            return -1;
        *data = scratch->data + start;
        *size = (int64_t)(scratch->len - start);
        return 0;
    }
    }
}

int fp_cell_int(const fp_col *c, const fp_arrow_array *a, int64_t i, int64_t *out,
                fp_table_error *err) {
    if (c->dictionary != NULL && !fp_cell_is_null(c, a, i) &&
        dictionary_item(&c, &a, &i, err) != 0)
        return -1;
    if (fp_cell_is_null(c, a, i))
        return 0;
    int64_t j = a->offset + i;
    const void *data = a->buffers[1];
    switch (c->kind) {
    case FP_COL_INT:
        *out = int_at(data, c->width, j);
        return 1;
    case FP_COL_UINT: {
        uint64_t v = uint_at(data, c->width, j);
        if (v > INT64_MAX)
            return fail(err, c, "%llu is too large", (unsigned long long)v);
        *out = (int64_t)v;
        return 1;
    }
    case FP_COL_TIMESTAMP: {
        int64_t v = ((const int64_t *)data)[j];
        *out = c->unit == FP_UNIT_S    ? v * 1000
             : c->unit == FP_UNIT_MS ? v
             : floor_div(v, c->unit == FP_UNIT_US ? 1000 : 1000000);
        return 1;
    }
    case FP_COL_DATE:
        *out = c->width == 4 ? (int64_t)((const int32_t *)data)[j] * 86400000
                             : ((const int64_t *)data)[j];
        return 1;
    default:
        return fail(err, c, "is not an integer, timestamp or date column");
    }
}
