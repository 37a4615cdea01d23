/*
 * net_links.h - the network interfaces of sonde's namespace over rtnetlink,
 * for the net input. Each cycle one RTM_GETSTATS dump gives every
 * interface's counters (struct rtnl_link_stats64, from which the kernel
 * also writes /proc/net/dev). Names and flags come from an RTM_GETLINK dump
 * that is kept between cycles and done again only when the kernel announced
 * a link change or the counters name an interface the table lacks.
 */
#ifndef SONDE_NET_LINKS_H
#define SONDE_NET_LINKS_H

#include <linux/if_link.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The kernel's IFNAMSIZ: an interface name never has more than 15 bytes. */
#define NET_LINK_NAME 16

/* One interface of the last RTM_GETLINK dump. */
struct net_link {
    int index;      /* ifi_index */
    unsigned flags; /* ifi_flags: IFF_UP, IFF_LOOPBACK ... */
    char name[NET_LINK_NAME];
};

/* One interface's counters of the last RTM_GETSTATS dump. */
struct net_link_stats {
    int index;                      /* ifindex */
    bool has_nohandler;             /* the kernel sent rx_nohandler (Linux 4.6 on) */
    struct rtnl_link_stats64 stats; /* the fields the kernel did not send are 0 */
};

/*
 * The socket is bound to the RTMGRP_LINK multicast group, so the kernel
 * queues a message on it for every link added, removed, renamed or whose
 * flags change. Those messages are read, in queue order, before the answer
 * to the next request: `changed` is set by the cycle's RTM_GETSTATS at the
 * latest, and the table is dumped again before it is used. A full socket
 * buffer (ENOBUFS) counts as a change. Replies are told from notifications
 * by our port id and sequence number.
 */
struct net_links {
    int fd;           /* the NETLINK_ROUTE socket; -1 when closed */
    uint32_t portid;  /* the socket's netlink address */
    uint32_t seq;     /* of the last request; never 0 */
    char *buf;        /* owned: receive buffer */
    bool unsupported; /* no socket, or no RTM_GETSTATS (Linux < 4.7): do not retry */

    struct net_link *links; /* owned: the table, sorted by index */
    size_t nlinks, links_cap;
    bool have_links; /* links holds a complete dump done on this socket */
    bool changed;    /* a link changed since that dump */
    uint64_t dumps;  /* RTM_GETLINK dumps done, for tests */

    struct net_link_stats *stats; /* owned: the last RTM_GETSTATS dump, sorted by index */
    size_t nstats, stats_cap;
};

void net_links_init(struct net_links *links);
/* One cycle: the RTM_GETSTATS dump, then the RTM_GETLINK dump when the
 * table may be stale. 0 or -errno; on error the socket is closed and the
 * next call starts afresh (unless links->unsupported). */
int net_links_update(struct net_links *links);
/* The interface numbered `index` in the table, or NULL. */
const struct net_link *net_links_by_index(const struct net_links *links, int index);
void net_links_free(struct net_links *links);

/* Exposed for tests. */
struct nlmsghdr;
/* An RTM_NEWLINK with a kernel interface name into `out`; else false. */
bool net_links_parse_link(const struct nlmsghdr *msg, struct net_link *out);
/* An RTM_NEWSTATS with IFLA_STATS_LINK_64 of at least the 23 fields
 * /proc/net/dev is made of into `out`; else false. */
bool net_links_parse_stats(const struct nlmsghdr *msg, struct net_link_stats *out);
/* Takes one received message: 1 at the end of the answer to request
 * links->seq, 0 to read on, -errno for an error answer. */
int net_links_take(struct net_links *links, const struct nlmsghdr *msg);
/* Sorts both dumps by index and drops duplicates (a dump the kernel
 * restarted may repeat an interface). */
void net_links_sort(struct net_links *links);
/* Whether the table must be dumped before the counters are named. */
bool net_links_stale(const struct net_links *links);

#endif
