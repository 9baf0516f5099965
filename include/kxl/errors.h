/* errors.h - the error codes of libkxl: one enum for every hop an error takes (library call,
 * a supervisor's control socket, later HTTP), so a front end derives its exit code or status
 * from the code and shows the message as it was written where the error happened. */
#pragma once

typedef enum {
    KXL_ERR_NONE = 0,
    KXL_ERR_INTERNAL,    /* a system call failed, or kxl itself is wrong */
    KXL_ERR_CONFIG,      /* a config file or KEY=VALUE override is wrong */
    KXL_ERR_INVALID,     /* a bad argument (name, path, value) */
    KXL_ERR_NOT_FOUND,   /* no such domain, file, snapshot, ... */
    KXL_ERR_EXISTS,      /* name already in use, ... */
    KXL_ERR_STATE,       /* not possible in the domain's current state */
    KXL_ERR_BUSY,        /* another operation holds what this one needs; try again later */
    KXL_ERR_PERMISSION,  /* the caller may not do this */
    KXL_ERR_HOST,        /* the host lacks something: a program, a device, space */
    KXL_ERR_QEMU,        /* QEMU refused or died */
    KXL_ERR__COUNT
} kxl_errcode;

/* The code's name on the wire ("not-found", ...); never NULL. */
const char *kxl_errcode_name(kxl_errcode code);
/* The code of a name; an unknown name (a newer peer) is KXL_ERR_INTERNAL. */
kxl_errcode kxl_errcode_from_name(const char *name);
