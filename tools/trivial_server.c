/*
 * The ceiling for the write-path benchmarks: an HTTP/1.1 server that does nothing but answer.
 * One thread, epoll, non-blocking keep-alive connections; every request (its headers, and a body
 * of Content-Length bytes) gets 200 with the same JSON body of about 0.9 KB, the size of a
 * GetEventSourceMapping answer. It reads no file, keeps no state and syncs nothing.
 *
 *     cc -O2 -o trivial_server tools/trivial_server.c && ./trivial_server PORT
 *
 * Listens on 127.0.0.1 only; prints "listening PORT" once it accepts. tools/bench_wrk.py builds
 * and runs it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define CONNECTIONS_MAX 4096
#define BUFFER 65536

struct connection {
    char in[BUFFER];
    size_t used;
};

static struct connection *connections[CONNECTIONS_MAX];
static char response[2048];
static size_t response_length;

static void build_response(void) {
    char body[1024];
    int n = snprintf(body, sizeof body,
        "{\"BatchSize\":10,\"EventSourceArn\":\"arn:aws:sqs:us-east-1:123456789012:orders-queue\","
        "\"EventSourceMappingArn\":\"arn:aws:lambda:us-east-1:123456789012:event-source-mapping:"
        "a1b2c3d4-5678-90ab-cdef-11111EXAMPLE\",\"FilterCriteria\":{\"Filters\":[{\"Pattern\":"
        "\"{\\\"body\\\":{\\\"type\\\":[\\\"order_created\\\"]}}\"}]},\"FunctionArn\":"
        "\"arn:aws:lambda:us-east-1:123456789012:function:service-handler\",\"FunctionResponseTypes\":"
        "[\"ReportBatchItemFailures\"],\"LastModified\":1790000000.123,\"LastProcessingResult\":"
        "\"No records processed\",\"MaximumBatchingWindowInSeconds\":0,\"ScalingConfig\":"
        "{\"MaximumConcurrency\":10},\"State\":\"Enabled\",\"StateTransitionReason\":\"USER_INITIATED\","
        "\"UUID\":\"a1b2c3d4-5678-90ab-cdef-11111EXAMPLE\",\"MetricsConfig\":{\"Metrics\":[]},"
        "\"ProvisionedPollerConfig\":{\"MinimumPollers\":1,\"MaximumPollers\":200},"
        "\"DocumentDBEventSourceConfig\":{},\"SelfManagedEventSource\":{},\"Tags\":{},"
        "\"KMSKeyArn\":\"arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000\"}");
    response_length = (size_t)snprintf(response, sizeof response,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
        "x-amzn-RequestId: 00000000-0000-0000-0000-000000000000\r\n\r\n%s", n, body);
}

static void close_connection(int epoll, int fd) {
    epoll_ctl(epoll, EPOLL_CTL_DEL, fd, NULL);
    close(fd);
    free(connections[fd]);
    connections[fd] = NULL;
}

/* Answers every whole request in the buffer; returns -1 when the connection must close. */
static int serve(int fd) {
    struct connection *c = connections[fd];
    for (;;) {
        ssize_t got = read(fd, c->in + c->used, BUFFER - c->used);
        if (got == 0) return -1;
        if (got < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
            return -1;
        }
        c->used += (size_t)got;
        for (;;) {
            char *end = memmem(c->in, c->used, "\r\n\r\n", 4);
            if (!end) {
                if (c->used == BUFFER) return -1; /* headers larger than the buffer */
                break;
            }
            size_t head = (size_t)(end - c->in) + 4, body = 0;
            for (char *line = c->in; line < end; ) {
                char *next = memmem(line, (size_t)(end - line) + 2, "\r\n", 2);
                if (!next) break;
                if ((size_t)(next - line) > 15 && strncasecmp(line, "content-length:", 15) == 0) body = strtoul(line + 15, NULL, 10);
                line = next + 2;
            }
            if (head + body > BUFFER) return -1;
            if (c->used < head + body) break;
            size_t sent = 0;
            while (sent < response_length) {
                ssize_t w = write(fd, response + sent, response_length - sent);
                if (w < 0) {
                    if (errno == EAGAIN || errno == EINTR) continue; /* a 2 KB answer to a waiting client */
                    return -1;
                }
                sent += (size_t)w;
            }
            memmove(c->in, c->in + head + body, c->used - head - body);
            c->used -= head + body;
        }
    }
}

int main(int argc, char **argv) {
    int port = argc > 1 ? atoi(argv[1]) : 0;
    build_response();
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port),
                                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(listener, (struct sockaddr *)&address, sizeof address) != 0 || listen(listener, 1024) != 0) {
        perror("trivial_server");
        return 1;
    }
    socklen_t length = sizeof address;
    getsockname(listener, (struct sockaddr *)&address, &length);
    int epoll = epoll_create1(0);
    struct epoll_event event = {.events = EPOLLIN, .data.fd = listener};
    epoll_ctl(epoll, EPOLL_CTL_ADD, listener, &event);
    printf("listening %d\n", ntohs(address.sin_port));
    fflush(stdout);
    struct epoll_event ready[256];
    for (;;) {
        int n = epoll_wait(epoll, ready, 256, -1);
        for (int i = 0; i < n; i++) {
            int fd = ready[i].data.fd;
            if (fd == listener) {
                int client;
                while ((client = accept4(listener, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    if (client >= CONNECTIONS_MAX) { close(client); continue; }
                    setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    connections[client] = calloc(1, sizeof(struct connection));
                    struct epoll_event e = {.events = EPOLLIN, .data.fd = client};
                    epoll_ctl(epoll, EPOLL_CTL_ADD, client, &e);
                }
            } else if (serve(fd) < 0) {
                close_connection(epoll, fd);
            }
        }
    }
}
