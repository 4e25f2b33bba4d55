/*
 * conf.h - Hubcast's configuration: defaults, then an optional config file,
 * then HUBCAST_* environment variables, then command-line flags.
 */
#ifndef HUBCAST_CONF_H
#define HUBCAST_CONF_H

#include <stddef.h>
#include <stdint.h>

struct conf {
    char    data_dir[1024];
    char    database[1024];      /* SQLite path or postgresql:// URL, empty = DATA/hubcast.db */
    char    listen[128];         /* ADDR:PORT */
    char    web_dir[1024];
    char    public_url[512];
    char    config_file[1024];
    int     workers;             /* -1 = sized to the machine, 0 = none */
    int     worker_threads;      /* x264 threads per worker, 0 = derived */
    int64_t max_upload;          /* bytes */
    int     max_open_uploads;    /* unfinished uploads per member */
    int     upload_expiry;       /* seconds */
    int64_t max_body;            /* JSON request bodies */
    int     conn_limit;
    int     per_ip_limit;        /* 0 = conn_limit / 8 */
    int     conn_timeout;        /* seconds a connection may stay idle */
    int     header_timeout;      /* seconds to send a request's headers, 0 = no limit */
    int     http_threads;
    char    secure_cookies[8];   /* auto|on|off */
    char    cors_origins[1024];  /* comma-separated, empty = same origin only */
    char    trusted_proxies[1024]; /* CIDR[,CIDR]: peers whose X-Forwarded-For is believed */
    char    smtp_url[512];
    char    mail_from[256];
    int     smtp_allow_plaintext;
    char    smtp_ca[1024];       /* CA bundle to verify the SMTP server, empty = system's */
    int     test_clock;
    char    preset[32];
    int     crf;
    int     max_duration;        /* seconds */
    int     job_deadline;        /* seconds of wall clock per job */
    int     verbose;
    int     first_playable;      /* 1: a first rendition before the ladder (default) */
    int     first_jobs;          /* first-playable jobs the first lane runs at once */
    int     first_encodes;       /* of those, how many may encode at once (0 = all) */
    char    lane[16];            /* `hubcast worker`: any|first|ladder */
    char    media_store[1024];   /* empty = DATA/media on local disk; s3://bucket/prefix */
    char    s3_endpoint[256];    /* empty = AWS for the region; "vhost+URL" for virtual-host style */
    char    s3_region[64];       /* empty = us-east-1 */
    int     media_redirect;      /* seconds a presigned /media redirect lives; 0 = stream through */
};

/* Option groups, so each command's --help lists what it reads. */
enum {
    OPT_DATA   = 1 << 0,
    OPT_SERVE  = 1 << 1,
    OPT_MEDIA  = 1 << 2,
    OPT_MAIL   = 1 << 3,
    OPT_WORKER = 1 << 4          /* `hubcast worker` alone */
};

void conf_defaults(struct conf *c);

/*
 * Parse argv for the options in groups, after the file and the environment.
 * Non-option arguments are moved to the front of argv and counted in
 * *nargs. Returns 0, or -1 with a message printed; 1 if --help was given.
 */
int conf_load(struct conf *c, unsigned groups, int argc, char **argv, int *nargs);
void conf_usage(unsigned groups);

/* The catalog to open: --database, or DATA/hubcast.db. 0, or -1 if it
 * does not fit in out. */
int conf_catalog(const struct conf *c, char *out, size_t outsz);

struct s3_config;

/*
 * The S3 store of --media-store, credentials included (environment or
 * config file, never argv). Returns 1 and fills *out when the store is
 * s3://..., 0 when media stay on local disk, -1 with the reason in err
 * (bad URL, missing credentials).
 */
int conf_s3(const struct conf *c, struct s3_config *out, char *err, size_t errsz);

/* Split "ADDR:PORT". */
int conf_listen_split(const char *listen, char *addr, size_t addrsz, int *port);

#endif
