/* test_cfg_parse.c - the xl.cfg syntax: values, lists, comments, separators, last-wins, '+=',
 * command-line overrides, every error message, and robustness against arbitrary bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cfg/cfg_json.h"
#include "cfg/cfg_keys.h"
#include "cfg/cfg_parse.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"

DEFINE_AUTOPTR(cfg_tree, cfg_tree_free)

#define SRC "guest.cfg"

/* Parses text that must be valid; the caller frees the tree. */
static cfg_tree *parse_ok(const char *text)
{
    cfg_tree *t = cfg_tree_new(SRC);
    kx_err_clear();
    if (cfg_parse_text(t, SRC, text, strlen(text)) != 0)
        fail_msg("parsing \"%s\" failed: %s", text, kx_err_msg());
    return t;
}

/* Parses text that must be invalid and returns the message. */
static const char *parse_err(const char *text, size_t len)
{
    AUTOPTR(cfg_tree) t = cfg_tree_new(SRC);
    kx_err_clear();
    assert_int_equal(cfg_parse_text(t, SRC, text, len), -1);
    assert_int_equal(kx_err_code(), KXL_ERR_CONFIG);
    return kx_err_msg();
}

static const cfg_value *get(const cfg_tree *t, const char *key)
{
    const cfg_setting *s = cfg_tree_get(t, key);
    if (!s)
        fail_msg("no setting '%s'", key);
    return &s->value;
}

static void assert_string(const cfg_value *v, const char *s)
{
    assert_int_equal(v->kind, CFG_STRING);
    assert_string_equal(v->str, s);
}

static void assert_number(const cfg_value *v, const char *lit, long long num)
{
    assert_int_equal(v->kind, CFG_NUMBER);
    assert_string_equal(v->str, lit);
    assert_true(v->num == num);
}

/* ---- values ---- */

static const struct {
    const char *text;   /* "x = TEXT" */
    const char *str;    /* expected string or number literal */
    long long num;      /* -1: a string */
} scalar_cases[] = {
    {"'hello'", "hello", -1},
    {"\"hello\"", "hello", -1},
    {"''", "", -1},
    {"\"\"", "", -1},
    {"'it\"s'", "it\"s", -1},
    {"\"it's\"", "it's", -1},
    {"'# not a comment'", "# not a comment", -1},
    {"'a;b'", "a;b", -1},
    {"'a\\nb\\tc'", "a\nb\tc", -1},
    {"'\\r\\a\\b\\f\\v'", "\r\a\b\f\v", -1},
    {"'back\\\\slash'", "back\\slash", -1},
    {"'\\'q\\''", "'q'", -1},
    {"\"\\\"q\\\"\"", "\"q\"", -1},
    {"'\\x41\\x7a'", "Az", -1},
    {"'\\x4g'", "\x04g", -1},
    {"'\\x414'", "A4", -1},
    {"'\\101\\60\\0601'", "A001", -1},
    {"'\\303\\251'", "\303\251", -1},
    {"'caf\xc3\xa9'", "caf\xc3\xa9", -1},
    {"'multi\\nline'", "multi\nline", -1},
    {"0", "0", 0},
    {"512", "512", 512},
    {"007", "007", 7},
    {"0755", "0755", 0755},
    {"00", "00", 0},
    {"0x1f", "0x1f", 0x1f},
    {"0XFF", "0XFF", 255},
    {"0xDeadBeef", "0xDeadBeef", 0xdeadbeefLL},
    {"9223372036854775807", "9223372036854775807", INT64_MAX},
    {"0x7fffffffffffffff", "0x7fffffffffffffff", INT64_MAX},
};

static void test_scalars(void **state)
{
    (void)state;
    for (size_t i = 0; i < KX_ARRAY_SIZE(scalar_cases); i++) {
        AUTOFREE char *text = kx_asprintf("x = %s", scalar_cases[i].text);
        AUTOPTR(cfg_tree) t = parse_ok(text);
        assert_int_equal(t->n_settings, 1);
        assert_string_equal(t->settings[0].key, "x");
        assert_int_equal(t->settings[0].value.line, 1);
        if (scalar_cases[i].num < 0)
            assert_string(get(t, "x"), scalar_cases[i].str);
        else
            assert_number(get(t, "x"), scalar_cases[i].str, scalar_cases[i].num);
    }
}

static void test_keys_and_spacing(void **state)
{
    (void)state;
    AUTOPTR(cfg_tree) t = parse_ok("  _a1=1\n\tB_2\t=\t2  \nname='n'\r\nCamelCase = 'c'\r\n");
    assert_int_equal(t->n_settings, 4);
    assert_number(get(t, "_a1"), "1", 1);
    assert_number(get(t, "B_2"), "2", 2);
    assert_string(get(t, "name"), "n");
    assert_string(get(t, "CamelCase"), "c");
    assert_null(cfg_tree_get(t, "camelcase"));
    assert_null(cfg_tree_get(t, "missing"));
    assert_null(cfg_tree_get(NULL, "x"));
}

static void test_empty_inputs(void **state)
{
    (void)state;
    static const char *const texts[] = {
        "", "\n", "\n\n\n", "   \t ", "# just a comment", "# comment\n# another\n", ";",
        ";;;\n; ;", "\r\n\r\n",
    };
    for (size_t i = 0; i < KX_ARRAY_SIZE(texts); i++) {
        AUTOPTR(cfg_tree) t = parse_ok(texts[i]);
        assert_int_equal(t->n_settings, 0);
    }
    AUTOPTR(cfg_tree) t = cfg_tree_new(NULL);
    assert_null(t->file);
    assert_int_equal(cfg_parse_text(t, SRC, NULL, 0), 0);
    assert_int_equal(t->n_settings, 0);
    cfg_tree_free(NULL);
}

static void test_lists(void **state)
{
    (void)state;
    AUTOPTR(cfg_tree) t = parse_ok("empty = []\n"
                                   "empty2 = [\n\n]\n"
                                   "one = [ 'a' ]\n"
                                   "trailing = [ 'a', 'b', ]\n"
                                   "mixed = [ 1, 'two', [ 3, [ ] ], 0x4 ]\n"
                                   "disk = [\n"
                                   "    'file:/a.img,xvda,w',   # first\n"
                                   "\n"
                                   "    'file:/b.img,xvdb,r'\n"
                                   "    ,\n"
                                   "    [ 'n1',\n"
                                   "      'n2', ],\n"
                                   "]\n"
                                   "after = 1\n");
    assert_int_equal(t->n_settings, 7);
    assert_int_equal(get(t, "empty")->kind, CFG_LIST);
    assert_int_equal(get(t, "empty")->n_items, 0);
    assert_int_equal(get(t, "empty2")->n_items, 0);
    assert_int_equal(get(t, "one")->n_items, 1);
    assert_string(&get(t, "one")->items[0], "a");
    assert_int_equal(get(t, "trailing")->n_items, 2);
    assert_string(&get(t, "trailing")->items[1], "b");

    const cfg_value *m = get(t, "mixed");
    assert_int_equal(m->n_items, 4);
    assert_number(&m->items[0], "1", 1);
    assert_string(&m->items[1], "two");
    assert_int_equal(m->items[2].kind, CFG_LIST);
    assert_int_equal(m->items[2].n_items, 2);
    assert_number(&m->items[2].items[0], "3", 3);
    assert_int_equal(m->items[2].items[1].kind, CFG_LIST);
    assert_int_equal(m->items[2].items[1].n_items, 0);
    assert_number(&m->items[3], "0x4", 4);

    const cfg_value *d = get(t, "disk");
    assert_int_equal(d->line, 8);
    assert_int_equal(d->n_items, 3);
    assert_string(&d->items[0], "file:/a.img,xvda,w");
    assert_int_equal(d->items[0].line, 9);
    assert_string(&d->items[1], "file:/b.img,xvdb,r");
    assert_int_equal(d->items[1].line, 11);
    assert_int_equal(d->items[2].line, 13);
    assert_int_equal(d->items[2].n_items, 2);
    assert_string(&d->items[2].items[1], "n2");
    assert_int_equal(d->items[2].items[1].line, 14);
    assert_int_equal(cfg_tree_get(t, "after")->line, 16);
}

static void test_long_list(void **state)
{
    (void)state;
    kx_buf b = KX_BUF_INIT;
    kx_buf_add(&b, "l = [");
    for (int i = 0; i < 1000; i++)
        kx_buf_printf(&b, "%d,%s", i, i % 10 ? "" : "\n");
    kx_buf_add(&b, "]");
    AUTOPTR(cfg_tree) t = parse_ok(kx_buf_str(&b));
    kx_buf_dispose(&b);
    const cfg_value *l = get(t, "l");
    assert_int_equal(l->n_items, 1000);
    assert_true(l->items[999].num == 999);
    assert_int_equal(l->items[999].line, 101);
}

static void test_nesting_limit(void **state)
{
    (void)state;
    kx_buf b = KX_BUF_INIT;
    kx_buf_add(&b, "x = ");
    for (int i = 0; i < 64; i++)
        kx_buf_addc(&b, '[');
    for (int i = 0; i < 64; i++)
        kx_buf_addc(&b, ']');
    AUTOPTR(cfg_tree) t = parse_ok(kx_buf_str(&b));
    const cfg_value *v = get(t, "x");
    for (int i = 1; i < 64; i++) {
        assert_int_equal(v->n_items, 1);
        v = &v->items[0];
    }
    assert_int_equal(v->n_items, 0);

    kx_buf_clear(&b);
    kx_buf_add(&b, "\nx = ");
    for (int i = 0; i < 100000; i++)
        kx_buf_addc(&b, '[');
    assert_string_equal(parse_err(b.s, b.len), "guest.cfg:2: lists nested more than 64 deep");
    kx_buf_dispose(&b);
}

static void test_comments_and_separators(void **state)
{
    (void)state;
    AUTOPTR(cfg_tree) t = parse_ok("# header\n"
                                   "a = 1 # trailing comment\n"
                                   "b = 'x' ; c = 2;d=3\n"
                                   "   # indented comment\n"
                                   "e = [ 1, # in a list\n"
                                   "      2 ] ;\n"
                                   "f = 'last' # no newline at the end");
    assert_int_equal(t->n_settings, 6);
    assert_number(get(t, "a"), "1", 1);
    assert_string(get(t, "b"), "x");
    assert_number(get(t, "c"), "2", 2);
    assert_number(get(t, "d"), "3", 3);
    assert_int_equal(cfg_tree_get(t, "d")->line, 3);
    assert_int_equal(get(t, "e")->n_items, 2);
    assert_string(get(t, "f"), "last");
    assert_int_equal(cfg_tree_get(t, "f")->line, 7);

    AUTOPTR(cfg_tree) t2 = parse_ok("x = 1#c");
    assert_number(get(t2, "x"), "1", 1);
    AUTOPTR(cfg_tree) t3 = parse_ok("x = 'a' # comment with 'quotes' and [ and ; and \\q");
    assert_string(get(t3, "x"), "a");
}

/* xl's strings end on their line: one left open is reported where it starts, not at the
 * next quote further down (which made a confusing message about the following line). */
static void test_string_left_open(void **state)
{
    (void)state;
    const char *open_line = "a = 1\nname = \"b7\nmemory = 256\nvcpus = \"2\"\n";
    assert_string_equal(parse_err(open_line, strlen(open_line)),
                        "guest.cfg:2: unterminated string: the \" opened here is not closed on "
                        "this line (write a newline as \\n)");
    assert_string_equal(parse_err("a = 1\nb = 'x", 11),
                        "guest.cfg:2: unterminated string: the ' opened here is never closed");
    AUTOPTR(cfg_tree) t = parse_ok("a = 'one\\ntwo'\nb = 1\n");
    assert_string(get(t, "a"), "one\ntwo");
    assert_int_equal(cfg_tree_get(t, "b")->line, 2);
}

/* Every byte but NUL survives cfg_write_string and a parse back, quotes and backslashes
 * included: a value can never end its string early and add a setting of its own. */
static void test_write_string_round_trip(void **state)
{
    (void)state;
    char all[128 + 16];
    for (int i = 1; i < 128; i++)
        all[i - 1] = (char)i;
    strcpy(all + 127, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");   /* e-acute, euro, a smiley */
    const char *cases[] = {all, "", "a\";uplink=\"lo", "b\";drop;#", "\\", "\x01" "a", "'"};
    for (size_t i = 0; i < KX_ARRAY_SIZE(cases); i++) {
        for (int quote = 0; quote < 2; quote++) {
            kx_buf q = KX_BUF_INIT;
            cfg_write_string(&q, cases[i], quote ? '"' : '\'');
            assert_null(strchr(kx_buf_str(&q), '\n'));       /* one line, as xl's strings are */
            AUTOFREE char *text = kx_asprintf("k = %s\nother = 1\n", kx_buf_str(&q));
            AUTOPTR(cfg_tree) t = parse_ok(text);
            assert_string(get(t, "k"), cases[i]);
            assert_int_equal(t->n_settings, 2);
            kx_buf_dispose(&q);
        }
    }
}

/* ---- merging ---- */

static void test_last_wins(void **state)
{
    (void)state;
    AUTOPTR(cfg_tree) t = parse_ok("memory = 256\n"
                                   "name = 'a'\n"
                                   "memory = 512\n"
                                   "name = [ 'now', 'a list' ]\n"
                                   "memory = 0x400\n");
    assert_int_equal(t->n_settings, 2);
    assert_string_equal(t->settings[0].key, "memory");   /* keeps its first position */
    assert_string_equal(t->settings[1].key, "name");
    assert_int_equal(t->settings[0].line, 5);
    assert_int_equal(t->settings[0].value.line, 5);
    assert_number(get(t, "memory"), "0x400", 1024);
    assert_int_equal(t->settings[1].line, 4);
    assert_int_equal(get(t, "name")->n_items, 2);

    /* across calls too */
    assert_int_equal(cfg_parse_text(t, "other.cfg", "name = 'b'", 10), 0);
    assert_int_equal(t->n_settings, 2);
    assert_string(get(t, "name"), "b");
    assert_int_equal(t->settings[1].line, 1);
}

static void test_append(void **state)
{
    (void)state;
    AUTOPTR(cfg_tree) t = parse_ok("extra = 'console=hvc0'\n"
                                   "extra += ' root=/dev/xvda1'\n"
                                   "disk = [ 'a' ]\n"
                                   "disk += [ 'b', [ 'c' ] ]\n"
                                   "disk += []\n"
                                   "fresh += 'first'\n"
                                   "freshl += [ 1 ]\n"
                                   "empty = []\n"
                                   "empty += [ 'x' ]\n"
                                   "n += 5\n"
                                   "extra += ''\n");
    assert_int_equal(t->n_settings, 6);
    assert_string(get(t, "extra"), "console=hvc0 root=/dev/xvda1");
    assert_int_equal(cfg_tree_get(t, "extra")->line, 11);
    assert_int_equal(get(t, "extra")->line, 1);
    const cfg_value *d = get(t, "disk");
    assert_int_equal(d->n_items, 3);
    assert_string(&d->items[0], "a");
    assert_string(&d->items[1], "b");
    assert_string(&d->items[2].items[0], "c");
    assert_int_equal(d->items[1].line, 4);
    assert_int_equal(cfg_tree_get(t, "disk")->line, 5);
    assert_string(get(t, "fresh"), "first");
    assert_int_equal(get(t, "freshl")->n_items, 1);
    assert_int_equal(get(t, "empty")->n_items, 1);
    assert_number(get(t, "n"), "5", 5);

    /* '=' after '+=' replaces */
    assert_int_equal(cfg_parse_text(t, SRC, "disk = [ 'z' ]", 14), 0);
    assert_int_equal(get(t, "disk")->n_items, 1);
}

/* ---- errors ---- */

static const struct {
    const char *text;
    const char *msg;
} error_cases[] = {
    {"memory foo", "guest.cfg:1: expected '=' after 'memory', found 'foo'"},
    {"\n\nmemory foo\n", "guest.cfg:3: expected '=' after 'memory', found 'foo'"},
    {"memory\n", "guest.cfg:1: expected '=' after 'memory', found end of line"},
    {"memory", "guest.cfg:1: expected '=' after 'memory', found end of input"},
    {"memory 'x'", "guest.cfg:1: expected '=' after 'memory', found a string"},
    {"memory : 5", "guest.cfg:1: expected '=' after 'memory', found ':'"},
    {"x == 1", "guest.cfg:1: expected a value for 'x', found '='"},
    {"x += += 1", "guest.cfg:1: expected a value for 'x', found '+='"},
    {"memory =\n", "guest.cfg:1: expected a value for 'memory', found end of line"},
    {"memory =", "guest.cfg:1: expected a value for 'memory', found end of input"},
    {"memory = ;", "guest.cfg:1: expected a value for 'memory', found ';'"},
    {"name = foo", "guest.cfg:1: expected a value for 'name', found 'foo'"},
    {"x = ]", "guest.cfg:1: expected a value for 'x', found ']'"},
    {"x = -1", "guest.cfg:1: expected a value for 'x', found '-'"},
    {"x = aaaaaaaaaabbbbbbbbbbccccccccccddddddddddeeeee",
     "guest.cfg:1: expected a value for 'x', found 'aaaaaaaaaabbbbbbbbbbccccccccccdddddddddd...'"},
    {"= 5", "guest.cfg:1: expected a setting name, found '='"},
    {"a = 1\n5 = 5", "guest.cfg:2: expected a setting name, found '5'"},
    {"'a' = 5", "guest.cfg:1: expected a setting name, found a string"},
    {"[ 1 ]", "guest.cfg:1: expected a setting name, found '['"},
    {"x = 1;; y", "guest.cfg:1: expected '=' after 'y', found end of input"},
    {"\x01", "guest.cfg:1: expected a setting name, found '\\x01'"},
    {"caf\xc3\xa9 = 1", "guest.cfg:1: expected '=' after 'caf', found '\\xc3'"},
    {"memory = 512 1024",
     "guest.cfg:1: expected ';' or end of line after the value of 'memory', found '1024'"},
    {"memory = 512 $", "guest.cfg:1: expected ';' or end of line after the value of 'memory', "
                       "found '$'"},
    {"x = 'a' + 'b'", "guest.cfg:1: expected ';' or end of line after the value of 'x', "
                      "found '+'"},
    {"x = 'a''b'", "guest.cfg:1: expected ';' or end of line after the value of 'x', "
                   "found a string"},
    {"x = [] []", "guest.cfg:1: expected ';' or end of line after the value of 'x', "
                  "found '['"},
    {"x = 1 # c\ny = 2 z", "guest.cfg:2: expected ';' or end of line after the value of 'y', "
                           "found 'z'"},
    {"x = 'abc", "guest.cfg:1: unterminated string: the ' opened here is never closed"},
    {"x = \"abc'", "guest.cfg:1: unterminated string: the \" opened here is never closed"},
    {"x = 'abc\\", "guest.cfg:1: unterminated string: the ' opened here is never closed"},
    {"x = 'abc\\'", "guest.cfg:1: unterminated string: the ' opened here is never closed"},
    {"a = 1\n\n\n\nkernel = '/boot/vmlinuz\n\nmemory = 512\n",
     "guest.cfg:5: unterminated string: the ' opened here is not closed on this line (write a "
     "newline as \\n)"},
    {"x = 'a\\qb'", "guest.cfg:1: unknown escape '\\q' in string"},
    {"a = 1\nx = 'caf\xe9'", "guest.cfg:2: string is not valid UTF-8 (byte 0xe9 at offset 3): "
                             "write it in UTF-8"},
    {"x = '\\xff'", "guest.cfg:1: string is not valid UTF-8 (byte 0xff at offset 0): write it "
                    "in UTF-8"},
    {"x = '\xed\xa0\x80'", "guest.cfg:1: string is not valid UTF-8 (byte 0xed at offset 0): "
                          "write it in UTF-8"},
    {"x = 'a\\\x01'", "guest.cfg:1: unknown escape in string: '\\' followed by byte 0x01"},
    {"x = 'a\\\nb'", "guest.cfg:1: unknown escape in string: '\\' followed by byte 0x0a"},
    {"\nx = 'a\\8'", "guest.cfg:2: unknown escape '\\8' in string"},
    {"x = '\\x'", "guest.cfg:1: escape '\\x' needs hex digits"},
    {"x = '\\xZZ'", "guest.cfg:1: escape '\\x' needs hex digits"},
    {"x = '\\400'", "guest.cfg:1: escape '\\400' is out of range"},
    {"x = '\\0'", "guest.cfg:1: escape '\\0' would put a NUL byte in the string"},
    {"x = 'a\\000b'", "guest.cfg:1: escape '\\000' would put a NUL byte in the string"},
    {"x = '\\x00'", "guest.cfg:1: escape '\\x00' would put a NUL byte in the string"},
    {"x = 09", "guest.cfg:1: invalid number '09'"},
    {"x = 0xZ", "guest.cfg:1: invalid number '0xZ'"},
    {"x = 0x", "guest.cfg:1: invalid number '0x'"},
    {"x = 12abc", "guest.cfg:1: invalid number '12abc'"},
    {"x = 1.5", "guest.cfg:1: invalid number '1.5'"},
    {"x = 1_000", "guest.cfg:1: invalid number '1_000'"},
    {"x = [ 1, 08 ]", "guest.cfg:1: invalid number '08'"},
    {"x = 99999999999999999999", "guest.cfg:1: number '99999999999999999999' is out of range"},
    {"x = 0x8000000000000000", "guest.cfg:1: number '0x8000000000000000' is out of range"},
    {"x = [", "guest.cfg:1: unterminated list (started at line 1)"},
    {"x = [ 'a',", "guest.cfg:1: unterminated list (started at line 1)"},
    {"a=1\nb=2\nc=3\nd=4\ne=5\nf=6\ng=7\ndisk = [ 'a',\n  'b'\n",
     "guest.cfg:9: unterminated list (started at line 8)"},
    {"x = [ [ 1 ]\n", "guest.cfg:1: unterminated list (started at line 1)"},
    {"x = [ 'a' 'b' ]", "guest.cfg:1: expected ',' or ']' after a list item, found a string"},
    {"x = [ 1 ; 2 ]", "guest.cfg:1: expected ',' or ']' after a list item, found ';'"},
    {"x = [ , ]", "guest.cfg:1: expected a value or ']' in list, found ','"},
    {"x = [ 'a',, ]", "guest.cfg:1: expected a value or ']' in list, found ','"},
    {"disk = [ 'a',\nmemory = 512\n",
     "guest.cfg:2: expected a value or ']' in list, found 'memory'"},
    {"memory = 512\nmemory += 5",
     "guest.cfg:2: '+=' cannot append a number to 'memory', which is a number"},
    {"k = 'a'\nk += [ 'b' ]", "guest.cfg:2: '+=' cannot append a list to 'k', which is a string"},
    {"k = [ 'a' ]\nk += 'b'", "guest.cfg:2: '+=' cannot append a string to 'k', which is a list"},
    {"k = 'a'\n\nk += 1", "guest.cfg:3: '+=' cannot append a number to 'k', which is a string"},
    {"k = 1\nk += 'a'", "guest.cfg:2: '+=' cannot append a string to 'k', which is a number"},
};

static void test_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < KX_ARRAY_SIZE(error_cases); i++) {
        const char *text = error_cases[i].text;
        const char *msg = parse_err(text, strlen(text));
        if (strcmp(msg, error_cases[i].msg) != 0)
            fail_msg("case %zu \"%s\":\n  got      %s\n  expected %s", i, text, msg,
                     error_cases[i].msg);
    }
}

#define NUL_CASE(s) {s, sizeof(s) - 1}

static void test_nul_bytes(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        size_t len;
    } cases[] = {
        NUL_CASE("a = 1\nb = \0"), NUL_CASE("a = 1\nb = '\0'"),
        NUL_CASE("a = 1\n# \0 in a comment"), NUL_CASE("a = 1\nb \0"),
        NUL_CASE("a = 1\nb = '\\\0'"), NUL_CASE("a = 1\n\0"), NUL_CASE("a = 1\nb = [ 1,\0 ]"),
    };
    for (size_t i = 0; i < KX_ARRAY_SIZE(cases); i++)
        assert_string_equal(parse_err(cases[i].text, cases[i].len),
                            "guest.cfg:2: NUL byte in input");
    /* the length bounds the text: the NUL after it is not read */
    AUTOPTR(cfg_tree) t = cfg_tree_new(SRC);
    assert_int_equal(cfg_parse_text(t, SRC, "a = 1\0garbage", 5), 0);
    assert_number(get(t, "a"), "1", 1);
    /* and the text need not be NUL-terminated there */
    assert_int_equal(cfg_parse_text(t, SRC, "b = 'xy'zzz", 8), 0);
    assert_string(get(t, "b"), "xy");
    assert_int_equal(cfg_parse_text(t, SRC, "c = 12345", 6), 0);
    assert_number(get(t, "c"), "12", 12);
}

static void test_error_keeps_tree_valid(void **state)
{
    (void)state;
    AUTOPTR(cfg_tree) t = cfg_tree_new(SRC);
    const char *text = "a = 1\nb = [ 'x', 'y'\nc = 2\n";
    assert_int_equal(cfg_parse_text(t, SRC, text, strlen(text)), -1);
    assert_string_equal(kx_err_msg(), "guest.cfg:3: expected ',' or ']' after a list item, "
                                      "found 'c'");
    assert_int_equal(t->n_settings, 1);
    assert_non_null(cfg_tree_get(t, "a"));
    assert_null(cfg_tree_get(t, "b"));
}

/* ---- overrides ---- */

static void test_overrides(void **state)
{
    (void)state;
    AUTOPTR(cfg_tree) t = parse_ok("memory = 256\nname = 'file'\nextra = 'a'\n");
    static const char *const ovs[] = {
        "memory=512", "name=foo", "kernel=/boot/vmlinuz", "disk=['file:/a.img,xvda,w', 'b',]",
        "extra+= ' b'", "cmdline=\"console=hvc0 root=/dev/xvda1\"", "cpus=0-3", "maxmem=512M",
        " vcpus = 4 ", "on_crash = preserve ", "empty=", "hex=0x10", "semi=1;2", "hash=a#b",
        "eq=a=b", "num=5 # comment", "q=it's", "list+=['x']", "list+=[ 'y' ]",
    };
    for (size_t i = 0; i < KX_ARRAY_SIZE(ovs); i++)
        if (cfg_parse_override(t, ovs[i]) != 0)
            fail_msg("override \"%s\" failed: %s", ovs[i], kx_err_msg());
    assert_number(get(t, "memory"), "512", 512);
    assert_int_equal(t->settings[0].line, 1);
    assert_string_equal(t->settings[0].key, "memory");
    assert_string(get(t, "name"), "foo");
    assert_string(get(t, "kernel"), "/boot/vmlinuz");
    assert_int_equal(get(t, "disk")->n_items, 2);
    assert_string(&get(t, "disk")->items[0], "file:/a.img,xvda,w");
    assert_string(get(t, "extra"), "a b");
    assert_string(get(t, "cmdline"), "console=hvc0 root=/dev/xvda1");
    assert_string(get(t, "cpus"), "0-3");
    assert_string(get(t, "maxmem"), "512M");
    assert_number(get(t, "vcpus"), "4", 4);
    assert_string(get(t, "on_crash"), "preserve");
    assert_string(get(t, "empty"), "");
    assert_number(get(t, "hex"), "0x10", 16);
    assert_string(get(t, "semi"), "1;2");
    assert_string(get(t, "hash"), "a#b");
    assert_string(get(t, "eq"), "a=b");
    assert_number(get(t, "num"), "5", 5);
    assert_string(get(t, "q"), "it's");
    assert_int_equal(get(t, "list")->n_items, 2);
    assert_string(&get(t, "list")->items[1], "y");
}

static const struct {
    const char *assignment;
    const char *msg;
} override_errors[] = {
    {"memory", "<command line>:1: expected KEY=VALUE, found 'memory'"},
    {"", "<command line>:1: expected KEY=VALUE, found ''"},
    {"=5", "<command line>:1: expected a setting name before '=', found ''"},
    {"+=5", "<command line>:1: expected a setting name before '=', found ''"},
    {"9x=1", "<command line>:1: expected a setting name before '=', found '9x'"},
    {"a b=1", "<command line>:1: expected a setting name before '=', found 'a b'"},
    {"a.b=1", "<command line>:1: expected a setting name before '=', found 'a.b'"},
    {"extra='console=hvc0", "<command line>:1: unterminated string: the ' opened here is never "
                            "closed"},
    {"disk=['a'", "<command line>:1: unterminated list (started at line 1)"},
    {"disk=[a]", "<command line>:1: expected a value or ']' in list, found 'a'"},
    {"x='a' b", "<command line>:1: expected end of input after the value, found 'b'"},
    {"x='\\q'", "<command line>:1: unknown escape '\\q' in string"},
    {"memory+=5", "<command line>:1: '+=' cannot append a number to 'memory', which is a "
                  "number"},
    {"name+=[ 'x' ]", "<command line>:1: '+=' cannot append a list to 'name', which is a "
                      "string"},
    {"memory+=x", "<command line>:1: '+=' cannot append a string to 'memory', which is a "
                  "number"},
};

static void test_override_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < KX_ARRAY_SIZE(override_errors); i++) {
        AUTOPTR(cfg_tree) t = parse_ok("memory = 256\nname = 'n'\n");
        kx_err_clear();
        assert_int_equal(cfg_parse_override(t, override_errors[i].assignment), -1);
        assert_int_equal(kx_err_code(), KXL_ERR_CONFIG);
        if (strcmp(kx_err_msg(), override_errors[i].msg) != 0)
            fail_msg("override \"%s\":\n  got      %s\n  expected %s",
                     override_errors[i].assignment, kx_err_msg(), override_errors[i].msg);
        assert_number(get(t, "memory"), "256", 256);
    }
}

static void test_override_fallback_records_no_error(void **state)
{
    (void)state;
    AUTOPTR(cfg_tree) t = cfg_tree_new(SRC);
    kx_err_clear();
    assert_int_equal(cfg_parse_override(t, "name=foo"), 0);
    assert_string_equal(kx_err_msg(), "");
    assert_int_equal(kx_err_code(), KXL_ERR_NONE);
}

/* ---- files ---- */

static const char sample_cfg[] =
    "# A typical xl.cfg\n"
    "name = \"guest1\"\n"
    "type = 'hvm'\n"
    "memory = 1024\n"
    "maxmem = 0x800\n"
    "vcpus = 2; cpus = \"0-3\"\n"
    "disk = [ 'format=raw, vdev=xvda, access=rw, target=/srv/guest1.img',\n"
    "         'file:/srv/iso/install.iso,hdc:cdrom,r', ]\n"
    "vif = [ 'mac=00:16:3e:00:00:01,bridge=xenbr0' ]\n"
    "extra = 'console=hvc0'\n"
    "extra += ' quiet'\n"
    "on_crash = 'restart' # comment at the end, no newline";

/* Writes data to a new temporary file; the caller unlinks and frees the path. */
static char *write_temp(const char *data, size_t len)
{
    char *path = kx_strdup("/tmp/test_cfg_parse.XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
    return path;
}

static void test_file(void **state)
{
    (void)state;
    AUTOFREE char *path = write_temp(sample_cfg, sizeof(sample_cfg) - 1);
    AUTOPTR(cfg_tree) t = cfg_tree_new(path);
    int r = cfg_parse_file(t, path);
    unlink(path);
    if (r != 0)
        fail_msg("%s", kx_err_msg());
    assert_int_equal(t->n_settings, 10);
    assert_string(get(t, "name"), "guest1");
    assert_number(get(t, "maxmem"), "0x800", 2048);
    assert_string(get(t, "cpus"), "0-3");
    assert_int_equal(get(t, "disk")->n_items, 2);
    assert_int_equal(get(t, "disk")->items[1].line, 8);
    assert_string(get(t, "extra"), "console=hvc0 quiet");
    assert_string(get(t, "on_crash"), "restart");
    assert_int_equal(cfg_tree_get(t, "on_crash")->line, 12);
}

static void test_file_errors(void **state)
{
    (void)state;
    AUTOPTR(cfg_tree) t = cfg_tree_new("x.cfg");
    assert_int_equal(cfg_parse_file(t, "/nonexistent/dir/x.cfg"), -1);
    assert_string_equal(kx_err_msg(),
                        "cannot read '/nonexistent/dir/x.cfg': No such file or directory");
    assert_int_equal(cfg_parse_file(t, "/"), -1);
    assert_string_equal(kx_err_msg(), "/: not a regular file (a config is a file of settings)");
    /* /dev/zero made kxl grow to gigabytes; a file over the limit is refused unread */
    assert_int_equal(cfg_parse_file(t, "/dev/zero"), -1);
    assert_string_equal(kx_err_msg(),
                        "/dev/zero: not a regular file (a config is a file of settings)");
    AUTOFREE char *huge = kx_malloc0(CFG_MAX_BYTES + 2);
    memset(huge, '#', CFG_MAX_BYTES + 1);
    AUTOFREE char *huge_path = write_temp(huge, CFG_MAX_BYTES + 1);
    assert_int_equal(cfg_parse_file(t, huge_path), -1);
    unlink(huge_path);
    AUTOFREE char *want_huge = kx_asprintf("%s: larger than the 1024 KiB a config may have",
                                           huge_path);
    assert_string_equal(kx_err_msg(), want_huge);

    static const char bad[] = "memory = 512\n\nvcpus 2\n";
    AUTOFREE char *path = write_temp(bad, sizeof(bad) - 1);
    int r = cfg_parse_file(t, path);
    unlink(path);
    assert_int_equal(r, -1);
    AUTOFREE char *want = kx_asprintf("%s:3: expected '=' after 'vcpus', found '2'", path);
    assert_string_equal(kx_err_msg(), want);
    assert_int_equal(kx_err_code(), KXL_ERR_CONFIG);
}

/* A config given as text (kxld's POST /api/v1/domains {"config": ...}) is read as a file is,
 * its messages naming the source and line; its files are checked when asked. */
static void test_load_text(void **state)
{
    (void)state;
    static const char good[] = "name = \"t1\"\nmemory = 128\nkernel = \"/k\"\n";
    kxl_domcfg *cfg = cfg_load_text("body", good, sizeof(good) - 1, 2, 0);
    if (!cfg)
        fail_msg("%s", kx_err_msg());
    assert_string_equal(cfg->name, "t1");
    assert_int_equal(cfg->memory_mib, 128);
    assert_string_equal(cfg->source_file, "body");
    kxl_domcfg_free(cfg);

    static const char bad[] = "name = \"t1\"\n\nmemory = \"lots\"\n";
    assert_null(cfg_load_text("body", bad, sizeof(bad) - 1, 2, 0));
    assert_int_equal(kx_err_code(), KXL_ERR_CONFIG);
    assert_true(strncmp(kx_err_msg(), "body:3: ", 8) == 0);
    static const char syntax[] = "name = \"t1\"\nvcpus 2\n";
    assert_null(cfg_load_text("body", syntax, sizeof(syntax) - 1, 2, 0));
    assert_string_equal(kx_err_msg(), "body:2: expected '=' after 'vcpus', found '2'");
    static const char missing[] = "name = \"t1\"\nkernel = \"/nonexistent/k\"\n";
    assert_non_null(cfg = cfg_load_text("body", missing, sizeof(missing) - 1, 2, 0));
    kxl_domcfg_free(cfg);
    assert_null(cfg_load_text("body", missing, sizeof(missing) - 1, 2, CFG_LOAD_CHECK_FILES));
    assert_true(strncmp(kx_err_msg(), "body:2: kernel '/nonexistent/k'", 31) == 0);
}

/* Appending to one key many times is linear: 1 MiB of `+=` lines (a string key and a list
 * key, 65,536 appends each) gives the whole value. Quadratic appends took 26 s for 5 MB;
 * the cap bounds the input, this bounds the work per byte. */
static void test_many_appends(void **state)
{
    (void)state;
    kx_buf b = KX_BUF_INIT;
    for (int i = 0; i < 65536; i++)
        kx_buf_add(&b, "s+='ab'\nl+=[1]\n");
    assert_true(b.len < CFG_MAX_BYTES);
    AUTOPTR(cfg_tree) t = parse_ok(kx_buf_str(&b));
    const cfg_value *s = get(t, "s"), *l = get(t, "l");
    assert_int_equal(strlen(s->str), 2 * 65536);
    assert_int_equal(l->n_items, 65536);
    assert_string_equal(l->items[65535].str, "1");
    kx_buf_dispose(&b);
}

/* ---- robustness ---- */

static uint32_t rng_state = 12345;

static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

/* Parses data and checks the contract: 0, or -1 with one line "SOURCE:LINE: ..." set. */
static void parse_any(const char *data, size_t len)
{
    AUTOPTR(cfg_tree) t = cfg_tree_new(SRC);
    kx_err_clear();
    int r = cfg_parse_text(t, SRC, data, len);
    if (r == 0) {
        for (size_t i = 0; i < t->n_settings; i++)
            assert_true(t->settings[i].line >= 1);
        return;
    }
    assert_int_equal(r, -1);
    assert_int_equal(kx_err_code(), KXL_ERR_CONFIG);
    assert_true(kx_startswith(kx_err_msg(), SRC ":"));
    assert_null(strchr(kx_err_msg(), '\n'));
}

static void test_fuzz(void **state)
{
    (void)state;
    static const char alphabet[] = "ab_09x=+[],;#'\"\\\n \t7fZ.-";
    char buf[256];
    /* truncations and single-byte mutations of a realistic file */
    size_t n = sizeof(sample_cfg) - 1;
    for (size_t len = 0; len <= n; len++)
        parse_any(sample_cfg, len);
    for (int i = 0; i < 20000; i++) {
        char *copy = kx_strndup(sample_cfg, n);
        for (int k = 0; k < 3; k++)
            copy[rnd() % n] = (char)(rnd() % 4 ? alphabet[rnd() % (sizeof(alphabet) - 1)]
                                                : (char)rnd());
        parse_any(copy, n);
        free(copy);
    }
    /* random strings over the syntax alphabet and over all bytes */
    for (int i = 0; i < 50000; i++) {
        size_t len = rnd() % sizeof(buf);
        bool bytes = i % 4 == 0;
        for (size_t k = 0; k < len; k++)
            buf[k] = bytes ? (char)rnd() : alphabet[rnd() % (sizeof(alphabet) - 1)];
        parse_any(buf, len);
    }
}

static void test_fuzz_overrides(void **state)
{
    (void)state;
    static const char alphabet[] = "ab_09x=+[],;#'\"\\ 7.-/";
    char buf[64];
    for (int i = 0; i < 20000; i++) {
        size_t len = rnd() % sizeof(buf);
        for (size_t k = 0; k < len; k++)
            buf[k] = i % 3 == 0 ? (char)(rnd() % 255 + 1)
                                : alphabet[rnd() % (sizeof(alphabet) - 1)];
        buf[len] = '\0';
        AUTOPTR(cfg_tree) t = cfg_tree_new(SRC);
        if (cfg_parse_override(t, buf) < 0) {
            assert_true(kx_startswith(kx_err_msg(), "<command line>:1: "));
            assert_int_equal(t->n_settings, 0);
        } else {
            assert_int_equal(t->n_settings, 1);
        }
    }
}

/* A domain.json (cfg_json.c) that is refused midway: null where a string belongs, a disk or
 * vif whose later member is bad after earlier ones were taken; each says why and leaks
 * nothing (the ASan build checks). Found by tests/fuzz/fuzz_cfg. */
static void test_domain_json_refused(void **state)
{
    (void)state;
    static const struct {
        const char *json, *msg;
    } cases[] = {
        {"{\"name\": \"a\", \"serial\": [\"pty\", null]}",
         "domain JSON: 'serial' must be an array of strings"},
        {"{\"name\": \"a\", \"cpus\": [null]}", "domain JSON: 'cpus' must be an array of strings"},
        {"{\"name\": \"a\", \"disks\": [{\"target\": \"/x\", \"vdev\": \"xvda\", "
         "\"format\": \"?\"}]}",
         "domain JSON: a disk has a bad format, backend, bus or vdev"},
        {"{\"name\": \"a\", \"vifs\": [{\"mac\": \"00:16:3e:00:00:01\", \"type\": 7}]}",
         "domain JSON: 'type' must be a string"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_object *o = json_tokener_parse(cases[i].json);
        assert_non_null(o);
        kx_err_clear();
        assert_null(cfg_domcfg_from_json(o));
        assert_string_equal(kx_err_msg(), cases[i].msg);
        json_object_put(o);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scalars),
        cmocka_unit_test(test_keys_and_spacing),
        cmocka_unit_test(test_empty_inputs),
        cmocka_unit_test(test_lists),
        cmocka_unit_test(test_long_list),
        cmocka_unit_test(test_nesting_limit),
        cmocka_unit_test(test_comments_and_separators),
        cmocka_unit_test(test_string_left_open),
        cmocka_unit_test(test_write_string_round_trip),
        cmocka_unit_test(test_last_wins),
        cmocka_unit_test(test_append),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_nul_bytes),
        cmocka_unit_test(test_error_keeps_tree_valid),
        cmocka_unit_test(test_overrides),
        cmocka_unit_test(test_override_errors),
        cmocka_unit_test(test_override_fallback_records_no_error),
        cmocka_unit_test(test_file),
        cmocka_unit_test(test_file_errors),
        cmocka_unit_test(test_load_text),
        cmocka_unit_test(test_many_appends),
        cmocka_unit_test(test_fuzz),
        cmocka_unit_test(test_fuzz_overrides),
        cmocka_unit_test(test_domain_json_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
