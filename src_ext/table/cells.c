/* Reading Arrow items, and the text of dates, times and decimals (cells.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <math.h>

#include "cells.h"

int fp_fail(fp_table_error *err, const fp_col *c, const char *format, ...) {
    va_list args;
    err->col = c;
    va_start(args, format);
    vsnprintf(err->reason, sizeof err->reason, format, args);
    va_end(args);
    return -1;
}

const uint64_t fp_pow10_u64[20] = {
    1ull, 10ull, 100ull, 1000ull, 10000ull, 100000ull, 1000000ull, 10000000ull, 100000000ull,
    1000000000ull, 10000000000ull, 100000000000ull, 1000000000000ull, 10000000000000ull,
    100000000000000ull, 1000000000000000ull, 10000000000000000ull, 100000000000000000ull,
    1000000000000000000ull, 10000000000000000000ull};

const char fp_two_digits[200] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

int fp_nonfinite_error(fp_table_error *err, const fp_col *c, double v) {
    return fp_fail(err, c, "%s has no JSON form (nan=\"null\" sends null instead)",
                   isnan(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity");
}

int fp_out_of_memory(fp_table_error *err, const fp_col *c) {
    err->col = c;
    err->reason[0] = '\0';
    return -1;
}

double fp_half_to_double(uint16_t h) {
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

/* Item i of a string or binary column (any layout) as a pointer into the batch. */
int fp_bytes_at_any(const fp_col *c, const fp_arrow_array *a, int64_t i, const char **data,
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
            return fp_fail(err, c, "item %lld has offsets %lld..%lld", (long long)i,
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
            return fp_fail(err, c, "item %lld has a negative length", (long long)i);
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
            return fp_fail(err, c, "item %lld points outside its data buffers", (long long)i);
        *data = (const char *)a->buffers[2 + index] + offset;
        *size = length;
        return 0;
    }
    default:
        return fp_fail(err, c, "is not a string or binary column");
    }
}

/* The item range [*start, *end) of list item i in its child array. */
int fp_list_range(const fp_col *c, const fp_arrow_array *a, int64_t i, int64_t *start,
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
        return fp_fail(err, c, "item %lld has items %lld..%lld of %lld", (long long)i,
                    (long long)*start, (long long)*end, (long long)a->children[0]->length);
    return 0;
}

/* Moves (c, a, i), a non-null item of a dictionary-encoded column, to the value it stands for. */
int fp_dictionary_item(const fp_col **c, const fp_arrow_array **a, int64_t *i,
                           fp_table_error *err) {
    int64_t j = (*a)->offset + *i;
    int64_t index = (*c)->kind == FP_COL_INT ? fp_int_at((*a)->buffers[1], (*c)->width, j)
                                             : (int64_t)fp_uint_at((*a)->buffers[1], (*c)->width, j);
    if (index < 0 || index >= (*a)->dictionary->length)
        return fp_fail(err, *c, "item %lld has dictionary index %lld of %lld", (long long)*i,
                    (long long)index, (long long)(*a)->dictionary->length);
    *c = (*c)->dictionary;
    *a = (*a)->dictionary;
    *i = index;
    return 0;
}

static inline void padded(char *at, unsigned v, int width) {
    for (int k = width - 1; k >= 0; k--) {
        at[k] = (char)('0' + v % 10);
        v /= 10;
    }
}

/* Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's civil_from_days). */
static void civil_from_days(int64_t z, int64_t *year, unsigned *month, unsigned *day) {
    z += 719468;
    int64_t era = fp_floor_div(z, 146097);
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *day = doy - (153 * mp + 2) / 5 + 1;
    *month = mp < 10 ? mp + 3 : mp - 9;
    *year = (int64_t)yoe + era * 400 + (*month <= 2);
}

char *fp_date_text(char *at, int64_t days) {
    int64_t year;
    unsigned month, day;
    civil_from_days(days, &year, &month, &day);
    if (year >= 0 && year <= 9999) {
        padded(at, (unsigned)year, 4);
        at += 4;
    } else {
        at += sprintf(at, "%+05lld", (long long)year);
    }
    *at++ = '-';
    padded(at, month, 2);
    at[2] = '-';
    padded(at + 3, day, 2);
    return at + 5;
}

const int64_t fp_per_second[4] = {1, 1000, 1000000, 1000000000};
static const int fraction_digits[] = {0, 3, 6, 9};

char *fp_time_text(char *at, int64_t v, fp_time_unit unit) {
    int64_t seconds = v / fp_per_second[unit], fraction = v % fp_per_second[unit];
    padded(at, (unsigned)(seconds / 3600), 2);
    at[2] = ':';
    padded(at + 3, (unsigned)(seconds / 60 % 60), 2);
    at[5] = ':';
    padded(at + 6, (unsigned)(seconds % 60), 2);
    at += 8;
    if (unit != FP_UNIT_S) {
        *at++ = '.';
        padded(at, (unsigned)fraction, fraction_digits[unit]);
        at += fraction_digits[unit];
    }
    return at;
}

char *fp_timestamp_text(char *at, int64_t v, const fp_col *c) {
    int64_t seconds = fp_floor_div(v, fp_per_second[c->unit]);
    int64_t within = v - seconds * fp_per_second[c->unit];
    int64_t days = fp_floor_div(seconds, 86400);
    at = fp_date_text(at, days);
    *at++ = 'T';
    at = fp_time_text(at, (seconds - days * 86400) * fp_per_second[c->unit] + within, c->unit);
    if (c->has_zone)
        *at++ = 'Z';
    return at;
}

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
            char last[20];
            int n = fp_put_digits(last, chunk);
            p -= n;
            memcpy(p, last, (size_t)n);
            return p;
        }
        for (int d = 0; d < 19; d++) {
            *--p = (char)('0' + chunk % 10);
            chunk /= 10;
        }
    }
}

char *fp_decimal_text(char *at, const void *value, const fp_col *c) {
    char tmp[96], *end = tmp + sizeof tmp;
    int negative;
    char *digits = decimal_digits(value, c->width, &negative, end);
    int64_t count = end - digits;
    int scale = c->scale;
    if (negative)
        *at++ = '-';
    if (scale <= 0) {
        memcpy(at, digits, (size_t)count);
        at += count;
        for (int k = 0; k < -scale && !(count == 1 && digits[0] == '0'); k++)
            *at++ = '0';
    } else if (count > scale) {
        memcpy(at, digits, (size_t)(count - scale));
        at += count - scale;
        *at++ = '.';
        memcpy(at, digits + count - scale, (size_t)scale);
        at += scale;
    } else {
        *at++ = '0';
        *at++ = '.';
        for (int64_t k = count; k < scale; k++)
            *at++ = '0';
        memcpy(at, digits, (size_t)count);
        at += count;
    }
    return at;
}

char *fp_value_text(char *at, const fp_col *c, const void *data, int64_t j,
                    fp_table_error *err) {
    switch (c->kind) {
    case FP_COL_DATE:
        return fp_date_text(at, c->width == 4
                                    ? ((const int32_t *)data)[j]
                                    : fp_floor_div(((const int64_t *)data)[j], 86400000));
    case FP_COL_TIMESTAMP:
        return fp_timestamp_text(at, ((const int64_t *)data)[j], c);
    case FP_COL_TIME: {
        int64_t v = fp_int_at(data, c->width, j);
        if (v < 0 || v >= 86400 * fp_per_second[c->unit]) {
            fp_fail(err, c, "time of day %lld is outside one day", (long long)v);
            return NULL;
        }
        return fp_time_text(at, v, c->unit);
    }
    case FP_COL_DECIMAL:
        return fp_decimal_text(at, (const char *)data + j * c->width, c);
    default:
        fp_fail(err, c, "has no text form");
        return NULL;
    }
}

int fp_cell_int(const fp_col *c, const fp_arrow_array *a, int64_t i, int64_t *out,
                fp_table_error *err) {
    if (c->dictionary != NULL && !fp_cell_is_null(c, a, i) &&
        fp_dictionary_item(&c, &a, &i, err) != 0)
        return -1;
    if (fp_cell_is_null(c, a, i))
        return 0;
    int64_t j = a->offset + i;
    const void *data = a->buffers[1];
    switch (c->kind) {
    case FP_COL_INT:
        *out = fp_int_at(data, c->width, j);
        return 1;
    case FP_COL_UINT: {
        uint64_t v = fp_uint_at(data, c->width, j);
        if (v > INT64_MAX)
            return fp_fail(err, c, "%llu is too large", (unsigned long long)v);
        *out = (int64_t)v;
        return 1;
    }
    case FP_COL_TIMESTAMP: {
        int64_t v = ((const int64_t *)data)[j];
        *out = c->unit == FP_UNIT_S    ? v * 1000
             : c->unit == FP_UNIT_MS ? v
             : fp_floor_div(v, c->unit == FP_UNIT_US ? 1000 : 1000000);
        return 1;
    }
    case FP_COL_DATE:
        *out = c->width == 4 ? (int64_t)((const int32_t *)data)[j] * 86400000
                             : ((const int64_t *)data)[j];
        return 1;
    default:
        return fp_fail(err, c, "is not an integer, timestamp or date column");
    }
}
