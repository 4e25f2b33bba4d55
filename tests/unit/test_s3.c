/*
 * test_s3.c - the S3 client's configuration: store URLs, endpoints and
 * their addressing style, and where credentials may come from. (The
 * requests themselves are tested against radosgw: tests/e2e/s3.test.mjs.)
 * Also the media store's keys (store.h) and the paths /media may ask the
 * store for (media_s3.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "media_s3.h"
#include "s3.h"
#include "store.h"
#include "unit.h"

UNIT_TEST(parses_store_urls)
{
    struct s3_config c;
    char err[256];

    CHECK_INT(s3_config_parse(&c, "s3://hubcast-media/prod/eu/", "http://127.0.0.1:7480/", "", err,
                              sizeof(err)), S3_OK);
    CHECK_STR(c.bucket, "hubcast-media");
    CHECK(!strcmp(c.prefix, "prod/eu"));   /* (prefix is too wide for CHECK_STR's message) */
    CHECK_STR(c.endpoint, "http://127.0.0.1:7480");
    CHECK_STR(c.region, "us-east-1");
    CHECK_INT(c.path_style, 1);

    CHECK_INT(s3_config_parse(&c, "s3://media.example", NULL, "eu-west-3", err, sizeof(err)), S3_OK);
    CHECK(c.prefix[0] == '\0');
    CHECK_STR(c.endpoint, "https://s3.eu-west-3.amazonaws.com");
    CHECK_INT(c.path_style, 0);

    CHECK_INT(s3_config_parse(&c, "s3://abc//x", "vhost+https://minio.example.com", "r", err,
                              sizeof(err)), S3_OK);
    CHECK_STR(c.endpoint, "https://minio.example.com");
    CHECK(!strcmp(c.prefix, "x"));
    CHECK_INT(c.path_style, 0);
}

UNIT_TEST(refuses_bad_store_urls)
{
    struct s3_config c;
    char err[256];

    CHECK_INT(s3_config_parse(&c, "/srv/media", NULL, NULL, err, sizeof(err)), S3_INVALID);
    CHECK(strstr(err, "s3://bucket") != NULL);
    CHECK_INT(s3_config_parse(&c, "s3://Media/x", NULL, NULL, err, sizeof(err)), S3_INVALID);
    CHECK_INT(s3_config_parse(&c, "s3://ab", NULL, NULL, err, sizeof(err)), S3_INVALID);
    CHECK_INT(s3_config_parse(&c, "s3://-media", NULL, NULL, err, sizeof(err)), S3_INVALID);
    CHECK_INT(s3_config_parse(&c, "s3://media", "ftp://host", NULL, err, sizeof(err)), S3_INVALID);
    CHECK_INT(s3_config_parse(&c, "s3://media", "http://host/path", NULL, err, sizeof(err)), S3_INVALID);
    CHECK_INT(s3_config_parse(&c, "s3://media", "http://", NULL, err, sizeof(err)), S3_INVALID);
    CHECK_INT(s3_config_parse(&c, NULL, NULL, NULL, NULL, 0), S3_INVALID);
}

UNIT_TEST(credentials_from_the_environment_then_the_file)
{
    struct s3_config c;
    char path[] = "/tmp/hubcast-test-s3-XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

    CHECK(f != NULL);
    if (!f)
        return;
    fputs("# keys of the store\nlisten = 127.0.0.1:8080\n"
          "s3-access-key-id = AKFILE\n  s3-secret-access-key=secret from file  \n", f);
    fclose(f);
    s3_config_parse(&c, "s3://media", NULL, NULL, NULL, 0);

    setenv("AWS_ACCESS_KEY_ID", "AKENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "secret from env", 1);
    CHECK_INT(s3_config_credentials(&c, path), S3_OK);
    CHECK_STR(c.access_key, "AKENV");
    CHECK_STR(c.secret_key, "secret from env");

    unsetenv("AWS_SECRET_ACCESS_KEY");   /* half in the environment: the file */
    CHECK_INT(s3_config_credentials(&c, path), S3_OK);
    CHECK_STR(c.access_key, "AKFILE");
    CHECK_STR(c.secret_key, "secret from file");

    unsetenv("AWS_ACCESS_KEY_ID");
    CHECK_INT(s3_config_credentials(&c, NULL), S3_INVALID);
    CHECK_STR(c.secret_key, "");
    CHECK_INT(s3_config_credentials(&c, "/nonexistent/hubcast.conf"), S3_INVALID);
    unlink(path);
}

UNIT_TEST(a_client_needs_credentials)
{
    struct s3_config c;
    struct s3_client *cl = (struct s3_client *)1;

    s3_config_parse(&c, "s3://media", "http://127.0.0.1:1", NULL, NULL, 0);
    CHECK_INT(s3_open(&c, &cl), S3_INVALID);
    CHECK(cl == NULL);
    snprintf(c.access_key, sizeof(c.access_key), "AK");
    snprintf(c.secret_key, sizeof(c.secret_key), "SK");
    CHECK_INT(s3_open(&c, &cl), S3_OK);
    CHECK(cl != NULL);
    /* Keys outside the prefix's rules are refused before any request. */
    CHECK_INT(s3_delete(cl, "/absolute"), S3_INVALID);
    CHECK_INT(s3_delete(cl, "line\nbreak"), S3_INVALID);
    CHECK_INT(s3_delete(cl, ""), S3_INVALID);
    CHECK_INT(s3_delete_prefix(cl, "", NULL), S3_INVALID);
    s3_close(&cl);
    CHECK(cl == NULL);
}

UNIT_TEST(presigns_path_style_urls)
{
    struct s3_config c;
    struct s3_client *cl;
    char url[1024];

    s3_config_parse(&c, "s3://examplebucket/m", "http://127.0.0.1:7480", NULL, NULL, 0);
    snprintf(c.access_key, sizeof(c.access_key), "AKIAIOSFODNN7EXAMPLE");
    snprintf(c.secret_key, sizeof(c.secret_key), "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
    CHECK_INT(s3_open(&c, &cl), S3_OK);
    CHECK_INT(s3_presign_get(cl, "u/1/seg 0.ts", 1369353600, 600, url, sizeof(url)), S3_OK);
    {
        static const char want[] =
            "http://127.0.0.1:7480/examplebucket/m/u/1/seg%200.ts?X-Amz-Algorithm=AWS4-HMAC-SHA256"
            "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
            "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=600&X-Amz-SignedHeaders=host&X-Amz-Signature=";

        CHECK(!strncmp(url, want, strlen(want)));
        CHECK_INT(strlen(url), strlen(want) + 64);
    }
    CHECK_INT(s3_presign_get(cl, "k", 1369353600, 0, url, sizeof(url)), S3_INVALID);
    CHECK_INT(s3_presign_get(cl, "k", 1369353600, 60, url, 20), S3_INVALID);
    s3_close(&cl);
}

UNIT_TEST(names_store_keys)
{
    char k[64];

    CHECK_INT(store_media_key(12, "v2/720p/seg_00001.m4s", k, sizeof(k)), 0);
    CHECK_STR(k, "media/12/v2/720p/seg_00001.m4s");
    CHECK_INT(store_media_key(12, "first/master.m3u8", k, 10), -1);
    CHECK_INT(store_source_key("AbC_d-1", k, sizeof(k)), 0);
    CHECK_STR(k, "uploads/AbC_d-1");
    CHECK_INT(store_source_key("", k, sizeof(k)), -1);
    CHECK_INT(store_source_key("a/b", k, sizeof(k)), -1);
    CHECK_INT(store_upload_id("/srv/hubcast/uploads/AbC_d-1.part", k, sizeof(k)), 0);
    CHECK_STR(k, "AbC_d-1");
    CHECK_INT(store_upload_id("AbC.part", k, sizeof(k)), 0);
    CHECK_STR(k, "AbC");
    CHECK_INT(store_upload_id("/srv/uploads/.part", k, sizeof(k)), -1);
    CHECK_INT(store_upload_id("/srv/uploads/x.mp4", k, sizeof(k)), -1);
    CHECK_INT(store_upload_id("/srv/uploads/abcdef.part", k, 4), -1);
    CHECK_INT(store_avatar_key("3-xyz.jpg", k, sizeof(k)), 0);
    CHECK_STR(k, "avatars/3-xyz.jpg");
    CHECK_INT(store_avatar_key("../x", k, sizeof(k)), -1);
    CHECK_INT(store_avatar_key(".hidden", k, sizeof(k)), -1);
}

UNIT_TEST(media_paths_for_the_store)
{
    CHECK_INT(media_s3_path_ok("master.m3u8"), 1);
    CHECK_INT(media_s3_path_ok("v2/720p/seg_00001.m4s"), 1);
    CHECK_INT(media_s3_path_ok("first/audio/init.mp4"), 1);
    CHECK_INT(media_s3_path_ok(""), 0);
    CHECK_INT(media_s3_path_ok("../x"), 0);
    CHECK_INT(media_s3_path_ok("a/../x"), 0);
    CHECK_INT(media_s3_path_ok("a/./x"), 0);
    CHECK_INT(media_s3_path_ok(".hidden"), 0);
    CHECK_INT(media_s3_path_ok("a//b"), 0);
    CHECK_INT(media_s3_path_ok("/abs"), 0);
    CHECK_INT(media_s3_path_ok("dir/"), 0);
    CHECK_INT(media_s3_path_ok("a b"), 0);
    CHECK_INT(media_s3_path_ok("a\\b"), 0);
    CHECK_INT(media_s3_path_ok("a?x=1"), 0);
    CHECK_INT(media_s3_path_ok("a\x01"), 0);
}

int main(void)
{
    unit_run(parses_store_urls, "parses_store_urls");
    unit_run(refuses_bad_store_urls, "refuses_bad_store_urls");
    unit_run(credentials_from_the_environment_then_the_file,
             "credentials_from_the_environment_then_the_file");
    unit_run(a_client_needs_credentials, "a_client_needs_credentials");
    unit_run(presigns_path_style_urls, "presigns_path_style_urls");
    unit_run(names_store_keys, "names_store_keys");
    unit_run(media_paths_for_the_store, "media_paths_for_the_store");
    return unit_done();
}
