/* sysctl.h - reading and writing network sysctls under /proc/sys/net. */
#pragma once

/* PATH is relative to /proc/sys/net, with '/' between parts, e.g. "ipv4/ip_forward" or
 * "ipv4/conf/vif1.0/proxy_arp" (dots in interface names are fine). It must not be absolute or
 * contain empty, "." or ".." parts. The sysctls of the calling thread's network namespace are
 * meant. */

/* Writes VALUE. Returns 0, or -1 with kx_err "cannot set net sysctl 'PATH' to 'VALUE': WHY". */
int net_sysctl_set(const char *path, const char *value);
/* Reads the value without its trailing newline into *value_r (caller frees).
 * Returns 0, or -1 with kx_err. */
int net_sysctl_get(const char *path, char **value_r);
