/* reloc_allow.h - kxld.conf's relocation_hosts_allow: a list of POSIX extended regular
 * expressions, each matched from the start of a name as xend's re.match did (end one with $
 * to match a whole name), against the names a relocation peer proved: its certificate's CN
 * and subjectAltNames, and the address it connects from. Pure: no I/O. */
#pragma once

#include <regex.h>
#include <stdbool.h>

#include "util/buf.h"

typedef struct {
    regex_t *re;
    char **patterns;   /* as written, for the log */
    size_t n;          /* 0: every peer the CA vouches for */
} reloc_allow;

/* 0 when pattern compiles; else -1 with *why_r (caller frees) saying what is wrong. */
int reloc_allow_check(const char *pattern, char **why_r);
/* Compiles the NULL-terminated patterns; -1 with kx_err(KXL_ERR_CONFIG) for a bad one. */
int reloc_allow_init(reloc_allow *a, char *const *patterns);
/* Whether a pattern matches one of names; *pattern_r (may be NULL) gets the pattern that did
 * ("" when the list is empty). */
bool reloc_allow_match(const reloc_allow *a, const kx_strv *names, const char **pattern_r);
/* Idempotent. */
void reloc_allow_dispose(reloc_allow *a);
