/*
 * answer_mhd.c - the request floor with libmicrohttpd, the library sonde's
 * endpoint is built on: a daemon with sonde's threading (an internal polling
 * thread, chosen by the library) answers every request with one response
 * made once from a persistent buffer of BODY_BYTES bytes. What sonde's
 * endpoint costs beyond this is its own (negotiation, rendering, headers).
 * Usage: answer_mhd PORT BODY_BYTES
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static struct MHD_Response *answer_response;

/* Answers once the request is complete (the second call), so that the
 * connection is kept alive as sonde's are. */
static enum MHD_Result answer_handle(void *cls, struct MHD_Connection *connection, const char *url,
                                     const char *method, const char *version,
                                     const char *upload_data, size_t *upload_data_size,
                                     void **request_state)
{
    static int seen;
    (void)cls, (void)url, (void)method, (void)version, (void)upload_data, (void)upload_data_size;
    if (!*request_state) {
        *request_state = &seen;
        return MHD_YES;
    }
    return MHD_queue_response(connection, MHD_HTTP_OK, answer_response);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: answer_mhd PORT BODY_BYTES\n");
        return 2;
    }
    long port = strtol(argv[1], NULL, 10), body = strtol(argv[2], NULL, 10);
    if (port <= 0 || port > 65535 || body < 0) {
        fprintf(stderr, "answer_mhd: bad port or size\n");
        return 2;
    }
    char *text = malloc((size_t)body + 1);
    if (!text)
        return 1;
    for (long i = 0; i < body; i++) /* text lines, as an exposition is */
        text[i] = i % 64 == 63 ? '\n' : (char)('a' + i % 26);
    answer_response = MHD_create_response_from_buffer((size_t)body, text, MHD_RESPMEM_PERSISTENT);
    if (!answer_response ||
        MHD_add_response_header(answer_response, MHD_HTTP_HEADER_CONTENT_TYPE,
                                "text/plain; version=0.0.4; charset=utf-8") != MHD_YES)
        return 1;
    struct sockaddr_in addr = {.sin_family = AF_INET,
                               .sin_port = htons((uint16_t)port),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct MHD_Daemon *daemon = MHD_start_daemon(
        MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG, (uint16_t)port, NULL, NULL, answer_handle,
        NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_END);
    if (!daemon) {
        fprintf(stderr, "answer_mhd: cannot listen on port %ld\n", port);
        return 1;
    }
    for (;;)
        pause(); /* until bench.py ends it */
}
