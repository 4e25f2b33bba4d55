/*
 * metrics.h - counters for GET /metrics (Prometheus text format):
 * requests by route and status, a latency histogram, uploads, jobs by state.
 */
#ifndef HUBCAST_METRICS_H
#define HUBCAST_METRICS_H

struct catalog;

void metrics_request(const char *route, const char *method, int status, double seconds);
void metrics_upload_bytes(long long n);
void metrics_upload_done(void);
/* Render everything; job counts come from the catalog. Returns malloc'd text. */
char *metrics_render(struct catalog *c);

#endif
