/*
 * test_db_search.c - the search data layer against a real SQLite file:
 * how a person's words become an FTS5 query (quoting, dropping, caps), a
 * search finding titles, descriptions and comments with accents ignored
 * and the visibility rule applied, the index catching up with inserts,
 * edits and deletions, and a locked catalog (the search answers from the
 * index as it was) or a failing one (an error, never an empty answer).
 * Also db_update_source, the stored original a download serves.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "db_search.h"
#include "db_updates.h"
#include "db_fixture.h"
#include "unit.h"

#define T0 1790000000

UNIT_TEST(words_become_quoted_terms_and_nothing_else)
{
    char out[4 * DB_SEARCH_QUERY_MAX + 8], big[DB_SEARCH_QUERY_MAX + 2];

    CHECK_INT(db_search_expr("pelican", out, sizeof(out)), 1);
    CHECK(!strcmp(out, "\"pelican\"*"));
    CHECK_INT(db_search_expr("  café   AND  \"q4\" ", out, sizeof(out)), 3);
    CHECK(!strcmp(out, "\"café\" \"AND\" \"\"\"q4\"\"\"*"));
    CHECK_INT(db_search_expr("NEAR(a b) title:x", out, sizeof(out)), 3);
    CHECK(!strcmp(out, "\"NEAR(a\" \"b)\" \"title:x\"*"));
    /* Nothing with a letter or digit: nothing to search. */
    CHECK_INT(db_search_expr("* ( ) \" -- ^", out, sizeof(out)), 0);
    CHECK(!strcmp(out, ""));
    CHECK_INT(db_search_expr("", out, sizeof(out)), 0);
    /* At most DB_SEARCH_TERMS_MAX terms. */
    CHECK_INT(db_search_expr("a b c d e f g h i j k l m n o p q r s t", out, sizeof(out)), DB_SEARCH_TERMS_MAX);
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    CHECK_INT(db_search_expr(big, out, sizeof(out)), DB_INVALID);
    big[DB_SEARCH_QUERY_MAX] = '\0';
    CHECK_INT(db_search_expr(big, out, sizeof(out)), 1);
    CHECK_INT(db_search_expr("pelican", out, 5), DB_INVALID);
}

/* The update ids of a search, in order, as "1,2,3" (comment hits as c<id>@<at>). */
static int ids(struct catalog *c, const struct db_viewer *v, const char *q, char *out, size_t outsz)
{
    struct db_search_hit *h;
    size_t n, len = 0;
    int rc = db_search(c, v, q, 50, &h, &n);

    out[0] = '\0';
    for (size_t i = 0; rc == DB_OK && i < n && len < outsz; i++) {
        if (h[i].comment_id)
            len += (size_t)snprintf(out + len, outsz - len, "%s%lld:c%lld@%g", i ? "," : "",
                                    (long long)h[i].update_id, (long long)h[i].comment_id,
                                    h[i].has_at ? h[i].at_seconds : -1.0);
        else
            len += (size_t)snprintf(out + len, outsz - len, "%s%lld", i ? "," : "", (long long)h[i].update_id);
    }
    db_search_hits_free(&h, n);
    return rc;
}

UNIT_TEST(finds_titles_descriptions_and_comments_as_the_rule_allows)
{
    struct catalog *c = fx_open();
    int64_t ann = fx_user(c, "a@example.com", "Ann", "", "UTC", "digest", T0);
    int64_t bob = fx_user(c, "b@example.com", "Bob", "", "UTC", "digest", T0);
    int64_t u1 = fx_update(c, ann, "weekly", "2026-W37", "L'équipe avance", "ready", T0, T0);
    int64_t u2 = fx_update(c, ann, "weekly", "2026-W37", "Brouillon secret", "processing", T0, 0);
    struct db_viewer vb = { bob, 0 }, va = { ann, 0 }, admin = { bob, 1 };
    struct db_search_hit *h = (void *)1;
    char got[256], want[64];
    size_t n = 9;

    cat_exec(c, "UPDATE updates SET description = 'le café est prêt' WHERE id = ?", "I", u1);
    cat_insert(c, "INSERT INTO comments(update_id, user_id, at_seconds, body, created_at) "
                  "VALUES (?, ?, 12.5, 'Superbe Équipe', ?)", "III", u1, bob, (int64_t)T0);
    CHECK_INT(ids(c, &vb, "CAFE", got, sizeof(got)), DB_OK);
    snprintf(want, sizeof(want), "%lld", (long long)u1);
    CHECK_STR(got, want);
    /* Title and comment both match: the title weighs more. */
    CHECK_INT(ids(c, &vb, "equipe", got, sizeof(got)), DB_OK);
    snprintf(want, sizeof(want), "%lld,%lld:c1@12.5", (long long)u1, (long long)u1);
    CHECK_STR(got, want);
    /* Not ready and not Bob's: not found by Bob; found by Ann and an admin. */
    CHECK_INT(ids(c, &vb, "secret", got, sizeof(got)), DB_OK);
    CHECK_STR(got, "");
    snprintf(want, sizeof(want), "%lld", (long long)u2);
    CHECK_INT(ids(c, &va, "secret", got, sizeof(got)), DB_OK);
    CHECK_STR(got, want);
    CHECK_INT(ids(c, &admin, "secr", got, sizeof(got)), DB_OK);
    CHECK_STR(got, want);
    /* Nothing matches: DB_OK and no hits (not DB_NOTFOUND). */
    CHECK_INT(db_search(c, &vb, "zeppelin", 10, &h, &n), DB_OK);
    CHECK(h == NULL);
    CHECK_INT(n, 0);
    CHECK_INT(db_search(c, &vb, "\"\" *", 10, &h, &n), DB_OK);
    CHECK_INT(n, 0);
    fx_close(c);
}

UNIT_TEST(the_index_follows_edits_and_deletions)
{
    struct catalog *c = fx_open();
    int64_t ann = fx_user(c, "a@example.com", "Ann", "", "UTC", "digest", T0);
    int64_t u = fx_update(c, ann, "weekly", "2026-W37", "giraffe", "ready", T0, T0);
    struct db_viewer v = { ann, 0 };
    char got[128];
    int n = -1;

    CHECK_INT(ids(c, &v, "giraffe", got, sizeof(got)), DB_OK);
    CHECK(got[0] != '\0');
    CHECK_INT(db_update_edit(c, u, "okapi", NULL, T0 + 1), DB_OK);
    CHECK_INT(db_search_refresh(c, &n), DB_OK);
    CHECK_INT(n, 1);
    CHECK_INT(db_search_refresh(c, &n), DB_OK);     /* nothing left to do */
    CHECK_INT(n, 0);
    CHECK_INT(ids(c, &v, "giraffe", got, sizeof(got)), DB_OK);
    CHECK_STR(got, "");
    cat_insert(c, "INSERT INTO comments(update_id, user_id, body, created_at) VALUES (?, ?, 'okapi!', ?)",
               "III", u, ann, (int64_t)T0);
    CHECK_INT(ids(c, &v, "okapi", got, sizeof(got)), DB_OK);
    CHECK(strchr(got, ',') != NULL);
    {
        char **inputs = NULL;
        size_t k = 0;
        CHECK_INT(db_update_delete(c, u, &inputs, &k), DB_OK);
        db_strings_free(&inputs, k);
    }
    CHECK_INT(ids(c, &v, "okapi", got, sizeof(got)), DB_OK);
    CHECK_STR(got, "");
    {
        int64_t rows = -1;
        CHECK_INT(cat_get_int(c, &rows, "SELECT COUNT(*) FROM search_comments", ""), DB_OK);
        CHECK_INT(rows, 0);     /* the cascaded comment left the index too */
    }
    fx_close(c);
}

UNIT_TEST(a_locked_catalog_answers_from_the_index_a_failing_one_fails)
{
    struct catalog *c = fx_open();
    int64_t ann = fx_user(c, "a@example.com", "Ann", "", "UTC", "digest", T0);
    struct db_viewer v = { ann, 0 };
    struct db_search_hit *h = (void *)1;
    char got[128];
    size_t n = 9;

    fx_update(c, ann, "weekly", "2026-W37", "pelican", "ready", T0, T0);
    CHECK_INT(ids(c, &v, "pelican", got, sizeof(got)), DB_OK);
    fx_update(c, ann, "weekly", "2026-W37", "pelican two", "ready", T0, T0);
    fx_busy_on(c);
    CHECK_INT(db_search_refresh(c, NULL), DB_BUSY);
    /* The new one is not indexed yet; the old one is still found. */
    CHECK_INT(ids(c, &v, "pelican", got, sizeof(got)), DB_OK);
    CHECK(strchr(got, ',') == NULL && got[0]);
    fx_busy_off();
    CHECK_INT(ids(c, &v, "pelican", got, sizeof(got)), DB_OK);
    CHECK(strchr(got, ',') != NULL);
    fx_fault_on();
    CHECK(db_search(c, &v, "pelican", 10, &h, &n) < 0);
    CHECK(h == NULL);
    CHECK_INT(n, 0);
    CHECK(db_search_refresh(c, NULL) < 0);
    fx_fault_off();
    fx_close(c);
}

UNIT_TEST(update_source_is_the_latest_jobs_input)
{
    struct catalog *c = fx_open();
    int64_t ann = fx_user(c, "a@example.com", "Ann", "", "UTC", "digest", T0);
    int64_t u = fx_update(c, ann, "weekly", "2026-W37", "", "ready", T0, T0);
    int64_t bare = fx_update(c, ann, "weekly", "2026-W37", "", "ready", T0, T0);
    char path[DB_PATH_SIZE];

    cat_exec(c, "INSERT INTO jobs(update_id, input_path, created_at, updated_at) VALUES (?, '/d/uploads/a.part', 1, 1),"
                " (?, '/d/uploads/b.part', 2, 2)", "II", u, u);
    CHECK_INT(db_update_source(c, u, path), DB_OK);
    CHECK(!strcmp(path, "/d/uploads/b.part"));
    CHECK_INT(db_update_source(c, bare, path), DB_NOTFOUND);
    CHECK(!strcmp(path, ""));
    CHECK_INT(db_update_source(c, 9999, path), DB_NOTFOUND);
    fx_fault_on();
    CHECK(db_update_source(c, u, path) < 0);
    fx_fault_off();
    fx_close(c);
}

int main(void)
{
    unit_run(words_become_quoted_terms_and_nothing_else, "words_become_quoted_terms_and_nothing_else");
    unit_run(finds_titles_descriptions_and_comments_as_the_rule_allows,
             "finds_titles_descriptions_and_comments_as_the_rule_allows");
    unit_run(the_index_follows_edits_and_deletions, "the_index_follows_edits_and_deletions");
    unit_run(a_locked_catalog_answers_from_the_index_a_failing_one_fails,
             "a_locked_catalog_answers_from_the_index_a_failing_one_fails");
    unit_run(update_source_is_the_latest_jobs_input, "update_source_is_the_latest_jobs_input");
    return unit_done();
}
