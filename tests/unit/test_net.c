/* test_net.c - src/net against the real kernel, inside private network and mount namespaces
 * that main() makes first, so nothing touches the host's network. Needs root; skips (77)
 * without it. */
#include <net/if.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net/nl.h"
#include "net/sysctl.h"
#include "net/tap.h"
#include "util/buf.h"
#include "util/err.h"

#define PEER_NS "kxpeer"

static int home_ns = -1, peer_ns = -1;

/* The call fails with exactly this message. */
#define assert_fails(call, msg)                                                                    \
    do {                                                                                           \
        kx_err_clear();                                                                            \
        assert_int_equal((call), -1);                                                              \
        assert_string_equal(kx_err_msg(), (msg));                                                  \
    } while (0)

/* ioctl on an interface of the current namespace; fails the test if it fails. */
static void if_ioctl(const char *name, unsigned long req, struct ifreq *ifr)
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(s >= 0);
    memset(ifr->ifr_name, 0, sizeof(ifr->ifr_name));
    memcpy(ifr->ifr_name, name, strlen(name));
    assert_int_equal(ioctl(s, req, ifr), 0);
    close(s);
}

static bool if_is_up(const char *name)
{
    struct ifreq ifr;
    if_ioctl(name, SIOCGIFFLAGS, &ifr);
    return ifr.ifr_flags & IFF_UP;
}

static bool strv_has(const kx_strv *v, const char *s)
{
    for (size_t i = 0; i < v->n; i++)
        if (strcmp(v->v[i], s) == 0)
            return true;
    return false;
}

/* The source address the kernel picks for a UDP "connection" to DST ("" if unroutable). */
static void route_source(const char *dst, char src_r[INET_ADDRSTRLEN])
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(9)};
    socklen_t len = sizeof(sa);
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    assert_true(s >= 0);
    assert_int_equal(inet_pton(AF_INET, dst, &sa.sin_addr), 1);
    src_r[0] = '\0';
    if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
        assert_int_equal(getsockname(s, (struct sockaddr *)&sa, &len), 0);
        inet_ntop(AF_INET, &sa.sin_addr, src_r, INET_ADDRSTRLEN);
    }
    close(s);
}

static void names_are_checked(void **state)
{
    (void)state;
    assert_int_equal(nl_ifname_check("vif3.0"), 0);
    assert_int_equal(nl_ifname_check("abcdefghijklmno"), 0);
    assert_fails(nl_ifname_check(""), "invalid interface name '': empty");
    assert_fails(nl_ifname_check(NULL), "invalid interface name '': empty");
    assert_fails(nl_ifname_check("abcdefghijklmnop"),
                 "invalid interface name 'abcdefghijklmnop': longer than 15 characters");
    assert_fails(nl_ifname_check("."), "invalid interface name '.': reserved");
    assert_fails(nl_ifname_check(".."), "invalid interface name '..': reserved");
    assert_fails(nl_ifname_check("a/b"), "invalid interface name 'a/b': contains '/'");
    assert_fails(nl_ifname_check("a b"), "invalid interface name 'a b': contains whitespace");
    assert_fails(nl_ifname_check("a\tb"), "invalid interface name 'a\tb': contains whitespace");
    assert_fails(nl_ifname_check("eth0:1"), "invalid interface name 'eth0:1': contains ':'");
    assert_int_equal(kx_err_code(), KXL_ERR_INVALID);

    /* every call checks before it sends anything */
    assert_fails(nl_bridge_create("a/b"), "invalid interface name 'a/b': contains '/'");
    assert_fails(nl_link_set_up("..", true), "invalid interface name '..': reserved");
    assert_fails(nl_veth_create("ok", "no pe", NULL),
                 "invalid interface name 'no pe': contains whitespace");
    assert_fails(tap_open("tap 0", false, NULL),
                 "invalid interface name 'tap 0': contains whitespace");
    assert_fails(nl_addr_add("abcdefghijklmnopq", "10.0.0.1/24"),
                 "invalid interface name 'abcdefghijklmnopq': longer than 15 characters");

    /* predicates report nothing and leave the caller's error alone */
    kx_err(KXL_ERR_CONFIG, "earlier error");
    assert_false(nl_link_exists("a/b"));
    assert_false(nl_link_exists("nope0"));
    assert_false(nl_link_is_bridge("nope0"));
    assert_string_equal(kx_err_msg(), "earlier error");
    assert_int_equal(kx_err_code(), KXL_ERR_CONFIG);
}

static void bridge_create_and_delete(void **state)
{
    (void)state;
    assert_false(nl_link_exists("kxbr0"));
    assert_int_equal(nl_bridge_create("kxbr0"), 0);
    assert_true(nl_link_exists("kxbr0"));
    assert_true(nl_link_is_bridge("kxbr0"));
    assert_false(if_is_up("kxbr0"));
    assert_true(nl_link_exists("lo"));
    assert_false(nl_link_is_bridge("lo"));

    assert_fails(nl_bridge_create("kxbr0"), "cannot create bridge 'kxbr0': 'kxbr0' already exists");
    assert_int_equal(kx_err_code(), KXL_ERR_EXISTS);
    assert_fails(nl_bridge_create("lo"), "cannot create bridge 'lo': 'lo' already exists");

    assert_int_equal(nl_link_delete("kxbr0"), 0);
    assert_false(nl_link_exists("kxbr0"));
    assert_fails(nl_link_delete("kxbr0"), "cannot delete 'kxbr0': No such device");
    assert_int_equal(kx_err_code(), KXL_ERR_NOT_FOUND);
}

static void tap_lives_as_long_as_its_fd(void **state)
{
    char name[IFNAMSIZ];
    int fd, fd2;

    (void)state;
    fd = tap_open("kxtap0", true, name);
    assert_true(fd >= 0);
    assert_string_equal(name, "kxtap0");
    assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    assert_true(nl_link_exists("kxtap0"));
    assert_false(nl_link_is_bridge("kxtap0"));

    assert_fails(tap_open("kxtap0", false, name),
                 "cannot create tap 'kxtap0': 'kxtap0' already exists");
    assert_int_equal(kx_err_code(), KXL_ERR_EXISTS);
    assert_fails(tap_open("lo", false, NULL), "cannot create tap 'lo': 'lo' already exists");

    /* the kernel picks a name */
    fd2 = tap_open(NULL, false, name);
    assert_true(fd2 >= 0);
    assert_true(strncmp(name, "tap", 3) == 0);
    assert_true(nl_link_exists(name));
    close(fd2);
    assert_false(nl_link_exists(name));
    fd2 = tap_open("kxt%d", false, name);
    assert_true(fd2 >= 0);
    assert_string_equal(name, "kxt0");
    close(fd2);

    /* not persistent: gone with the last descriptor */
    close(fd);
    assert_false(nl_link_exists("kxtap0"));
}

static void enslave_and_configure(void **state)
{
    char master[IFNAMSIZ] = "junk";
    struct ifreq ifr;
    int fd;

    (void)state;
    assert_int_equal(nl_bridge_create("kxbr1"), 0);
    fd = tap_open("kxtap1", true, NULL);
    assert_true(fd >= 0);

    assert_int_equal(nl_link_get_master("kxtap1", master), 0);
    assert_string_equal(master, "");
    assert_int_equal(nl_link_set_master("kxtap1", "kxbr1"), 0);
    assert_int_equal(nl_link_get_master("kxtap1", master), 0);
    assert_string_equal(master, "kxbr1");

    assert_int_equal(nl_link_set_mtu("kxtap1", 1400), 0);
    if_ioctl("kxtap1", SIOCGIFMTU, &ifr);
    assert_int_equal(ifr.ifr_mtu, 1400);
    assert_int_equal(nl_link_set_mac("kxtap1", "02:1a:2B:3c:4d:5e"), 0);
    if_ioctl("kxtap1", SIOCGIFHWADDR, &ifr);
    assert_memory_equal(ifr.ifr_hwaddr.sa_data, "\x02\x1a\x2b\x3c\x4d\x5e", 6);
    assert_int_equal(nl_link_set_up("kxtap1", true), 0);
    assert_true(if_is_up("kxtap1"));
    assert_int_equal(nl_link_set_up("kxbr1", true), 0);
    assert_true(if_is_up("kxbr1"));
    assert_int_equal(nl_link_set_up("kxtap1", false), 0);
    assert_false(if_is_up("kxtap1"));
    assert_int_equal(nl_link_get_master("kxtap1", master), 0);
    assert_string_equal(master, "kxbr1");

    assert_int_equal(nl_link_set_master("kxtap1", NULL), 0);
    assert_int_equal(nl_link_get_master("kxtap1", master), 0);
    assert_string_equal(master, "");
    assert_int_equal(nl_link_set_master("kxtap1", NULL), 0); /* releasing twice is fine */

    /* the vanished tap leaves its bridge too */
    assert_int_equal(nl_link_set_master("kxtap1", "kxbr1"), 0);
    close(fd);
    assert_false(nl_link_exists("kxtap1"));
    assert_true(nl_link_exists("kxbr1"));
    assert_int_equal(nl_link_delete("kxbr1"), 0);
}

static void link_errors(void **state)
{
    char master[IFNAMSIZ];
    int fd;

    (void)state;
    assert_int_equal(nl_bridge_create("kxbr2"), 0);
    fd = tap_open("kxtap2", false, NULL);
    assert_true(fd >= 0);

    assert_fails(nl_link_set_master("kxtap2", "nobr0"),
                 "cannot add 'kxtap2' to bridge 'nobr0': 'nobr0' does not exist");
    assert_int_equal(kx_err_code(), KXL_ERR_NOT_FOUND);
    assert_fails(nl_link_set_master("vif3.0", "kxbr2"),
                 "cannot add 'vif3.0' to bridge 'kxbr2': 'vif3.0' does not exist");
    assert_fails(nl_link_set_master("kxtap2", "lo"),
                 "cannot add 'kxtap2' to bridge 'lo': 'lo' is not a bridge");
    assert_fails(nl_link_set_master("kxbr2", "kxbr2"),
                 "cannot add 'kxbr2' to bridge 'kxbr2': Too many levels of symbolic links "
                 "(Can not enslave a bridge to a bridge)");
    assert_fails(nl_link_set_master("kxtap2", "no/br"),
                 "invalid interface name 'no/br': contains '/'");
    assert_fails(nl_link_set_master("nope0", NULL),
                 "cannot release 'nope0' from its bridge: No such device");
    assert_fails(nl_link_get_master("nope0", master),
                 "cannot read the master of 'nope0': No such device");
    assert_string_equal(master, "");

    assert_fails(nl_link_set_mtu("nope0", 1400),
                 "cannot set the MTU of 'nope0' to 1400: No such device");
    assert_fails(nl_link_set_mtu("kxtap2", 70000),
                 "cannot set the MTU of 'kxtap2' to 70000: Invalid argument "
                 "(mtu greater than device maximum)");
    assert_int_equal(kx_err_code(), KXL_ERR_INVALID);
    assert_fails(nl_link_set_up("nope0", true), "cannot bring 'nope0' up: No such device");
    assert_fails(nl_link_set_up("nope0", false), "cannot bring 'nope0' down: No such device");

    assert_fails(nl_link_set_mac("kxtap2", "02:11:22:33:44"),
                 "cannot set the MAC address of 'kxtap2' to '02:11:22:33:44': "
                 "not of the form xx:xx:xx:xx:xx:xx");
    assert_fails(nl_link_set_mac("kxtap2", "02:11:22:33:44:5g"),
                 "cannot set the MAC address of 'kxtap2' to '02:11:22:33:44:5g': "
                 "not of the form xx:xx:xx:xx:xx:xx");
    assert_fails(nl_link_set_mac("kxtap2", "02:11:22:33:44:55:66"),
                 "cannot set the MAC address of 'kxtap2' to '02:11:22:33:44:55:66': "
                 "not of the form xx:xx:xx:xx:xx:xx");
    assert_fails(nl_link_set_mac("kxtap2", "01:00:5e:00:00:01"),
                 "cannot set the MAC address of 'kxtap2' to '01:00:5e:00:00:01': "
                 "Cannot assign requested address");
    assert_fails(nl_link_set_mac("nope0", "02:11:22:33:44:55"),
                 "cannot set the MAC address of 'nope0' to '02:11:22:33:44:55': No such device");

    close(fd);
    assert_int_equal(nl_link_delete("kxbr2"), 0);
}

static void addresses(void **state)
{
    kx_strv v = KX_STRV_INIT;

    (void)state;
    assert_int_equal(nl_bridge_create("kxbr3"), 0);
    assert_int_equal(nl_link_set_up("kxbr3", true), 0);
    assert_int_equal(nl_addr_list("kxbr3", &v), 0);
    assert_int_equal(v.n, 0);

    assert_int_equal(nl_addr_add("kxbr3", "10.77.0.1/24"), 0);
    assert_int_equal(nl_addr_add("kxbr3", "10.77.1.9"), 0);
    assert_int_equal(nl_addr_add("kxbr3", "fd77::1/64"), 0);
    assert_int_equal(nl_addr_list("kxbr3", &v), 0);
    assert_int_equal(v.n, 3);
    assert_string_equal(v.v[0], "10.77.0.1/24");
    assert_string_equal(v.v[1], "10.77.1.9/32");
    assert_string_equal(v.v[2], "fd77::1/64");
    kx_strv_dispose(&v);

    assert_fails(nl_addr_add("kxbr3", "10.77.0.1/24"),
                 "cannot add address '10.77.0.1/24' to 'kxbr3': 'kxbr3' already has it");
    assert_int_equal(kx_err_code(), KXL_ERR_EXISTS);
    assert_fails(nl_addr_add("kxbr3", "10.77.0.300/24"),
                 "cannot add address '10.77.0.300/24' to 'kxbr3': not an IPv4 or IPv6 address");
    assert_fails(nl_addr_add("kxbr3", "10.77.0.1/33"),
                 "cannot add address '10.77.0.1/33' to 'kxbr3': prefix length is not 0..32");
    assert_fails(nl_addr_add("kxbr3", "10.77.0.1/"),
                 "cannot add address '10.77.0.1/' to 'kxbr3': prefix length is not 0..32");
    assert_fails(nl_addr_add("kxbr3", "10.77.0.1/-1"),
                 "cannot add address '10.77.0.1/-1' to 'kxbr3': prefix length is not 0..32");
    assert_fails(nl_addr_add("kxbr3", "fd77::1/129"),
                 "cannot add address 'fd77::1/129' to 'kxbr3': prefix length is not 0..128");
    assert_fails(nl_addr_add("kxbr3", "/24"),
                 "cannot add address '/24' to 'kxbr3': not an IPv4 or IPv6 address");
    assert_fails(nl_addr_add("nope0", "10.77.0.1/24"),
                 "cannot add address '10.77.0.1/24' to 'nope0': No such device");
    assert_fails(nl_addr_list("nope0", &v), "cannot list the addresses of 'nope0': No such device");
    assert_int_equal(v.n, 0);

    assert_int_equal(nl_addr_del("kxbr3", "10.77.0.1/24"), 0);
    assert_int_equal(nl_addr_del("kxbr3", "fd77::1/64"), 0);
    assert_fails(nl_addr_del("kxbr3", "10.77.0.1/24"),
                 "cannot remove address '10.77.0.1/24' from 'kxbr3': 'kxbr3' does not have it");
    assert_int_equal(kx_err_code(), KXL_ERR_NOT_FOUND);
    assert_fails(nl_addr_del("nope0", "10.77.0.1/24"),
                 "cannot remove address '10.77.0.1/24' from 'nope0': No such device");
    assert_int_equal(nl_addr_list("kxbr3", &v), 0);
    assert_int_equal(v.n, 1);
    assert_true(strv_has(&v, "10.77.1.9/32"));
    kx_strv_dispose(&v);
    assert_int_equal(nl_link_delete("kxbr3"), 0);
}

static void routes(void **state)
{
    char dev[IFNAMSIZ], via[64], src[INET_ADDRSTRLEN];

    (void)state;
    assert_false(nl_default_route_exists());
    assert_fails(nl_default_route_get(dev, via), "no default route");
    assert_int_equal(kx_err_code(), KXL_ERR_NOT_FOUND);

    assert_int_equal(nl_bridge_create("kxbr4"), 0);
    assert_int_equal(nl_link_set_up("kxbr4", true), 0);
    assert_int_equal(nl_addr_add("kxbr4", "10.78.0.1/24"), 0);
    route_source("192.0.2.1", src);
    assert_string_equal(src, "");

    assert_int_equal(nl_route_add("default", "kxbr4", "10.78.0.254", NULL), 0);
    assert_true(nl_default_route_exists());
    assert_int_equal(nl_default_route_get(dev, via), 0);
    assert_string_equal(dev, "kxbr4");
    assert_string_equal(via, "10.78.0.254");
    route_source("192.0.2.1", src);
    assert_string_equal(src, "10.78.0.1");
    assert_fails(nl_route_add("default", "kxbr4", "10.78.0.254", NULL),
                 "cannot add route 'default via 10.78.0.254 dev kxbr4': it already exists");
    assert_int_equal(kx_err_code(), KXL_ERR_EXISTS);

    /* a link-scope route with a preferred source, and one with a gateway but no device */
    assert_int_equal(nl_addr_add("kxbr4", "10.78.0.2/24"), 0);
    assert_int_equal(nl_route_add("10.90.0.0/16", "kxbr4", NULL, "10.78.0.2"), 0);
    route_source("10.90.1.1", src);
    assert_string_equal(src, "10.78.0.2");
    assert_int_equal(nl_route_add("10.91.0.0/16", NULL, "10.78.0.253", ""), 0);
    assert_int_equal(nl_route_del("10.90.0.0/16", "kxbr4", NULL), 0);
    assert_int_equal(nl_route_del("10.91.0.0/16", NULL, NULL), 0);
    assert_fails(nl_route_del("10.91.0.0/16", NULL, NULL),
                 "cannot delete route '10.91.0.0/16': no such route");
    assert_int_equal(kx_err_code(), KXL_ERR_NOT_FOUND);

    assert_int_equal(nl_route_del("default", "kxbr4", "10.78.0.254"), 0);
    assert_false(nl_default_route_exists());
    route_source("192.0.2.1", src);
    assert_string_equal(src, "");
    assert_int_equal(nl_link_delete("kxbr4"), 0);
}

static void default_route_ipv6_and_without_gateway(void **state)
{
    char dev[IFNAMSIZ], via[64];

    (void)state;
    assert_int_equal(nl_bridge_create("kxbr4"), 0);
    assert_int_equal(nl_link_set_up("kxbr4", true), 0);

    /* IPv6: the default route is found when there is no IPv4 one */
    assert_int_equal(nl_addr_add("kxbr4", "fd78::1/64"), 0);
    assert_int_equal(nl_route_add("default", "kxbr4", "fd78::fe", NULL), 0);
    assert_int_equal(nl_default_route_get(dev, via), 0);
    assert_string_equal(dev, "kxbr4");
    assert_string_equal(via, "fd78::fe");
    assert_int_equal(nl_route_add("fd79::/64", "kxbr4", NULL, NULL), 0);
    assert_int_equal(nl_route_del("fd79::/64", "kxbr4", NULL), 0);
    assert_int_equal(nl_route_del("default", NULL, "fd78::fe"), 0);
    assert_false(nl_default_route_exists());

    /* a default route without a gateway, and "" for "no gateway" as the getter gives it */
    assert_int_equal(nl_route_add("default", "kxbr4", "", NULL), 0);
    assert_int_equal(nl_default_route_get(dev, via), 0);
    assert_string_equal(dev, "kxbr4");
    assert_string_equal(via, "");
    assert_int_equal(nl_route_del("default", dev, via), 0);

    assert_int_equal(nl_link_delete("kxbr4"), 0);
}

static void route_errors(void **state)
{
    (void)state;
    assert_int_equal(nl_bridge_create("kxbr5"), 0);
    assert_int_equal(nl_link_set_up("kxbr5", true), 0);
    assert_int_equal(nl_addr_add("kxbr5", "10.79.0.1/24"), 0);

    assert_fails(nl_route_add("10.92.0.0/16", "nope0", NULL, NULL),
                 "cannot add route '10.92.0.0/16 dev nope0': No such device");
    assert_fails(nl_route_add("10.92.0.0/16", NULL, NULL, NULL),
                 "cannot add route '10.92.0.0/16': it needs a device or a gateway");
    assert_fails(nl_route_add("10.92.0.0/16", "kxbr5", "10.79.0.x", NULL),
                 "cannot add route '10.92.0.0/16 via 10.79.0.x dev kxbr5': "
                 "the gateway is not an IPv4 or IPv6 address");
    assert_fails(nl_route_add("10.92.0.0/16", "kxbr5", NULL, "10.79.0.1/24"),
                 "cannot add route '10.92.0.0/16 dev kxbr5 src 10.79.0.1/24': "
                 "the source is not an IPv4 or IPv6 address");
    assert_fails(nl_route_add("dflt", "kxbr5", NULL, NULL),
                 "cannot add route 'dflt dev kxbr5': not an IPv4 or IPv6 address");
    assert_fails(nl_route_add("default", "kxbr5", "fd00::1", "10.79.0.1"),
                 "cannot add route 'default via fd00::1 dev kxbr5 src 10.79.0.1': "
                 "it mixes IPv4 and IPv6 addresses");
    assert_fails(nl_route_add("10.92.0.1/16", "kxbr5", NULL, NULL),
                 "cannot add route '10.92.0.1/16 dev kxbr5': Invalid argument "
                 "(Invalid prefix for given prefix length)");
    assert_fails(nl_route_add("10.92.0.0/16", "kxbr5", "10.200.0.1", NULL),
                 "cannot add route '10.92.0.0/16 via 10.200.0.1 dev kxbr5': "
                 "Network is unreachable (Nexthop has invalid gateway)");
    assert_fails(nl_route_del("10.93.0.0/16", "kxbr5", NULL),
                 "cannot delete route '10.93.0.0/16 dev kxbr5': no such route");
    assert_fails(nl_route_del("10.93.0.0/16", "nope0", NULL),
                 "cannot delete route '10.93.0.0/16 dev nope0': No such device");
    assert_int_equal(nl_link_delete("kxbr5"), 0);
}

/* Sends N raw Ethernet frames of LEN bytes out of interface NAME. */
static void send_frames(const char *name, int n, size_t len)
{
    unsigned char frame[256];
    struct sockaddr_ll to = {.sll_family = AF_PACKET, .sll_halen = ETH_ALEN};
    int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);

    assert_true(s >= 0 && len <= sizeof(frame));
    to.sll_ifindex = (int)if_nametoindex(name);
    assert_true(to.sll_ifindex > 0);
    memset(to.sll_addr, 0xff, ETH_ALEN);
    memset(frame, 0, sizeof(frame));
    memset(frame, 0xff, ETH_ALEN);                        /* broadcast */
    memcpy(frame + 6, "\x02\x00\x00\x00\x00\x01", ETH_ALEN);
    frame[12] = 0x88, frame[13] = 0xb5;                   /* local experimental ethertype */
    for (int i = 0; i < n; i++)
        assert_int_equal(sendto(s, frame, len, 0, (struct sockaddr *)&to, sizeof(to)),
                         (ssize_t)len);
    close(s);
}

static void veth_and_counters(void **state)
{
    nl_stats a0, a1, b0, b1, lo;

    (void)state;
    assert_int_equal(nl_veth_create("kxva", "kxvb", NULL), 0);
    assert_true(nl_link_exists("kxva") && nl_link_exists("kxvb"));
    assert_false(nl_link_is_bridge("kxva"));
    assert_fails(nl_veth_create("kxva", "kxvc", NULL),
                 "cannot create veth pair 'kxva' and 'kxvc': 'kxva' already exists");
    assert_int_equal(kx_err_code(), KXL_ERR_EXISTS);
    assert_fails(nl_veth_create("kxvc", "kxvb", NULL),
                 "cannot create veth pair 'kxvc' and 'kxvb': 'kxvb' already exists");
    assert_false(nl_link_exists("kxvc"));
    assert_fails(nl_veth_create("kxvd", "kxvd", NULL),
                 "cannot create veth pair 'kxvd' and 'kxvd': the two ends need different names");

    assert_int_equal(nl_link_set_up("lo", true), 0);
    assert_int_equal(nl_link_stats("lo", &lo), 0);
    assert_int_equal(nl_link_set_up("kxva", true), 0);
    assert_int_equal(nl_link_set_up("kxvb", true), 0);
    assert_int_equal(nl_link_stats("kxva", &a0), 0);
    assert_int_equal(nl_link_stats("kxvb", &b0), 0);
    send_frames("kxva", 5, 100);
    assert_int_equal(nl_link_stats("kxva", &a1), 0);
    assert_int_equal(nl_link_stats("kxvb", &b1), 0);
    /* >=: IPv6 may send a router solicitation of its own meanwhile */
    assert_true(a1.tx_packets >= a0.tx_packets + 5);
    assert_true(a1.tx_bytes >= a0.tx_bytes + 500);
    assert_true(b1.rx_packets >= b0.rx_packets + 5);
    assert_true(b1.rx_bytes >= b0.rx_bytes + 500);
    assert_fails(nl_link_stats("nope0", &a1),
                 "cannot read the counters of 'nope0': No such device");

    assert_int_equal(nl_link_delete("kxva"), 0);
    assert_false(nl_link_exists("kxvb")); /* the peer goes with it */
}

static void veth_into_another_namespace(void **state)
{
    (void)state;
    assert_int_equal(nl_veth_create("kxvx", "kxvy", PEER_NS), 0);
    assert_true(nl_link_exists("kxvx"));
    assert_false(nl_link_exists("kxvy"));
    assert_int_equal(setns(peer_ns, CLONE_NEWNET), 0);
    assert_true(nl_link_exists("kxvy"));
    assert_false(nl_link_exists("kxvx"));
    assert_int_equal(setns(home_ns, CLONE_NEWNET), 0);

    assert_fails(nl_veth_create("kxvz", "kxvy", PEER_NS),
                 "cannot create veth pair 'kxvz' and 'kxvy': 'kxvy' already exists in network "
                 "namespace '" PEER_NS "'");
    /* the same name on both sides is fine across namespaces */
    assert_int_equal(nl_veth_create("kxvw", "kxvw", PEER_NS), 0);
    assert_int_equal(nl_link_delete("kxvw"), 0);

    assert_fails(nl_veth_create("kxvz", "kxvq", "nope"),
                 "cannot create veth pair 'kxvz' and 'kxvq': cannot open network namespace "
                 "'nope' (/run/netns/nope): No such file or directory");
    assert_int_equal(kx_err_code(), KXL_ERR_NOT_FOUND);
    assert_fails(nl_veth_create("kxvz", "kxvq", "../x"),
                 "cannot create veth pair 'kxvz' and 'kxvq': invalid network namespace name "
                 "'../x'");
    assert_fails(nl_veth_create("kxvz", "kxvq", ""),
                 "cannot create veth pair 'kxvz' and 'kxvq': invalid network namespace name ''");
    assert_false(nl_link_exists("kxvz"));

    assert_int_equal(nl_link_delete("kxvx"), 0);
    assert_int_equal(setns(peer_ns, CLONE_NEWNET), 0);
    assert_false(nl_link_exists("kxvy"));
    assert_int_equal(setns(home_ns, CLONE_NEWNET), 0);
}

static void sysctls(void **state)
{
    char *v = NULL;

    (void)state;
    assert_int_equal(net_sysctl_set("ipv4/ip_forward", "1"), 0);
    assert_int_equal(net_sysctl_get("ipv4/ip_forward", &v), 0);
    assert_string_equal(v, "1");
    free(v);
    assert_int_equal(net_sysctl_set("ipv4/ip_forward", "0\n"), 0);
    assert_int_equal(net_sysctl_get("ipv4/ip_forward", &v), 0);
    assert_string_equal(v, "0");
    free(v);

    /* interface names with dots stay as they are in slash paths */
    assert_int_equal(nl_bridge_create("kxbr..6"), 0);
    assert_int_equal(net_sysctl_set("ipv4/conf/kxbr..6/proxy_arp", "1"), 0);
    assert_int_equal(net_sysctl_get("ipv4/conf/kxbr..6/proxy_arp", &v), 0);
    assert_string_equal(v, "1");
    free(v);
    assert_int_equal(nl_link_delete("kxbr..6"), 0);

    assert_fails(net_sysctl_set("../kernel/hostname", "x"),
                 "cannot set net sysctl '../kernel/hostname': the path has a '..' part");
    assert_int_equal(kx_err_code(), KXL_ERR_INVALID);
    assert_fails(net_sysctl_set("ipv4/conf/../../../kernel/hostname", "x"),
                 "cannot set net sysctl 'ipv4/conf/../../../kernel/hostname': "
                 "the path has a '..' part");
    assert_fails(net_sysctl_get("/ipv4/ip_forward", &v),
                 "cannot read net sysctl '/ipv4/ip_forward': the path is absolute");
    assert_fails(net_sysctl_get("ipv4//ip_forward", &v),
                 "cannot read net sysctl 'ipv4//ip_forward': the path has an empty or '.' part");
    assert_fails(net_sysctl_get("ipv4/./ip_forward", &v),
                 "cannot read net sysctl 'ipv4/./ip_forward': the path has an empty or '.' part");
    assert_fails(net_sysctl_get("ipv4/", &v),
                 "cannot read net sysctl 'ipv4/': the path has an empty or '.' part");
    assert_fails(net_sysctl_get("", &v), "cannot read net sysctl '': the path is empty");
    assert_fails(net_sysctl_set("ipv4/conf/nope0/proxy_arp", "1"),
                 "cannot set net sysctl 'ipv4/conf/nope0/proxy_arp' to '1': "
                 "No such file or directory");
    assert_int_equal(kx_err_code(), KXL_ERR_NOT_FOUND);
    assert_fails(net_sysctl_set("ipv4/ip_forward", "banana"),
                 "cannot set net sysctl 'ipv4/ip_forward' to 'banana': Invalid argument");
    assert_fails(net_sysctl_get("ipv4/conf/nope0/proxy_arp", &v),
                 "cannot read net sysctl 'ipv4/conf/nope0/proxy_arp': No such file or directory");
}

static kx_buf debug_log = KX_BUF_INIT;

static void capture_sink(kx_loglevel level, const char *msg, void *opaque)
{
    (void)level, (void)opaque;
    kx_buf_add(&debug_log, msg);
    kx_buf_addc(&debug_log, '\n');
}

static void netlink_traffic_at_debug_level(void **state)
{
    (void)state;
    kx_log_set_sink(capture_sink, NULL);
    kx_log_set_level(KX_LOG_DEBUG);
    assert_int_equal(nl_bridge_create("kxbr7"), 0);
    assert_fails(nl_bridge_create("kxbr7"), "cannot create bridge 'kxbr7': 'kxbr7' already exists");
    kx_log_set_level(KX_LOG_NOTICE);
    kx_log_set_sink(NULL, NULL);
    assert_non_null(strstr(kx_buf_str(&debug_log), "netlink: create bridge 'kxbr7'"));
    assert_non_null(strstr(kx_buf_str(&debug_log), "netlink out"));
    assert_non_null(strstr(kx_buf_str(&debug_log), "netlink in"));
    assert_non_null(strstr(kx_buf_str(&debug_log), "error: cannot create bridge 'kxbr7'"));
    kx_buf_dispose(&debug_log);
    assert_int_equal(nl_link_delete("kxbr7"), 0);
}

/* Private network and mount namespaces for the whole run, with a second network namespace
 * mounted at /run/netns/PEER_NS (on a tmpfs /run only this process sees). */
static int enter_namespaces(void)
{
    int fd;

    if (unshare(CLONE_NEWNET | CLONE_NEWNS) < 0) {
        fprintf(stderr, "unshare: %s\n", strerror(errno));
        return -1;
    }
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
        mount("kxl-test", "/run", "tmpfs", 0, "mode=0755") < 0 || mkdir("/run/netns", 0755) < 0) {
        fprintf(stderr, "mount: %s\n", strerror(errno));
        return -1;
    }
    home_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    fd = open("/run/netns/" PEER_NS, O_CREAT | O_RDONLY | O_CLOEXEC, 0644);
    if (home_ns < 0 || fd < 0 || unshare(CLONE_NEWNET) < 0 ||
        mount("/proc/self/ns/net", "/run/netns/" PEER_NS, NULL, MS_BIND, NULL) < 0 ||
        setns(home_ns, CLONE_NEWNET) < 0) {
        fprintf(stderr, "peer namespace: %s\n", strerror(errno));
        return -1;
    }
    close(fd);
    peer_ns = open("/run/netns/" PEER_NS, O_RDONLY | O_CLOEXEC);
    return peer_ns < 0 ? -1 : 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(names_are_checked),
        cmocka_unit_test(bridge_create_and_delete),
        cmocka_unit_test(tap_lives_as_long_as_its_fd),
        cmocka_unit_test(enslave_and_configure),
        cmocka_unit_test(link_errors),
        cmocka_unit_test(addresses),
        cmocka_unit_test(routes),
        cmocka_unit_test(default_route_ipv6_and_without_gateway),
        cmocka_unit_test(route_errors),
        cmocka_unit_test(veth_and_counters),
        cmocka_unit_test(veth_into_another_namespace),
        cmocka_unit_test(sysctls),
        cmocka_unit_test(netlink_traffic_at_debug_level),
    };
    int r;

    if (geteuid() != 0) {
        printf("SKIP: test_net needs root to make a private network namespace\n");
        return 77;
    }
    if (enter_namespaces() < 0) {
        printf("SKIP: test_net cannot make private network and mount namespaces here\n");
        return 77;
    }
    r = cmocka_run_group_tests(tests, NULL, NULL);
    close(home_ns);
    close(peer_ns);
    return r;
}
