/*
 * net_links.c - one RTM_GETLINK dump per cycle for the net input (see
 * net_links.h). The socket stays open between cycles; a dump that fails
 * leaves links->ok false and the input falls back to sysfs.
 */
#include <errno.h>
#include <linux/if_link.h>
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

void net_links_init(struct net_links *links)
{
    memset(links, 0, sizeof(*links));
    links->fd = -1;
}

bool net_links_parse(const struct nlmsghdr *msg, struct net_link *out)
{
    if (msg->nlmsg_type != RTM_NEWLINK || msg->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg)))
        return false;
    const struct ifinfomsg *ifi = NLMSG_DATA(msg);
    memset(out, 0, sizeof(*out));
    out->flags = ifi->ifi_flags;
    int len = (int)(msg->nlmsg_len - NLMSG_LENGTH(sizeof(*ifi)));
    const size_t nohandler_end =
        offsetof(struct rtnl_link_stats64, rx_nohandler) + sizeof(uint64_t);
    for (const struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
        size_t size = RTA_PAYLOAD(a);
        if (a->rta_type == IFLA_IFNAME && size > 1) {
            const char *name = RTA_DATA(a);
            size_t n = strnlen(name, size);
            if (n == 0 || n >= NET_LINK_NAME)
                continue; /* not a kernel interface name: left out */
            memcpy(out->name, name, n);
            out->name[n] = '\0';
        } else if (a->rta_type == IFLA_STATS64 && size >= nohandler_end) {
            /* An attribute is only 4-byte aligned: copied, never dereferenced. */
            memcpy(&out->rx_nohandler,
                   (const char *)RTA_DATA(a) + offsetof(struct rtnl_link_stats64, rx_nohandler),
                   sizeof(uint64_t));
            out->has_nohandler = true;
        }
    }
    return out->name[0] != '\0';
}

static int net_links_compare(const void *a, const void *b)
{
    return strcmp(((const struct net_link *)a)->name, ((const struct net_link *)b)->name);
}

static int net_links_open(struct net_links *links)
{
    links->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (links->fd < 0)
        return -errno;
    /* The kernel answers a dump at once; the bound is only a backstop. */
    struct timeval tv = {.tv_sec = 1};
    setsockopt(links->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (!links->buf)
        links->buf = sonde_xmalloc(NET_LINKS_BUF);
    return 0;
}

static void net_links_push(struct net_links *links, const struct net_link *link)
{
    if (links->n == links->cap) {
        links->cap = links->cap ? links->cap * 2 : 16;
        links->items = sonde_xrealloc(links->items, links->cap * sizeof(*links->items));
    }
    links->items[links->n++] = *link;
}

/* Reads the answers to request links->seq; 0 at NLMSG_DONE, or -errno. */
static int net_links_receive(struct net_links *links)
{
    for (;;) {
        struct iovec iov = {links->buf, NET_LINKS_BUF};
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
        ssize_t got = recvmsg(links->fd, &mh, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return -errno;
        if (got == 0 || (mh.msg_flags & MSG_TRUNC))
            return -EIO;
        int left = (int)got;
        for (const struct nlmsghdr *h = (const struct nlmsghdr *)links->buf; NLMSG_OK(h, left);
             h = NLMSG_NEXT(h, left)) {
            if (h->nlmsg_seq != links->seq)
                continue; /* an answer to an earlier, abandoned request */
            if (h->nlmsg_type == NLMSG_DONE)
                return 0;
            if (h->nlmsg_type == NLMSG_ERROR)
                return -EIO;
            struct net_link link;
            if (net_links_parse(h, &link))
                net_links_push(links, &link);
        }
    }
}

int net_links_dump(struct net_links *links)
{
    links->ok = false;
    links->n = 0;
    if (links->fd < 0) {
        int rc = net_links_open(links);
        if (rc < 0)
            return rc;
    }
    struct {
        struct nlmsghdr h;
        struct ifinfomsg i;
    } req;
    memset(&req, 0, sizeof(req));
    req.h.nlmsg_len = sizeof(req);
    req.h.nlmsg_type = RTM_GETLINK;
    req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    req.h.nlmsg_seq = ++links->seq;
    req.i.ifi_family = AF_UNSPEC;
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    int rc = 0;
    if (sendto(links->fd, &req, sizeof(req), 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
        rc = -errno;
    if (rc == 0)
        rc = net_links_receive(links);
    if (rc < 0) { /* a fresh socket next time: no half-read dump left in this one */
        close(links->fd);
        links->fd = -1;
        return rc;
    }
    if (links->n > 1)
        qsort(links->items, links->n, sizeof(*links->items), net_links_compare);
    links->ok = true;
    return 0;
}

const struct net_link *net_links_find(const struct net_links *links, const char *name)
{
    if (!links->ok || strlen(name) >= NET_LINK_NAME)
        return NULL;
    struct net_link key;
    memset(&key, 0, sizeof(key));
    memcpy(key.name, name, strlen(name));
    return bsearch(&key, links->items, links->n, sizeof(*links->items), net_links_compare);
}

void net_links_free(struct net_links *links)
{
    if (links->fd >= 0)
        close(links->fd);
    free(links->buf);
    free(links->items);
    net_links_init(links);
}
