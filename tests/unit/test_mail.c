/*
 * test_mail.c - unit tests of the pure parts of mail building: RFC 2047
 * header encoding of subjects and display names, and that no input can
 * make a header span two lines.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "mail.h"
#include "unit.h"

UNIT_TEST(header_plain_ascii_is_kept)
{
    char *s = mail_header_encode("Weekly update (2026-W43)", 0);
    CHECK_STR(s, "Weekly update (2026-W43)");
    free(s);
}

UNIT_TEST(header_phrase_with_specials_is_quoted)
{
    char *s = mail_header_encode("Martin, Zoe \"the boss\"", 1);
    CHECK_STR(s, "\"Martin, Zoe \\\"the boss\\\"\"");
    free(s);
}

UNIT_TEST(header_utf8_becomes_b_words)
{
    char *s = mail_header_encode("Zo\xc3\xab Martin", 1);
    CHECK_STR(s, "=?UTF-8?B?Wm/DqyBNYXJ0aW4=?=");
    free(s);
}

UNIT_TEST(header_crlf_becomes_spaces)
{
    char *s = mail_header_encode("Eve\r\nBcc: x@y.z", 0);
    CHECK_STR(s, "Eve  Bcc: x@y.z");
    free(s);
}

UNIT_TEST(header_long_utf8_folds_between_whole_characters)
{
    /* 40 x "é" = 80 bytes: two words, folded, neither splitting a character. */
    char in[81], *s, *fold;
    for (int i = 0; i < 40; i++)
        memcpy(in + 2 * i, "\xc3\xa9", 2);
    in[80] = '\0';
    s = mail_header_encode(in, 0);
    fold = strstr(s, "?=\r\n =?UTF-8?B?");
    CHECK(fold != NULL);
    CHECK(strncmp(s, "=?UTF-8?B?", 10) == 0);
    /* 44 bytes (22 characters) in the first word: 60 base64 characters. */
    CHECK_INT(fold - (s + 10), 60);
    CHECK(strchr(fold + 4, '\r') == NULL);
    free(s);
}

int main(void)
{
    unit_run(header_plain_ascii_is_kept, "header_plain_ascii_is_kept");
    unit_run(header_phrase_with_specials_is_quoted, "header_phrase_with_specials_is_quoted");
    unit_run(header_utf8_becomes_b_words, "header_utf8_becomes_b_words");
    unit_run(header_crlf_becomes_spaces, "header_crlf_becomes_spaces");
    unit_run(header_long_utf8_folds_between_whole_characters,
             "header_long_utf8_folds_between_whole_characters");
    return unit_done();
}
