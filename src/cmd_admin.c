/*
 * cmd_admin.c - administration from the shell: `hubcast migrate`,
 * `hubcast user add|token|list`, `hubcast purpose [show|set]`.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>

#include "auth.h"
#include "catalog.h"
#include "commands.h"
#include "db_accounts.h"
#include "db_settings.h"
#include "layout.h"
#include "conf.h"
#include "util.h"

struct catalog *hc_open_catalog(const struct conf *c, int migrate)
{
    char path[1100], err[512];
    struct catalog *cat;

    if (layout_prepare(c->data_dir) < 0) {
        fprintf(stderr, "hubcast: cannot create the data folder %s\n", c->data_dir);
        return NULL;
    }
    conf_catalog(c, path, sizeof(path));
    cat = catalog_open(path, migrate, err, sizeof(err));
    if (!cat)
        fprintf(stderr, "hubcast: %s\n", err);
    return cat;
}

int cmd_migrate(int argc, char **argv)
{
    struct conf c;
    struct catalog *cat;
    int n, rc;

    conf_defaults(&c);
    if ((rc = conf_load(&c, OPT_DATA, argc, argv, &n)) != 0) {
        if (rc > 0) {
            puts("Usage: hubcast migrate [--data DIR]\n\nApply pending catalog migrations.\n");
            conf_usage(OPT_DATA);
        }
        return rc > 0 ? 0 : 2;
    }
    if (!(cat = hc_open_catalog(&c, 1)))
        return 1;
    printf("catalog at schema version %d\n", catalog_schema_version(cat));
    catalog_close(cat);
    return 0;
}

static int read_password_stdin(char *buf, size_t bufsz)
{
    size_t n;

    if (!fgets(buf, (int)bufsz, stdin)) {
        fputs("hubcast: --password-stdin: nothing on standard input\n", stderr);
        return -1;
    }
    n = strlen(buf);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    return 0;
}

static void user_usage(void)
{
    puts("Usage:\n"
         "  hubcast user add EMAIL --name NAME [--role admin|member] [--password-stdin] [--data DIR]\n"
         "  hubcast user token EMAIL [--name LABEL] [--data DIR]   prints a new API token alone on stdout\n"
         "  hubcast user list [--data DIR]\n\n"
         "  --name NAME         the person's name (add), or the token's label (token)\n"
         "  --role ROLE         admin or member (default member)\n"
         "  --password-stdin    read the password from the first line of standard input;\n"
         "                      without it the person signs in after a password reset\n");
    conf_usage(OPT_DATA);
}

int cmd_user(int argc, char **argv)
{
    struct conf c;
    struct catalog *cat;
    const char *sub, *email = NULL, *name = NULL, *role_s = "member";
    enum role role = ROLE_MEMBER;
    int pw_stdin = 0, n, rc, ret = 1;
    char **rest;

    conf_defaults(&c);
    /* Pull our own flags out first; the rest are the shared options. */
    rest = hc_calloc((size_t)argc + 1, sizeof(char *));
    n = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--name") && i + 1 < argc)
            name = argv[++i];
        else if (!strncmp(argv[i], "--name=", 7))
            name = argv[i] + 7;
        else if (!strcmp(argv[i], "--role") && i + 1 < argc)
            role_s = argv[++i];
        else if (!strncmp(argv[i], "--role=", 7))
            role_s = argv[i] + 7;
        else if (!strcmp(argv[i], "--password-stdin"))
            pw_stdin = 1;
        else
            rest[n++] = argv[i];
    }
    if ((rc = conf_load(&c, OPT_DATA, n, rest, &n)) != 0 || n < 1) {
        if (rc >= 0)
            user_usage();
        free(rest);
        return rc > 0 ? 0 : 2;
    }
    sub = rest[0];
    email = n > 1 ? rest[1] : NULL;
    if (strcmp(sub, "add") && strcmp(sub, "token") && strcmp(sub, "list")) {
        fprintf(stderr, "hubcast: unknown `user` command \"%s\"\n", sub);
        free(rest);
        return 2;
    }
    if (strcmp(sub, "list") && !email) {
        fprintf(stderr, "hubcast: user %s needs an EMAIL\n", sub);
        free(rest);
        return 2;
    }
    if (!(cat = hc_open_catalog(&c, 1))) {
        free(rest);
        return 1;
    }
    if (!strcmp(sub, "add")) {
        struct db_user u;
        char pw[1100];
        int64_t id;

        memset(&u, 0, sizeof(u));
        if (!name || !*name) {
            fputs("hubcast: user add needs --name NAME\n", stderr);
            ret = 2;
            goto out;
        }
        if (db_role_parse(role_s, &role) != DB_OK) {
            fputs("hubcast: --role must be admin or member\n", stderr);
            ret = 2;
            goto out;
        }
        if (!strchr(email, '@') || hc_has_crlf(email)) {
            fprintf(stderr, "hubcast: \"%s\" is not an email address\n", email);
            ret = 2;
            goto out;
        }
        if (pw_stdin) {
            const char *problem;
            if (read_password_stdin(pw, sizeof(pw)) < 0)
                goto out;
            if ((problem = auth_password_problem(pw))) {
                fprintf(stderr, "hubcast: %s\n", problem);
                goto out;
            }
            if (auth_hash_password(pw, u.password_hash, sizeof(u.password_hash)) < 0)
                goto out;
            sodium_memzero(pw, sizeof(pw));
        }
        hc_strlcpy(u.email, email, sizeof(u.email));
        hc_strlcpy(u.name, name, sizeof(u.name));
        u.role = role;
        u.created_at = (int64_t)hc_now();
        if ((rc = db_user_insert(cat, &u, &id)) != DB_OK) {
            fprintf(stderr, "hubcast: %s\n", rc == DB_CONSTRAINT ?
                    "a person with this email already exists" : db_rc_name(rc));
            goto out;
        }
        printf("added %s <%s> as %s (id %lld)\n", name, email, db_role_name(role), (long long)id);
        ret = 0;
    } else if (!strcmp(sub, "token")) {
        char tok[TOKEN_CHARS + 8];
        struct db_user u;
        int64_t id;

        rc = db_user_get_by_email(cat, email, &u);
        if (rc < 0) {
            fprintf(stderr, "hubcast: %s\n", db_rc_name(rc));
            goto out;
        }
        if (rc == DB_NOTFOUND || u.deactivated) {
            fprintf(stderr, "hubcast: no active person with the email %s\n", email);
            goto out;
        }
        if ((id = auth_token_create(cat, u.id, name ? name : "command line", tok, sizeof(tok))) < 0) {
            fprintf(stderr, "hubcast: %s\n", db_rc_name((int)id));
            goto out;
        }
        puts(tok);
        ret = 0;
    } else {
        struct db_user *users;
        size_t nu;

        if ((rc = db_user_list(cat, &users, &nu)) != DB_OK) {
            fprintf(stderr, "hubcast: %s\n", db_rc_name(rc));
            goto out;
        }
        for (size_t i = 0; i < nu; i++)
            printf("%-5lld %-30s %-24s %-6s%s\n", (long long)users[i].id, users[i].email, users[i].name,
                   db_role_name(users[i].role), users[i].deactivated ? " (deactivated)" : "");
        free(users);
        ret = 0;
    }
out:
    catalog_close(cat);
    free(rest);
    return ret;
}

int cmd_purpose(int argc, char **argv)
{
    struct conf c;
    struct catalog *cat;
    int n, rc, ret = 0;

    conf_defaults(&c);
    if ((rc = conf_load(&c, OPT_DATA, argc, argv, &n)) != 0 || n < 1 ||
        (strcmp(argv[0], "show") && strcmp(argv[0], "set")) || (!strcmp(argv[0], "set") && n < 2)) {
        if (rc >= 0) {
            puts("Usage:\n  hubcast purpose show [--data DIR]\n"
                 "  hubcast purpose set TEXT [--data DIR]   (TEXT \"-\" reads standard input)\n");
            conf_usage(OPT_DATA);
        }
        return rc > 0 ? 0 : 2;
    }
    if (!(cat = hc_open_catalog(&c, 1)))
        return 1;
    if (!strcmp(argv[0], "show")) {
        char *p = NULL;
        if ((rc = db_setting_get(cat, "purpose", &p)) < 0) {
            fprintf(stderr, "hubcast: %s\n", db_rc_name(rc));
            ret = 1;
        } else {
            puts(p ? p : "");
        }
        free(p);
    } else {
        char buf[20001];
        const char *text = argv[1];
        if (!strcmp(text, "-")) {
            size_t len = fread(buf, 1, sizeof(buf) - 1, stdin);
            buf[len] = '\0';
            text = buf;
        }
        if ((rc = db_setting_set(cat, "purpose", text)) < 0) {
            fprintf(stderr, "hubcast: %s\n", db_rc_name(rc));
            ret = 1;
        }
    }
    catalog_close(cat);
    return ret;
}
