/* reloc_allow.c - the relocation server's hosts-allow list: regular expressions anchored at
 * the start (xend's re.match), matched against a peer's proven names. */
#include "tls/reloc_allow.h"

#include <stdlib.h>

#include "util/err.h"

static int compile(regex_t *re, const char *pattern, char **why_r)
{
    char *anchored = kx_asprintf("^(%s)", pattern);
    int rc = regcomp(re, anchored, REG_EXTENDED | REG_NOSUB);
    free(anchored);
    if (rc == 0)
        return 0;
    char msg[128];
    regerror(rc, re, msg, sizeof(msg));
    *why_r = kx_asprintf("'%s' is not a regular expression (%s)", pattern, msg);
    return -1;
}

int reloc_allow_check(const char *pattern, char **why_r)
{
    regex_t re;
    if (compile(&re, pattern, why_r) < 0)
        return -1;
    regfree(&re);
    return 0;
}

int reloc_allow_init(reloc_allow *a, char *const *patterns)
{
    *a = (reloc_allow){0};
    size_t n = 0;
    while (patterns && patterns[n])
        n++;
    a->re = kx_malloc0((n + 1) * sizeof(*a->re));
    a->patterns = kx_malloc0((n + 1) * sizeof(char *));
    for (; a->n < n; a->n++) {
        char *why = NULL;
        if (compile(&a->re[a->n], patterns[a->n], &why) < 0) {
            kx_err(KXL_ERR_CONFIG, "relocation_hosts_allow: %s", why);
            free(why);
            reloc_allow_dispose(a);
            return -1;
        }
        a->patterns[a->n] = kx_strdup(patterns[a->n]);
    }
    return 0;
}

bool reloc_allow_match(const reloc_allow *a, const kx_strv *names, const char **pattern_r)
{
    if (pattern_r)
        *pattern_r = "";
    if (a->n == 0)
        return true;
    for (size_t i = 0; i < a->n; i++)
        for (size_t k = 0; k < names->n; k++)
            if (regexec(&a->re[i], names->v[k], 0, NULL, 0) == 0) {
                if (pattern_r)
                    *pattern_r = a->patterns[i];
                return true;
            }
    return false;
}

void reloc_allow_dispose(reloc_allow *a)
{
    for (size_t i = 0; i < a->n; i++) {
        regfree(&a->re[i]);
        free(a->patterns[i]);
    }
    free(a->re);
    free(a->patterns);
    *a = (reloc_allow){0};
}
