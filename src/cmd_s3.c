/*
 * cmd_s3.c - `hubcast s3`: each call of the S3 client (src/s3.c) from the
 * command line, against the configured store. For checking a store's
 * settings and credentials by hand, and for the tests; not listed in the
 * help. Credentials come from the environment or the config file only.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <curl/curl.h>

#include "commands.h"
#include "s3.h"
#include "util.h"

static void s3_cmd_usage(FILE *f)
{
    fputs("Usage: hubcast s3 [--media-store s3://BUCKET/PREFIX] [--s3-endpoint URL]\n"
          "                  [--s3-region REGION] [--config FILE] OPERATION ARGS...\n\n"
          "Operations (keys are relative to the store's prefix):\n"
          "  mb                                create the bucket\n"
          "  put KEY FILE [TYPE [CACHE]]       upload a file\n"
          "  get KEY FILE|- [FIRST [LAST]]     download (a byte range)\n"
          "  head KEY                          size, ETag and type\n"
          "  rm KEY                            delete an object\n"
          "  ls [PREFIX]                       objects under PREFIX: key and size\n"
          "  rm-prefix PREFIX                  delete every object under PREFIX\n"
          "  mpu-create KEY [TYPE]             start a multipart upload, print its id\n"
          "  mpu-part KEY ID N FILE OFF LEN    upload part N, print its ETag\n"
          "  mpu-complete KEY ID N:ETAG...     finish a multipart upload\n"
          "  mpu-parts KEY ID                  the parts uploaded so far: number, ETag, size\n"
          "  mpu-abort KEY ID                  abort a multipart upload\n"
          "  mpu-list [PREFIX]                 unfinished uploads: key, id, start time\n"
          "  presign KEY SECONDS [AGO]         a GET URL valid SECONDS (signed AGO seconds ago)\n\n"
          "Also HUBCAST_MEDIA_STORE, HUBCAST_S3_ENDPOINT, HUBCAST_S3_REGION, HUBCAST_CONFIG.\n"
          "Credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or s3-access-key-id and\n"
          "s3-secret-access-key in the config file; never on the command line.\n", f);
}

static int report(struct s3_client *c, const char *op, enum s3_rc rc)
{
    char detail[600];

    if (rc == S3_OK)
        return 0;
    s3_error_format(c, detail, sizeof(detail));
    fprintf(stderr, "hubcast s3: %s: %s (%s)\n", op, s3_rc_str(rc), detail);
    return 1;
}

static int num(const char *s, int64_t min, int64_t max, int64_t *out)
{
    if (hc_parse_i64(s, min, max, out)) {
        fprintf(stderr, "hubcast s3: \"%s\" is not a number in range\n", s);
        return -1;
    }
    return 0;
}

static int print_object(void *ctx, const char *key, int64_t size)
{
    (void)ctx;
    printf("%s %lld\n", key, (long long)size);
    return 0;
}

static int print_upload(void *ctx, const struct s3_upload *u)
{
    (void)ctx;
    printf("%s %s %lld\n", u->key, u->upload_id, (long long)u->initiated);
    return 0;
}

static int print_part(void *ctx, const struct s3_part_info *p)
{
    (void)ctx;
    printf("%d %s %lld\n", p->number, p->etag, (long long)p->size);
    return 0;
}

static int op_put(struct s3_client *c, int argc, char **argv)
{
    struct s3_put_opts o = { argc > 3 ? argv[3] : NULL, argc > 4 ? argv[4] : NULL };
    struct stat st;
    int fd = open(argv[2], O_RDONLY | O_CLOEXEC), rc;

    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        fprintf(stderr, "hubcast s3: cannot read %s\n", argv[2]);
        if (fd >= 0)
            close(fd);
        return 1;
    }
    rc = report(c, "put", s3_put_fd(c, argv[1], fd, 0, st.st_size, &o));
    close(fd);
    return rc;
}

static int op_get(struct s3_client *c, int argc, char **argv)
{
    int64_t first = -1, last = -1;
    struct s3_object info;
    int fd, rc;

    if ((argc > 3 && num(argv[3], 0, INT64_MAX, &first) < 0) ||
        (argc > 4 && num(argv[4], 0, INT64_MAX, &last) < 0))
        return 2;
    fd = strcmp(argv[2], "-") ? open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600) : 1;
    if (fd < 0) {
        fprintf(stderr, "hubcast s3: cannot write %s: %s\n", argv[2], strerror(errno));
        return 1;
    }
    rc = report(c, "get", s3_get_fd(c, argv[1], fd, first, last, INT64_MAX, &info));
    if (fd != 1)
        close(fd);
    return rc;
}

static int op_complete(struct s3_client *c, int argc, char **argv)
{
    size_t n = (size_t)argc - 3;
    struct s3_part *parts = hc_calloc(n, sizeof(*parts));
    int rc;

    for (size_t i = 0; i < n; i++) {
        const char *a = argv[3 + i], *colon = strchr(a, ':');
        char nb[16];
        int64_t v;

        if (!colon || (size_t)(colon - a) >= sizeof(nb)) {
            fprintf(stderr, "hubcast s3: parts are N:ETAG\n");
            free(parts);
            return 2;
        }
        memcpy(nb, a, (size_t)(colon - a));
        nb[colon - a] = '\0';
        if (num(nb, 1, 10000, &v) < 0) {
            free(parts);
            return 2;
        }
        parts[i].number = (int)v;
        hc_strlcpy(parts[i].etag, colon + 1, sizeof(parts[i].etag));
    }
    rc = report(c, "mpu-complete", s3_mpu_complete(c, argv[1], argv[2], parts, n));
    free(parts);
    return rc;
}

/* Run one operation; argv[0] is its name. 2 = usage error. */
static int run_op(struct s3_client *c, int argc, char **argv)
{
    const char *op = argv[0];
    int64_t a, b, d;

    if (!strcmp(op, "mb") && argc == 1)
        return report(c, op, s3_bucket_create(c));
    if (!strcmp(op, "put") && argc >= 3 && argc <= 5)
        return op_put(c, argc, argv);
    if (!strcmp(op, "get") && argc >= 3 && argc <= 5)
        return op_get(c, argc, argv);
    if (!strcmp(op, "head") && argc == 2) {
        struct s3_object o;
        enum s3_rc rc = s3_head(c, argv[1], &o);

        if (rc == S3_OK)
            printf("size %lld\netag %s\ntype %s\ncache %s\nmodified %lld\n", (long long)o.size, o.etag,
                   o.content_type, o.cache_control, (long long)o.last_modified);
        return report(c, op, rc);
    }
    if (!strcmp(op, "rm") && argc == 2)
        return report(c, op, s3_delete(c, argv[1]));
    if (!strcmp(op, "rm-prefix") && argc == 2) {
        size_t n = 0;
        enum s3_rc rc = s3_delete_prefix(c, argv[1], &n);

        printf("%zu\n", n);
        return report(c, op, rc);
    }
    if (!strcmp(op, "mpu-create") && (argc == 2 || argc == 3)) {
        struct s3_put_opts o = { argc > 2 ? argv[2] : NULL, NULL };
        char id[256];
        enum s3_rc rc = s3_mpu_create(c, argv[1], &o, id, sizeof(id));

        if (rc == S3_OK)
            printf("%s\n", id);
        return report(c, op, rc);
    }
    if (!strcmp(op, "mpu-part") && argc == 7) {
        char etag[80];
        enum s3_rc rc;
        int fd;

        if (num(argv[3], 1, 10000, &a) < 0 || num(argv[5], 0, INT64_MAX, &b) < 0 ||
            num(argv[6], 0, INT64_MAX, &d) < 0)
            return 2;
        if ((fd = open(argv[4], O_RDONLY | O_CLOEXEC)) < 0) {
            fprintf(stderr, "hubcast s3: cannot read %s\n", argv[4]);
            return 1;
        }
        rc = s3_mpu_put_part(c, argv[1], argv[2], (int)a, fd, b, d, etag);
        close(fd);
        if (rc == S3_OK)
            printf("%s\n", etag);
        return report(c, op, rc);
    }
    if (!strcmp(op, "mpu-complete") && argc >= 4)
        return op_complete(c, argc, argv);
    if (!strcmp(op, "mpu-parts") && argc == 3)
        return report(c, op, s3_mpu_parts(c, argv[1], argv[2], print_part, NULL));
    if (!strcmp(op, "mpu-abort") && argc == 3)
        return report(c, op, s3_mpu_abort(c, argv[1], argv[2]));
    if (!strcmp(op, "ls") && argc <= 2)
        return report(c, op, s3_list(c, argc > 1 ? argv[1] : "", print_object, NULL));
    if (!strcmp(op, "mpu-list") && argc <= 2)
        return report(c, op, s3_mpu_list(c, argc > 1 ? argv[1] : "", print_upload, NULL));
    if (!strcmp(op, "presign") && (argc == 3 || argc == 4)) {
        char url[4096];
        enum s3_rc rc;

        d = 0;
        if (num(argv[2], 1, 604800, &a) < 0 || (argc == 4 && num(argv[3], 0, 86400 * 30, &d) < 0))
            return 2;
        rc = s3_presign_get(c, argv[1], time(NULL) - (time_t)d, (long)a, url, sizeof(url));
        if (rc == S3_OK)
            printf("%s\n", url);
        return report(c, op, rc);
    }
    fprintf(stderr, "hubcast s3: unknown operation or wrong arguments: %s\n\n", op);
    s3_cmd_usage(stderr);
    return 2;
}

int cmd_s3(int argc, char **argv)
{
    const char *store = getenv("HUBCAST_MEDIA_STORE"), *endpoint = getenv("HUBCAST_S3_ENDPOINT");
    const char *region = getenv("HUBCAST_S3_REGION"), *config = getenv("HUBCAST_CONFIG");
    struct s3_config cfg;
    struct s3_client *c = NULL;
    char err[256];
    int i, rc;

    for (i = 1; i < argc && !strncmp(argv[i], "--", 2); i += 2) {
        const char **dst = !strcmp(argv[i], "--media-store") ? &store
                         : !strcmp(argv[i], "--s3-endpoint") ? &endpoint
                         : !strcmp(argv[i], "--s3-region") ? &region
                         : !strcmp(argv[i], "--config") ? &config : NULL;

        if (!strcmp(argv[i], "--help")) {
            s3_cmd_usage(stdout);
            return 0;
        }
        if (!dst || i + 1 >= argc) {
            fprintf(stderr, "hubcast s3: unknown option or missing value: %s\n", argv[i]);
            return 2;
        }
        *dst = argv[i + 1];
    }
    if (i >= argc) {
        s3_cmd_usage(stderr);
        return 2;
    }
    if (s3_config_parse(&cfg, store, endpoint, region, err, sizeof(err)) != S3_OK) {
        fprintf(stderr, "hubcast s3: %s\n", err);
        return 2;
    }
    if (s3_config_credentials(&cfg, config) != S3_OK) {
        fputs("hubcast s3: no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY\n", stderr);
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (s3_open(&cfg, &c) != S3_OK) {
        fputs("hubcast s3: cannot start the client\n", stderr);
        return 1;
    }
    rc = run_op(c, argc - i, argv + i);
    s3_close(&c);
    curl_global_cleanup();
    return rc;
}
