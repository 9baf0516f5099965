/* cli.h - the command table of the kxl program and what commands share. */
#pragma once

#include <stdbool.h>

#include "cli/exit_status.h"
#include "kxl/kxl.h"
#include "kxl/ops.h"

typedef struct {
    kxl_paths paths;
    bool dryrun;        /* -N: print what would be done */
    int verbose;        /* -v */
} cli_ctx;

typedef struct {
    const char *name;    /* NULL: the command of op */
    int (*fn)(cli_ctx *ctx, int argc, char **argv);
    bool can_dryrun;
    const char *summary;
    const char *usage;   /* after "kxl NAME " */
    const char *help;    /* options, one per line */
    kxl_op op;           /* the library operation it runs, when name is NULL */
} cli_cmd;

/* Each returns an exit code; argv[0] is the command name. */
int cmd_create(cli_ctx *ctx, int argc, char **argv);
int cmd_list(cli_ctx *ctx, int argc, char **argv);
int cmd_console(cli_ctx *ctx, int argc, char **argv);
int cmd_destroy(cli_ctx *ctx, int argc, char **argv);
int cmd_pause(cli_ctx *ctx, int argc, char **argv);
int cmd_unpause(cli_ctx *ctx, int argc, char **argv);
int cmd_shutdown(cli_ctx *ctx, int argc, char **argv);
int cmd_domid(cli_ctx *ctx, int argc, char **argv);
int cmd_domname(cli_ctx *ctx, int argc, char **argv);
int cmd_info(cli_ctx *ctx, int argc, char **argv);
int cmd_help(cli_ctx *ctx, int argc, char **argv);
int cmd_reboot(cli_ctx *ctx, int argc, char **argv);
int cmd_trigger(cli_ctx *ctx, int argc, char **argv);
int cmd_sysrq(cli_ctx *ctx, int argc, char **argv);
int cmd_dump_core(cli_ctx *ctx, int argc, char **argv);
int cmd_monitor(cli_ctx *ctx, int argc, char **argv);
int cmd_uptime(cli_ctx *ctx, int argc, char **argv);
int cmd_vm_list(cli_ctx *ctx, int argc, char **argv);
int cmd_dmesg(cli_ctx *ctx, int argc, char **argv);
int cmd_rename(cli_ctx *ctx, int argc, char **argv);
int cmd_job_cancel(cli_ctx *ctx, int argc, char **argv);
int cmd_block_attach(cli_ctx *ctx, int argc, char **argv);
int cmd_block_detach(cli_ctx *ctx, int argc, char **argv);
int cmd_block_list(cli_ctx *ctx, int argc, char **argv);
int cmd_cd_insert(cli_ctx *ctx, int argc, char **argv);
int cmd_cd_eject(cli_ctx *ctx, int argc, char **argv);
int cmd_snapshot_create(cli_ctx *ctx, int argc, char **argv);
int cmd_snapshot_revert(cli_ctx *ctx, int argc, char **argv);
int cmd_snapshot_delete(cli_ctx *ctx, int argc, char **argv);
int cmd_snapshot_list(cli_ctx *ctx, int argc, char **argv);
int cmd_create_image(cli_ctx *ctx, int argc, char **argv);
int cmd_delete_image(cli_ctx *ctx, int argc, char **argv);
int cmd_network_create(cli_ctx *ctx, int argc, char **argv);
int cmd_network_destroy(cli_ctx *ctx, int argc, char **argv);
int cmd_network_list(cli_ctx *ctx, int argc, char **argv);
int cmd_network_attach(cli_ctx *ctx, int argc, char **argv);
int cmd_network_detach(cli_ctx *ctx, int argc, char **argv);
int cmd_events(cli_ctx *ctx, int argc, char **argv);
int cmd_top(cli_ctx *ctx, int argc, char **argv);
int cmd_migrate(cli_ctx *ctx, int argc, char **argv);
int cmd_migrate_receive(cli_ctx *ctx, int argc, char **argv);
int cmd_tls_setup(cli_ctx *ctx, int argc, char **argv);
int cmd_vcpu_list(cli_ctx *ctx, int argc, char **argv);
int cmd_vcpu_pin(cli_ctx *ctx, int argc, char **argv);
int cmd_vcpu_set(cli_ctx *ctx, int argc, char **argv);
int cmd_mem_set(cli_ctx *ctx, int argc, char **argv);
int cmd_mem_max(cli_ctx *ctx, int argc, char **argv);
int cmd_sched_credit(cli_ctx *ctx, int argc, char **argv);
int cmd_save(cli_ctx *ctx, int argc, char **argv);
int cmd_restore(cli_ctx *ctx, int argc, char **argv);
int cmd_vncviewer(cli_ctx *ctx, int argc, char **argv);
int cmd_autostart_list(cli_ctx *ctx, int argc, char **argv);
int cmd_autostart_enable(cli_ctx *ctx, int argc, char **argv);
int cmd_autostart_disable(cli_ctx *ctx, int argc, char **argv);
int cmd_shutdown_host(cli_ctx *ctx, int argc, char **argv);
int cmd_usb_list(cli_ctx *ctx, int argc, char **argv);
int cmd_channel_list(cli_ctx *ctx, int argc, char **argv);
int cmd_config_update(cli_ctx *ctx, int argc, char **argv);
int cmd_pci_attach(cli_ctx *ctx, int argc, char **argv);
int cmd_pci_detach(cli_ctx *ctx, int argc, char **argv);
int cmd_pci_assignable_add(cli_ctx *ctx, int argc, char **argv);
int cmd_pci_assignable_remove(cli_ctx *ctx, int argc, char **argv);
int cmd_pci_assignable_list(cli_ctx *ctx, int argc, char **argv);
int cmd_pci_list(cli_ctx *ctx, int argc, char **argv);
int cmd_button_press(cli_ctx *ctx, int argc, char **argv);
int cmd_resume(cli_ctx *ctx, int argc, char **argv);

const cli_cmd *cli_find(const char *name);
/* The command's name (its operation's, for an operation's row). */
const char *cli_cmd_name(const cli_cmd *cmd);
/* Prints the usage line of cmd to stderr and returns EXIT_USAGE. */
int cli_usage(const cli_cmd *cmd);
/* Prints the last library error as "kxl: MESSAGE" and returns its exit status. */
int cli_fail(void);
/* The options shutdown and reboot share with xl: [-w] [-F] (-a | DOM). */
typedef struct {
    bool wait;          /* -w: until it is done */
    bool force;         /* -H: the hard way after a timeout (xl's -F is the ACPI event) */
    bool all;           /* -a: every domain; dom is NULL */
    const char *dom;
} cli_power_opts;
/* Fills *o_r from argv; 0, or -1 after printing the command's usage. */
int cli_power_opts_parse(int argc, char **argv, cli_power_opts *o_r);
/* Runs the VNC viewer on a domain's display (kxl vncviewer, create -V/-A). */
int cli_vncviewer_run(cli_ctx *ctx, const char *dom, bool autopass);
/* Returns when the domain is gone (create -F, xl's foreground), with its exit status. */
int cli_wait_gone(cli_ctx *ctx, const char *dom);
/* The n arguments of a device spec joined with commas, as xl accepts a spec split over
 * several arguments ("phy:/dev/x xvdb w"); "" for none. Caller frees. */
char *cli_join_spec(int n, char **args);
/* Ctrl+], the default key that leaves a console (xl's and telnet's). */
#define CLI_DETACH_KEY 0x1d
/* Attaches the terminal to a domain's console until detach_key or its end. */
int cli_console_attach(cli_ctx *ctx, const char *dom, int detach_key);
/* console -e: "^X" or one character; -1 for anything else. */
int cli_escape_char_parse(const char *s);
