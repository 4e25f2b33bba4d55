/*
 * conf.c - one table describes every option: its flag, its environment
 * variable, its config-file key, its type and its help line. Loading applies
 * the file, then the environment, then the flags, so the most specific wins.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "s3.h"
#include "util.h"

enum opt_type { T_STR, T_INT, T_SIZE, T_BOOL, T_ONOFF /* a T_BOOL that always takes a value */ };

struct opt {
    const char   *name;      /* --name, file key "name", env HUBCAST_NAME */
    unsigned      group;
    enum opt_type type;
    size_t        off;
    size_t        size;      /* for T_STR */
    const char   *arg;
    const char   *help;
};

#define S(f) offsetof(struct conf, f), sizeof(((struct conf *)0)->f)
#define N(f) offsetof(struct conf, f), 0

static const struct opt opts[] = {
    { "data",     OPT_DATA, T_STR, S(data_dir), "DIR", "data folder: catalog, uploads, media (default ./data)" },
    { "database", OPT_DATA, T_STR, S(database), "PATH|URL", "the catalog: a SQLite file (default DATA/hubcast.db) or postgresql://USER@HOST:PORT/DB, whose password comes from PGPASSWORD or the config file's database-password, never from the command line" },
    { "config",   OPT_DATA, T_STR, S(config_file), "FILE", "config file of `name = value` lines (default DATA/hubcast.conf if present)" },
    { "listen",   OPT_SERVE, T_STR, S(listen), "ADDR:PORT", "address to serve HTTP on (default 0.0.0.0:8080)" },
    { "web",      OPT_SERVE, T_STR, S(web_dir), "DIR", "folder of the web app (default: the installed or source web/)" },
    { "public-url", OPT_SERVE | OPT_MAIL, T_STR, S(public_url), "URL", "base URL of every link Hubcast prints or mails (default http://localhost:PORT)" },
    { "workers",  OPT_SERVE, T_INT, N(workers), "N", "transcode worker processes; 0 = none (default: cores / 2, at least 1)" },
    { "worker-threads", OPT_SERVE | OPT_MEDIA, T_INT, N(worker_threads), "N", "x264 threads per worker (default 0: chosen by x264)" },
    { "max-upload", OPT_SERVE, T_SIZE, N(max_upload), "SIZE", "largest upload accepted, e.g. 4G (default 4G)" },
    { "max-open-uploads", OPT_SERVE, T_INT, N(max_open_uploads), "N", "unfinished uploads one member may have (default 10)" },
    { "upload-expiry", OPT_SERVE, T_INT, N(upload_expiry), "SECONDS", "abandoned uploads are removed after this (default 86400)" },
    { "max-body", OPT_SERVE, T_SIZE, N(max_body), "SIZE", "largest JSON request body (default 64k)" },
    { "conn-limit", OPT_SERVE, T_INT, N(conn_limit), "N", "simultaneous connections (default 1024)" },
    { "per-ip-limit", OPT_SERVE, T_INT, N(per_ip_limit), "N", "simultaneous connections from one address (default 0: conn-limit / 8)" },
    { "trusted-proxies", OPT_SERVE, T_STR, S(trusted_proxies), "CIDR[,CIDR]", "reverse proxies or load balancers whose X-Forwarded-For names the client, for per-address limits and logs (default: none)" },
    { "conn-timeout", OPT_SERVE, T_INT, N(conn_timeout), "SECONDS", "idle connection timeout (default 60)" },
    { "header-timeout", OPT_SERVE, T_INT, N(header_timeout), "SECONDS", "a new connection must send its request's headers within this (a kept-alive one within conn-timeout); 0 = no limit (default 15)" },
    { "http-threads", OPT_SERVE, T_INT, N(http_threads), "N", "HTTP threads (default: number of cores)" },
    { "secure-cookies", OPT_SERVE, T_STR, S(secure_cookies), "auto|on|off", "mark cookies Secure (auto: when public-url is https)" },
    { "cors-origins", OPT_SERVE, T_STR, S(cors_origins), "LIST", "comma-separated origins allowed to call media and uploads" },
    { "smtp-url", OPT_SERVE | OPT_MAIL, T_STR, S(smtp_url), "URL", "smtp:// or smtps:// server for mail (default: mail disabled)" },
    { "mail-from", OPT_SERVE | OPT_MAIL, T_STR, S(mail_from), "ADDR", "From address of Hubcast's mail" },
    { "smtp-allow-plaintext", OPT_SERVE | OPT_MAIL, T_BOOL, N(smtp_allow_plaintext), NULL, "allow smtp:// without STARTTLS to a non-loopback server" },
    { "smtp-ca", OPT_SERVE | OPT_MAIL, T_STR, S(smtp_ca), "FILE", "PEM certificates to trust for the SMTP server (default: the system's)" },
    { "test-clock", OPT_SERVE | OPT_DATA, T_BOOL, N(test_clock), NULL, "honour HUBCAST_FAKE_NOW (tests only)" },
    { "preset",   OPT_SERVE | OPT_MEDIA, T_STR, S(preset), "NAME", "x264 preset (default veryfast)" },
    { "crf",      OPT_SERVE | OPT_MEDIA, T_INT, N(crf), "N", "x264 CRF (default 23)" },
    { "max-duration", OPT_SERVE | OPT_MEDIA, T_INT, N(max_duration), "SECONDS", "longest video accepted (default 7200)" },
    { "job-deadline", OPT_SERVE | OPT_MEDIA, T_INT, N(job_deadline), "SECONDS", "wall-clock limit of one transcode (default 7200)" },
    { "verbose",  OPT_DATA | OPT_SERVE, T_BOOL, N(verbose), NULL, "log every request" },
    { "first-playable", OPT_SERVE | OPT_MEDIA, T_ONOFF, N(first_playable), "on|off", "make every update playable from one quick rendition before its ladder (default on)" },
    { "first-jobs", OPT_SERVE | OPT_MEDIA, T_INT, N(first_jobs), "N", "first-playable passes the first lane runs at once (default 8)" },
    { "first-encodes", OPT_SERVE | OPT_MEDIA, T_INT, N(first_encodes), "N", "of those, passes that encode (not copy) at once; the others wait their turn, oldest first (default 0: no cap, all of them)" },
    { "media-store", OPT_DATA, T_STR, S(media_store), "s3://BUCKET/PREFIX", "keep renditions, posters, storyboards and the sources of finished uploads in an S3 bucket instead of the data folder; keys from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or the config file's s3-access-key-id and s3-secret-access-key" },
    { "s3-endpoint", OPT_DATA, T_STR, S(s3_endpoint), "URL", "the S3 server, e.g. http://127.0.0.1:7480 (path style) or vhost+https://s3.example.com (default: AWS for the region)" },
    { "s3-region", OPT_DATA, T_STR, S(s3_region), "REGION", "the S3 region signed into requests (default us-east-1)" },
    { "media-redirect", OPT_SERVE, T_INT, N(media_redirect), "SECONDS", "with an S3 store, answer /media (but playlists) with a 302 to a presigned store URL valid this long instead of streaming the bytes through (default 0: stream)" },
    { "lane", OPT_WORKER, T_STR, S(lane), "any|first|ladder", "which jobs this worker takes (default any: first-playable passes first)" },
};

void conf_defaults(struct conf *c)
{
    memset(c, 0, sizeof(*c));
    hc_strlcpy(c->data_dir, "./data", sizeof(c->data_dir));
    hc_strlcpy(c->listen, "0.0.0.0:8080", sizeof(c->listen));
    hc_strlcpy(c->secure_cookies, "auto", sizeof(c->secure_cookies));
    hc_strlcpy(c->preset, "veryfast", sizeof(c->preset));
    c->crf = 23;
    c->workers = -1;
    c->max_upload = 4LL * 1024 * 1024 * 1024;
    c->max_open_uploads = 10;
    c->upload_expiry = 24 * 3600;
    c->max_body = 64 * 1024;
    c->conn_limit = 1024;
    c->per_ip_limit = 0;
    c->header_timeout = 15;
    c->conn_timeout = 60;
    c->max_duration = 7200;
    c->job_deadline = 7200;
    c->first_playable = 1;
    c->first_jobs = 8;
    hc_strlcpy(c->lane, "any", sizeof(c->lane));
}

static const struct opt *find_opt(const char *name, size_t len, unsigned groups)
{
    for (size_t i = 0; i < HC_ARRAY_LEN(opts); i++)
        if ((opts[i].group & groups) && strlen(opts[i].name) == len &&
            !strncmp(opts[i].name, name, len))
            return &opts[i];
    return NULL;
}

static int set_opt(struct conf *c, const struct opt *o, const char *val, const char *from)
{
    char *base = (char *)c + o->off;
    int64_t v;

    switch (o->type) {
    case T_STR:
        if (strlen(val) >= o->size) {
            fprintf(stderr, "hubcast: %s: the value of %s is too long\n", from, o->name);
            return -1;
        }
        hc_strlcpy(base, val, o->size);
        return 0;
    case T_INT:
        if (hc_parse_i64(val, 0, 1000000000, &v) < 0) {
            fprintf(stderr, "hubcast: %s: %s wants a whole number, not \"%s\"\n", from, o->name, val);
            return -1;
        }
        *(int *)(void *)base = (int)v;
        return 0;
    case T_SIZE:
        if (hc_parse_size(val, &v) < 0) {
            fprintf(stderr, "hubcast: %s: %s wants a size like 4G or 512M, not \"%s\"\n", from, o->name, val);
            return -1;
        }
        *(int64_t *)(void *)base = v;
        return 0;
    case T_BOOL:
    case T_ONOFF:
        if (!strcmp(val, "1") || !strcmp(val, "true") || !strcmp(val, "yes") || !strcmp(val, "on"))
            *(int *)(void *)base = 1;
        else if (!strcmp(val, "0") || !strcmp(val, "false") || !strcmp(val, "no") || !strcmp(val, "off"))
            *(int *)(void *)base = 0;
        else {
            fprintf(stderr, "hubcast: %s: %s wants %s, not \"%s\"\n", from, o->name,
                    o->type == T_ONOFF ? "on or off" : "yes or no", val);
            return -1;
        }
        return 0;
    }
    return -1;
}

static void env_name(const char *name, char *out, size_t outsz)
{
    size_t n = (size_t)snprintf(out, outsz, "HUBCAST_%s", name);
    for (size_t i = 8; i < n && i < outsz; i++)
        out[i] = out[i] == '-' ? '_' : (char)toupper((unsigned char)out[i]);
}

static int load_file(struct conf *c, unsigned groups, const char *path, int required)
{
    FILE *f = fopen(path, "r");
    char line[2048];
    int lineno = 0;

    if (!f) {
        if (!required && errno == ENOENT)
            return 0;
        fprintf(stderr, "hubcast: cannot read the config file %s: %s\n", path, strerror(errno));
        return -1;
    }
    while (fgets(line, sizeof(line), f)) {
        char *p = line, *eq, *k, *v, *e, from[1100];
        const struct opt *o;

        lineno++;
        while (isspace((unsigned char)*p))
            p++;
        if (!*p || *p == '#')
            continue;
        eq = strchr(p, '=');
        if (!eq) {
            fprintf(stderr, "hubcast: %s:%d: expected `name = value`\n", path, lineno);
            fclose(f);
            return -1;
        }
        k = p;
        e = eq;
        while (e > k && isspace((unsigned char)e[-1]))
            e--;
        *e = '\0';
        v = eq + 1;
        while (isspace((unsigned char)*v))
            v++;
        e = v + strlen(v);
        while (e > v && isspace((unsigned char)e[-1]))
            e--;
        *e = '\0';
        snprintf(from, sizeof(from), "%s:%d", path, lineno);
        /* Secrets that only a file (or the environment) may hold; src/s3.c reads them. */
        if (!strcmp(k, "s3-access-key-id") || !strcmp(k, "s3-secret-access-key"))
            continue;
        /* The PostgreSQL password, for libpq (the environment wins). */
        if (!strcmp(k, "database-password")) {
            setenv("PGPASSWORD", v, 0);
            continue;
        }
        o = find_opt(k, strlen(k), ~0u);
        if (!o) {
            fprintf(stderr, "hubcast: %s: unknown setting \"%s\"\n", from, k);
            fclose(f);
            return -1;
        }
        if (!(o->group & groups))
            continue;
        if (set_opt(c, o, v, from) < 0) {
            fclose(f);
            return -1;
        }
    }
    fclose(f);
    return 0;
}

/* postgresql://user:password@host/...: a password in the URL. */
static int url_has_password(const char *url)
{
    const char *p = strstr(url, "://"), *at, *colon;

    if (!p)
        return 0;
    p += 3;
    at = p + strcspn(p, "@/?");
    if (*at != '@')
        return 0;
    colon = memchr(p, ':', (size_t)(at - p));
    return colon != NULL;
}

int conf_catalog(const struct conf *c, char *out, size_t outsz)
{
    int n;

    if (c->database[0])
        n = snprintf(out, outsz, "%s", c->database);
    else
        n = snprintf(out, outsz, "%s/hubcast.db", c->data_dir);
    return n < 0 || (size_t)n >= outsz ? -1 : 0;
}

int conf_s3(const struct conf *c, struct s3_config *out, char *err, size_t errsz)
{
    char cfg[sizeof(c->config_file) + 16];

    if (strncmp(c->media_store, "s3://", 5)) {
        if (c->media_store[0] && strcmp(c->media_store, c->data_dir)) {
            snprintf(err, errsz, "--media-store: only s3://BUCKET/PREFIX or the data folder is supported");
            return -1;
        }
        return 0;
    }
    if (s3_config_parse(out, c->media_store, c->s3_endpoint, c->s3_region, err, errsz) != S3_OK)
        return -1;
    if (c->config_file[0])
        hc_strlcpy(cfg, c->config_file, sizeof(cfg));
    else
        snprintf(cfg, sizeof(cfg), "%s/hubcast.conf", c->data_dir);
    if (s3_config_credentials(out, cfg) != S3_OK) {
        snprintf(err, errsz, "the S3 store needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the "
                 "environment, or s3-access-key-id and s3-secret-access-key in the config file");
        return -1;
    }
    return 1;
}

int conf_load(struct conf *c, unsigned groups, int argc, char **argv, int *nargs)
{
    char name[64];
    const char *cfg = getenv("HUBCAST_CONFIG");
    char datadir[sizeof(c->data_dir)];
    int n = 0;

    groups |= OPT_DATA;
    /* Find --config and --data first: the file is read before the rest. */
    hc_strlcpy(datadir, getenv("HUBCAST_DATA") ? getenv("HUBCAST_DATA") : c->data_dir, sizeof(datadir));
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--"))
            break;
        if (!strncmp(argv[i], "--config=", 9))
            cfg = argv[i] + 9;
        else if (!strcmp(argv[i], "--config") && i + 1 < argc)
            cfg = argv[i + 1];
        else if (!strncmp(argv[i], "--data=", 7))
            hc_strlcpy(datadir, argv[i] + 7, sizeof(datadir));
        else if (!strcmp(argv[i], "--data") && i + 1 < argc)
            hc_strlcpy(datadir, argv[i + 1], sizeof(datadir));
    }
    if (cfg && *cfg) {
        if (load_file(c, groups, cfg, 1) < 0)
            return -1;
        hc_strlcpy(c->config_file, cfg, sizeof(c->config_file));
    } else {
        char path[2048];
        snprintf(path, sizeof(path), "%s/hubcast.conf", datadir);
        if (load_file(c, groups, path, 0) < 0)
            return -1;
    }
    for (size_t i = 0; i < HC_ARRAY_LEN(opts); i++) {
        const char *v;
        if (!(opts[i].group & groups))
            continue;
        env_name(opts[i].name, name, sizeof(name));
        v = getenv(name);
        if (v && *v && set_opt(c, &opts[i], v, name) < 0)
            return -1;
    }
    for (int i = 1; i < argc; i++) {
        char *a = argv[i], *val = NULL;
        const struct opt *o;
        size_t len;

        if (!strcmp(a, "--")) {
            for (i++; i < argc; i++)
                argv[n++] = argv[i];
            break;
        }
        if (!strcmp(a, "--help") || !strcmp(a, "-h"))
            return 1;
        if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
            argv[n++] = a;
            continue;
        }
        a += 2;
        len = strcspn(a, "=");
        o = find_opt(a, len, groups);
        if (!o) {
            fprintf(stderr, "hubcast: unknown option --%.*s (see --help)\n", (int)len, a);
            return -1;
        }
        if (a[len] == '=')
            val = a + len + 1;
        else if (o->type == T_BOOL)
            val = "yes";
        else if (i + 1 < argc)
            val = argv[++i];
        else {
            fprintf(stderr, "hubcast: --%s needs a value\n", o->name);
            return -1;
        }
        if (set_opt(c, o, val, "command line") < 0)
            return -1;
        if (o->off == offsetof(struct conf, database) && url_has_password(c->database)) {
            fprintf(stderr, "hubcast: --database: a password on the command line is visible to "
                    "every user of the machine (ps); set PGPASSWORD or database-password in the "
                    "config file instead\n");
            return -1;
        }
    }
    *nargs = n;
    return 0;
}

void conf_usage(unsigned groups)
{
    char name[64], flag[96];

    groups |= OPT_DATA;
    fputs("Options (flag, environment variable; also `name = value` in the config file):\n", stdout);
    for (size_t i = 0; i < HC_ARRAY_LEN(opts); i++) {
        if (!(opts[i].group & groups))
            continue;
        env_name(opts[i].name, name, sizeof(name));
        snprintf(flag, sizeof(flag), "--%s%s%s", opts[i].name, opts[i].arg ? " " : "",
                 opts[i].arg ? opts[i].arg : "");
        printf("  %-28s %s\n  %-28s   [%s]\n", flag, opts[i].help, "", name);
    }
}

int conf_listen_split(const char *listen, char *addr, size_t addrsz, int *port)
{
    const char *colon = strrchr(listen, ':');
    long p;

    if (!colon || (size_t)(colon - listen) >= addrsz)
        return -1;
    if (hc_parse_long(colon + 1, 0, 65535, &p) < 0)
        return -1;
    memcpy(addr, listen, (size_t)(colon - listen));
    addr[colon - listen] = '\0';
    if (addr[0] == '[') {   /* [::1]:8080 */
        size_t l = strlen(addr);
        if (l < 2 || addr[l - 1] != ']')
            return -1;
        memmove(addr, addr + 1, l - 2);
        addr[l - 2] = '\0';
    }
    *port = (int)p;
    return 0;
}
