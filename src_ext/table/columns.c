/* Arrow schemas to column trees, and the shape check of each record batch (table.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"

int fp_buf_grow(fp_buf *b, size_t extra) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < extra) {
        if (cap > SIZE_MAX / 2)
            return -1;
        cap *= 2;
    }
    char *data = realloc(b->data, cap);
    if (data == NULL)
        return -1;
    b->data = data;
    b->cap = cap;
    return 0;
}

void fp_col_path(const fp_col *col, char *out, size_t out_size) {
    const fp_col *chain[64];
    int depth = 0;
    size_t len = 0;
    for (const fp_col *c = col; c != NULL && c->parent != NULL && depth < 64; c = c->parent)
        chain[depth++] = c;
    out[0] = '\0';
    for (int k = depth - 1; k >= 0; k--) {
        const fp_col *c = chain[k], *parent = c->parent;
        const char *part = c->name;
        const char *sep = len ? "." : "";
        if (parent->kind == FP_COL_LIST || parent->kind == FP_COL_LIST_VIEW ||
            parent->kind == FP_COL_FIXED_LIST) {
            part = "[]";
            sep = "";
        } else if (parent->kind == FP_COL_MAP) {
            continue; /* the map's entries struct: its key and value fields name themselves */
        } else if (parent->dictionary == c) {
            continue; /* a dictionary's values are the column itself */
        }
        int n = snprintf(out + len, out_size - len, "%s%s", sep, part);
        if (n < 0 || (size_t)n >= out_size - len)
            return;
        len += (size_t)n;
    }
}

static void col_error(char *err, size_t err_size, const fp_col *col, const char *format_str,
                      const char *why) {
    char path[256];
    fp_col_path(col, path, sizeof path);
    snprintf(err, err_size, "column %s: Arrow type '%s' %s", path[0] ? path : "(the table)",
             format_str, why);
}

/* "d:P,S" or "d:P,S,W" */
static int parse_decimal(const char *f, fp_col *c) {
    int precision, scale, bits = 128, used = 0;
    if (sscanf(f, "d:%d,%d%n", &precision, &scale, &used) != 2)
        return -1;
    if (f[used] == ',') {
        int more = 0;
        if (sscanf(f + used, ",%d%n", &bits, &more) != 1 || f[used + more] != '\0')
            return -1;
    } else if (f[used] != '\0') {
        return -1;
    }
    if (bits != 32 && bits != 64 && bits != 128 && bits != 256)
        return -1;
    c->kind = FP_COL_DECIMAL;
    c->width = bits / 8;
    c->precision = precision;
    c->scale = scale;
    return 0;
}

static int parse_unit(char u, fp_time_unit *unit) {
    switch (u) {
    case 's': *unit = FP_UNIT_S; return 0;
    case 'm': *unit = FP_UNIT_MS; return 0;
    case 'u': *unit = FP_UNIT_US; return 0;
    case 'n': *unit = FP_UNIT_NS; return 0;
    default: return -1;
    }
}

static int parse_fixed(const char *digits, int32_t *out) {
    char *end;
    long n = strtol(digits, &end, 10);
    if (end == digits || *end != '\0' || n < 0 || n > INT32_MAX)
        return -1;
    *out = (int32_t)n;
    return 0;
}

/* The kind of one format string; children are added by the caller. 0, or -1 if unsupported. */
static int parse_format(const char *f, fp_col *c) {
    static const struct { const char *format; fp_col_kind kind; int width; } simple[] = {
        {"n", FP_COL_NULL, 0},   {"b", FP_COL_BOOL, 0},   {"c", FP_COL_INT, 1},
        {"C", FP_COL_UINT, 1},   {"s", FP_COL_INT, 2},    {"S", FP_COL_UINT, 2},
        {"i", FP_COL_INT, 4},    {"I", FP_COL_UINT, 4},   {"l", FP_COL_INT, 8},
        {"L", FP_COL_UINT, 8},   {"e", FP_COL_HALF, 2},   {"f", FP_COL_FLOAT, 4},
        {"g", FP_COL_DOUBLE, 8}, {"u", FP_COL_UTF8, 4},   {"U", FP_COL_UTF8, 8},
        {"z", FP_COL_BINARY, 4}, {"Z", FP_COL_BINARY, 8}, {"vu", FP_COL_UTF8_VIEW, 16},
        {"vz", FP_COL_BINARY_VIEW, 16}, {"tdD", FP_COL_DATE, 4}, {"tdm", FP_COL_DATE, 8},
        {"+l", FP_COL_LIST, 4},  {"+L", FP_COL_LIST, 8},  {"+vl", FP_COL_LIST_VIEW, 4},
        {"+vL", FP_COL_LIST_VIEW, 8}, {"+s", FP_COL_STRUCT, 0}, {"+m", FP_COL_MAP, 4},
    };
    for (size_t k = 0; k < sizeof simple / sizeof simple[0]; k++) {
        if (strcmp(f, simple[k].format) == 0) {
            c->kind = simple[k].kind;
            c->width = simple[k].width;
            return 0;
        }
    }
    if (f[0] == 'd' && f[1] == ':')
        return parse_decimal(f, c);
    if (f[0] == 'w' && f[1] == ':') {
        c->kind = FP_COL_FIXED_BINARY;
        return parse_fixed(f + 2, &c->fixed_size);
    }
    if (f[0] == '+' && f[1] == 'w' && f[2] == ':') {
        c->kind = FP_COL_FIXED_LIST;
        return parse_fixed(f + 3, &c->fixed_size);
    }
    if (f[0] == 't' && f[1] == 's' && f[2] != '\0' && f[3] == ':') {
        c->kind = FP_COL_TIMESTAMP;
        c->width = 8;
        c->has_zone = f[4] != '\0';
        return parse_unit(f[2], &c->unit);
    }
    if (f[0] == 't' && f[1] == 't' && f[2] != '\0' && f[3] == '\0') {
        c->kind = FP_COL_TIME;
        if (parse_unit(f[2], &c->unit) != 0)
            return -1;
        c->width = c->unit <= FP_UNIT_MS ? 4 : 8;
        return 0;
    }
    if (f[0] == 't' && f[1] == 'D' && f[2] != '\0' && f[3] == '\0') {
        c->kind = FP_COL_DURATION;
        c->width = 8;
        return parse_unit(f[2], &c->unit);
    }
    return -1;
}

static size_t json_escaped_len(const char *s);
static void json_escape_into(char *out, const char *s);

static int build(fp_col *c, const fp_arrow_schema *s, const fp_col *parent, int depth, char *err,
                 size_t err_size) {
    c->parent = parent;
    c->name = s->name ? s->name : "";
    size_t key_len = json_escaped_len(c->name) + 1;
    c->json_next_key = malloc(key_len + 2);
    if (c->json_next_key == NULL) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    c->json_next_key[0] = ',';
    c->json_key = c->json_next_key + 1;
    json_escape_into(c->json_key, c->name);
    c->json_key[key_len - 1] = ':';
    c->json_key[key_len] = '\0';
    c->json_key_len = key_len;
    if (s->format == NULL || depth > 48) {
        col_error(err, err_size, c, s->format ? s->format : "?",
                  depth > 48 ? "is nested too deep" : "has no format");
        return -1;
    }
    if (parse_format(s->format, c) != 0) {
        col_error(err, err_size, c, s->format, "cannot be encoded by fastprod (unions, intervals "
                  "and run-end encoded arrays are not supported)");
        return -1;
    }
    int64_t expected = -1; /* children the kind needs; -1: any number (struct) */
    switch (c->kind) {
    case FP_COL_LIST: case FP_COL_LIST_VIEW: case FP_COL_FIXED_LIST: case FP_COL_MAP:
        expected = 1;
        break;
    case FP_COL_STRUCT:
        break;
    default:
        expected = 0;
    }
    if (expected >= 0 && s->n_children != expected) {
        col_error(err, err_size, c, s->format, "has a wrong number of children");
        return -1;
    }
    if (s->n_children < 0 || (s->n_children > 0 && s->children == NULL)) {
        col_error(err, err_size, c, s->format, "has no children array");
        return -1;
    }
    if (s->n_children) {
        c->children = calloc((size_t)s->n_children, sizeof(fp_col));
        if (c->children == NULL) {
            snprintf(err, err_size, "out of memory");
            return -1;
        }
        c->n_children = s->n_children;
        for (int64_t k = 0; k < s->n_children; k++)
            if (build(&c->children[k], s->children[k], c, depth + 1, err, err_size) != 0)
                return -1;
    }
    if (c->kind == FP_COL_MAP && (c->children[0].kind != FP_COL_STRUCT ||
                                  c->children[0].n_children != 2)) {
        col_error(err, err_size, c, s->format, "has entries that are not a key and a value");
        return -1;
    }
    if (s->dictionary != NULL) {
        if (c->kind != FP_COL_INT && c->kind != FP_COL_UINT) {
            col_error(err, err_size, c, s->format, "is not an integer type for dictionary indices");
            return -1;
        }
        c->dictionary = calloc(1, sizeof(fp_col));
        if (c->dictionary == NULL) {
            snprintf(err, err_size, "out of memory");
            return -1;
        }
        if (build(c->dictionary, s->dictionary, c, depth + 1, err, err_size) != 0)
            return -1;
        c->dictionary->name = c->name;
    }
    return 0;
}

static void free_children(fp_col *c) {
    for (int64_t k = 0; k < c->n_children; k++)
        free_children(&c->children[k]);
    free(c->children);
    if (c->dictionary != NULL) {
        free_children(c->dictionary);
        free(c->dictionary);
    }
    free(c->json_next_key);
}

void fp_cols_free(fp_col *root) {
    if (root == NULL)
        return;
    free_children(root);
    free(root);
}

fp_col *fp_cols_from_schema(const fp_arrow_schema *schema, char *err, size_t err_size) {
    fp_col *root = calloc(1, sizeof(fp_col));
    if (root == NULL) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    if (build(root, schema, NULL, 0, err, err_size) != 0) {
        fp_cols_free(root);
        return NULL;
    }
    if (root->kind != FP_COL_STRUCT || root->dictionary != NULL) {
        snprintf(err, err_size, "send_table needs a table (an Arrow struct of columns), not "
                 "Arrow type '%s'", schema->format);
        fp_cols_free(root);
        return NULL;
    }
    return root;
}

/* Buffers an array of c's kind exports; for views, the least (data buffers vary). */
static int64_t buffers_of(const fp_col *c) {
    switch (c->kind) {
    case FP_COL_NULL: return 0;
    case FP_COL_STRUCT: case FP_COL_FIXED_LIST: return 1;
    case FP_COL_UTF8: case FP_COL_BINARY: case FP_COL_LIST_VIEW: return 3;
    case FP_COL_UTF8_VIEW: case FP_COL_BINARY_VIEW: return 3;
    default: return 2;
    }
}

static int check(const fp_col *c, const fp_arrow_array *a, int64_t needed, fp_table_error *err) {
    err->col = c;
    if (a == NULL || a->release == NULL) {
        snprintf(err->reason, sizeof err->reason, "the record batch has no array for it");
        return -1;
    }
    if (a->length < 0 || a->offset < 0 || a->n_buffers < 0 || a->n_children < 0) {
        snprintf(err->reason, sizeof err->reason, "negative length, offset or count in its array");
        return -1;
    }
    if (a->length < needed) {
        snprintf(err->reason, sizeof err->reason, "its array has %lld items, its parent needs %lld",
                 (long long)a->length, (long long)needed);
        return -1;
    }
    int64_t want = buffers_of(c);
    int views = c->kind == FP_COL_UTF8_VIEW || c->kind == FP_COL_BINARY_VIEW;
    if (views ? a->n_buffers < want : a->n_buffers != want) {
        snprintf(err->reason, sizeof err->reason, "its array has %lld buffers, not %lld",
                 (long long)a->n_buffers, (long long)want);
        return -1;
    }
    if (a->n_buffers > 0 && a->buffers == NULL) {
        snprintf(err->reason, sizeof err->reason, "its array has no buffer list");
        return -1;
    }
    if (a->length > 0) {
        /* every buffer but validity (and a variable-length type's data, checked per item) */
        int64_t last = c->kind == FP_COL_UTF8 || c->kind == FP_COL_BINARY ? 2 : a->n_buffers;
        if (views)
            last = 2;
        for (int64_t k = 1; k < last; k++) {
            if (a->buffers[k] == NULL) {
                snprintf(err->reason, sizeof err->reason, "its array lacks buffer %lld", (long long)k);
                return -1;
            }
        }
        if (views && a->n_buffers > 3 && a->buffers[a->n_buffers - 1] == NULL) {
            snprintf(err->reason, sizeof err->reason, "its array lacks the data buffer sizes");
            return -1;
        }
    }
    if (a->n_children != c->n_children || (a->n_children > 0 && a->children == NULL)) {
        snprintf(err->reason, sizeof err->reason, "its array has %lld children, not %lld",
                 (long long)a->n_children, (long long)c->n_children);
        return -1;
    }
    int64_t end = a->offset + a->length;
    for (int64_t k = 0; k < c->n_children; k++) {
        int64_t child_needed = 0; /* lists' item ranges are checked per item */
        if (c->kind == FP_COL_STRUCT)
            child_needed = end;
        else if (c->kind == FP_COL_FIXED_LIST)
            child_needed = end * c->fixed_size;
        if (check(&c->children[k], a->children[k], child_needed, err) != 0)
            return -1;
    }
    if (c->dictionary != NULL) {
        if (check(c->dictionary, a->dictionary, 0, err) != 0)
            return -1;
    } else if (a->dictionary != NULL) {
        err->col = c;
        snprintf(err->reason, sizeof err->reason, "its array has a dictionary, its type none");
        return -1;
    }
    return 0;
}

int fp_cols_check_batch(const fp_col *root, const fp_arrow_array *batch, fp_table_error *err) {
    return check(root, batch, 0, err);
}

/* JSON object keys (the columns' names), escaped once. */
static size_t json_escaped_len(const char *s) {
    size_t n = 2;
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        n += ch == '"' || ch == '\\' ? 2 : ch < 0x20 ? 6 : 1;
    }
    return n;
}

static void json_escape_into(char *out, const char *s) {
    static const char hex[] = "0123456789abcdef";
    *out++ = '"';
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') {
            *out++ = '\\';
            *out++ = (char)ch;
        } else if (ch < 0x20) {
            memcpy(out, "\\u00", 4);
            out[4] = hex[ch >> 4];
            out[5] = hex[ch & 15];
            out += 6;
        } else {
            *out++ = (char)ch;
        }
    }
    *out++ = '"';
}
