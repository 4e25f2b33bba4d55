/*
 * test_sigv4.c - the SigV4 signer against the examples the Amazon S3 API
 * reference publishes ("Signature Calculations for the Authorization
 * Header: Transferring Payload in a Single Chunk" and "Authenticating
 * Requests: Using Query Parameters"), then properties: the same input
 * signs the same way, and the order of query parameters does not matter.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "sigv4.h"
#include "unit.h"

static const struct sigv4_creds aws_example = {
    "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "us-east-1", "s3",
};
/* 2013-05-24T00:00:00Z */
static const time_t may24 = 1369353600;
#define HOST "examplebucket.s3.amazonaws.com"
#define CRED "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"

UNIT_TEST(get_object_with_range)
{
    struct sigv4_pair h[] = { { "Range", "bytes=0-9" } };
    struct sigv4_request r = { "GET", HOST, "/test.txt", NULL, 0, h, 1, SIGV4_EMPTY_SHA256 };
    struct sigv4_signed s;

    CHECK_INT(sigv4_sign(&aws_example, &r, may24, &s), 0);
    CHECK_STR(s.amz_date, "20130524T000000Z");
    CHECK_STR(s.authorization, CRED "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
              "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
    CHECK_STR(s.path, "/test.txt");
    CHECK_STR(s.query, "");
    sigv4_signed_free(&s);
}

UNIT_TEST(put_object)
{
    const char *body = "Welcome to Amazon S3.";
    char hash[65];
    struct sigv4_pair h[] = {
        { "Date", "Fri, 24 May 2013 00:00:00 GMT" },
        { "x-amz-storage-class", "REDUCED_REDUNDANCY" },
    };
    struct sigv4_request r = { "PUT", HOST, "/test$file.text", NULL, 0, h, 2, hash };
    struct sigv4_signed s;

    sigv4_sha256_hex(body, strlen(body), hash);
    CHECK_STR(hash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
    CHECK_INT(sigv4_sign(&aws_example, &r, may24, &s), 0);
    CHECK_STR(s.authorization, CRED "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;"
              "x-amz-storage-class,"
              "Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
    CHECK_STR(s.path, "/test%24file.text");
    sigv4_signed_free(&s);
}

/* "?lifecycle": a parameter without a value signs as "lifecycle=". */
UNIT_TEST(get_bucket_lifecycle)
{
    struct sigv4_pair q[] = { { "lifecycle", NULL } };
    struct sigv4_request r = { "GET", HOST, "/", q, 1, NULL, 0, SIGV4_EMPTY_SHA256 };
    struct sigv4_signed s;

    CHECK_INT(sigv4_sign(&aws_example, &r, may24, &s), 0);
    CHECK_STR(s.authorization, CRED "SignedHeaders=host;x-amz-content-sha256;x-amz-date,"
              "Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
    CHECK_STR(s.query, "lifecycle=");
    sigv4_signed_free(&s);
}

/* Given as prefix=J&max-keys=2: signed sorted, as max-keys=2&prefix=J. */
UNIT_TEST(list_objects)
{
    struct sigv4_pair q[] = { { "prefix", "J" }, { "max-keys", "2" } };
    struct sigv4_request r = { "GET", HOST, "/", q, 2, NULL, 0, SIGV4_EMPTY_SHA256 };
    struct sigv4_signed s;

    CHECK_INT(sigv4_sign(&aws_example, &r, may24, &s), 0);
    CHECK_STR(s.authorization, CRED "SignedHeaders=host;x-amz-content-sha256;x-amz-date,"
              "Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
    CHECK_STR(s.query, "max-keys=2&prefix=J");
    sigv4_signed_free(&s);
}

UNIT_TEST(presigned_get)
{
    struct sigv4_request r = { "GET", HOST, "/test.txt", NULL, 0, NULL, 0, NULL };
    struct sigv4_signed s;

    CHECK_INT(sigv4_presign(&aws_example, &r, may24, 86400, &s), 0);
    CHECK_STR(s.signature, "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
    CHECK_STR(s.query, "X-Amz-Algorithm=AWS4-HMAC-SHA256"
              "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
              "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
              "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
    sigv4_signed_free(&s);
}

UNIT_TEST(presign_refuses_bad_expiry)
{
    struct sigv4_request r = { "GET", HOST, "/test.txt", NULL, 0, NULL, 0, NULL };
    struct sigv4_signed s;

    CHECK_INT(sigv4_presign(&aws_example, &r, may24, 0, &s), -1);
    CHECK_INT(sigv4_presign(&aws_example, &r, may24, 604801, &s), -1);
    CHECK(s.query == NULL);
}

UNIT_TEST(encoding_is_rfc3986)
{
    char *a = sigv4_encode("a b/c~d_e.f-g+h=i&j%é", 0);
    char *b = sigv4_encode("/bucket/a b/c", 1);

    CHECK_STR(a, "a%20b%2Fc~d_e.f-g%2Bh%3Di%26j%25%C3%A9");
    CHECK_STR(b, "/bucket/a%20b/c");
    free(a);
    free(b);
}

/*
 * Properties over random requests: signing twice gives the same answer;
 * any permutation of the query signs the same; changing one byte of a
 * value, the secret or the time changes the signature.
 */
UNIT_TEST(deterministic_and_order_free)
{
    char names[6][16], values[6][16];
    struct sigv4_pair q[6], p[6];
    struct sigv4_signed a, b;

    for (int round = 0; round < 200; round++) {
        size_t n = 1 + randombytes_uniform(6);
        time_t t = (time_t)(1369353600 + randombytes_uniform(400000000));
        struct sigv4_request r = { "GET", "127.0.0.1:7480", "/media/u/1/seg 0.ts", q, n, NULL, 0,
                                   SIGV4_UNSIGNED_PAYLOAD };
        struct sigv4_creds other = aws_example;

        for (size_t i = 0; i < n; i++) {
            for (size_t j = 0; j < 15; j++) {
                names[i][j] = (char)(0x21 + randombytes_uniform(94));
                values[i][j] = (char)(0x20 + randombytes_uniform(95));
            }
            names[i][15] = values[i][15] = '\0';
            names[i][i + 1] = '\0';   /* distinct lengths, distinct names */
            values[i][randombytes_uniform(15)] = '\0';
            q[i] = (struct sigv4_pair){ names[i], values[i] };
        }
        CHECK_INT(sigv4_sign(&aws_example, &r, t, &a), 0);
        CHECK_INT(sigv4_sign(&aws_example, &r, t, &b), 0);
        CHECK_STR(a.authorization, b.authorization);
        sigv4_signed_free(&b);

        for (size_t i = 0; i < n; i++)   /* a random permutation */
            p[i] = q[i];
        for (size_t i = n - 1; i > 0; i--) {
            size_t j = randombytes_uniform((uint32_t)i + 1);
            struct sigv4_pair tmp = p[i];

            p[i] = p[j];
            p[j] = tmp;
        }
        r.query = p;
        CHECK_INT(sigv4_sign(&aws_example, &r, t, &b), 0);
        CHECK_STR(a.authorization, b.authorization);
        CHECK_STR(a.query, b.query);
        sigv4_signed_free(&b);

        CHECK_INT(sigv4_sign(&aws_example, &r, t + 1, &b), 0);
        CHECK(strcmp(a.signature, b.signature) != 0);
        sigv4_signed_free(&b);
        other.secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEZ";
        CHECK_INT(sigv4_sign(&other, &r, t, &b), 0);
        CHECK(strcmp(a.signature, b.signature) != 0);
        sigv4_signed_free(&b);
        values[0][0] ^= 1;
        CHECK_INT(sigv4_sign(&aws_example, &r, t, &b), 0);
        CHECK(strcmp(a.signature, b.signature) != 0);
        sigv4_signed_free(&b);
        sigv4_signed_free(&a);
    }
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    unit_run(get_object_with_range, "get_object_with_range");
    unit_run(put_object, "put_object");
    unit_run(get_bucket_lifecycle, "get_bucket_lifecycle");
    unit_run(list_objects, "list_objects");
    unit_run(presigned_get, "presigned_get");
    unit_run(presign_refuses_bad_expiry, "presign_refuses_bad_expiry");
    unit_run(encoding_is_rfc3986, "encoding_is_rfc3986");
    unit_run(deterministic_and_order_free, "deterministic_and_order_free");
    return unit_done();
}
