/* http_pam.c - PAM for the web UI's login (http_pam.h). The conversation answers PAM's one
 * hidden prompt with the password and nothing else; the group check reads the group database,
 * so a user's supplementary groups count as they do for the socket. */
#include "daemon/http_pam.h"

#include <grp.h>
#include <pwd.h>
#include <security/pam_appl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/err.h"

/* Answers the password to hidden prompts; messages are ignored; anything else fails. */
static int converse(int n, const struct pam_message **msg, struct pam_response **resp_r,
                    void *password)
{
    struct pam_response *resp = calloc((size_t)n, sizeof(*resp));
    if (!resp)
        return PAM_BUF_ERR;
    for (int i = 0; i < n; i++) {
        if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF) {
            resp[i].resp = strdup(password);
        } else if (msg[i]->msg_style != PAM_ERROR_MSG && msg[i]->msg_style != PAM_TEXT_INFO) {
            for (int j = 0; j < i; j++)
                free(resp[j].resp);
            free(resp);
            return PAM_CONV_ERR;
        }
    }
    *resp_r = resp;
    return PAM_SUCCESS;
}

/* Whether user is root or in group (as primary or supplementary group). */
static bool user_in_group(const char *user, const char *group)
{
    char buf[16384];
    struct passwd pw, *p = NULL;
    struct group gr, *g = NULL;
    if (getpwnam_r(user, &pw, buf, sizeof(buf), &p) != 0 || !p)
        return false;
    if (p->pw_uid == 0)
        return true;
    gid_t primary = p->pw_gid;
    if (getgrnam_r(group, &gr, buf, sizeof(buf), &g) != 0 || !g)
        return false;
    if (g->gr_gid == primary)
        return true;
    for (char **m = g->gr_mem; *m; m++)
        if (strcmp(*m, user) == 0)
            return true;
    return false;
}

int http_pam_login(const char *service, const char *group, const char *user,
                   const char *password)
{
    struct pam_conv conv = {converse, (void *)password};
    pam_handle_t *pam = NULL;
    int rc = pam_start(service, user, &conv, &pam);
    if (rc == PAM_SUCCESS)
        rc = pam_authenticate(pam, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
    if (rc == PAM_SUCCESS)
        rc = pam_acct_mgmt(pam, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
    if (pam)
        pam_end(pam, rc);
    if (rc != PAM_SUCCESS || !user_in_group(user, group)) {
        kx_info("login of '%s' refused: %s", user,
                rc != PAM_SUCCESS ? "PAM said no" : "not root nor in the login group");
        kx_err(KXL_ERR_PERMISSION, "login refused: wrong user or password, or a user who may "
               "not use kxl");
        return -1;
    }
    return 0;
}
