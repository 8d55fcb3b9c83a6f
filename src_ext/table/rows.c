/* Whole record batches encoded into records (table.h): pass one of send_table, which queues
 * nothing of a batch until every row of it encoded. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cells.h"

void fp_encoded_batch_free(fp_encoded_batch *b) {
    free(b->bytes.data);
    free(b->json_columns);
    free(b->rows);
    free(b->header_spans);
    memset(b, 0, sizeof *b);
}

static int grow_rows(fp_encoded_batch *out, int64_t n, int64_t spans) {
    if (n > out->rows_cap) {
        fp_encoded_row *rows = realloc(out->rows, (size_t)n * sizeof *rows);
        if (rows == NULL)
            return -1;
        out->rows = rows;
        out->rows_cap = n;
    }
    if (spans > out->spans_cap) {
        int64_t *at = realloc(out->header_spans, (size_t)spans * 2 * sizeof *at);
        if (at == NULL)
            return -1;
        out->header_spans = at;
        out->spans_cap = spans;
    }
    return 0;
}

/* Appends item i of column col as bytes (copied: the batch's buffers are not kept past the
 * queueing pass, and raw items would otherwise be copied there anyway). */
static int cell_span(fp_encoded_batch *out, const fp_col *root, const fp_arrow_array *batch,
                     int32_t col, int64_t i, const fp_json_options *o, int64_t *at, int64_t *len,
                     fp_table_error *err) {
    const char *data;
    int64_t size;
    size_t start = out->bytes.len;
    if (fp_cell_bytes(&out->bytes, &root->children[col], batch->children[col],
                      batch->offset + i, o, &data, &size, err) != 0)
        return -1;
    *len = size;
    *at = (int64_t)start;
    if (size < 0 || out->bytes.len != start) /* null, or written into bytes already */
        return 0;
    if (fp_buf_reserve(&out->bytes, (size_t)size) != 0) {
        err->col = &root->children[col];
        err->reason[0] = '\0';
        return -1;
    }
    fp_copy(out->bytes.data + start, data, (size_t)size);
    out->bytes.len += (size_t)size;
    return 0;
}

/* Item i of column col as an integer from 0 to high (fp_cell_int), left as it is if null. */
static int int_cell(const fp_col *root, const fp_arrow_array *batch, int32_t col, int64_t i,
                    int64_t high, const char *refused, int64_t *out, fp_table_error *err) {
    int64_t v;
    int got = fp_cell_int(&root->children[col], batch->children[col], batch->offset + i, &v, err);
    if (got < 0)
        return -1;
    if (got && (v < 0 || v > high)) {
        err->col = &root->children[col];
        snprintf(err->reason, sizeof err->reason, refused, (long long)v);
        return -1;
    }
    if (got)
        *out = v;
    return 0;
}

/* Row i of the batch into slot of out, values written in value_format (and keys of several
 * columns in key_format). */
static int encode_row(const fp_table_plan *plan, const fp_col *root, const fp_arrow_array *batch,
                      int64_t i, int64_t slot, const fp_format *value_format,
                      const fp_format *key_format, fp_encoded_batch *out, fp_table_error *err) {
    fp_encoded_row *row = &out->rows[slot];
    if (plan->n_key_cols == 0) {
        row->key_at = 0;
        row->key_len = -1;
    } else if (plan->n_key_cols == 1) {
        if (cell_span(out, root, batch, plan->key_cols[0], i, &plan->json, &row->key_at,
                      &row->key_len, err) != 0)
            return -1;
        if (row->key_len < 0 && plan->require_key) {
            err->col = &root->children[plan->key_cols[0]];
            snprintf(err->reason, sizeof err->reason, "a null key, and the topic is compacted "
                     "(cleanup.policy=compact): its brokers refuse records without a key");
            return -1;
        }
    } else {
        row->key_at = (int64_t)out->bytes.len;
        if (fp_write_row(key_format, &out->bytes, root, batch, i, plan->key_cols,
                         plan->n_key_cols, &plan->json, err) != 0)
            return -1;
        row->key_len = (int64_t)out->bytes.len - row->key_at;
    }
    if (plan->value_format == FP_VALUE_COLUMN) {
        if (cell_span(out, root, batch, plan->value_cols[0], i, &plan->json, &row->value_at,
                      &row->value_len, err) != 0)
            return -1;
    } else {
        row->value_at = (int64_t)out->bytes.len;
        if ((value_format == &fp_json_format
                 ? fp_json_columns_row(&out->bytes, root, out->json_columns, plan->value_cols,
                                       plan->n_value_cols, batch->offset + i, &plan->json, err)
                 : fp_write_row(value_format, &out->bytes, root, batch, i, plan->value_cols,
                                plan->n_value_cols, &plan->json, err)) != 0)
            return -1;
        row->value_len = (int64_t)out->bytes.len - row->value_at;
    }
    row->timestamp_ms = row->partition = -1;
    if (plan->timestamp_col >= 0 && int_cell(root, batch, plan->timestamp_col, i, INT64_MAX,
                                             "timestamp %lld ms is before 1970",
                                             &row->timestamp_ms, err) != 0)
        return -1;
    if (plan->partition_col >= 0 && int_cell(root, batch, plan->partition_col, i, INT32_MAX,
                                             "partition %lld is not a partition number",
                                             &row->partition, err) != 0)
        return -1;
    row->headers_at = slot * plan->n_header_cols;
    for (int k = 0; k < plan->n_header_cols; k++) {
        int64_t *span = &out->header_spans[2 * (row->headers_at + k)];
        if (cell_span(out, root, batch, plan->header_cols[k], i, &plan->json, &span[0], &span[1],
                      err) != 0)
            return -1;
    }
    return 0;
}

static int no_memory(const fp_col *root, fp_table_error *err) {
    err->col = root;
    err->reason[0] = '\0';
    return -1;
}

int fp_table_encode(const fp_table_plan *plan, const fp_col *root, const fp_arrow_array *batch,
                    int64_t first, int64_t count, fp_encoded_batch *out, fp_table_error *err) {
    const fp_format *value_format =
        plan->value_format == FP_VALUE_MSGPACK ? &fp_msgpack_format : &fp_json_format;
    out->bytes.len = 0;
    out->n_rows = 0;
    out->failed_row = first;
    if (grow_rows(out, count, count * plan->n_header_cols) != 0)
        return no_memory(root, err);
    if (value_format == &fp_json_format && plan->value_format == FP_VALUE_JSON) {
        if (plan->n_value_cols > out->json_columns_cap) {
            fp_json_column *columns =
                realloc(out->json_columns, (size_t)plan->n_value_cols * sizeof *columns);
            if (columns == NULL)
                return no_memory(root, err);
            out->json_columns = columns;
            out->json_columns_cap = plan->n_value_cols;
        }
        memset(out->json_columns, 0, (size_t)plan->n_value_cols * sizeof *out->json_columns);
        fp_json_columns(out->json_columns, root, batch, plan->value_cols, plan->n_value_cols);
    }
    for (int64_t slot = 0; slot < count; slot++) {
        if (encode_row(plan, root, batch, first + slot, slot, value_format, &fp_json_format, out,
                       err) != 0) {
            out->failed_row = first + slot;
            return -1;
        }
    }
    out->n_rows = count;
    return 0;
}

int fp_table_check(const fp_table_plan *plan, const fp_col *root, const fp_arrow_array *batch,
                   fp_encoded_batch *scratch, fp_table_error *err) {
    const fp_format *value_format = plan->value_format == FP_VALUE_MSGPACK
                                        ? &fp_check_msgpack_format : &fp_check_json_format;
    scratch->n_rows = 0;
    if (grow_rows(scratch, 1, plan->n_header_cols) != 0)
        return no_memory(root, err);
    for (int64_t i = 0; i < batch->length; i++) {
        scratch->bytes.len = 0; /* raw keys and header values land here; nothing is kept */
        if (encode_row(plan, root, batch, i, 0, value_format, &fp_check_json_format, scratch,
                       err) != 0) {
            scratch->failed_row = i;
            return -1;
        }
    }
    return 0;
}
