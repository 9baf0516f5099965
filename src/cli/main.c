/* main.c - the kxl program: global options, the command table, help, and the
 * mapping of library errors to exit codes (0 ok, 1 error, 2 usage). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "image/create_image.h"
#include "kxl/ops.h"
#include "lib/migrate.h"
#include "util/buf.h"
#include "util/err.h"

/* Sorted by command. A library operation's row names its operation instead of a command: the
 * command is the operation's, from the one table that names each operation (ops_table.c). */
/* sched-credit and sched-credit2 */
#define SCHED_HELP                                                                                \
    "  -d, --domain DOM    the domain (all of them when none is given)\n"                         \
    "  -w, --weight WEIGHT its share of contended host CPUs: 1 to 65535 (default 256)\n"           \
    "  -c, --cap CAP       the most CPU it may use, in percent of one CPU (0: no cap;\n"          \
    "                      at most 100 times maxvcpus)\n"                                        \
    "  --json              a JSON array: name, domid, weight, cap\n"                             \
    "Without -w or -c, prints xl's table (Name ID Weight Cap). The values go to the\n"            \
    "CPU controller of the domain's cgroup (cpu.weight and cpu.max on cgroup v2,\n"               \
    "cpu.shares and cpu.cfs_quota_us on v1) and are kept for a restart.\n"

static const cli_cmd commands[] = {
    {NULL, cmd_autostart_disable, false, "Stop starting a domain at host boot", "DOM",
     "Removes its link from $KXL_ROOT/etc/kxl/auto/ (a config file kept there, not a link, is\n"
     "left alone: move it yourself).\n", KXL_OP_AUTOSTART_DISABLE},
    {NULL, cmd_autostart_enable, false, "Start a domain at host boot", "DOM [CONFIG]",
     "Links CONFIG (by default the config file the running domain DOM was created from) into\n"
     "$KXL_ROOT/etc/kxl/auto/ as DOM.cfg. startup = \"order=N,up=S,down=S\" in the config\n"
     "orders it; see kxl.cfg(5).\n", KXL_OP_AUTOSTART_ENABLE},
    {NULL, cmd_autostart_list, false, "Show what starts at host boot, in which order",
     "[--json]",
     "Batches in start order (a batch starts together; up waits after a start, down bounds the\n"
     "clean shutdown at shutdown-host), the configs skipped with their file:line, and what\n"
     "the last boot's autostart (kxld) did with each domain.\n"
     "  --json   the same as JSON (GET /api/v1/autostart)\n"
     "The directories are $KXL_ROOT/etc/kxl/auto/ and kxld.conf's auto_dirs.\n",
     KXL_OP_AUTOSTART_LIST},
    {NULL, cmd_block_attach, false, "Hot-plug a disk into a domain", "DOM DISK-SPEC...",
     "DISK-SPEC as in the config's disk list, e.g. 'file:/srv/data.img,xvdb,w', or split\n"
     "over arguments as xl allows: file:/srv/data.img xvdb w.\n",
     KXL_OP_BLOCK_ATTACH},
    {NULL, cmd_block_detach, false, "Hot-unplug a disk", "DOM VDEV", "", KXL_OP_BLOCK_DETACH},
    {NULL, cmd_block_list, false, "List a domain's disks", "[--json] DOM",
     "  --json   a JSON array: vdev, type (disk|cdrom), bus, format, mode (r|w),\n"
     "           target (null for an empty CD-ROM), discard\n", KXL_OP_BLOCK_LIST},
    {"button-press", cmd_button_press, false, "Press a domain's ACPI power or sleep button",
     "DOM power|sleep", "xl's name for trigger DOM power|sleep.\n"},
    {NULL, cmd_cd_eject, false, "Eject the medium of a domain's CD-ROM", "DOM VDEV", "",
     KXL_OP_CD_EJECT},
    {NULL, cmd_cd_insert, false, "Insert an ISO image into a domain's CD-ROM",
     "DOM VDEV FILE", "", KXL_OP_CD_INSERT},
    {NULL, cmd_channel_list, false, "List domains' virtio-serial channels", "DOM...",
     "xl's columns; the last names the host's socket and the port's name in the guest.\n",
     KXL_OP_CHANNEL_LIST},
    {NULL, cmd_config_update, false, "Give a running domain a new config for its next restart",
     "DOM [-f FILE | FILE] [KEY=VALUE...]",
     "The config is read and checked as create reads one, and must name the domain; the\n"
     "domain keeps running as it is and takes the new config when it next restarts (a guest\n"
     "reboot with on_reboot = restart, a crash with on_crash = restart).\n",
     KXL_OP_CONFIG_UPDATE},
    {"console", cmd_console, false, "Attach to a domain's console",
     "[-t serial] [-e CHAR] DOM",
     "  -e CHAR     leave with CHAR instead of Ctrl+] (^X for Ctrl+X, or one character)\n"
     "Ctrl+] leaves the console; the guest keeps running.\n"
     "What the guest printed before you attached is shown first.\n"},
    {"create", cmd_create, true, "Create a domain from a config file",
     "[-c | -V | -A | -F] [-p] [-q] [-n] [-d] [-f FILE] FILE [KEY=VALUE...]",
     "  -c                  attach to the console once the domain runs (Ctrl+] leaves)\n"
     "  -V, --vncviewer     show its display in vncviewer once it runs (vnc = 1)\n"
     "  -A, --vncviewer-autopass  the same, giving the viewer its vncpasswd\n"
     "  -F                  stay in the foreground until the domain is gone\n"
     "  -p                  leave the domain paused after creating it\n"
     "  -q, --quiet         do not print 'Parsing config from FILE'\n"
     "  -n, --dryrun        print the QEMU command line and create nothing\n"
     "  -d                  print the resolved config (JSON) before creating\n"
     "  -f, --defconfig=FILE  the config file (the same as giving FILE alone)\n"
     "  -e                  accepted for xl (kxl never waits in the background)\n"
     "KEY=VALUE pairs override the file's settings, in config syntax.\n"
     "With the global -N, print the resolved config as JSON and create nothing.\n"},
    {"create-image", cmd_create_image, false, "Create a Debian guest's disk images and config",
     "--hostname=NAME [--dist=DIST] [--size=SIZE] [--ip=ADDR | --dhcp] [--genpass] [OPTION...]",
     "  --hostname=NAME      the guest's host name and domain name (required)\n"
     "  --dist=DIST          Debian release (default: the host's); --arch=amd64|i386\n"
     "  --mirror=URL         package mirror (default: the host's apt sources)\n"
     "  --size=SIZE          root disk, e.g. 4gb (default); --swap=SIZE|none (256mb)\n"
     "  --memory=SIZE        (512mb); --vcpus=N (1)\n"
     "  --fs=ext4|ext3|ext2  --image=sparse|full  --format=raw|qcow2\n"
     "  --dir=DIR            images in DIR/domains/NAME/ (default $KXL_ROOT/var/lib/kxl/images)\n"
     "  --lvm=VG             logical volumes NAME-disk, NAME-swap instead (needs device-mapper)\n"
     "  --ip=ADDR[/N] [--netmask=MASK] [--gateway=ADDR] [--nameserver=ADDR...] | --dhcp\n"
     "  --bridge=BRIDGE  --mac=MAC      the vif (default: kxl's bridge, a random 00:16:3e MAC)\n"
     "  --genpass | --password=PW | --hash=HASH   root's password (--genpass prints it)\n"
     "  --ssh-key=FILE       root's authorized_keys\n"
     "  --role=SCRIPT        run SCRIPT with the guest's root tree as $1 (env HOSTNAME, IP, ...)\n"
     "  --install-method=debootstrap|copy|tar|image  --install-source=DIR|TARBALL|IMAGE\n"
     "  --output=DIR         where NAME.cfg goes (default $KXL_ROOT/etc/kxl)\n"
     "  --force              overwrite an existing image and config\n"
     "  --refresh            rebuild the cached debootstrap template of DIST\n"
     "The first image of a DIST and arch debootstraps a template into\n"
     "$KXL_ROOT/var/lib/kxl/templates/; later ones copy it (seconds). The config boots\n"
     "with bootloader = \"pygrub\" from the guest's /boot/grub/grub.cfg. See create-image.md.\n"},
    {"delete-image", cmd_delete_image, true, "Remove a guest's disk images and config",
     "[--dir=DIR | --lvm=VG] [--output=DIR] HOST...",
     "  --dir=DIR     the images are in DIR/domains/HOST/ (default $KXL_ROOT/var/lib/kxl/images)\n"
     "  --lvm=VG      they are the logical volumes HOST-disk and HOST-swap of VG\n"
     "  --output=DIR  HOST.cfg is in DIR (default $KXL_ROOT/etc/kxl)\n"
     "  --hostname=HOST  the same as giving HOST\n"
     "Removes what create-image made for each HOST (disk and swap images, their\n"
     "directory when nothing else is in it, the config) and nothing else. Nothing is\n"
     "removed unless every HOST has something to remove and no running domain holds\n"
     "any of its disks. With the global -N, print what would be removed.\n"},
    {"destroy", cmd_destroy, false, "Terminate a domain immediately", "DOM",
     "The guest is not asked to shut down: use it as you would pull the plug.\n"},
    {"dmesg", cmd_dmesg, false, "Show the host-side event log of all domains", "[-c]",
     "  -c   clear the logs after showing them\n"},
    {"domid", cmd_domid, false, "Convert a domain name to its id", "NAME", ""},
    {"domname", cmd_domname, false, "Convert a domain id to its name", "ID", ""},
    {NULL, cmd_dump_core, false, "Write a domain's memory to an ELF core file",
     "DOM FILE", "The file can be read with crash(8) or gdb.\n", KXL_OP_DUMP_CORE},
    {"events", cmd_events, false, "Print domains' events as they happen", "[-n] [DOM]",
     "One JSON object a line: {\"event\", \"domain\", \"time\", \"seq\", \"data\"}.\n"
     "  -n, --new   only events from now on; by default each domain's supervisor first\n"
     "              repeats what it kept (up to 256 events: its start, state changes, jobs)\n"
     "With DOM, ends once the domain is gone; without, follows every domain, those\n"
     "created later too, until interrupted. Events are listed in kxl(1).\n"},
    {"help", cmd_help, false, "Show help on kxl or a command", "[COMMAND]", ""},
    {"info", cmd_info, false, "Show information about the host", "[--json]", ""},
    {NULL, cmd_job_cancel, false, "Cancel a domain's running job (snapshot, dump-core, save)", "DOM",
     "The command that started the job fails with 'was cancelled'; nothing it made is left.\n"
     "A snapshot revert or delete cannot be cancelled. 'kxl events DOM' shows jobs.\n",
     KXL_OP_JOB_CANCEL},
    {"list", cmd_list, false, "List domains", "[-l] [-v] [--json] [DOM...]",
     "  -l, --long     each domain's configuration as JSON in libxl's shape (xl list -l)\n"
     "  -v, --verbose  add UUID and supervisor columns\n"
     "      --json     list's rows as JSON; with -l, kxl's fuller view of each domain\n"
     "State letters: r running, b blocked, p paused, s shut down, c crashed, d dying.\n"
     "The first row, Domain-0, is the host, as in xl.\n"},
    {NULL, cmd_mem_max, false, "Set the most memory a domain's mem-set may give it",
     "DOM SIZE",
     "SIZE: a number with an optional suffix b, k, m, g or t (m when none): 512m, 1g.\n"
     "From the domain's memory up to its maxmem (the RAM its QEMU boots with, which\n"
     "does not change); shown as mem_max in list -l --json.\n", KXL_OP_MEM_MAX},
    {NULL, cmd_mem_set, false, "Set a domain's memory (its balloon's target)", "DOM SIZE",
     "SIZE: a number with an optional suffix b, k, m, g or t (m when none): 512m, 1g.\n"
     "From 16m up to the domain's maxmem (mem-max); the guest's balloon driver gives\n"
     "the memory back or takes it. The domain needs a balloon: maxmem above memory\n"
     "in its config.\n", KXL_OP_MEM_SET},
    {NULL, cmd_migrate, false, "Move a running domain to another host",
     "[-s SSHCMD] [-e] [-C CFG] [-p] [--debug] [--downtime MS] [--bandwidth MIB]\n"
     "               [--copy-storage | --postcopy] DOM HOST\n"
     "       kxl migrate --relocation HOST[:PORT] [-C CFG] [-p] [--debug] [--downtime MS]\n"
     "               [--bandwidth MIB] [--copy-storage | --postcopy] DOM",
     "  -s SSHCMD       run SSHCMD instead of ssh; with -s \"\", HOST is the whole command\n"
     "                  that runs 'kxl migrate-receive' there (any transport)\n"
     "  --relocation HOST[:PORT]\n"
     "                  go to kxld's relocation server on HOST (PORT 8002 unless given)\n"
     "                  instead of ssh: mutual TLS with this host's certificate (kxl\n"
     "                  tls-setup); HOST's certificate must name HOST and come from the CA\n"
     "  -e              accepted for xl's sake: the receiver's supervisor always watches it\n"
     "  -C CFG          the receiver starts the domain with CFG instead of its config\n"
     "  -p              leave the domain paused on the receiver\n"
     "  --debug         tell each step of the protocol\n"
     "  --downtime MS   the longest pause of the guest at switchover (default 300)\n"
     "  --bandwidth MIB at most MIB MiB/s (default: as fast as the transport goes)\n"
     "  --copy-storage  copy the writable disks HOST does not have (no file at their path\n"
     "                  there): HOST makes them empty, of the same size and format, and\n"
     "                  they are mirrored through the transport before the memory moves\n"
     "  --postcopy      after the first pass over memory, run the guest on HOST, which\n"
     "                  fetches the pages it lacks from here: the downtime stays short\n"
     "                  however fast the guest dirties memory. RISK: from then on a\n"
     "                  failure (the link, either host) loses the guest, as neither host\n"
     "                  has all of it. Refused for a domain under TCG\n"
     "Runs 'ssh HOST kxl migrate-receive', which first checks that HOST can run the domain\n"
     "(bridges, the same disks: shared storage or --copy-storage with room for them,\n"
     "memory, QEMU, machine type, CPU model) and\n"
     "refuses with all that is missing before anything moves. The guest runs while its\n"
     "memory is sent; HOST's copy starts only once this one has stopped and released its\n"
     "disks. On success the domain is gone here and runs there under its name; a failure\n"
     "before then leaves it running here as it was, and nothing there.\n", KXL_OP_MIGRATE},
    {NULL, cmd_migrate_receive, false, "Receive a domain from kxl migrate (run by it)",
     "[-p] [-e] [--debug]",
     "Speaks the migration protocol on stdin and stdout; kxl migrate runs it on the\n"
     "receiving host. Nothing of the domain stays when the migration fails.\n"
     "  -p   leave the received domain paused\n", KXL_OP_MIGRATE_RECEIVE},
    {NULL, cmd_network_attach, false, "Hot-plug a network interface into a domain",
     "DOM [VIF-SPEC...]", "VIF-SPEC as in the config's vif list, e.g. 'bridge=xenbr0,model=virtio',\n"
     "or its settings as separate arguments (bridge=xenbr0 model=virtio), as xl allows.\n"
     "Prints the new vif's index.\n", KXL_OP_NETWORK_ATTACH},
    {"network-create", cmd_network_create, false, "Define and start a network",
     "NAME type=bridge|route|nat [KEY=VALUE...]",
     "  type=bridge  bridge=DEV (default NAME) [uplink=DEV: move its address and default\n"
     "               route onto the bridge, rolled back if the host loses its default route]\n"
     "  type=route   gateway=A.B.C.D: guests' ip= addresses are routed through their vifs\n"
     "  type=nat     address=A.B.C.D/N [dhcp_range=FIRST,LAST] [bridge=DEV]: DHCP and DNS\n"
     "               (dnsmasq) and masquerading (nftables table inet kxl_NAME)\n"
     "Stored in $KXL_ROOT/etc/kxl/networks/NAME; a vif uses it with bridge=NAME.\n"},
    {"network-destroy", cmd_network_destroy, false, "Stop and remove a network", "NAME",
     "Refused while domains are attached to it.\n"},
    {NULL, cmd_network_detach, false, "Hot-unplug a network interface",
     "DOM DEVID|MAC", "", KXL_OP_NETWORK_DETACH},
    {"network-list", cmd_network_list, false, "List networks, or a domain's vifs with counters",
     "[DOM]", "RX is what the guest received, TX what it sent.\n"},
    {NULL, cmd_pause, false, "Pause a domain's execution", "DOM", "", KXL_OP_PAUSE},
    {NULL, cmd_pci_assignable_add, false, "Make a host PCI device assignable to guests",
     "BDF", "Binds [DDDD:]BB:DD.F to vfio-pci (the host needs an IOMMU); its driver is kept\n"
     "for pci-assignable-remove -r.\n", KXL_OP_PCI_ASSIGNABLE_ADD},
    {NULL, cmd_pci_assignable_list, false, "List the host PCI devices assignable to guests",
     "", "", KXL_OP_PCI_ASSIGNABLE_LIST},
    {NULL, cmd_pci_assignable_remove, false, "Give a host PCI device back to the host",
     "[-r] BDF", "  -r   let its own driver take it again\n", KXL_OP_PCI_ASSIGNABLE_REMOVE},
    {NULL, cmd_pci_attach, false, "Give a host PCI device to a running domain",
     "DOM BDF[@VSLOT][,seize=1] [VSLOT]",
     "The device is checked as at create (its IOMMU group, bound to vfio-pci; seize=1 binds\n"
     "it) and hot-plugged; VSLOT is the guest's slot.\n", KXL_OP_PCI_ATTACH},
    {NULL, cmd_pci_detach, false, "Take a host PCI device back from a running domain",
     "DOM BDF", "The guest is asked to let it go and has 15 s; the device stays bound to\n"
     "vfio-pci (pci-assignable-remove gives it back to the host).\n", KXL_OP_PCI_DETACH},
    {"pci-list", cmd_pci_list, false, "List a domain's host PCI devices", "DOM",
     "xl's columns: the guest's slot (Vdev) and the host's device.\n"},
    {NULL, cmd_monitor, false, "Run a QEMU human monitor command",
     "DOM COMMAND...", "For what kxl has no command of its own; prints QEMU's answer.\n",
     KXL_OP_MONITOR},
    {NULL, cmd_reboot, false, "Ask domains to reboot (Ctrl+Alt+Del)", "[-w] [-H] [-F] [-a | DOM]",
     "  -w, --wait  wait until the domain has rebooted\n"
     "  -H, --hard  reset the domain if it has not rebooted within 60 s\n"
     "  -F          xl's fallback to the ACPI event: accepted, kxl always sends the keys\n"
     "  -a, --all   all domains\n"
     "on_reboot in the config decides what a reboot means.\n", KXL_OP_REBOOT},
    {NULL, cmd_rename, false, "Rename a domain", "DOM NEWNAME", "", KXL_OP_RENAME},
    {NULL, cmd_restore, false, "Start a domain from a file written by save",
     "[-p] [-c] [-e] [CFG] FILE",
     "  -p   leave the domain paused after restoring it\n"
     "  -c   attach to the console once it runs (Ctrl+] leaves)\n"
     "  -e   accepted for xl's sake: the domain's supervisor always watches it\n"
     "CFG replaces the config saved in FILE; its devices must be the saved domain's.\n"
     "The guest goes on from where it was saved; its disks must not have changed since.\n"
     "A domain of the saved name must not be running.\n", KXL_OP_RESTORE},
    {"resume", cmd_resume, false, "Wake a domain that suspended itself (S3)", "DOM",
     "xl's name for trigger DOM s3resume.\n"},
    {NULL, cmd_save, false, "Save a domain's state to a file and stop it",
     "[-c] [-p] DOM FILE [CFG]",
     "  -c   leave the domain running after saving it (as it was: running or paused)\n"
     "  -p   leave the domain paused after saving it\n"
     "Without -c or -p the domain is destroyed once FILE is complete. CFG is recorded in\n"
     "FILE instead of the domain's config. FILE appears only when complete: a failed or\n"
     "cancelled save (kxl job-cancel) leaves none, and the domain as it was.\n", KXL_OP_SAVE},
    {NULL, cmd_sched_credit, false, "Show or set domains' CPU weight and cap",
     "[-d DOM [-w WEIGHT] [-c CAP]] [--json]", SCHED_HELP, KXL_OP_SCHED_CREDIT},
    {NULL, cmd_sched_credit, false, "The same as sched-credit (KVM has one scheduler)",
     "[-d DOM [-w WEIGHT] [-c CAP]] [--json]", SCHED_HELP, KXL_OP_SCHED_CREDIT2},
    {NULL, cmd_snapshot_create, false, "Take a snapshot", "DOM|CONFIG NAME",
     "Of a running domain: its qcow2 disks and its memory (QEMU's savevm).\n"
     "Of a config file whose domain is shut down: its qcow2 disks (qemu-img).\n",
     KXL_OP_SNAPSHOT_CREATE},
    {NULL, cmd_snapshot_delete, false, "Delete a snapshot", "DOM|CONFIG NAME", "",
     KXL_OP_SNAPSHOT_DELETE},
    {NULL, cmd_snapshot_list, false, "List snapshots", "[--json] DOM|CONFIG",
     "The snapshots on every writable disk (those that can be reverted to), then those that\n"
     "only some disks hold, with qemu-img's columns (ID TAG VM SIZE DATE VM CLOCK ICOUNT).\n"
     "  --json   a JSON array: name, id, vm_state_size (bytes), date (seconds since the\n"
     "           epoch), vm_clock_ns, icount, disks, on_all_disks (GET .../snapshots)\n",
     KXL_OP_SNAPSHOT_LIST},
    {NULL, cmd_snapshot_revert, false, "Go back to a snapshot", "DOM|CONFIG NAME",
     "", KXL_OP_SNAPSHOT_REVERT},
    {NULL, cmd_shutdown, false, "Ask domains to shut down (ACPI power button)",
     "[-w] [-H] [-F] [-a | DOM]",
     "  -w, --wait  wait until the domain has shut down\n"
     "  -H, --hard  destroy the domain if it has not shut down within its shutdown_timeout\n"
     "  -F          xl's fallback to the ACPI event: accepted, kxl always presses the button\n"
     "  -a, --all   all domains\n", KXL_OP_SHUTDOWN},
    {NULL, cmd_shutdown_host, false, "Stop every domain before the host goes down", "",
     "Domains that do not start at boot first, together; then the autostart ones in the\n"
     "reverse of their start order. Each is shut down cleanly within its startup down=\n"
     "(else its shutdown_timeout) and destroyed if it has not, or, with on_host_shutdown =\n"
     "\"save\", saved to $KXL_ROOT/var/lib/kxl/save/NAME.save and restored by the next boot's\n"
     "autostart. One line per domain as it is done. The kxl-domains systemd unit runs it.\n",
     KXL_OP_SHUTDOWN_HOST},
    {NULL, cmd_sysrq, false, "Send a SysRq key to a domain", "DOM LETTER",
     "For example 's' syncs, 'c' crashes a Linux guest.\n", KXL_OP_SYSRQ},
    {"tls-setup", cmd_tls_setup, false, "Make the relocation server's TLS certificates",
     "[--name NAME]... [--ip ADDR]... [--days N] [--force]\n"
     "       kxl tls-setup --sign NAME [--name NAME]... [--ip ADDR]... [--days N] --out DIR\n"
     "       kxl tls-setup --import DIR [--force]",
     "Writes $KXL_ROOT/etc/kxl/tls/: ca-cert.pem, host-cert.pem, host-key.pem (0600) and,\n"
     "on the host that signs, ca-key.pem (0600). Every host of a pool trusts one CA:\n"
     "make it on one host, sign there for each other host, import on that host.\n"
     "  (no mode)        make a CA (when there is none) and this host's certificate\n"
     "  --sign NAME      sign a certificate for the host NAME with this host's CA and\n"
     "                   write it, its key and the CA's certificate into DIR (--out)\n"
     "  --import DIR     install DIR's three files (as --sign wrote them) as this host's\n"
     "  --name NAME      a DNS name of the host (repeatable; default: this host's name)\n"
     "  --ip ADDR        an address of the host (repeatable)\n"
     "  --days N         how long the host certificate is valid (default 1095)\n"
     "  --force          replace this host's certificate\n"
     "Peers verify the names: migrate --relocation HOST needs HOST among them (an address\n"
     "as --ip). kxld.conf's relocation_hosts_allow matches them too.\n"},
    {NULL, cmd_top, false, "Monitor domains' CPU, memory, network and disks (xentop)",
     "[-b] [-i N] [-d SECONDS] [-n] [-x] [-v] [-r] [-f] [--json]",
     "  -b, --batch          plain text, one frame after another (for scripts)\n"
     "  -i, --iterations=N   show N frames, then end (default: until q or interrupted)\n"
     "  -d, --delay=SECONDS  between frames (default 3)\n"
     "  -n, --networks       a line per vif: bytes and packets received and sent\n"
     "  -x, --vbds           a line per disk: OO, read and write requests and sectors\n"
     "  -v, --vcpus          each vCPU's CPU seconds\n"
     "  -r, --repeat-header  the column header before each domain\n"
     "  -f, --full-name      domain names are not cut to 10 characters\n"
     "      --json           one JSON object a frame, a line each\n"
     "CPU(%) is of one host CPU, since the previous frame (0 in the first). MEM(k) is the\n"
     "guest's memory (its balloon's when it has one); VBD_OO counts failed requests (QEMU\n"
     "has no 'out of requests'). Keys: d delay, s/S sort column, n networks, x disks,\n"
     "v vCPUs, r repeat header, q quit.\n", KXL_OP_STATS},
    {NULL, cmd_trigger, false, "Send a trigger to a domain", "DOM nmi|reset|power|sleep|s3resume [VCPU]",
     "  nmi       inject a non-maskable interrupt\n"
     "  reset     reset at once (a fresh QEMU)\n"
     "  power     press the ACPI power button\n"
     "  s3resume  wake a guest that suspended itself\n"
     "VCPU is accepted for xl: QEMU's NMI goes to every vCPU. xl's init has no QEMU means.\n",
     KXL_OP_TRIGGER},
    {NULL, cmd_unpause, false, "Unpause a paused domain", "DOM", "", KXL_OP_UNPAUSE},
    {"uptime", cmd_uptime, false, "Show how long domains have run", "[-s] [DOM...]",
     "  -s   brief output\n"},
    {NULL, cmd_usb_list, false, "List a domain's USB controllers and devices", "DOM",
     "xl's columns; each controller's ports, with the device on each (usbdevice =).\n",
     KXL_OP_USB_LIST},
    {NULL, cmd_vcpu_list, false, "List the vCPUs of domains", "[DOM...]",
     "Columns as xl's: the host CPU each vCPU last ran on, r running or b blocked (p: not\n"
     "running), CPU seconds, the host CPUs it may run on.\n", KXL_OP_VCPU_LIST},
    {NULL, cmd_vcpu_pin, false, "Pin a domain's vCPUs to host CPUs", "DOM VCPU|all CPUS|all",
     "CPUS as the config's cpus: 3, 0-3, 0-3,^1 or all. Kept when QEMU restarts; list -l\n"
     "shows it as the domain's cpus. A vCPU or CPU that does not exist changes nothing.\n",
     KXL_OP_VCPU_PIN},
    {NULL, cmd_vcpu_set, false, "Set the number of a domain's vCPUs (CPU hot-plug)", "DOM N",
     "N from 1 to the domain's maxvcpus. New vCPUs are hot-plugged: the guest brings\n"
     "them online. Fewer: the guest is asked to let the highest go, and the command\n"
     "returns once it did (30 s at most).\n", KXL_OP_VCPU_SET},
    {"vm-list", cmd_vm_list, false, "List domains with their UUIDs", "", ""},
    {NULL, cmd_vncviewer, false, "Show a domain's graphical display in a VNC viewer",
     "[-a] [-p] [--json] DOM",
     "  -a, --autopass   give the viewer the domain's vncpasswd (on its standard input)\n"
     "  -p, --print      print the display's address instead: a socket path or HOST::PORT\n"
     "      --json       print where the VNC server listens as JSON\n"
     "Runs vncviewer (TigerVNC's: apt-get install tigervnc-viewer). Without vnclisten the\n"
     "display is on a Unix socket only root can open, so run it as root on this host.\n",
     KXL_OP_DISPLAY},
};

char *cli_join_spec(int n, char **args)
{
    kx_buf b = KX_BUF_INIT;
    for (int i = 0; i < n; i++)
        kx_buf_printf(&b, "%s%s", i ? "," : "", args[i]);
    return kx_buf_steal(&b);
}

const char *cli_cmd_name(const cli_cmd *cmd)
{
    return cmd->name ? cmd->name : kxl_op_describe(cmd->op)->cli;
}

const cli_cmd *cli_find(const char *name)
{
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(cli_cmd_name(&commands[i]), name) == 0)
            return &commands[i];
    return NULL;
}

int cli_usage(const cli_cmd *cmd)
{
    fprintf(stderr, "usage: kxl %s %s\n(see 'kxl help %s')\n", cli_cmd_name(cmd), cmd->usage,
            cli_cmd_name(cmd));
    return EXIT_USAGE;
}

int cli_fail(void)
{
    fprintf(stderr, "kxl: %s\n", kx_err_msg());
    int status = cli_exit_status(kx_err_code());
    return status == EXIT_OK ? EXIT_ERR : status;   /* a failure that recorded no code */
}

static void print_command_help(const cli_cmd *cmd)
{
    printf("usage: kxl %s %s\n\n%s.\n", cli_cmd_name(cmd), cmd->usage, cmd->summary);
    if (cmd->help[0])
        printf("\n%s", cmd->help);
}

static void print_main_help(FILE *f)
{
    fprintf(f, "usage: kxl [-v] [-N] COMMAND [ARGS]\n\n"
               "kxl manages QEMU/KVM virtual machines (domains) defined in xl.cfg files.\n\n"
               "  -v         verbose (repeat for debug output)\n"
               "  -N         dry run: show what a command would do\n"
               "  --version  print the version\n\nCommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(f, "  %-20s %s\n", cli_cmd_name(&commands[i]), commands[i].summary);
    fprintf(f, "\n'kxl help COMMAND' or 'kxl COMMAND --help' shows a command's options.\n"
               "State lives under $KXL_ROOT (default /). See kxl(1) and kxl.cfg(5).\n");
}

int cmd_help(cli_ctx *ctx, int argc, char **argv)
{
    (void)ctx;
    if (argc < 2) {
        print_main_help(stdout);
        return EXIT_OK;
    }
    const cli_cmd *cmd = cli_find(argv[1]);
    if (!cmd) {
        fprintf(stderr, "kxl: unknown command '%s' (see 'kxl help')\n", argv[1]);
        return EXIT_USAGE;
    }
    print_command_help(cmd);
    return EXIT_OK;
}

static bool wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return true;
    return false;
}

static int parse_global(int argc, char **argv, cli_ctx *ctx)
{
    static const struct option opts[] = {
        {"help", no_argument, NULL, 'h'}, {"version", no_argument, NULL, 'V'}, {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "+vNh", opts, NULL)) != -1) {
        switch (c) {
        case 'v':
            ctx->verbose++;
            break;
        case 'N':
            ctx->dryrun = true;
            break;
        case 'h':
            print_main_help(stdout);
            exit(EXIT_OK);
        case 'V':
            printf("kxl %s\n", KXL_VERSION);
            exit(EXIT_OK);
        default:
            print_main_help(stderr);
            return -1;
        }
    }
    return optind;
}

int main(int argc, char **argv)
{
    cli_ctx ctx = {0};
    if (argc > 1 && strcmp(argv[1], MIGRATE_MUX_ARG) == 0)   /* migrate_mux_start's child */
        return migrate_mux_main(argc, argv) < 0 ? EXIT_ERR : EXIT_OK;
    if (argc > 1 && strcmp(argv[1], IMAGE_CHILD_ARG) == 0)   /* image_create's child */
        image_child_main(argc, argv);
    int first = parse_global(argc, argv, &ctx);
    if (first < 0)
        return EXIT_USAGE;
    if (first >= argc) {
        print_main_help(stderr);
        return EXIT_USAGE;
    }
    kx_log_set_level(ctx.verbose > 1 ? KX_LOG_DEBUG : ctx.verbose ? KX_LOG_INFO : KX_LOG_NOTICE);
    const cli_cmd *cmd = cli_find(argv[first]);
    if (!cmd) {
        fprintf(stderr, "kxl: unknown command '%s' (see 'kxl help')\n", argv[first]);
        return EXIT_USAGE;
    }
    int cargc = argc - first;
    char **cargv = argv + first;
    if (wants_help(cargc, cargv)) {
        print_command_help(cmd);
        return EXIT_OK;
    }
    if (ctx.dryrun && !cmd->can_dryrun) {
        fprintf(stderr, "kxl: '%s' has no dry-run mode (-N)\n", cli_cmd_name(cmd));
        return EXIT_USAGE;
    }
    if (cmd->fn != cmd_help && kxl_paths_init(&ctx.paths, NULL) < 0)
        return cli_fail();
    optind = 1;
    int r = cmd->fn(&ctx, cargc, cargv);
    kxl_paths_dispose(&ctx.paths);
    return r;
}
