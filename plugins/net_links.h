/*
 * net_links.h - the network interfaces of sonde's namespace from one
 * rtnetlink dump (RTM_GETLINK): each one's flags and the receive_nohandler
 * counter, which /proc/net/dev does not carry. One dump a cycle replaces an
 * open, two reads and a close of a sysfs file per interface.
 */
#ifndef SONDE_NET_LINKS_H
#define SONDE_NET_LINKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The kernel's IFNAMSIZ: an interface name never has more than 15 bytes. */
#define NET_LINK_NAME 16

struct net_link {
    char name[NET_LINK_NAME];
    unsigned flags;          /* ifi_flags: IFF_UP, IFF_LOOPBACK ... */
    uint64_t rx_nohandler;   /* valid when has_nohandler */
    bool has_nohandler;      /* the kernel's stats64 has the field (Linux 4.6 on) */
};

struct net_links {
    int fd;                 /* the NETLINK_ROUTE socket; -1 until the first dump */
    uint32_t seq;           /* of the last request */
    char *buf;              /* owned: receive buffer */
    struct net_link *items; /* owned: the last dump, sorted by name */
    size_t n, cap;
    bool ok;                /* the last dump completed */
};

void net_links_init(struct net_links *links);
/* Dumps the interfaces into links->items; 0 or -errno (links->ok tells). */
int net_links_dump(struct net_links *links);
/* The interface called `name` in the last complete dump, or NULL. */
const struct net_link *net_links_find(const struct net_links *links, const char *name);
void net_links_free(struct net_links *links);

/* Parses one netlink message into `out`; false when it is not an
 * RTM_NEWLINK with a name. Exposed for tests. */
struct nlmsghdr;
bool net_links_parse(const struct nlmsghdr *msg, struct net_link *out);

#endif
