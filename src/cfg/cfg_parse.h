/* cfg_parse.h - the xl.cfg file syntax, parsed apart from its meaning into a generic tree. */
#pragma once

#include <stddef.h>

#include "util/buf.h"

typedef enum { CFG_STRING, CFG_NUMBER, CFG_LIST } cfg_kind;

typedef struct cfg_value {
    cfg_kind kind;
    int line;                 /* line where the value starts */
    char *str;                /* STRING: the unescaped text; NUMBER: the literal as written */
    long long num;            /* NUMBER: its value (decimal, 0x hex, leading-0 octal) */
    struct cfg_value *items;  /* LIST: its elements (may be nested lists) */
    size_t n_items;
    /* Room for appends ('+='), so a key appended to many times costs linear time: STRING:
     * bytes allocated for str, and len its length; LIST: items allocated. 0: exactly what is
     * used (len then unset). */
    size_t cap, len;
} cfg_value;

typedef struct {
    char *key;
    char *source;             /* the file (or "<command line>") of the latest assignment */
    int line;                 /* line of the key */
    cfg_value value;
} cfg_setting;

/* All settings of one or more sources, in order; a key appears once (the last
 * assignment replaced earlier ones, `+=` appended to them). */
typedef struct {
    char *file;               /* name used in messages for the main file */
    cfg_setting *settings;
    size_t n_settings;
} cfg_tree;

/* Allocates an empty tree whose messages name `file`; never NULL. */
cfg_tree *cfg_tree_new(const char *file);
/* NULL-safe. */
void cfg_tree_free(cfg_tree *t);

/* The largest config accepted: xl's files are kilobytes, and anything much larger is a
 * mistake (or an attempt to make kxl spend its time and memory). */
#define CFG_MAX_BYTES (1024 * 1024)

/* Parses text (need not be NUL-terminated at len) and merges its settings
 * into t. `source` names it in messages ("FILE", "<command line>").
 * Returns 0, or -1 with kx_err(KXL_ERR_CONFIG, "SOURCE:LINE: ...") set. */
int cfg_parse_text(cfg_tree *t, const char *source, const char *text, size_t len);
/* Reads and parses a whole file, naming it by path in messages. */
int cfg_parse_file(cfg_tree *t, const char *path);
/* Parses one KEY=VALUE override from the command line (value in config syntax;
 * a bare word that is not valid syntax is taken as a string, like xl). */
int cfg_parse_override(cfg_tree *t, const char *assignment);

/* Appends s to b as a string in quote (' or ") that cfg_parse_text reads back as exactly s:
 * that quote and backslashes escaped, control bytes as \xHH. Every file kxl writes in this
 * syntax writes its strings through here, so no value can end its string early. */
void cfg_write_string(kx_buf *b, const char *s, char quote);

/* The setting for key, or NULL. The tree keeps ownership. */
const cfg_setting *cfg_tree_get(const cfg_tree *t, const char *key);
