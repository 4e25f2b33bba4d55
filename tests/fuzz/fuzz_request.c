/*
 * fuzz_request.c - libFuzzer target for whole HTTP requests against the
 * real server in this process (http.c with every route table, a catalog
 * in a temporary folder): request line, routing and path matching, header
 * and cookie parsing, Range, the tus headers (Upload-Length/-Offset/
 * -Metadata/-Checksum), and the JSON bodies of the handlers. Each input is
 * sent as raw bytes on a new loopback connection and the answer read to
 * the end. "@TOKEN@" in the input becomes a valid API token of an
 * administrator, so seeds reach the handlers behind sign-in.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api.h"
#include "auth.h"
#include "catalog.h"
#include "conf.h"
#include "habit.h"
#include "http.h"
#include "mail.h"
#include "media.h"
#include "updates.h"
#include "routes.h"
#include "uploads.h"
#include "util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct conf conf;
static char token[128];
static int port;
static struct route_table live[ROUTES_MAX];

static int free_port(void)
{
    struct sockaddr_in a = { .sin_family = AF_INET };
    socklen_t len = sizeof(a);
    int s = socket(AF_INET, SOCK_STREAM, 0), p;

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 ||
        getsockname(s, (struct sockaddr *)&a, &len) < 0)
        abort();
    p = ntohs(a.sin_port);
    close(s);
    return p;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char dir[] = "/tmp/hubcast-fuzz-XXXXXX", path[1100], err[512];
    struct catalog *cat;
    size_t nlive = routes_all(live, ROUTES_MAX);

    (void)argc;
    (void)argv;
    if (!mkdtemp(dir))
        abort();
    conf_defaults(&conf);
    hc_strlcpy(conf.data_dir, dir, sizeof(conf.data_dir));
    snprintf(conf.web_dir, sizeof(conf.web_dir), "%s/web", HUBCAST_SRCDIR);
    port = free_port();
    snprintf(conf.listen, sizeof(conf.listen), "127.0.0.1:%d", port);
    snprintf(conf.public_url, sizeof(conf.public_url), "http://127.0.0.1:%d", port);
    conf.http_threads = 2;
    conf.conn_timeout = 2;
    conf.header_timeout = 2;
    conf.max_upload = 1 << 20;
    hc_clock_init(0);
    snprintf(path, sizeof(path), "%s/uploads", dir);
    hc_mkdirs(path, 0700);
    snprintf(path, sizeof(path), "%s/media", dir);
    hc_mkdirs(path, 0755);
    catalog_path(dir, path, sizeof(path));
    if (!(cat = catalog_open(path, 1, err, sizeof(err)))) {
        fprintf(stderr, "fuzz_request: %s\n", err);
        abort();
    }
    /* Seed data: one administrator with an API token. */
    if (cat_exec(cat, "INSERT INTO users (email, name, role, created_at) "
                      "VALUES ('ada@example.com', 'Ada', 'admin', 0)", "") < 0 ||
        auth_token_create(cat, 1, "fuzz", token, sizeof(token)) < 0)
        abort();
    if (media_init(cat, &conf) < 0)
        abort();
    if (http_start(&conf, live, nlive) < 0)
        abort();
    return 0;
}

/* The input with every "@TOKEN@" replaced; caller frees. */
static char *expand(const uint8_t *data, size_t size, size_t *outlen)
{
    static const char mark[] = "@TOKEN@";
    size_t tl = strlen(token), cap = size + 1, n = 0;
    char *out = malloc(cap);

    for (size_t i = 0; out && i < size; ) {
        if (i + 7 <= size && !memcmp(data + i, mark, 7)) {
            char *o2 = realloc(out, cap += tl);
            if (!o2) {
                free(out);
                return NULL;
            }
            out = o2;
            memcpy(out + n, token, tl);
            n += tl;
            i += 7;
        } else {
            out[n++] = (char)data[i++];
        }
    }
    *outlen = n;
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sockaddr_in a = { .sin_family = AF_INET };
    struct pollfd pfd;
    char buf[16384];
    size_t len, off = 0;
    char *req = expand(data, size, &len);
    int s;

    if (!req)
        return 0;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)) < 0)
        abort();    /* the server must always take a connection */
    while (off < len) {
        ssize_t w = send(s, req + off, len - off, MSG_NOSIGNAL);
        if (w <= 0)
            break;  /* the server may answer and close before the end */
        off += (size_t)w;
    }
    shutdown(s, SHUT_WR);
    pfd.fd = s;
    pfd.events = POLLIN;
    /* Read the answer to the end; the server closes within its timeouts. */
    while (poll(&pfd, 1, 5000) > 0 && recv(s, buf, sizeof(buf), 0) > 0)
        ;
    close(s);
    free(req);
    return 0;
}
