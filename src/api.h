/*
 * api.h - the routing table of the whole server and the JSON shape of the
 * objects the API hands out.
 */
#ifndef HUBCAST_API_H
#define HUBCAST_API_H

#include <stddef.h>
#include <jansson.h>
#include "router.h"

struct catalog;

extern const struct route api_routes[];
extern const size_t api_nroutes;

/* The public JSON of an account (no password hash). */
struct db_user;
json_t *api_user_json(const struct db_user *u);

/* Validation of JSON body fields. Each returns 0 when fine, else fills o
 * with a 400 JSON error naming the field and returns 400. */
struct resp;
int api_str_field(json_t *body, const char *key, int required, size_t maxlen,
                  const char **out, struct resp *o);
int api_bool_field(json_t *body, const char *key, int *out, int *present, struct resp *o);
/* 400 naming the first key of body that is not in the NULL-ended keys. */
int api_only_keys(json_t *body, const char *const *keys, struct resp *o);
/* Text without control characters (but newline and tab), at most maxlen bytes. */
int api_text_ok(const char *s, size_t maxlen);
/* A plausible single email address, safe to put in a header. */
int api_email_ok(const char *e);
/* Check a new password's rules and hash it into hash (crypto_pwhash_STRBYTES).
 * 0 on success, else the status of the JSON error set in o. */
int api_new_password(const char *pw, char *hash, size_t hashsz, struct resp *o);
/*
 * Answer a data-layer failure (a negative enum db_rc): 507 "storage_full"
 * for a full disk, 503 "catalog_unavailable" for anything else, each with a
 * JSON error and a log line naming what was being done. Returns the status.
 */
int api_db_fail(struct resp *o, int rc, const char *doing);
/* The address people reach this server at, without a trailing slash:
 * --public-url, else http://Host. */
struct req;
void api_public_base(struct req *r, char *out, size_t outsz);
/* A positive id from a path segment; 0 on success. */
int api_parse_id(const char *s, int64_t *id);

#endif
