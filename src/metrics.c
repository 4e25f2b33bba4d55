/*
 * metrics.c - in-process counters, rendered on demand in Prometheus text
 * exposition format. Routes are the patterns of the routing table, so the
 * label set stays bounded whatever URLs clients send.
 */
#include "config.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "db_updates.h"
#include "db_uploads.h"
#include "metrics.h"
#include "util.h"

#define MAX_SERIES 512

static const double buckets[] = { 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };
#define NBUCKETS (sizeof(buckets) / sizeof(buckets[0]))

struct series {
    const char *route;
    const char *method;
    int         status;
    unsigned long long count;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct series series[MAX_SERIES];
static int nseries;
static unsigned long long hist[NBUCKETS + 1];
static double hist_sum;
static unsigned long long hist_count;
static unsigned long long upload_bytes, uploads_done;

void metrics_request(const char *route, const char *method, int status, double seconds)
{
    int i;

    pthread_mutex_lock(&lock);
    for (i = 0; i < nseries; i++)
        if (series[i].route == route && series[i].status == status &&
            !strcmp(series[i].method, method))
            break;
    if (i == nseries && nseries < MAX_SERIES) {
        series[i].route = route;
        series[i].method = !strcmp(method, "GET") ? "GET" : !strcmp(method, "POST") ? "POST" :
                           !strcmp(method, "PUT") ? "PUT" : !strcmp(method, "PATCH") ? "PATCH" :
                           !strcmp(method, "DELETE") ? "DELETE" : !strcmp(method, "HEAD") ? "HEAD" :
                           !strcmp(method, "OPTIONS") ? "OPTIONS" : "OTHER";
        series[i].status = status;
        nseries++;
    }
    if (i < nseries)
        series[i].count++;
    for (size_t b = 0; b <= NBUCKETS; b++)
        if (b == NBUCKETS || seconds <= buckets[b])
            hist[b]++;
    hist_sum += seconds;
    hist_count++;
    pthread_mutex_unlock(&lock);
}

void metrics_upload_bytes(long long n)
{
    pthread_mutex_lock(&lock);
    upload_bytes += (unsigned long long)n;
    pthread_mutex_unlock(&lock);
}

void metrics_upload_done(void)
{
    pthread_mutex_lock(&lock);
    uploads_done++;
    pthread_mutex_unlock(&lock);
}

struct buf {
    char  *p;
    size_t len, cap;
};

static void bprintf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void bprintf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    for (;;) {
        va_start(ap, fmt);
        n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        b->cap = b->cap * 2 + (size_t)(n > 0 ? n : 0);
        b->p = hc_realloc(b->p, b->cap);
    }
}

char *metrics_render(struct catalog *c)
{
    struct buf b = { hc_malloc(4096), 0, 4096 };
    static const char *states[] = { "queued", "running", "done", "failed", "dropped" };
    unsigned long long cum = 0;

    b.p[0] = '\0';
    pthread_mutex_lock(&lock);
    bprintf(&b, "# HELP hubcast_http_requests_total HTTP requests by route, method and status.\n"
                "# TYPE hubcast_http_requests_total counter\n");
    for (int i = 0; i < nseries; i++)
        bprintf(&b, "hubcast_http_requests_total{route=\"%s\",method=\"%s\",status=\"%d\"} %llu\n",
                series[i].route, series[i].method, series[i].status, series[i].count);
    bprintf(&b, "# HELP hubcast_http_request_duration_seconds Time to answer a request.\n"
                "# TYPE hubcast_http_request_duration_seconds histogram\n");
    for (size_t i = 0; i < NBUCKETS; i++) {
        cum += hist[i];
        bprintf(&b, "hubcast_http_request_duration_seconds_bucket{le=\"%g\"} %llu\n", buckets[i], cum);
    }
    bprintf(&b, "hubcast_http_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n", hist_count);
    bprintf(&b, "hubcast_http_request_duration_seconds_sum %.6f\n", hist_sum);
    bprintf(&b, "hubcast_http_request_duration_seconds_count %llu\n", hist_count);
    bprintf(&b, "# HELP hubcast_upload_bytes_total Bytes received by uploads.\n"
                "# TYPE hubcast_upload_bytes_total counter\n"
                "hubcast_upload_bytes_total %llu\n"
                "# HELP hubcast_uploads_completed_total Uploads that became updates.\n"
                "# TYPE hubcast_uploads_completed_total counter\n"
                "hubcast_uploads_completed_total %llu\n", upload_bytes, uploads_done);
    pthread_mutex_unlock(&lock);
    /* A gauge the catalog cannot answer is left out, not reported as 0;
     * hubcast_catalog_up says why numbers are missing. */
    if (c) {
        int64_t k;
        int up = 1;
        bprintf(&b, "# HELP hubcast_uploads_open Unfinished uploads.\n# TYPE hubcast_uploads_open gauge\n");
        if (db_upload_count_all_open(c, &k) == DB_OK)
            bprintf(&b, "hubcast_uploads_open %lld\n", (long long)k);
        else
            up = 0;
        bprintf(&b, "# HELP hubcast_jobs Transcode jobs by state.\n# TYPE hubcast_jobs gauge\n");
        for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
            if (db_job_count_state(c, states[i], &k) == DB_OK)
                bprintf(&b, "hubcast_jobs{state=\"%s\"} %lld\n", states[i], (long long)k);
            else
                up = 0;
        }
        bprintf(&b, "# HELP hubcast_first_jobs First-playable jobs (also counted above) by state.\n"
                    "# TYPE hubcast_first_jobs gauge\n");
        for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
            if (db_job_count_kind(c, "first", states[i], &k) == DB_OK)
                bprintf(&b, "hubcast_first_jobs{state=\"%s\"} %lld\n", states[i], (long long)k);
            else
                up = 0;
        }
        bprintf(&b, "# HELP hubcast_catalog_up Whether the catalog answered the gauges above.\n"
                    "# TYPE hubcast_catalog_up gauge\nhubcast_catalog_up %d\n", up);
    }
    return b.p;
}
