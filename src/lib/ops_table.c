/* ops_table.c - the one table that names each domain operation: its command, its supervisor
 * verb, its kxld route, and how long the supervisor may take. */
#include <string.h>

#include "kxl/ops.h"

#define LONG_MS 300000   /* a snapshot of a big guest, a dump or save of its memory */

static const kxl_op_desc ops[KXL_OP__COUNT] = {
    [KXL_OP_PAUSE] = {KXL_OP_PAUSE, "pause", "pause",
                      "POST /api/v1/domains/{name}/pause", 15000},
    [KXL_OP_UNPAUSE] = {KXL_OP_UNPAUSE, "unpause", "unpause",
                        "POST /api/v1/domains/{name}/unpause", 15000},
    [KXL_OP_SHUTDOWN] = {KXL_OP_SHUTDOWN, "shutdown", "shutdown",
                         "POST /api/v1/domains/{name}/shutdown", 15000},
    [KXL_OP_REBOOT] = {KXL_OP_REBOOT, "reboot", "reboot",
                       "POST /api/v1/domains/{name}/reboot", 15000},
    [KXL_OP_RENAME] = {KXL_OP_RENAME, "rename", "rename",
                       "POST /api/v1/domains/{name}/rename", 15000},
    [KXL_OP_TRIGGER] = {KXL_OP_TRIGGER, "trigger", "trigger",
                        "POST /api/v1/domains/{name}/trigger", 15000},
    [KXL_OP_SYSRQ] = {KXL_OP_SYSRQ, "sysrq", "sysrq", "POST /api/v1/domains/{name}/sysrq", 15000},
    [KXL_OP_DUMP_CORE] = {KXL_OP_DUMP_CORE, "dump-core", "dump-core",
                          "POST /api/v1/domains/{name}/dump-core", LONG_MS},
    [KXL_OP_MONITOR] = {KXL_OP_MONITOR, "qemu-monitor-command", "monitor", NULL, 30000},
    [KXL_OP_BLOCK_ATTACH] = {KXL_OP_BLOCK_ATTACH, "block-attach", "block-attach",
                             "POST /api/v1/domains/{name}/disks", LONG_MS},
    [KXL_OP_BLOCK_DETACH] = {KXL_OP_BLOCK_DETACH, "block-detach", "block-detach",
                             "DELETE /api/v1/domains/{name}/disks/{vdev}", LONG_MS},
    [KXL_OP_BLOCK_LIST] = {KXL_OP_BLOCK_LIST, "block-list", NULL,
                           "GET /api/v1/domains/{name}/disks", 0},
    [KXL_OP_CD_INSERT] = {KXL_OP_CD_INSERT, "cd-insert", "cd-change",
                          "PUT /api/v1/domains/{name}/disks/{vdev}/medium", LONG_MS},
    [KXL_OP_CD_EJECT] = {KXL_OP_CD_EJECT, "cd-eject", "cd-change",
                         "DELETE /api/v1/domains/{name}/disks/{vdev}/medium", LONG_MS},
    [KXL_OP_NETWORK_ATTACH] = {KXL_OP_NETWORK_ATTACH, "network-attach", "network-attach",
                               "POST /api/v1/domains/{name}/vifs", 30000},
    [KXL_OP_NETWORK_DETACH] = {KXL_OP_NETWORK_DETACH, "network-detach", "network-detach",
                               "DELETE /api/v1/domains/{name}/vifs/{vif}", 30000},
    [KXL_OP_SNAPSHOT_CREATE] = {KXL_OP_SNAPSHOT_CREATE, "snapshot-create", "snapshot",
                                "POST /api/v1/domains/{name}/snapshots", LONG_MS},
    [KXL_OP_SNAPSHOT_LIST] = {KXL_OP_SNAPSHOT_LIST, "snapshot-list", "snapshot",
                              "GET /api/v1/domains/{name}/snapshots", LONG_MS},
    [KXL_OP_SNAPSHOT_REVERT] = {KXL_OP_SNAPSHOT_REVERT, "snapshot-revert", "snapshot",
                                "POST /api/v1/domains/{name}/snapshots/{snapshot}/revert",
                                LONG_MS},
    [KXL_OP_SNAPSHOT_DELETE] = {KXL_OP_SNAPSHOT_DELETE, "snapshot-delete", "snapshot",
                                "DELETE /api/v1/domains/{name}/snapshots/{snapshot}", LONG_MS},
    [KXL_OP_JOB_CANCEL] = {KXL_OP_JOB_CANCEL, "job-cancel", "job-cancel",
                           "POST /api/v1/domains/{name}/job/cancel", 15000},
    /* read from /proc by the caller: no supervisor needed */
    [KXL_OP_VCPU_LIST] = {KXL_OP_VCPU_LIST, "vcpu-list", NULL,
                          "GET /api/v1/domains/{name}/vcpus", 0},
    [KXL_OP_VCPU_PIN] = {KXL_OP_VCPU_PIN, "vcpu-pin", "vcpu-pin",
                         "PUT /api/v1/domains/{name}/vcpus/{vcpu}/affinity", 15000},
    /* asked of every domain each frame: a supervisor slower than this is shown without its
     * disks' counters rather than holding the frame */
    [KXL_OP_STATS] = {KXL_OP_STATS, "top", "stats", "GET /api/v1/stats", 2000},
    [KXL_OP_SAVE] = {KXL_OP_SAVE, "save", "save", "POST /api/v1/domains/{name}/save", LONG_MS},
    /* a new domain: its supervisor starts with it */
    [KXL_OP_RESTORE] = {KXL_OP_RESTORE, "restore", NULL, "POST /api/v1/domains/restore", 0},
    /* a vCPU's unplug waits for the guest to let it go: 30 s at most */
    [KXL_OP_VCPU_SET] = {KXL_OP_VCPU_SET, "vcpu-set", "vcpu-set",
                         "PUT /api/v1/domains/{name}/vcpus", 45000},
    [KXL_OP_MEM_SET] = {KXL_OP_MEM_SET, "mem-set", "mem-set",
                        "PUT /api/v1/domains/{name}/memory", 15000},
    [KXL_OP_MEM_MAX] = {KXL_OP_MEM_MAX, "mem-max", "mem-max",
                        "PUT /api/v1/domains/{name}/maxmem", 15000},
    [KXL_OP_SCHED_CREDIT] = {KXL_OP_SCHED_CREDIT, "sched-credit", "sched",
                             "PUT /api/v1/domains/{name}/sched", 15000},
    /* the same parameters under credit2's name (xl has both): one route serves them */
    [KXL_OP_SCHED_CREDIT2] = {KXL_OP_SCHED_CREDIT2, "sched-credit2", "sched", NULL, 15000},
    [KXL_OP_DISPLAY] = {KXL_OP_DISPLAY, "vncviewer", "display", NULL, 15000},
    /* autostart (include/kxl/autostart.h): files in etc/kxl/auto/, no supervisor */
    [KXL_OP_AUTOSTART_LIST] = {KXL_OP_AUTOSTART_LIST, "autostart-list", NULL,
                               "GET /api/v1/autostart", 0},
    [KXL_OP_AUTOSTART_ENABLE] = {KXL_OP_AUTOSTART_ENABLE, "autostart-enable", NULL,
                                 "PUT /api/v1/domains/{name}/autostart", 0},
    [KXL_OP_AUTOSTART_DISABLE] = {KXL_OP_AUTOSTART_DISABLE, "autostart-disable", NULL,
                                  "DELETE /api/v1/domains/{name}/autostart", 0},
    /* the host's stop (the kxl-domains unit); kxld offers no route to it */
    [KXL_OP_SHUTDOWN_HOST] = {KXL_OP_SHUTDOWN_HOST, "shutdown-host", NULL, NULL, 0},
    /* from the domain's config: the devices are the emulated ones it names */
    [KXL_OP_USB_LIST] = {KXL_OP_USB_LIST, "usb-list", NULL, NULL, 0},
    /* the host's devices, not a domain's: sysfs, no supervisor */
    [KXL_OP_PCI_ASSIGNABLE_ADD] = {KXL_OP_PCI_ASSIGNABLE_ADD, "pci-assignable-add", NULL, NULL,
                                   0},
    [KXL_OP_PCI_ASSIGNABLE_REMOVE] = {KXL_OP_PCI_ASSIGNABLE_REMOVE, "pci-assignable-remove",
                                      NULL, NULL, 0},
    [KXL_OP_PCI_ASSIGNABLE_LIST] = {KXL_OP_PCI_ASSIGNABLE_LIST, "pci-assignable-list", NULL,
                                    NULL, 0},
    /* as long as memory takes to move: the sender waits on the job's events, not a timeout */
    [KXL_OP_MIGRATE] = {KXL_OP_MIGRATE, "migrate", "migrate", NULL, -1},
    /* a new domain, from the transport's stream */
    [KXL_OP_MIGRATE_RECEIVE] = {KXL_OP_MIGRATE_RECEIVE, "migrate-receive", NULL, NULL, 0},
    /* from the domain's config, as usb-list */
    [KXL_OP_CHANNEL_LIST] = {KXL_OP_CHANNEL_LIST, "channel-list", NULL, NULL, 0},
    [KXL_OP_PCI_ATTACH] = {KXL_OP_PCI_ATTACH, "pci-attach", "pci-attach", NULL, 45000},
    /* the guest has 15 s to let go (sv_unplug.c) */
    [KXL_OP_PCI_DETACH] = {KXL_OP_PCI_DETACH, "pci-detach", "pci-detach", NULL, 30000},
    [KXL_OP_CONFIG_UPDATE] = {KXL_OP_CONFIG_UPDATE, "config-update", "config-update", NULL,
                              15000},
};

const kxl_op_desc *kxl_op_describe(kxl_op op)
{
    return (unsigned)op < KXL_OP__COUNT ? &ops[op] : NULL;
}

const kxl_op_desc *kxl_op_by_cli(const char *cli)
{
    for (size_t i = 0; i < KXL_OP__COUNT; i++)
        if (strcmp(ops[i].cli, cli) == 0)
            return &ops[i];
    return NULL;
}
