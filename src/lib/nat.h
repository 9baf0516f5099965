/* nat.h - the NAT part of a kxl network: the host's address on the bridge,
 * dnsmasq for DHCP and DNS, and masquerading in an nftables table of kxl's
 * own (inet kxl_NAME), which leaves the host's other rules alone. */
#pragma once

#include "lib/network.h"

int nat_start(const kxl_paths *p, const kxl_network *n);
/* Best effort: undoes what nat_start did. */
void nat_stop(const kxl_paths *p, const kxl_network *n);
