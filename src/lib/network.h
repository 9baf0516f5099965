/* network.h - kxl networks: named, persistent objects under
 * ROOT/etc/kxl/networks/NAME (key = value, xl.cfg syntax), started on first
 * use and at boot:
 *   bridge - an existing or kxl-created bridge, optionally with an uplink
 *            whose address and default route move to the bridge (rolled
 *            back if the host loses its default route);
 *   route  - guests' addresses routed through their vifs (Xen's vif-route)
 *            with proxy ARP, the host's gateway address on each vif;
 *   nat    - a private bridge with DHCP and DNS (dnsmasq) and masquerading
 *            in an nftables table of kxl's own. */
#pragma once

#include <json-c/json.h>

#include "kxl/kxl.h"
#include "util/buf.h"
#include "util/cleanup.h"

typedef enum { KXL_NET_BRIDGE, KXL_NET_ROUTE, KXL_NET_NAT } kxl_net_type;

typedef struct {
    char *name;
    kxl_net_type type;
    char *bridge;      /* bridge, nat: the bridge device */
    char *uplink;      /* bridge: an interface to enslave (optional) */
    char *address;     /* nat: the host's address on the bridge, "10.200.0.1/24" */
    char *gateway;     /* route: the address guests use as gateway, "192.0.2.1" */
    char *dhcp_range;  /* nat: "10.200.0.100,10.200.0.199" (default: .100-.199) */
} kxl_network;

void kxl_network_free(kxl_network *n);
DEFINE_AUTOPTR(kxl_network, kxl_network_free)

const char *kxl_net_type_to_string(kxl_net_type t);

/* Loads ROOT/etc/kxl/networks/NAME; NULL with KXL_ERR_NOT_FOUND when there
 * is none, or another error for a bad file (with file:line). */
kxl_network *network_find(const kxl_paths *p, const char *name);
/* Parses "key=value" options into a network and checks it. */
kxl_network *network_from_options(const char *name, char *const *options);
/* Writes the definition; fails when one of that name exists. */
int network_save(const kxl_paths *p, const kxl_network *n);
/* Brings the network up (idempotent): bridge, addresses, dnsmasq, nftables. */
int network_start(const kxl_paths *p, const kxl_network *n);
/* network-create: parses options, saves the definition and starts the network; a start
 * that fails leaves no definition behind. */
int network_create(const kxl_paths *p, const char *name, char *const *options);
/* Takes it all down again and removes the definition. */
int network_destroy(const kxl_paths *p, const char *name);
/* The names of all defined networks. */
int network_list(const kxl_paths *p, kx_strv *names_r);
/* forwarding.c: turns IPv4 forwarding on (routed and NAT networks, vif-route), keeping the
 * value found the first time in ROOT/run/kxl/.networks/.ip_forward. */
int network_forwarding_on(const kxl_paths *p);
/* Puts that value back once no routed or NAT network is started and no running domain has a
 * vif-route vif; quietly does nothing otherwise. Called when a network is destroyed (GONE NULL)
 * and when domain GONE's vifs are gone, as it ends: GONE's own vifs are not counted then. */
void network_forwarding_release(const kxl_paths *p, const char *gone);
/* Whether network_start has run since the host booted. */
bool network_is_started(const kxl_paths *p, const char *name);
/* network_json.c: a network as JSON: {name, type, bridge, uplink, address, gateway,
 * dhcp_range (null when not set), active (network_is_started)}. Caller puts. */
json_object *network_to_json(const kxl_paths *p, const kxl_network *n);
/* Every network of network_list, by name; one whose definition does not read is {name,
 * error}. Caller puts. */
json_object *network_list_json(const kxl_paths *p);
