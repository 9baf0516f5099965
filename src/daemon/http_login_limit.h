/* http_login_limit.h - failed logins counted per peer address on the TCP listener: after
 * HTTP_LOGIN_MAX_FAILURES within HTTP_LOGIN_WINDOW_S, that address's logins are refused
 * without asking PAM until the window that began with its first failure has passed. Logins run
 * in worker threads: every call takes the limiter's lock. Pure apart from the clock given. */
#pragma once

#define HTTP_LOGIN_MAX_FAILURES 5
#define HTTP_LOGIN_WINDOW_S 60

typedef struct http_login_limit http_login_limit;

http_login_limit *http_login_limit_new(void);
void http_login_limit_free(http_login_limit *l);
/* Seconds before addr may try again at time now; 0: it may now. */
long long http_login_limit_wait(http_login_limit *l, const char *addr, long long now);
/* A failed login from addr at now, or a successful one (which forgets addr's failures). */
void http_login_limit_failed(http_login_limit *l, const char *addr, long long now);
void http_login_limit_succeeded(http_login_limit *l, const char *addr);
