/* cfg_parse.c - the xl.cfg syntax (as Xen's libxlu reads it): a lexer and a recursive-descent
 * parser that turn text into a generic cfg_tree, apart from what the keys mean (cfg_keys.c).
 *
 *   file    := { [ setting ] ( NEWLINE | ';' ) } EOF
 *   setting := IDENT ( '=' | '+=' ) value
 *   value   := STRING | NUMBER | '[' [ value { ',' value } [ ',' ] ] ']'
 *
 * Newlines are free inside lists; '#' starts a comment up to the end of the line. Strings may
 * span lines. A key is kept once: a later '=' replaces the value in place (the setting keeps the
 * position of its first assignment, its line becomes that of the latest one); '+=' concatenates
 * strings or appends list items, or acts as '=' for a key not set yet. On error, settings merged
 * before the failing one stay in the tree (which remains valid to free). */
#include "cfg/cfg_parse.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"
#include "util/text.h"

#define CFG_MAX_DEPTH 64    /* list nesting limit, so that hostile input cannot exhaust the stack */
#define CFG_SHOW_MAX 40     /* longest token text quoted in a message */
#define CFG_CMDLINE "<command line>"

typedef enum {
    TOK_EOF, TOK_NEWLINE, TOK_SEMI, TOK_IDENT, TOK_NUMBER, TOK_STRING,
    TOK_ASSIGN, TOK_APPEND, TOK_LBRACKET, TOK_RBRACKET, TOK_COMMA, TOK_OTHER,
} tok_kind;

typedef struct {
    tok_kind kind;
    int line;
    const char *text;   /* raw text in the input */
    size_t len;
    char *str;          /* STRING: unescaped text; NUMBER: the literal (owned) */
    long long num;      /* NUMBER: its value */
} token;

typedef struct {
    cfg_tree *t;
    const char *source;
    const char *begin, *p, *end;
    int line;
    int depth;          /* lists open around the current token */
    bool trial;         /* errors are not recorded (a tentative override value) */
    token tok;          /* the lookahead */
} parser;

static const char *const kind_names[] = {
    [CFG_STRING] = "a string", [CFG_NUMBER] = "a number", [CFG_LIST] = "a list",
};

/* ---- values and the tree ---- */

static void value_dispose(cfg_value *v)
{
    free(v->str);
    for (size_t i = 0; i < v->n_items; i++)
        value_dispose(&v->items[i]);
    free(v->items);
    *v = (cfg_value){0};
}

cfg_tree *cfg_tree_new(const char *file)
{
    cfg_tree *t = kx_malloc0(sizeof(*t));
    t->file = file ? kx_strdup(file) : NULL;
    return t;
}

void cfg_tree_free(cfg_tree *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n_settings; i++) {
        free(t->settings[i].key);
        free(t->settings[i].source);
        value_dispose(&t->settings[i].value);
    }
    free(t->settings);
    free(t->file);
    free(t);
}

static cfg_setting *tree_find(const cfg_tree *t, const char *key)
{
    for (size_t i = 0; t && key && i < t->n_settings; i++)
        if (strcmp(t->settings[i].key, key) == 0)
            return &t->settings[i];
    return NULL;
}

const cfg_setting *cfg_tree_get(const cfg_tree *t, const char *key)
{
    return tree_find(t, key);
}

/* ---- messages ---- */

/* Appends s (n bytes) quoted, with unprintable bytes as \xNN and long text cut short. */
static void show_bytes(kx_buf *b, const char *s, size_t n)
{
    kx_buf_addc(b, '\'');
    for (size_t i = 0; i < n && i < CFG_SHOW_MAX; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f)
            kx_buf_addc(b, (char)c);
        else
            kx_buf_printf(b, "\\x%02x", c);
    }
    kx_buf_add(b, n > CFG_SHOW_MAX ? "...'" : "'");
}

static void tok_show(kx_buf *b, const token *tk)
{
    if (tk->kind == TOK_EOF)
        kx_buf_add(b, "end of input");
    else if (tk->kind == TOK_NEWLINE)
        kx_buf_add(b, "end of line");
    else if (tk->kind == TOK_STRING)
        kx_buf_add(b, "a string");
    else
        show_bytes(b, tk->text, tk->len);
}

static void report(const parser *ps, int line, const char *msg)
{
    if (!ps->trial)
        kx_err(KXL_ERR_CONFIG, "%s:%d: %s", ps->source, line, msg);
}

/* Reports "SOURCE:LINE: message" and returns -1. */
__attribute__((format(printf, 3, 4)))
static int perr(const parser *ps, int line, const char *fmt, ...)
{
    kx_buf b = KX_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    kx_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    report(ps, line, kx_buf_str(&b));
    kx_buf_dispose(&b);
    return -1;
}

/* Reports "expected WHAT, found TOKEN" at the lookahead and returns -1. */
__attribute__((format(printf, 2, 3)))
static int expected(const parser *ps, const char *fmt, ...)
{
    kx_buf b = KX_BUF_INIT;
    va_list ap;
    kx_buf_add(&b, "expected ");
    va_start(ap, fmt);
    kx_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    kx_buf_add(&b, ", found ");
    tok_show(&b, &ps->tok);
    report(ps, ps->tok.line, kx_buf_str(&b));
    kx_buf_dispose(&b);
    return -1;
}

/* ---- lexer ---- */

static bool is_ident_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_ident_char(char c)
{
    return is_ident_start(c) || (c >= '0' && c <= '9');
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* The value of a digit in bases up to 16, or 99 for anything else. */
static int digit_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return 99;
}

static void new_line(parser *ps)
{
    if (ps->line < INT_MAX)
        ps->line++;
}

/* The line where the input ends: the last line, not the empty one after a final newline. */
static int eof_line(const parser *ps)
{
    bool after_nl = ps->p > ps->begin && ps->p[-1] == '\n';
    return after_nl && ps->line > 1 ? ps->line - 1 : ps->line;
}

static void tok_clear(token *tk)
{
    free(tk->str);
    *tk = (token){0};
}

/* Skips blanks and a comment, stopping at a newline; a NUL byte is an error. */
static int skip_blanks(parser *ps)
{
    bool comment = false;
    for (; ps->p < ps->end; ps->p++) {
        char c = *ps->p;
        if (c == '\0')
            return perr(ps, ps->line, "NUL byte in input");
        if (c == '\n')
            break;
        if (c == '#')
            comment = true;
        else if (!comment && !is_blank(c))
            break;
    }
    return 0;
}

/* Reads up to max digits of base into *val_r; returns how many were read. */
static int scan_digits(parser *ps, int base, int max, unsigned *val_r)
{
    int n = 0;
    *val_r = 0;
    while (n < max && ps->p < ps->end && digit_value(*ps->p) < base) {
        *val_r = *val_r * (unsigned)base + (unsigned)digit_value(*ps->p++);
        n++;
    }
    return n;
}

/* Decodes the escape at ps->p (a backslash) into b. A backslash that ends the input is
 * left for the caller to report as an unterminated string. */
static int lex_escape(parser *ps, kx_buf *b)
{
    static const char from[] = "ntrabfv\\'\"", to[] = "\n\t\r\a\b\f\v\\'\"";
    const char *esc = ps->p++;
    if (ps->p == ps->end)
        return 0;
    char c = *ps->p++;
    if (c == '\0')
        return perr(ps, ps->line, "NUL byte in input");
    const char *hit = strchr(from, c);
    unsigned val = 0;
    if (hit) {
        kx_buf_addc(b, to[hit - from]);
        return 0;
    }
    if (c == 'x' && scan_digits(ps, 16, 2, &val) == 0)
        return perr(ps, ps->line, "escape '\\x' needs hex digits");
    if (c >= '0' && c <= '7') {
        ps->p--;
        scan_digits(ps, 8, 3, &val);
    } else if (c != 'x') {
        if (c > 0x20 && c < 0x7f)
            return perr(ps, ps->line, "unknown escape '\\%c' in string", c);
        return perr(ps, ps->line, "unknown escape in string: '\\' followed by byte 0x%02x",
                    (unsigned char)c);
    }
    int n = (int)(ps->p - esc);
    if (val > 255)
        return perr(ps, ps->line, "escape '%.*s' is out of range", n, esc);
    if (val == 0)
        return perr(ps, ps->line, "escape '%.*s' would put a NUL byte in the string", n, esc);
    kx_buf_addc(b, (char)val);
    return 0;
}

/* Strings go into domain.json, the API's JSON and messages: JSON has no way to carry bytes
 * that are not UTF-8. */
static int check_utf8(const parser *ps, int line, const char *s, size_t n)
{
    size_t bad;
    if (!s || kx_utf8_valid(s, n, &bad))
        return 0;
    return perr(ps, line, "string is not valid UTF-8 (byte 0x%02x at offset %zu): write it in "
                "UTF-8", (unsigned char)s[bad], bad);
}

/* A string in single or double quotes, on one line as xl's lexer wants it: a quote left
 * open is reported where it was opened, not where the next quote happens to be. */
static int lex_string(parser *ps)
{
    token *tk = &ps->tok;
    char quote = *ps->p++;
    int start = ps->line;
    kx_buf b = KX_BUF_INIT;
    int r = 0;
    while (r == 0 && ps->p < ps->end && *ps->p != quote) {
        char c = *ps->p;
        if (c == '\\') {
            r = lex_escape(ps, &b);
        } else if (c == '\0') {
            r = perr(ps, ps->line, "NUL byte in input");
        } else if (c == '\n') {
            r = perr(ps, start, "unterminated string: the %s opened here is not closed on this "
                     "line (write a newline as \\n)", quote == '"' ? "\"" : "'");
        } else {
            kx_buf_addc(&b, c);
            ps->p++;
        }
    }
    if (r == 0 && ps->p == ps->end)
        r = perr(ps, start, "unterminated string: the %s opened here is never closed",
                 quote == '"' ? "\"" : "'");
    if (r == 0)
        r = check_utf8(ps, start, b.s, b.len);
    if (r < 0) {
        kx_buf_dispose(&b);
        return -1;
    }
    ps->p++;
    tk->kind = TOK_STRING;
    tk->len = (size_t)(ps->p - tk->text);
    tk->str = kx_buf_steal(&b);
    return 0;
}

void cfg_write_string(kx_buf *b, const char *s, char quote)
{
    kx_buf_addc(b, quote);
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == (unsigned char)quote || *c == '\\')
            kx_buf_printf(b, "\\%c", *c);
        else if (*c == '\n')
            kx_buf_add(b, "\\n");
        else if (*c < 0x20 || *c == 0x7f)
            kx_buf_printf(b, "\\x%02x", *c);   /* always two digits: "\x01a" stays 2 bytes */
        else
            kx_buf_addc(b, (char)*c);
    }
    kx_buf_addc(b, quote);
}

/* Checks a number literal (decimal, 0x hex, leading-0 octal) and computes its value. */
static int number_value(const parser *ps, const token *tk, long long *num_r)
{
    const char *lit = tk->str, *digits = lit;
    int base = 10;
    if (lit[0] == '0' && (lit[1] == 'x' || lit[1] == 'X')) {
        base = 16;
        digits = lit + 2;
    } else if (lit[0] == '0' && lit[1]) {
        base = 8;
        digits = lit + 1;
    }
    bool ok = *digits != '\0';
    for (const char *d = digits; ok && *d; d++)
        ok = digit_value(*d) < base;
    kx_buf b = KX_BUF_INIT;
    show_bytes(&b, tk->text, tk->len);
    errno = 0;
    *num_r = ok ? strtoll(digits, NULL, base) : 0;
    bool range = ok && errno == ERANGE;
    if (!ok)
        perr(ps, tk->line, "invalid number %s", kx_buf_str(&b));
    else if (range)
        perr(ps, tk->line, "number %s is out of range", kx_buf_str(&b));
    kx_buf_dispose(&b);
    return ok && !range ? 0 : -1;
}

/* A number: the whole run of letters, digits, '_' and '.' after a digit, so that "12ab" or
 * "1.5" are reported as one bad number. */
static int lex_number(parser *ps)
{
    token *tk = &ps->tok;
    while (ps->p < ps->end && (is_ident_char(*ps->p) || *ps->p == '.'))
        ps->p++;
    tk->kind = TOK_NUMBER;
    tk->len = (size_t)(ps->p - tk->text);
    tk->str = kx_strndup(tk->text, tk->len);
    return number_value(ps, tk, &tk->num);
}

static tok_kind punct_kind(char c)
{
    static const char chars[] = "\n;=[],";
    static const tok_kind kinds[] = {
        TOK_NEWLINE, TOK_SEMI, TOK_ASSIGN, TOK_LBRACKET, TOK_RBRACKET, TOK_COMMA,
    };
    const char *hit = c ? strchr(chars, c) : NULL;
    return hit ? kinds[hit - chars] : TOK_OTHER;
}

/* Replaces the lookahead with the next token. */
static int lex_next(parser *ps)
{
    token *tk = &ps->tok;
    tok_clear(tk);
    if (skip_blanks(ps) < 0)
        return -1;
    tk->line = ps->line;
    tk->text = ps->p;
    if (ps->p == ps->end) {
        tk->kind = TOK_EOF;
        tk->line = eof_line(ps);
        return 0;
    }
    char c = *ps->p;
    if (c == '"' || c == '\'')
        return lex_string(ps);
    if (c >= '0' && c <= '9')
        return lex_number(ps);
    if (is_ident_start(c)) {
        while (ps->p < ps->end && is_ident_char(*ps->p))
            ps->p++;
        tk->kind = TOK_IDENT;
        tk->len = (size_t)(ps->p - tk->text);
        return 0;
    }
    bool append = c == '+' && ps->end - ps->p > 1 && ps->p[1] == '=';
    tk->kind = append ? TOK_APPEND : punct_kind(c);
    tk->len = append ? 2 : 1;
    ps->p += tk->len;
    if (tk->kind == TOK_NEWLINE)
        new_line(ps);
    return 0;
}

/* ---- parser ---- */

static bool starts_value(tok_kind k)
{
    return k == TOK_STRING || k == TOK_NUMBER || k == TOK_LBRACKET;
}

static int skip_newlines(parser *ps)
{
    while (ps->tok.kind == TOK_NEWLINE)
        if (lex_next(ps) < 0)
            return -1;
    return 0;
}

/* A new zeroed item at the end of list v, whose array has room for *cap items. */
static cfg_value *items_push(cfg_value *v, size_t *cap)
{
    if (v->n_items == *cap) {
        *cap = *cap ? *cap * 2 : 4;
        v->items = kx_realloc(v->items, *cap * sizeof(*v->items));
    }
    cfg_value *item = &v->items[v->n_items++];
    *item = (cfg_value){0};
    return item;
}

static int parse_value(parser *ps, cfg_value *v);

/* The items of a list and its ']'; the lookahead is its '['. */
static int parse_items(parser *ps, cfg_value *v, int start)
{
    size_t cap = 0;
    if (lex_next(ps) < 0 || skip_newlines(ps) < 0)
        return -1;
    while (ps->tok.kind != TOK_RBRACKET) {
        if (ps->tok.kind == TOK_EOF)
            return perr(ps, ps->tok.line, "unterminated list (started at line %d)", start);
        if (!starts_value(ps->tok.kind))
            return expected(ps, "a value or ']' in list");
        if (parse_value(ps, items_push(v, &cap)) < 0 || skip_newlines(ps) < 0)
            return -1;
        if (ps->tok.kind == TOK_COMMA) {
            if (lex_next(ps) < 0 || skip_newlines(ps) < 0)
                return -1;
        } else if (ps->tok.kind != TOK_RBRACKET && ps->tok.kind != TOK_EOF) {
            return expected(ps, "',' or ']' after a list item");
        }
    }
    return lex_next(ps);
}

/* Parses the value at the lookahead into v (zeroed; on error the caller disposes it). */
static int parse_value(parser *ps, cfg_value *v)
{
    token *tk = &ps->tok;
    v->line = tk->line;
    switch (tk->kind) {
    case TOK_STRING:
        v->kind = CFG_STRING;
        v->str = TAKE_PTR(tk->str);
        return lex_next(ps);
    case TOK_NUMBER:
        v->kind = CFG_NUMBER;
        v->num = tk->num;
        v->str = TAKE_PTR(tk->str);
        return lex_next(ps);
    case TOK_LBRACKET: {
        v->kind = CFG_LIST;
        if (ps->depth >= CFG_MAX_DEPTH)
            return perr(ps, tk->line, "lists nested more than %d deep", CFG_MAX_DEPTH);
        ps->depth++;
        int r = parse_items(ps, v, v->line);
        ps->depth--;
        return r;
    }
    default:
        return expected(ps, "a value");
    }
}

/* Grows room to at least need, doubling: n appends cost O(total), not O(n * total). */
static size_t grown(size_t room, size_t need)
{
    size_t cap = room ? room : 8;
    while (cap < need)
        cap *= 2;
    return cap;
}

static void string_append(cfg_value *old, const char *add)
{
    if (!old->cap) {
        old->len = strlen(old->str);
        old->cap = old->len + 1;
    }
    size_t n = strlen(add);
    if (old->len + n + 1 > old->cap) {
        old->cap = grown(old->cap, old->len + n + 1);
        old->str = kx_realloc(old->str, old->cap);
    }
    memcpy(old->str + old->len, add, n + 1);
    old->len += n;
}

/* Moves v's items to the end of old's. */
static void list_append(cfg_value *old, cfg_value *v)
{
    size_t n = old->n_items + v->n_items;
    if (n > (old->cap ? old->cap : old->n_items)) {
        old->cap = grown(old->cap, n);
        old->items = kx_realloc(old->items, old->cap * sizeof(*old->items));
    }
    if (v->n_items)
        memcpy(old->items + old->n_items, v->items, v->n_items * sizeof(*v->items));
    old->n_items = n;
    v->n_items = 0;
}

/* `key += v` on an existing setting s: strings concatenate, lists append. Takes v on success. */
static int value_append(const parser *ps, cfg_setting *s, int line, cfg_value *v)
{
    cfg_value *old = &s->value;
    if (old->kind != v->kind || v->kind == CFG_NUMBER)
        return perr(ps, line, "'+=' cannot append %s to '%s', which is %s",
                    kind_names[v->kind], s->key, kind_names[old->kind]);
    if (v->kind == CFG_STRING)
        string_append(old, v->str);
    else
        list_append(old, v);
    s->line = line;
    free(s->source);
    s->source = kx_strdup(ps->source);
    value_dispose(v);
    return 0;
}

/* Merges `key = v` or `key += v` into the tree. Takes *key and v on success. */
static int tree_merge(parser *ps, char **key, int line, cfg_value *v, bool append)
{
    cfg_tree *t = ps->t;
    cfg_setting *s = tree_find(t, *key);
    if (s && append)
        return value_append(ps, s, line, v);
    if (s) {
        value_dispose(&s->value);
    } else {
        t->settings = kx_realloc(t->settings, (t->n_settings + 1) * sizeof(*t->settings));
        s = &t->settings[t->n_settings++];
        *s = (cfg_setting){0};
        s->key = TAKE_PTR(*key);
    }
    s->line = line;
    free(s->source);
    s->source = kx_strdup(ps->source);
    s->value = *v;
    *v = (cfg_value){0};
    return 0;
}

/* One `key = value` or `key += value`; the lookahead is the key. */
static int parse_setting(parser *ps)
{
    AUTOFREE char *key = kx_strndup(ps->tok.text, ps->tok.len);
    int line = ps->tok.line;
    cfg_value v = {0};
    if (lex_next(ps) < 0)
        return -1;
    bool append = ps->tok.kind == TOK_APPEND;
    if (!append && ps->tok.kind != TOK_ASSIGN)
        return expected(ps, "'=' after '%s'", key);
    if (lex_next(ps) < 0)
        return -1;
    if (!starts_value(ps->tok.kind))
        return expected(ps, "a value for '%s'", key);
    int r = parse_value(ps, &v);
    tok_kind k = ps->tok.kind;
    if (r == 0 && k != TOK_NEWLINE && k != TOK_SEMI && k != TOK_EOF)
        r = expected(ps, "';' or end of line after the value of '%s'", key);
    if (r == 0)
        r = tree_merge(ps, &key, line, &v, append);
    value_dispose(&v);
    return r;
}

static int parse_settings(parser *ps)
{
    if (lex_next(ps) < 0)
        return -1;
    for (;;) {
        switch (ps->tok.kind) {
        case TOK_EOF:
            return 0;
        case TOK_NEWLINE:
        case TOK_SEMI:
            if (lex_next(ps) < 0)
                return -1;
            break;
        case TOK_IDENT:
            if (parse_setting(ps) < 0)
                return -1;
            break;
        default:
            return expected(ps, "a setting name");
        }
    }
}

static void parser_init(parser *ps, cfg_tree *t, const char *source, const char *text,
                        size_t len)
{
    if (!text)
        text = "";
    *ps = (parser){
        .t = t, .source = source ? source : "<input>", .line = 1,
        .begin = text, .p = text, .end = text + len,
    };
}

int cfg_parse_text(cfg_tree *t, const char *source, const char *text, size_t len)
{
    if (len > CFG_MAX_BYTES) {
        kx_err(KXL_ERR_CONFIG, "%s: larger than the %d KiB a config may have", source,
               CFG_MAX_BYTES / 1024);
        return -1;
    }
    parser ps;
    parser_init(&ps, t, source, text, text ? len : 0);
    int r = parse_settings(&ps);
    tok_clear(&ps.tok);
    return r;
}

/* Reads a config file: a regular file (not /dev/zero, a FIFO or a directory) of at most
 * CFG_MAX_BYTES, read no further than that even if it grows meanwhile. */
static char *read_config(const char *path, size_t *len_r)
{
    AUTOCLOSE int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) < 0) {
        kx_err_errno(errno == ENOENT ? KXL_ERR_NOT_FOUND : KXL_ERR_CONFIG, "cannot read '%s'",
                     path);
        return NULL;
    }
    if (!S_ISREG(sb.st_mode)) {
        kx_err(KXL_ERR_CONFIG, "%s: not a regular file (a config is a file of settings)", path);
        return NULL;
    }
    kx_buf b = KX_BUF_INIT;
    if (kx_read_all(fd, &b, CFG_MAX_BYTES + 1) < 0) {
        kx_err_errno(KXL_ERR_CONFIG, "cannot read '%s'", path);
        kx_buf_dispose(&b);
        return NULL;
    }
    *len_r = b.len;
    return b.s ? kx_buf_steal(&b) : kx_strdup("");
}

int cfg_parse_file(cfg_tree *t, const char *path)
{
    size_t len = 0;
    AUTOFREE char *text = read_config(path, &len);
    if (!text)
        return -1;
    return cfg_parse_text(t, path, text, len);
}

/* ---- command-line overrides ---- */

/* The value of an override, text[0..len). One that starts with a quote or '[' must be valid
 * syntax; anything else that is not a single valid value is taken, without surrounding
 * blanks, as a string (like xl: name=foo, kernel=/boot/vmlinuz, cpus=0-3). */
static int parse_override_value(parser *ps, cfg_value *v, const char *text, size_t len)
{
    while (len > 0 && is_blank(text[len - 1]))
        len--;
    while (len > 0 && is_blank(*text)) {
        text++;
        len--;
    }
    ps->trial = !(len > 0 && (*text == '\'' || *text == '"' || *text == '['));
    if (lex_next(ps) == 0 && starts_value(ps->tok.kind) && parse_value(ps, v) == 0) {
        if (ps->tok.kind == TOK_EOF)
            return 0;
        expected(ps, "end of input after the value");
    }
    if (!ps->trial)
        return -1;
    value_dispose(v);
    ps->trial = false;
    if (check_utf8(ps, 1, text, len) < 0)
        return -1;
    *v = (cfg_value){.kind = CFG_STRING, .line = 1, .str = kx_strndup(text, len)};
    return 0;
}

/* Reports "<command line>:1: expected WHAT, found 'TEXT'" and returns -1. */
static int override_err(const char *what, const char *text, size_t len)
{
    kx_buf b = KX_BUF_INIT;
    show_bytes(&b, text, len);
    kx_err(KXL_ERR_CONFIG, "%s:1: expected %s, found %s", CFG_CMDLINE, what, kx_buf_str(&b));
    kx_buf_dispose(&b);
    return -1;
}

/* Checks the KEY of KEY=VALUE (KEY+=VALUE) and returns it, or NULL with the error set. */
static char *override_key(const char *assignment, const char *eq, bool *append_r)
{
    const char *k = assignment, *kend = eq;
    *append_r = kend > k && kend[-1] == '+';
    kend -= *append_r;
    while (kend > k && is_blank(kend[-1]))
        kend--;
    while (k < kend && is_blank(*k))
        k++;
    bool ok = k < kend && is_ident_start(*k);
    for (const char *c = k; ok && c < kend; c++)
        ok = is_ident_char(*c);
    if (ok)
        return kx_strndup(k, (size_t)(kend - k));
    override_err("a setting name before '='", k, (size_t)(kend - k));
    return NULL;
}

int cfg_parse_override(cfg_tree *t, const char *assignment)
{
    if (!assignment)
        assignment = "";
    const char *eq = strchr(assignment, '=');
    if (!eq)
        return override_err("KEY=VALUE", assignment, strlen(assignment));
    bool append;
    AUTOFREE char *key = override_key(assignment, eq, &append);
    if (!key)
        return -1;
    parser ps;
    cfg_value v = {0};
    parser_init(&ps, t, CFG_CMDLINE, eq + 1, strlen(eq + 1));
    int r = parse_override_value(&ps, &v, eq + 1, strlen(eq + 1));
    ps.trial = false;
    if (r == 0)
        r = tree_merge(&ps, &key, 1, &v, append);
    value_dispose(&v);
    tok_clear(&ps.tok);
    return r;
}
