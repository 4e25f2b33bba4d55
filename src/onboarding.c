/*
 * onboarding.c - the first-run checklist (derived from the catalog each
 * time, never stored), pending invites for administrators, and the public
 * look-up of an invite link for the join form. Handlers only: the SQL is in
 * db/db_accounts.c.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "auth.h"
#include "db_accounts.h"
#include "db_settings.h"
#include "http.h"
#include "mail.h"
#include "onboarding.h"
#include "util.h"

/* GET /api/onboarding (administrators): the checklist and whether it is done. */
static int h_onboarding(struct req *r, struct resp *o)
{
    struct db_onboarding ob;
    int rc = db_onboarding_get(r->cat, r->user.id, &ob);

    if (rc < 0)
        return api_db_fail(o, rc, "reading the first-run checklist");
    return http_json(o, 200, json_pack("{s:b,s:b,s:b,s:b}",
                                       "purpose_written", ob.purpose_written,
                                       "invited_someone", ob.invited_someone,
                                       "recorded_first_update", ob.recorded_first_update,
                                       "done", ob.purpose_written && ob.invited_someone &&
                                               ob.recorded_first_update));
}

static json_t *pending_json(const struct db_pending_invite *p)
{
    const struct db_invite *in = &p->invite;
    json_t *j = json_pack("{s:I,s:s,s:s,s:s,s:s,s:I,s:I,s:b}", "id", (json_int_t)in->id,
                          "email", in->email, "name", in->name, "role", db_role_name(in->role), "lang", in->lang,
                          "created_at", (json_int_t)in->created_at,
                          "expires_at", (json_int_t)in->expires_at, "expired", p->expired);

    json_object_set_new(j, "invited_by", in->invited_by
        ? json_pack("{s:I,s:s}", "id", (json_int_t)in->invited_by, "name", p->invited_by_name)
        : json_null());
    return j;
}

/* GET /api/invites (administrators): invites not answered yet, newest first. */
static int h_invites(struct req *r, struct resp *o)
{
    struct db_pending_invite *list;
    size_t n;
    json_t *arr;
    int rc = db_invite_list_pending(r->cat, (int64_t)hc_now(), &list, &n);

    if (rc < 0)
        return api_db_fail(o, rc, "listing the invites");
    arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, pending_json(&list[i]));
    free(list);
    return http_json(o, 200, json_pack("{s:o}", "invites", arr));
}

/* POST /api/invites/{id}/resend (administrators): a fresh link, mailed; the
 * old link stops working. 200 {invite: {id, email, url, expires_at}}. */
static int h_invite_resend(struct req *r, struct resp *o)
{
    char token[TOKEN_CHARS], base[600], url[800];
    struct db_invite in;
    int64_t id;
    int rc;

    if (api_parse_id(r->match.params[0], &id) < 0)
        return http_error(o, 404, "not_found", "there is no pending invite with this id");
    rc = auth_invite_renew(r->cat, id, INVITE_TTL, NULL, token, sizeof(token), &in);
    if (rc == DB_NOTFOUND)
        return http_error(o, 404, "not_found", "there is no pending invite with this id");
    if (rc < 0)
        return api_db_fail(o, rc, "renewing the invite");
    api_public_base(r, base, sizeof(base));
    snprintf(url, sizeof(url), "%s/invite#token=%s", base, token);
    /* The invite stays (with its new link) when the mail cannot be queued:
     * sending again is the remedy, and the answer says it failed. It is
     * written in the invite's language, whoever sends it again. */
    if (mail_queue_invite_in(r->cat, r->conf, in.lang, in.email, in.name, r->user.name, url) < 0)
        return api_db_fail(o, DB_ERROR, "queueing the invite mail");
    return http_json(o, 200, json_pack("{s:{s:I,s:s,s:s,s:I,s:s}}", "invite", "id", (json_int_t)in.id,
                                       "email", in.email, "url", url,
                                       "expires_at", (json_int_t)in.expires_at, "lang", in.lang));
}

/* DELETE /api/invites/{id} (administrators): the link stops working. */
static int h_invite_revoke(struct req *r, struct resp *o)
{
    int64_t id;
    int rc;

    if (api_parse_id(r->match.params[0], &id) < 0 || (rc = db_invite_revoke(r->cat, id)) == DB_NOTFOUND)
        return http_error(o, 404, "not_found", "there is no pending invite with this id");
    if (rc < 0)
        return api_db_fail(o, rc, "withdrawing the invite");
    return http_json(o, 200, json_pack("{s:b}", "revoked", 1));
}

/*
 * GET /api/invites/lookup?token=T (anyone holding the link): what the join
 * form shows, {company, email, name, lang, expires_at}; 410 link_expired when
 * the link is unknown, used, withdrawn or expired (as accepting it says).
 */
static int h_invite_lookup(struct req *r, struct resp *o)
{
    const char *token = http_get_arg(r, "token");
    struct db_invite in;
    char *company = NULL;
    json_t *j;
    int rc;

    if (!token || !*token)
        return http_error(o, 400, "missing_field", "the link's token is required");
    if (strlen(token) > CREDENTIAL_MAX)
        return http_error(o, 410, "link_expired", "this link has expired or was already used; ask for a new one");
    rc = auth_invite_find(r->cat, token, DB_LINK_INVITE, &in);
    if (rc == DB_NOTFOUND)
        return http_error(o, 410, "link_expired", "this link has expired or was already used; ask for a new one");
    if (rc < 0)
        return api_db_fail(o, rc, "reading the invite");
    if ((rc = db_setting_get(r->cat, "company_name", &company)) < 0)
        return api_db_fail(o, rc, "reading the company's name");
    j = json_pack("{s:s,s:s,s:s,s:s,s:I}", "company", company ? company : "", "email", in.email,
                  "name", in.name, "lang", in.lang, "expires_at", (json_int_t)in.expires_at);
    free(company);
    return http_json(o, 200, j);
}

const struct route onboarding_routes[] = {
    { "GET",    "/api/onboarding",            h_onboarding,    ROLE_ADMIN, 0, NULL },
    { "GET",    "/api/invites",               h_invites,       ROLE_ADMIN, 0, NULL },
    { "GET",    "/api/invites/lookup",        h_invite_lookup, ROLE_ANON,  0, NULL },
    { "POST",   "/api/invites/{id}/resend",   h_invite_resend, ROLE_ADMIN, 0, NULL },
    { "DELETE", "/api/invites/{id}",          h_invite_revoke, ROLE_ADMIN, 0, NULL },
};
const size_t onboarding_nroutes = HC_ARRAY_LEN(onboarding_routes);
