/* The walk over an Arrow item that every output format shares (table.h's fp_format): nulls,
 * dictionaries, strings and binaries, lists, structs and maps; the format writes. */
#include <math.h>

#include "cells.h"

static int write_struct(const fp_format *f, fp_buf *out, const fp_col *c,
                        const fp_arrow_array *a, int64_t j, const int32_t *cols, int64_t ncols,
                        const fp_json_options *o, fp_table_error *err) {
    if (f->open(out, c, ncols, 1, err) != 0)
        return -1;
    for (int64_t k = 0; k < ncols; k++) {
        int64_t index = cols ? cols[k] : k;
        const fp_col *child = &c->children[index];
        if (f->field(out, child, k == 0, err) != 0 ||
            fp_write_cell(f, out, child, a->children[index], j, o, err) != 0)
            return -1;
    }
    return f->close(out, c, 1, err);
}

static int write_items(const fp_format *f, fp_buf *out, const fp_col *c,
                       const fp_arrow_array *a, int64_t i, const fp_json_options *o,
                       fp_table_error *err) {
    int64_t start, end;
    int is_map = c->kind == FP_COL_MAP;
    if (fp_list_range(c, a, i, &start, &end, err) != 0 ||
        f->open(out, c, end - start, is_map, err) != 0)
        return -1;
    const fp_col *item = &c->children[0];
    const fp_arrow_array *items = a->children[0];
    for (int64_t k = start; k < end; k++) {
        if (k > start && f->separator(out, c, err) != 0)
            return -1;
        if (!is_map) {
            if (fp_write_cell(f, out, item, items, k, o, err) != 0)
                return -1;
            continue;
        }
        int64_t entry = items->offset + k; /* the entries struct's children are indexed so */
        if (f->map_key(f, out, &item->children[0], items->children[0], entry, o, err) != 0 ||
            fp_write_cell(f, out, &item->children[1], items->children[1], entry, o, err) != 0)
            return -1;
    }
    return f->close(out, c, is_map, err);
}

int fp_write_cell(const fp_format *f, fp_buf *out, const fp_col *c, const fp_arrow_array *a,
                  int64_t i, const fp_json_options *o, fp_table_error *err) {
    if (fp_cell_is_null(c, a, i))
        return f->null(out, c, err);
    if (c->dictionary != NULL) {
        if (fp_dictionary_item(&c, &a, &i, err) != 0)
            return -1;
        return fp_write_cell(f, out, c, a, i, o, err);
    }
    switch (c->kind) {
    case FP_COL_NULL:
        return f->null(out, c, err);
    case FP_COL_UTF8:
    case FP_COL_UTF8_VIEW:
    case FP_COL_BINARY:
    case FP_COL_BINARY_VIEW:
    case FP_COL_FIXED_BINARY: {
        const char *s;
        int64_t n;
        if (fp_bytes_at(c, a, i, &s, &n, err) != 0)
            return -1;
        return f->bytes(out, c, s, n, err);
    }
    case FP_COL_LIST:
    case FP_COL_LIST_VIEW:
    case FP_COL_FIXED_LIST:
    case FP_COL_MAP:
        return write_items(f, out, c, a, i, o, err);
    case FP_COL_STRUCT:
        return write_struct(f, out, c, a, a->offset + i, NULL, c->n_children, o, err);
    default:
        return f->scalar(out, c, a->buffers[1], a->offset + i, o, err);
    }
}

int fp_write_row(const fp_format *f, fp_buf *out, const fp_col *root, const fp_arrow_array *batch,
                 int64_t i, const int32_t *cols, int ncols, const fp_json_options *o,
                 fp_table_error *err) {
    return write_struct(f, out, root, batch, batch->offset + i, cols, ncols, o, err);
}

/* ---- fp_check_*_format ------------------------------------------------------------------- */

static int check_scalar(fp_buf *out, const fp_col *c, const void *data, int64_t j,
                        const fp_json_options *o, fp_table_error *err, int finite_only) {
    double v;
    switch (c->kind) {
    case FP_COL_HALF:
        v = fp_half_to_double(((const uint16_t *)data)[j]);
        break;
    case FP_COL_FLOAT:
        v = ((const float *)data)[j];
        break;
    case FP_COL_DOUBLE:
        v = ((const double *)data)[j];
        break;
    case FP_COL_TIME: {
        char text[FP_TEXT_MAX];
        return fp_value_text(text, c, data, j, err) != NULL ? 0 : -1;
    }
    default:
        return 0;
    }
    return finite_only && !o->nan_as_null && !isfinite(v) ? fp_nonfinite_error(err, c, v) : 0;
}

static int check_json_scalar(fp_buf *out, const fp_col *c, const void *data, int64_t j,
                             const fp_json_options *o, fp_table_error *err) {
    return check_scalar(out, c, data, j, o, err, 1);
}

static int check_msgpack_scalar(fp_buf *out, const fp_col *c, const void *data, int64_t j,
                                const fp_json_options *o, fp_table_error *err) {
    return check_scalar(out, c, data, j, o, err, 0);
}

static int check_nothing(fp_buf *out, const fp_col *c, fp_table_error *err) {
    return 0;
}

static int check_bytes(fp_buf *out, const fp_col *c, const char *s, int64_t n,
                       fp_table_error *err) {
    return 0;
}

static int check_open(fp_buf *out, const fp_col *c, int64_t n, int is_map, fp_table_error *err) {
    return 0;
}

static int check_close(fp_buf *out, const fp_col *c, int is_map, fp_table_error *err) {
    return 0;
}

static int check_map_key(const fp_format *f, fp_buf *out, const fp_col *c,
                         const fp_arrow_array *a, int64_t i, const fp_json_options *o,
                         fp_table_error *err) {
    return fp_write_cell(f, out, c, a, i, o, err);
}

static int check_field(fp_buf *out, const fp_col *c, int first, fp_table_error *err) {
    return 0;
}

const fp_format fp_check_json_format = {check_nothing, check_json_scalar, check_bytes,
                                        check_open, check_close, check_nothing, check_field,
                                        check_map_key};
const fp_format fp_check_msgpack_format = {check_nothing, check_msgpack_scalar, check_bytes,
                                           check_open, check_close, check_nothing, check_field,
                                           check_map_key};
