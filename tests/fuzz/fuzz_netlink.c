/*
 * fuzz_netlink.c - libFuzzer harness for the net input's rtnetlink side:
 * the fuzz data is one received datagram of netlink messages, taken as the
 * answer to request 1 of port 0 (its messages may also be notifications,
 * errors or the end of the dump), then sorted and looked up as a cycle does.
 */
#include <linux/netlink.h>
#include <stdlib.h>
#include <string.h>

#include "../../plugins/net_links.h"
#include "core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The kernel hands over aligned datagrams: so does the copy. */
    void *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    struct net_links links;
    net_links_init(&links);
    links.seq = 1;
    int left = (int)size;
    for (const struct nlmsghdr *h = buf; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left))
        if (net_links_take(&links, h) != 0)
            break;
    net_links_sort(&links);
    (void)net_links_stale(&links);
    for (size_t i = 0; i < links.nstats; i++) {
        const struct net_link *link = net_links_by_index(&links, links.stats[i].index);
        if (link && (link->index != links.stats[i].index || strlen(link->name) >= NET_LINK_NAME))
            abort();
    }
    for (size_t i = 1; i < links.nlinks; i++)
        if (links.links[i - 1].index >= links.links[i].index)
            abort(); /* sorted, without duplicates */
    net_links_free(&links);
    free(buf);
    return 0;
}
