/* cfg_cpuid.h - xl's cpuid = "host,aes=0,tm=1,family=6": libxl's named-feature form, as the
 * feature switches of QEMU's -cpu model. Pure: no I/O. */
#pragma once

/* Reads the string form; where ("FILE:LINE") places messages. *features_r gets QEMU's
 * properties ("aes=off,tm=on,family=6"; NULL when the config changes nothing). Values: 1 sets a
 * feature, 0 clears it, x, k and s keep what the CPU model has (with a warning for k and s,
 * which only KVM's host model can pass through). Xen's numeric fields other than family,
 * model and stepping are ignored with a warning. 0, or -1 with kx_err. */
int cfg_cpuid_parse(const char *spec, const char *where, char **features_r);
