/*
 * test_db_search.c - the search data layer against a real catalog (a
 * SQLite file; PostgreSQL through tests/unit/pg-run.sh): how a person's
 * words become an FTS5 query (quoting, dropping, caps), a search finding
 * titles, descriptions, check-in answers and comments with accents
 * ignored, the last word as a prefix, titles ranked first and the
 * visibility rule applied, snippets, the index catching up with inserts,
 * edits and deletions and with rows written before the search migration,
 * and a locked catalog (the search answers from the index as it was) or a
 * failing one (an error, never an empty answer). Also db_update_source,
 * the stored original a download serves.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#include "catalog.h"
#include "catalog_pg.h"     /* catalog_migrations_pg */
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

/* The first hit's snippet for v's search q ("" when none). */
static void first_snippet(struct catalog *c, const struct db_viewer *v, const char *q, char *out, size_t outsz)
{
    struct db_search_hit *h;
    size_t n;

    out[0] = '\0';
    if (db_search(c, v, q, 5, &h, &n) == DB_OK && n)
        snprintf(out, outsz, "%s", h[0].snippet);
    db_search_hits_free(&h, n);
}

UNIT_TEST(answers_prefixes_ranking_and_snippets)
{
    struct catalog *c = fx_open();
    int64_t ann = fx_user(c, "a@example.com", "Ann", "", "UTC", "digest", T0);
    int64_t in_desc = fx_update(c, ann, "weekly", "2026-W37", "Monday", "ready", T0 + 10, T0);
    int64_t in_title = fx_update(c, ann, "weekly", "2026-W37", "The pelican dashboard", "ready", T0, T0);
    int64_t asked = fx_update(c, ann, "weekly", "2026-W37", "Friday", "ready", T0, T0);
    struct db_answer a = { "What did you learn?", "Déjà vu with the marsupial rollout" };
    struct db_viewer v = { ann, 0 };
    char got[256], want[64];

    cat_exec(c, "UPDATE updates SET description = ? WHERE id = ?", "sI",
             "We spent the whole week on the pelican and more words after it so that a snippet "
             "cannot hold all of them: one two three four five six seven eight nine ten eleven", in_desc);
    cat_exec(c, "UPDATE updates SET description = 'a foo-bar release' WHERE id = ?", "I", in_title);
    CHECK(cat_begin(c) == 0 && db_update_answers_add(c, asked, &a, 1) == DB_OK && cat_commit(c) == 0);
    /* Check-in answers are found, accents ignored. */
    snprintf(want, sizeof(want), "%lld", (long long)asked);
    CHECK_INT(ids(c, &v, "deja marsup", got, sizeof(got)), DB_OK);
    CHECK_STR(got, want);
    /* The start of a word as it is typed, and of a hyphenated word's part. */
    snprintf(want, sizeof(want), "%lld", (long long)in_title);
    CHECK_INT(ids(c, &v, "dashb", got, sizeof(got)), DB_OK);
    CHECK_STR(got, want);
    CHECK_INT(ids(c, &v, "foo-ba", got, sizeof(got)), DB_OK);
    CHECK_STR(got, want);
    CHECK_INT(ids(c, &v, "bar", got, sizeof(got)), DB_OK);
    CHECK_STR(got, want);
    /* A title word weighs more than a description word of a newer update. */
    snprintf(want, sizeof(want), "%lld,%lld", (long long)in_title, (long long)in_desc);
    CHECK_INT(ids(c, &v, "pelican", got, sizeof(got)), DB_OK);
    CHECK_STR(got, want);
    /* Snippets: the words found marked, an ellipsis where text was left out. */
    first_snippet(c, &v, "dashboard", got, sizeof(got));
    CHECK_STR(got, "The pelican " DB_SEARCH_MARK_ON "dashboard" DB_SEARCH_MARK_OFF);
    first_snippet(c, &v, "marsupial", got, sizeof(got));
    CHECK(strstr(got, DB_SEARCH_MARK_ON "marsupial" DB_SEARCH_MARK_OFF) != NULL);
    CHECK(strstr(got, "Déjà vu") != NULL);
    first_snippet(c, &v, "week", got, sizeof(got));
    CHECK(strstr(got, DB_SEARCH_MARK_ON "week" DB_SEARCH_MARK_OFF) != NULL);
    CHECK(strlen(got) > 3 && !strcmp(got + strlen(got) - 3, "\xe2\x80\xa6"));
    CHECK(strstr(got, "eleven") == NULL);
    /* What looks like markup is text, kept as written (not taken for a tag). */
    fx_update(c, ann, "weekly", "2026-W37", "The <b>zeppelin</b> & the blimp", "ready", T0, T0);
    first_snippet(c, &v, "zeppelin", got, sizeof(got));
    CHECK_STR(got, "The <b>" DB_SEARCH_MARK_ON "zeppelin" DB_SEARCH_MARK_OFF "</b> & the blimp");
    /* Bytes that are not UTF-8 find nothing and fail nothing. */
    CHECK_INT(ids(c, &v, "\xff\xfe", got, sizeof(got)), DB_OK);
    CHECK_STR(got, "");
    CHECK_INT(ids(c, &v, "pelican \xc3", got, sizeof(got)), DB_OK);
    fx_close(c);
}

/* Run sql on the catalog under construction (fx_db): 0, or -1. */
static int old_exec(const char *sql)
{
    int ok;

    if (dbt_pg_url()) {
        PGconn *pc = PQconnectdb(dbt_pg_url());
        PGresult *r = PQexec(pc, sql);
        ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
        if (!ok)
            fprintf(stderr, "%s", PQerrorMessage(pc));
        PQclear(r);
        PQfinish(pc);
    } else {
        sqlite3 *db;
        char *err = NULL;
        ok = sqlite3_open(fx_db, &db) == SQLITE_OK && sqlite3_exec(db, sql, NULL, NULL, &err) == SQLITE_OK;
        if (!ok)
            fprintf(stderr, "%s\n", err ? err : sqlite3_errmsg(db));
        sqlite3_free(err);
        sqlite3_close(db);
    }
    return ok ? 0 : -1;
}

/* A catalog made by the migrations before search (SQLite: 001-005;
 * PostgreSQL: 001-010, its search came with 011), with a person, an
 * update with a check-in answer and a comment: after catalog_open
 * migrates it, all three are found. */
UNIT_TEST(rows_written_before_search_are_found_after_the_upgrade)
{
    static const char old_rows[] =
        "INSERT INTO users(email, name, created_at) VALUES ('old@example.com', 'Olga', 0); "
        "INSERT INTO updates(author_id, iso_week, title, description, status, created_at, updated_at) "
        "VALUES (1, '2026-W01', 'Ancienne stratégie', 'Écrit avant', 'ready', 0, 0); "
        "INSERT INTO update_answers(update_id, position, prompt, body) "
        "VALUES (1, 0, 'Learned?', 'Les kangourous'); "
        "INSERT INTO comments(update_id, user_id, at_seconds, body, created_at) "
        "VALUES (1, 1, 3, 'Un commentaire oublié', 0)";
    const struct migration *set = dbt_pg_url() ? catalog_migrations_pg : catalog_migrations;
    int before = dbt_pg_url() ? 10 : 5;
    struct db_viewer v = { 1, 0 };
    struct catalog *c;
    char got[128], err[256], ins[128];

    fx_close(fx_open());            /* the folder, the fault file */
    catalog_fault_init(0);
    if (dbt_pg_url())
        dbt_pg_reset();
    else
        unlink(fx_db);
    CHECK_INT(old_exec("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                       "applied_at BIGINT NOT NULL)"), 0);
    for (const struct migration *m = set; m->sql && m->version <= before; m++) {
        snprintf(ins, sizeof(ins), "INSERT INTO schema_version VALUES (%d, '%s', 0)", m->version, m->name);
        CHECK_INT(old_exec(m->sql), 0);
        CHECK_INT(old_exec(ins), 0);
    }
    CHECK_INT(old_exec(old_rows), 0);
    catalog_fault_init(1);
    CHECK((c = catalog_open(dbt_target(fx_db), 1, err, sizeof(err))) != NULL);
    if (!c)
        return;
    CHECK_INT(catalog_schema_version(c), catalog_latest_version());
    CHECK_INT(ids(c, &v, "strategie", got, sizeof(got)), DB_OK);
    CHECK_STR(got, "1");
    CHECK_INT(ids(c, &v, "ecrit kangourou", got, sizeof(got)), DB_OK);
    CHECK_STR(got, "1");
    CHECK_INT(ids(c, &v, "oublie", got, sizeof(got)), DB_OK);
    CHECK_STR(got, "1:c1@3");
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
    unit_run(answers_prefixes_ranking_and_snippets, "answers_prefixes_ranking_and_snippets");
    unit_run(rows_written_before_search_are_found_after_the_upgrade,
             "rows_written_before_search_are_found_after_the_upgrade");
    unit_run(update_source_is_the_latest_jobs_input, "update_source_is_the_latest_jobs_input");
    return unit_done();
}
