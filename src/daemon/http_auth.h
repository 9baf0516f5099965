/* http_auth.h - the TCP listener's bearer tokens: the token file, and checking an
 * Authorization header against its tokens in constant time (pure). */
#pragma once

#include <stdbool.h>

#include "util/buf.h"

/* Shortest token accepted in a token file: a guessable token is no authentication. */
#define HTTP_TOKEN_MIN 16

/* Whether authorization (an Authorization header's value) is "Bearer TOKEN" with one of
 * tokens. The time taken does not depend on how much of a token matched. */
bool http_bearer_ok(const char *authorization, const kx_strv *tokens);

/* Whether token (a whole word) is one of tokens, in constant time as above. */
bool http_token_ok(const char *token, const kx_strv *tokens);
/* Whether a and b (NUL-terminated; NULL is unequal to all) are the same, in a time that does
 * not depend on where they differ. */
bool http_equal_ct(const char *a, const char *b);

/* The tokens of the file at path: one a line; blank lines and lines starting with '#' are
 * skipped. -1 with kx_err(KXL_ERR_CONFIG) when it cannot be read, when its group or others
 * may read or write it (mode & 077), when it has no token, or a token is shorter than
 * HTTP_TOKEN_MIN or holds a space. *tokens_r is filled only on success. */
int http_tokens_load(const char *path, kx_strv *tokens_r);
