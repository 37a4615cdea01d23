/*
 * net_links.c - the net input's rtnetlink side (see net_links.h): per cycle
 * one RTM_GETSTATS dump, which the kernel fills with the counters alone, and
 * an RTM_GETLINK dump, which fills every attribute of every link, only when
 * a link changed. The socket stays open between cycles.
 */
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "net_links.h"
#include "sonde.h"

/* Large enough for the biggest dump message the kernel builds (32 KiB). */
#define NET_LINKS_BUF 65536

/* /proc/net/dev is made of the fields before rx_nohandler. */
#define NET_LINKS_STATS_MIN       offsetof(struct rtnl_link_stats64, rx_nohandler)
#define NET_LINKS_STATS_NOHANDLER (NET_LINKS_STATS_MIN + sizeof(uint64_t))

void net_links_init(struct net_links *links)
{
    memset(links, 0, sizeof(*links));
    links->fd = -1;
}

bool net_links_parse_link(const struct nlmsghdr *msg, struct net_link *out)
{
    if (msg->nlmsg_type != RTM_NEWLINK || msg->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg)))
        return false;
    const struct ifinfomsg *ifi = NLMSG_DATA(msg);
    memset(out, 0, sizeof(*out));
    out->index = ifi->ifi_index;
    out->flags = ifi->ifi_flags;
    int len = (int)(msg->nlmsg_len - NLMSG_LENGTH(sizeof(*ifi)));
    for (const struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
        size_t size = RTA_PAYLOAD(a);
        if (a->rta_type != IFLA_IFNAME || size <= 1)
            continue;
        const char *name = RTA_DATA(a);
        size_t n = strnlen(name, size);
        if (n == 0 || n >= NET_LINK_NAME)
            continue; /* not a kernel interface name: left out */
        memcpy(out->name, name, n);
        out->name[n] = '\0';
    }
    return out->name[0] != '\0';
}

bool net_links_parse_stats(const struct nlmsghdr *msg, struct net_link_stats *out)
{
    if (msg->nlmsg_type != RTM_NEWSTATS ||
        msg->nlmsg_len < NLMSG_LENGTH(sizeof(struct if_stats_msg)))
        return false;
    const struct if_stats_msg *ifsm = NLMSG_DATA(msg);
    memset(out, 0, sizeof(*out));
    out->index = (int)ifsm->ifindex;
    int len = (int)(msg->nlmsg_len - NLMSG_LENGTH(sizeof(*ifsm)));
    const struct rtattr *a =
        (const struct rtattr *)((const char *)ifsm + NLMSG_ALIGN(sizeof(*ifsm)));
    for (; RTA_OK(a, len); a = RTA_NEXT(a, len)) {
        size_t size = RTA_PAYLOAD(a);
        if (a->rta_type != IFLA_STATS_LINK_64 || size < NET_LINKS_STATS_MIN)
            continue; /* IFLA_STATS_UNSPEC pads for alignment on some machines */
        /* A newer kernel may send more fields, an older one fewer; an
         * attribute is only 4-byte aligned: copied, never dereferenced. */
        memcpy(&out->stats, RTA_DATA(a), size < sizeof(out->stats) ? size : sizeof(out->stats));
        out->has_nohandler = size >= NET_LINKS_STATS_NOHANDLER;
        return true;
    }
    return false;
}

static void net_links_push_link(struct net_links *links, const struct net_link *link)
{
    if (links->nlinks == links->links_cap) {
        links->links_cap = links->links_cap ? links->links_cap * 2 : 16;
        links->links = sonde_xrealloc(links->links, links->links_cap * sizeof(*links->links));
    }
    links->links[links->nlinks++] = *link;
}

static void net_links_push_stats(struct net_links *links, const struct net_link_stats *stats)
{
    if (links->nstats == links->stats_cap) {
        links->stats_cap = links->stats_cap ? links->stats_cap * 2 : 16;
        links->stats = sonde_xrealloc(links->stats, links->stats_cap * sizeof(*links->stats));
    }
    links->stats[links->nstats++] = *stats;
}

int net_links_take(struct net_links *links, const struct nlmsghdr *msg)
{
    bool reply = msg->nlmsg_pid == links->portid && msg->nlmsg_seq == links->seq;
    if (!reply) {
        /* A notification (or an answer to a request abandoned with its
         * socket, which cannot reach this one). */
        if (msg->nlmsg_type == RTM_NEWLINK || msg->nlmsg_type == RTM_DELLINK)
            links->changed = true;
        return 0;
    }
    if (msg->nlmsg_type == NLMSG_DONE)
        return 1;
    if (msg->nlmsg_type == NLMSG_ERROR) {
        const struct nlmsgerr *err = NLMSG_DATA(msg);
        if (msg->nlmsg_len < NLMSG_LENGTH(sizeof(*err)) || err->error >= 0)
            return -EIO; /* no acknowledgement was asked for */
        return err->error;
    }
    struct net_link link;
    struct net_link_stats stats;
    if (net_links_parse_stats(msg, &stats))
        net_links_push_stats(links, &stats);
    else if (net_links_parse_link(msg, &link))
        net_links_push_link(links, &link);
    return 0;
}

static int net_links_compare_link(const void *a, const void *b)
{
    int x = ((const struct net_link *)a)->index, y = ((const struct net_link *)b)->index;
    return (x > y) - (x < y);
}

static int net_links_compare_stats(const void *a, const void *b)
{
    int x = ((const struct net_link_stats *)a)->index;
    int y = ((const struct net_link_stats *)b)->index;
    return (x > y) - (x < y);
}

/* The table by index, duplicates dropped (a dump the kernel restarted may
 * repeat an interface; qsort is not stable, and either copy will do). */
static void net_links_sort_table(struct net_links *links)
{
    qsort(links->links, links->nlinks, sizeof(*links->links), net_links_compare_link);
    size_t n = 0;
    for (size_t i = 0; i < links->nlinks; i++) {
        if (n > 0 && links->links[n - 1].index == links->links[i].index)
            n--;
        links->links[n++] = links->links[i];
    }
    links->nlinks = n;
}

/* The counters the same way: duplicates are equal in all but a moment's
 * counts. */
static void net_links_sort_stats(struct net_links *links)
{
    qsort(links->stats, links->nstats, sizeof(*links->stats), net_links_compare_stats);
    size_t n = 0;
    for (size_t i = 0; i < links->nstats; i++) {
        if (n > 0 && links->stats[n - 1].index == links->stats[i].index)
            n--;
        links->stats[n++] = links->stats[i];
    }
    links->nstats = n;
}

void net_links_sort(struct net_links *links)
{
    net_links_sort_table(links);
    net_links_sort_stats(links);
}

const struct net_link *net_links_by_index(const struct net_links *links, int index)
{
    struct net_link key = {.index = index};
    if (links->nlinks == 0)
        return NULL;
    return bsearch(&key, links->links, links->nlinks, sizeof(*links->links),
                   net_links_compare_link);
}

bool net_links_stale(const struct net_links *links)
{
    if (!links->have_links || links->changed)
        return true;
    for (size_t i = 0; i < links->nstats; i++)
        if (!net_links_by_index(links, links->stats[i].index))
            return true; /* a link the table missed */
    return false;
}

static int net_links_open(struct net_links *links)
{
    links->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (links->fd < 0)
        return -errno;
    struct sockaddr_nl self = {.nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK};
    socklen_t len = sizeof(self);
    if (bind(links->fd, (struct sockaddr *)&self, sizeof(self)) < 0 ||
        getsockname(links->fd, (struct sockaddr *)&self, &len) < 0) {
        int rc = -errno;
        close(links->fd);
        links->fd = -1;
        return rc;
    }
    links->portid = self.nl_pid;
    /* The kernel answers a dump at once; the bound is only a backstop. */
    struct timeval tv = {.tv_sec = 1};
    setsockopt(links->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (!links->buf)
        links->buf = sonde_xmalloc(NET_LINKS_BUF);
    return 0;
}

/* Reads until the end of the answer to request links->seq; 0 or -errno. */
static int net_links_receive(struct net_links *links)
{
    for (;;) {
        struct iovec iov = {links->buf, NET_LINKS_BUF};
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
        ssize_t got = recvmsg(links->fd, &mh, 0);
        if (got < 0 && errno == ENOBUFS) {
            links->changed = true; /* notifications were lost; the answer was not */
            continue;
        }
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return -errno;
        if (got == 0 || (mh.msg_flags & MSG_TRUNC))
            return -EIO;
        int left = (int)got;
        for (const struct nlmsghdr *h = (const struct nlmsghdr *)links->buf; NLMSG_OK(h, left);
             h = NLMSG_NEXT(h, left)) {
            int rc = net_links_take(links, h);
            if (rc != 0)
                return rc < 0 ? rc : 0;
        }
    }
}

/* Sends one dump request (RTM_GETSTATS or RTM_GETLINK) and reads its answer. */
static int net_links_request(struct net_links *links, uint16_t type)
{
    struct {
        struct nlmsghdr h;
        union {
            struct if_stats_msg stats;
            struct ifinfomsg link;
        } body;
    } req;
    memset(&req, 0, sizeof(req));
    if (type == RTM_GETSTATS) {
        req.h.nlmsg_len = NLMSG_LENGTH(sizeof(req.body.stats));
        req.body.stats.family = AF_UNSPEC;
        req.body.stats.filter_mask = IFLA_STATS_FILTER_BIT(IFLA_STATS_LINK_64);
    } else {
        req.h.nlmsg_len = NLMSG_LENGTH(sizeof(req.body.link));
        req.body.link.ifi_family = AF_UNSPEC;
    }
    req.h.nlmsg_type = type;
    req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    if (++links->seq == 0)
        links->seq = 1; /* 0 is what notifications carry */
    req.h.nlmsg_seq = links->seq;
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    if (sendto(links->fd, &req, req.h.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
        return -errno;
    return net_links_receive(links);
}

static int net_links_dump_stats(struct net_links *links)
{
    links->nstats = 0;
    int rc = net_links_request(links, RTM_GETSTATS);
    if (rc == -EOPNOTSUPP)
        links->unsupported = true;
    return rc;
}

/* A change announced while this dump runs may or may not be in it:
 * `changed` stays set and the next cycle dumps again. */
static int net_links_dump_table(struct net_links *links)
{
    links->nlinks = 0;
    links->have_links = false;
    links->changed = false;
    int rc = net_links_request(links, RTM_GETLINK);
    links->dumps++;
    if (rc == 0)
        links->have_links = true;
    return rc;
}

int net_links_update(struct net_links *links)
{
    if (links->unsupported)
        return -EOPNOTSUPP;
    int rc = 0;
    if (links->fd < 0) {
        rc = net_links_open(links);
        if (rc == -EAFNOSUPPORT || rc == -EPROTONOSUPPORT || rc == -EACCES || rc == -EPERM)
            links->unsupported = true; /* no rtnetlink here (kernel, seccomp, LSM) */
        if (rc < 0)
            return rc;
    }
    rc = net_links_dump_stats(links);
    if (rc == 0 && net_links_stale(links)) {
        rc = net_links_dump_table(links);
        if (rc == 0)
            net_links_sort_table(links); /* kept sorted until the next dump */
    }
    if (rc < 0) { /* a fresh socket next time: no half-read answer left in this one */
        close(links->fd);
        links->fd = -1;
        links->have_links = false; /* notifications are lost with the socket */
        links->nstats = 0;
        return rc;
    }
    net_links_sort_stats(links);
    return 0;
}

void net_links_free(struct net_links *links)
{
    if (links->fd >= 0)
        close(links->fd);
    free(links->buf);
    free(links->links);
    free(links->stats);
    net_links_init(links);
}
