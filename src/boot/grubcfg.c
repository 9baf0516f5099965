/* grubcfg.c - pure reader of a GRUB 2 grub.cfg: just enough of its shell-like syntax (quotes,
 * escapes, comments, ';', { } blocks) to build the menu tree and find the default entry. */
#include "boot/bootloader.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"

#define GRUB_MAX_DEPTH 16

/* A menuentry or submenu (or the root menu). */
typedef struct gnode gnode;
struct gnode {
    char *title;
    char *id;      /* --id / $menuentry_id_option, or NULL */
    bool submenu;
    char *kernel;  /* menuentry: the linux line's path and arguments */
    char *args;
    char *initrd;  /* menuentry: the initrd line's paths, separated by spaces */
    gnode **kids;  /* submenu and root: the entries in order */
    size_t nkids, cap;
};

typedef struct {
    const char *p;                       /* read position */
    int line;
    gnode root;
    gnode *blocks[GRUB_MAX_DEPTH];       /* open { } blocks: their menu node, NULL for others */
    int block_line[GRUB_MAX_DEPTH];
    int depth;
    kx_strv cmd;                         /* the words of the command being read */
    char *dflt;                          /* the last top-level default=, or NULL */
} gparser;

enum { TOK_WORD, TOK_END, TOK_EOF };

/* Words at the start of a command that belong to if/while syntax, not to the command. */
static const char *const keywords[] = {"then", "else", "do", NULL};
static const char *const linux_cmds[] = {"linux", "linux16", "linuxefi", NULL};
static const char *const initrd_cmds[] = {"initrd", "initrd16", "initrdefi", NULL};
/* menuentry/submenu options followed by a value; the title is the first other word */
static const char *const value_opts[] = {"--class", "--users", "--hotkey", "--source", NULL};
static const char *const id_opts[] = {"--id", "$menuentry_id_option", "${menuentry_id_option}",
                                      NULL};

static bool in_list(const char *w, const char *const *list)
{
    for (; *list; list++)
        if (kx_streq(w, *list))
            return true;
    return false;
}

void kx_bootentry_dispose(kx_bootentry *e)
{
    free(e->kernel);
    free(e->initrd);
    free(e->cmdline);
    free(e->title);
    e->kernel = e->initrd = e->cmdline = e->title = NULL;
}

static void gnode_dispose(gnode *n)
{
    for (size_t i = 0; i < n->nkids; i++) {
        gnode_dispose(n->kids[i]);
        free(n->kids[i]);
    }
    free(n->kids);
    free(n->title);
    free(n->id);
    free(n->kernel);
    free(n->args);
    free(n->initrd);
}

/* ---- words ------------------------------------------------------------------------------- */

/* Reads a quoted string whose opening quote q was just read. In double quotes a backslash
 * escapes " \ $ and newline, as in GRUB; single quotes take everything literally. */
static int read_quoted(gparser *g, kx_buf *w, char q)
{
    int start = g->line;
    for (;;) {
        char c = *g->p;
        if (c == '\0') {
            kx_err(KXL_ERR_CONFIG, "grub.cfg:%d: unterminated quoted string", start);
            return -1;
        }
        g->p++;
        if (c == q)
            return 0;
        if (q == '"' && c == '\\' && *g->p && strchr("\"\\$\n", *g->p)) {
            c = *g->p++;
            if (c == '\n') { /* a line continuation: dropped */
                g->line++;
                continue;
            }
        } else if (c == '\n') {
            g->line++;
        }
        kx_buf_addc(w, c);
    }
}

/* Skips blanks, line continuations and comments. */
static void skip_blanks(gparser *g)
{
    for (;;) {
        if (*g->p == ' ' || *g->p == '\t' || *g->p == '\r') {
            g->p++;
        } else if (g->p[0] == '\\' && g->p[1] == '\n') {
            g->p += 2;
            g->line++;
        } else if (*g->p == '#') {
            g->p += strcspn(g->p, "\n");
        } else {
            return;
        }
    }
}

/* Reads the next token: a word into w (*quoted_r: any part was quoted or escaped, so "{" is
 * then no brace), TOK_END for a newline or ';', TOK_EOF; -1 with kx_err on an open quote. */
static int next_token(gparser *g, kx_buf *w, bool *quoted_r)
{
    kx_buf_clear(w);
    kx_buf_add(w, "");
    *quoted_r = false;
    skip_blanks(g);
    if (*g->p == '\0')
        return TOK_EOF;
    if (*g->p == '\n' || *g->p == ';') {
        g->line += *g->p == '\n';
        g->p++;
        return TOK_END;
    }
    while (*g->p && !strchr(" \t\r\n;", *g->p)) {
        char c = *g->p++;
        if (c == '\'' || c == '"') {
            *quoted_r = true;
            if (read_quoted(g, w, c) < 0)
                return -1;
        } else if (c == '\\' && *g->p) {
            *quoted_r = true;
            c = *g->p++;
            if (c == '\n')
                g->line++;
            else
                kx_buf_addc(w, c);
        } else {
            kx_buf_addc(w, c);
        }
    }
    return TOK_WORD;
}

/* ---- commands and blocks ----------------------------------------------------------------- */

static size_t cmd_start(const kx_strv *cmd)
{
    size_t i = 0;
    while (i < cmd->n && in_list(cmd->v[i], keywords))
        i++;
    return i;
}

/* Words i.. joined by spaces. For kernel arguments (args), words with blanks go in double
 * quotes (the kernel's own syntax), and words that are a variable GRUB would expand, such as
 * Ubuntu's $vt_handoff, are left out. */
static char *join_words(const kx_strv *cmd, size_t i, bool args)
{
    kx_buf b = KX_BUF_INIT;
    kx_buf_add(&b, "");
    for (; i < cmd->n; i++) {
        const char *w = cmd->v[i];
        bool q = args && w[strcspn(w, " \t")];
        if (args && w[0] == '$')
            continue;
        kx_buf_printf(&b, "%s%s%s%s", b.len ? " " : "", q ? "\"" : "", w, q ? "\"" : "");
    }
    return kx_buf_steal(&b);
}

/* A command inside a menuentry: remembers its linux and initrd lines (the last ones). */
static void entry_cmd(gnode *n, const kx_strv *cmd, size_t i)
{
    if (i + 1 >= cmd->n)
        return;
    if (in_list(cmd->v[i], linux_cmds)) {
        free(n->kernel);
        free(n->args);
        n->kernel = kx_strdup(cmd->v[i + 1]);
        n->args = join_words(cmd, i + 2, true);
    } else if (in_list(cmd->v[i], initrd_cmds)) {
        free(n->initrd);
        n->initrd = join_words(cmd, i + 1, false);
    }
}

/* A top-level command: remembers "set default=X" and "default=X", except one-shot ones. */
static void top_cmd(gparser *g, size_t i)
{
    const char *w = g->cmd.v[i];
    if (kx_streq(w, "set") && i + 1 < g->cmd.n)
        w = g->cmd.v[i + 1];
    if (!kx_startswith(w, "default="))
        return;
    w += strlen("default=");
    if (strstr(w, "next_entry"))
        return;
    free(g->dflt);
    g->dflt = kx_strdup(w);
}

static void run_cmd(gparser *g)
{
    size_t i = cmd_start(&g->cmd);
    gnode *in = g->depth ? g->blocks[g->depth - 1] : NULL;
    if (i < g->cmd.n && g->depth == 0)
        top_cmd(g, i);
    else if (i < g->cmd.n && in && !in->submenu)
        entry_cmd(in, &g->cmd, i);
    kx_strv_dispose(&g->cmd);
}

static gnode *menu_node_new(const kx_strv *cmd, size_t i)
{
    gnode *n = kx_malloc0(sizeof(*n));
    n->submenu = kx_streq(cmd->v[i], "submenu");
    for (i++; i < cmd->n; i++) {
        const char *w = cmd->v[i];
        if (in_list(w, id_opts) && i + 1 < cmd->n) {
            free(n->id);
            n->id = kx_strdup(cmd->v[++i]);
        } else if (in_list(w, value_opts)) {
            i++;
        } else if (!n->title && !kx_startswith(w, "--")) {
            n->title = kx_strdup(w);
        }
    }
    if (!n->title)
        n->title = kx_strdup("");
    return n;
}

/* "{" ends the command before it: a menuentry or submenu directly in the root menu or a
 * submenu becomes a node; anything else (function, menuentry in a function) is a plain block. */
static int block_open(gparser *g)
{
    size_t i = cmd_start(&g->cmd);
    gnode *parent = g->depth ? g->blocks[g->depth - 1] : &g->root;
    gnode *n = NULL;

    if (g->depth == GRUB_MAX_DEPTH) {
        kx_err(KXL_ERR_CONFIG, "grub.cfg:%d: blocks nested too deeply", g->line);
        return -1;
    }
    if (i < g->cmd.n && (kx_streq(g->cmd.v[i], "menuentry") || kx_streq(g->cmd.v[i], "submenu"))
        && parent && (parent == &g->root || parent->submenu)) {
        n = menu_node_new(&g->cmd, i);
        if (parent->nkids == parent->cap) {
            parent->cap = parent->cap ? 2 * parent->cap : 8;
            parent->kids = kx_realloc(parent->kids, parent->cap * sizeof(*parent->kids));
        }
        parent->kids[parent->nkids++] = n;
    }
    g->block_line[g->depth] = g->line;
    g->blocks[g->depth++] = n;
    kx_strv_dispose(&g->cmd);
    return 0;
}

static int block_close(gparser *g)
{
    run_cmd(g);
    if (g->depth == 0) {
        kx_err(KXL_ERR_CONFIG, "grub.cfg:%d: '}' without '{'", g->line);
        return -1;
    }
    g->depth--;
    return 0;
}

static int parse(gparser *g)
{
    kx_buf w = KX_BUF_INIT;
    int r = 0;
    while (r == 0) {
        bool quoted;
        int tok = next_token(g, &w, &quoted);
        bool bare = tok == TOK_WORD && !quoted;
        if (tok < 0)
            r = -1;
        else if (bare && kx_streq(kx_buf_str(&w), "{"))
            r = block_open(g);
        else if (bare && kx_streq(kx_buf_str(&w), "}"))
            r = block_close(g);
        else if (tok == TOK_WORD)
            kx_strv_push(&g->cmd, kx_buf_str(&w));
        else
            run_cmd(g);
        if (tok == TOK_EOF)
            break;
    }
    kx_buf_dispose(&w);
    if (r == 0 && g->depth > 0) {
        kx_err(KXL_ERR_CONFIG, "grub.cfg:%d: block has no closing '}'",
               g->block_line[g->depth - 1]);
        r = -1;
    }
    return r;
}

/* ---- the default entry ------------------------------------------------------------------- */

/* The entry of menu m that one part of a default names: an index, a title or an id. */
static const gnode *find_kid(const gnode *m, const char *part, size_t len)
{
    if (len > 0 && strspn(part, "0123456789") >= len) {
        unsigned long idx = strtoul(part, NULL, 10);
        return idx < m->nkids ? m->kids[idx] : NULL;
    }
    for (size_t i = 0; i < m->nkids; i++) {
        const gnode *k = m->kids[i];
        if ((strlen(k->title) == len && strncmp(k->title, part, len) == 0) ||
            (k->id && strlen(k->id) == len && strncmp(k->id, part, len) == 0))
            return k;
    }
    return NULL;
}

/* A submenu stands for its first entry (GRUB opens it, whose own default is 0). */
static const gnode *first_entry(const gnode *n)
{
    while (n && n->submenu)
        n = n->nkids ? n->kids[0] : NULL;
    return n;
}

/* The entry dflt ("N", "N>M", titles or ids) names; entry 0 when it names nothing. */
static const gnode *pick_default(const gnode *root, const char *dflt)
{
    const gnode *n = root;
    const char *p = dflt ? dflt : "";
    while (*p && n) {
        size_t len = strcspn(p, ">");
        n = find_kid(n, p, len);
        p += len;
        if (*p == '>')
            p++;
    }
    n = n == root ? NULL : first_entry(n);
    return n ? n : first_entry(root->nkids ? root->kids[0] : NULL);
}

/* The value of key in a grubenv text ("key=value" lines), or NULL. Caller frees. */
static char *grubenv_get(const char *env, const char *key)
{
    size_t klen = strlen(key);
    for (const char *l = env; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        if (strncmp(l, key, klen) == 0 && l[klen] == '=')
            return kx_strndup(l + klen + 1, strcspn(l + klen + 1, "\n"));
    return NULL;
}

/* A path from a linux or initrd line without a GRUB device prefix: "(hd0,1)/vmlinuz". */
static const char *strip_device(const char *path)
{
    if (path[0] == '(' && strchr(path, ')'))
        return strchr(path, ')') + 1;
    return path;
}

/* The paths without their device prefixes; a word that is only a device names no file and
 * goes. NULL when no path is left. */
static char *strip_devices(const char *paths)
{
    kx_buf b = KX_BUF_INIT;
    for (const char *p = paths; *p;) {
        size_t len = strcspn(p, " ");
        AUTOFREE char *one = kx_strndup(p, len);
        const char *path = strip_device(one);
        if (*path)
            kx_buf_printf(&b, "%s%s", b.len ? " " : "", path);
        p += len + strspn(p + len, " ");
    }
    return b.len ? kx_buf_steal(&b) : NULL;
}

static int fill_entry(const gnode *n, kx_bootentry *e)
{
    if (!n->kernel) {
        kx_err(KXL_ERR_CONFIG, "grub.cfg: menu entry '%s' has no linux command", n->title);
        return -1;
    }
    const char *kernel = strip_device(n->kernel);
    AUTOFREE char *initrd = n->initrd ? strip_devices(n->initrd) : NULL;
    if (!*kernel) {
        kx_err(KXL_ERR_CONFIG, "grub.cfg: menu entry '%s' names a device but no kernel",
               n->title);
        return -1;
    }
    if (strchr(kernel, '$') || (initrd && strchr(initrd, '$'))) {
        kx_err(KXL_ERR_CONFIG, "grub.cfg: menu entry '%s' names its files with variables, which "
               "are not expanded here", n->title);
        return -1;
    }
    e->kernel = kx_strdup(kernel);
    e->initrd = TAKE_PTR(initrd);
    e->cmdline = kx_strdup(n->args);
    e->title = kx_strdup(n->title);
    return 0;
}

int grubcfg_default_entry_env(const char *text, const char *grubenv, kx_bootentry *e_r)
{
    gparser g = {.p = text, .line = 1};
    AUTOFREE char *saved = grubenv ? grubenv_get(grubenv, "saved_entry") : NULL;
    int r = parse(&g);
    kx_bootentry_dispose(e_r);
    if (r == 0) {
        const char *dflt = g.dflt;
        if (dflt && strchr(dflt, '$'))
            dflt = strstr(dflt, "saved_entry") ? saved : NULL;
        const gnode *n = pick_default(&g.root, dflt);
        if (!n) {
            kx_err(KXL_ERR_CONFIG, "grub.cfg: no menu entries");
            r = -1;
        } else {
            r = fill_entry(n, e_r);
        }
    }
    kx_strv_dispose(&g.cmd);
    free(g.dflt);
    gnode_dispose(&g.root);
    return r;
}

int grubcfg_default_entry(const char *text, kx_bootentry *e_r)
{
    return grubcfg_default_entry_env(text, NULL, e_r);
}
