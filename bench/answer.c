/*
 * answer.c - the request floor: the least a server spends answering one
 * scrape of a given size. One thread waits in epoll on kept-alive loopback
 * connections and answers every request (read up to its blank line) with the
 * same response, built once: a status line, Content-Type, Content-Length and
 * BODY_BYTES bytes. No parsing, no rendering, no compression: whatever an
 * exporter adds to a scrape comes on top of this.
 * Usage: answer PORT BODY_BYTES
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define ANSWER_MAX_EVENTS  16
#define ANSWER_REQUEST_MAX 8192

/* What one connection has read of requests not yet complete. */
struct answer_conn {
    int fd;
    size_t len;
    char buf[ANSWER_REQUEST_MAX];
};

static int answer_send_all(int fd, const char *p, size_t len)
{
    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Reads what the connection has and answers each complete request in it;
 * returns -1 when the connection is to be closed. */
static int answer_serve(struct answer_conn *c, const char *response, size_t response_len)
{
    ssize_t n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
    if (n <= 0)
        return n < 0 && errno == EINTR ? 0 : -1;
    c->len += (size_t)n;
    char *start = c->buf, *end;
    while ((end = memmem(start, c->len - (size_t)(start - c->buf), "\r\n\r\n", 4))) {
        if (answer_send_all(c->fd, response, response_len) < 0)
            return -1;
        start = end + 4;
    }
    c->len -= (size_t)(start - c->buf);
    memmove(c->buf, start, c->len);
    return c->len == sizeof(c->buf) ? -1 : 0; /* a request larger than the buffer */
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: answer PORT BODY_BYTES\n");
        return 2;
    }
    long port = strtol(argv[1], NULL, 10), body = strtol(argv[2], NULL, 10);
    if (port <= 0 || port > 65535 || body < 0) {
        fprintf(stderr, "answer: bad port or size\n");
        return 2;
    }
    char head[160];
    int head_len = snprintf(head, sizeof(head),
                            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; "
                            "charset=utf-8\r\nContent-Length: %ld\r\n\r\n",
                            body);
    size_t response_len = (size_t)head_len + (size_t)body;
    char *response = malloc(response_len);
    if (!response)
        return 1;
    memcpy(response, head, (size_t)head_len);
    for (long i = 0; i < body; i++) /* text lines, as an exposition is */
        response[head_len + i] = i % 64 == 63 ? '\n' : (char)('a' + i % 26);

    int one = 1, listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET,
                               .sin_port = htons((uint16_t)port),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (listener < 0 || setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        bind(listener, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(listener, 16) < 0) {
        perror("answer: listen");
        return 1;
    }
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev) < 0) {
        perror("answer: epoll");
        return 1;
    }
    for (;;) {
        struct epoll_event events[ANSWER_MAX_EVENTS];
        int n = epoll_wait(ep, events, ANSWER_MAX_EVENTS, -1);
        if (n < 0 && errno != EINTR) {
            perror("answer: epoll_wait");
            return 1;
        }
        for (int i = 0; i < n; i++) {
            struct answer_conn *c = events[i].data.ptr;
            if (!c) { /* the listener: a new connection */
                int fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
                if (fd < 0)
                    continue;
                c = calloc(1, sizeof(*c));
                struct epoll_event cev = {.events = EPOLLIN, .data.ptr = c};
                if (!c || (c->fd = fd, epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev) < 0)) {
                    close(fd);
                    free(c);
                }
                continue;
            }
            if (answer_serve(c, response, response_len) < 0) {
                close(c->fd); /* also leaves the epoll set */
                free(c);
            }
        }
    }
}
