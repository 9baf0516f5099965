/* http_auth.c - bearer tokens for the TCP listener. The comparison is constant-time (a timing
 * oracle would give the token away a byte at a time); the token file is held to the standard
 * of an ssh key: nobody but its owner may read it. */
#include "daemon/http_auth.h"

#include <ctype.h>
#include <strings.h>
#include <string.h>
#include <sys/stat.h>

#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"

/* Equal in time that depends on the lengths only, never on where the first difference is. */
static bool equal_ct(const char *given, size_t given_len, const char *want, size_t want_len)
{
    volatile unsigned char diff = given_len != want_len;
    for (size_t i = 0; i < want_len; i++)
        diff |= (unsigned char)want[i] ^ (unsigned char)(i < given_len ? given[i] : 0);
    return diff == 0;
}

bool http_equal_ct(const char *a, const char *b)
{
    return a && b && equal_ct(a, strlen(a), b, strlen(b));
}

bool http_bearer_ok(const char *authorization, const kx_strv *tokens)
{
    if (!authorization || !tokens || strncasecmp(authorization, "Bearer ", 7) != 0)
        return false;
    const char *t = authorization + 7;
    while (*t == ' ')
        t++;
    return http_token_ok(t, tokens);
}

bool http_token_ok(const char *token, const kx_strv *tokens)
{
    size_t len = token ? strcspn(token, " \t") : 0;
    if (!tokens || len == 0 || token[len] != '\0')
        return false;
    bool ok = false;
    for (size_t i = 0; i < tokens->n; i++)   /* every token: no early exit on a match */
        ok |= equal_ct(token, len, tokens->v[i], strlen(tokens->v[i]));
    return ok;
}

/* One line of the file: skipped (0), a token added (0), or -1 with kx_err. */
static int add_line(const char *path, int line, char *s, kx_strv *tokens)
{
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    while (isspace((unsigned char)*s))
        s++;
    if (!*s || *s == '#')
        return 0;
    if (strcspn(s, " \t") != strlen(s) || strlen(s) < HTTP_TOKEN_MIN) {
        kx_err(KXL_ERR_CONFIG, "token file '%s':%d: a token is one word of at least %d characters "
               "(make one with: openssl rand -hex 32)", path, line, HTTP_TOKEN_MIN);
        return -1;
    }
    kx_strv_push(tokens, s);
    return 0;
}

int http_tokens_load(const char *path, kx_strv *tokens_r)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        kx_err_errno(KXL_ERR_CONFIG, "token file '%s'", path);
        return -1;
    }
    if (st.st_mode & 077) {
        kx_err(KXL_ERR_CONFIG, "token file '%s' is open to others (mode %04o): chmod 600 it",
               path, (unsigned)(st.st_mode & 07777));
        return -1;
    }
    AUTOFREE char *text = kx_read_file(path, NULL);
    if (!text)
        return -1;
    kx_strv tokens = KX_STRV_INIT;
    int line = 1;
    for (char *s = text, *nl; s; s = nl ? nl + 1 : NULL, line++) {
        if ((nl = strchr(s, '\n')))
            *nl = '\0';
        if (add_line(path, line, s, &tokens) < 0) {
            kx_strv_dispose(&tokens);
            return -1;
        }
    }
    if (tokens.n == 0) {
        kx_err(KXL_ERR_CONFIG, "token file '%s' has no token (one a line; make one with: "
               "openssl rand -hex 32)", path);
        return -1;
    }
    *tokens_r = tokens;
    return 0;
}
