/* http_pam.h - the web UI's password login: a user and password checked by PAM (service
 * pam_service, "kxld": etc/pam.d/kxld in the source), for root and the members of one group
 * (login_group, "kxl": the group that may use the API's socket). Blocking: called from a
 * worker thread. */
#pragma once

/* 0 when user may log in with password: PAM authenticates them and their account is valid,
 * and they are root or a member of group. -1 with kx_err(KXL_ERR_PERMISSION) otherwise, the
 * same message whatever was wrong (a stranger learns nothing of which users exist). */
int http_pam_login(const char *service, const char *group, const char *user,
                   const char *password);
