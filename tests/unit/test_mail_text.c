/*
 * test_mail_text.c - the message table of mail_text.c: every text exists
 * in every language, placeholders are filled (and left alone when no value
 * is given), plurals follow each language's rule, and weeks are labelled
 * the way each language writes them.
 */
#include "config.h"

#include <string.h>

#include "mail_int.h"
#include "unit.h"

UNIT_TEST(every_text_exists_in_every_language)
{
    for (int id = 0; id < MT_COUNT; id++)
        for (int l = 0; l < MAIL_NLANGS; l++)
            if (!*mail_tr((enum mail_lang)l, (enum mail_text)id))
                UNIT_FAIL("text %d has no words in language %d", id, l);
    CHECK_STR(mail_tr(MAIL_FR, MT_REPLY_BUTTON), "Répondre");
    CHECK_STR(mail_tr((enum mail_lang)7, MT_REPLY_BUTTON), "Reply");
    CHECK_STR(mail_tr(MAIL_EN, MT_COUNT), "");
}

UNIT_TEST(languages_are_named_by_users_lang)
{
    CHECK_INT(mail_lang_of("fr"), MAIL_FR);
    CHECK_INT(mail_lang_of("en"), MAIL_EN);
    CHECK_INT(mail_lang_of(""), MAIL_EN);
    CHECK_INT(mail_lang_of(NULL), MAIL_EN);
    CHECK_INT(mail_lang_of("de"), MAIL_EN);
}

UNIT_TEST(placeholders_are_filled_by_name)
{
    char out[256];

    mail_fill(out, sizeof(out), MAIL_EN, MT_DAILY_SUBJECT_PLURAL, "n", "3", NULL);
    CHECK_STR(out, "New on Hubcast: 3 updates from your team");
    mail_fill(out, sizeof(out), MAIL_EN, MT_UPDATE_SUBJECT_TITLED, "title", "{author}", "author", "Zoë", NULL);
    CHECK_STR(out, "Zoë posted their weekly update: {author}");
    mail_fill(out, sizeof(out), MAIL_EN, MT_HELLO, NULL);
    CHECK_STR(out, "Hello {name},");
    mail_fill(out, 8, MAIL_EN, MT_HELLO, "name", "Bartholomew", NULL);
    CHECK_STR(out, "Hello B");
}

UNIT_TEST(plurals_follow_each_language)
{
    char out[256];

    CHECK_INT(mail_plural(MAIL_EN, MT_DAILY_SUBJECT, 1), MT_DAILY_SUBJECT);
    CHECK_INT(mail_plural(MAIL_EN, MT_DAILY_SUBJECT, 0), MT_DAILY_SUBJECT_PLURAL);
    CHECK_INT(mail_plural(MAIL_EN, MT_DAILY_SUBJECT, 2), MT_DAILY_SUBJECT_PLURAL);
    CHECK_INT(mail_plural(MAIL_FR, MT_DAILY_SUBJECT, 0), MT_DAILY_SUBJECT);
    CHECK_INT(mail_plural(MAIL_FR, MT_DAILY_SUBJECT, 1), MT_DAILY_SUBJECT);
    CHECK_INT(mail_plural(MAIL_FR, MT_DAILY_SUBJECT, 3), MT_DAILY_SUBJECT_PLURAL);
    mail_fill(out, sizeof(out), MAIL_FR, mail_plural(MAIL_FR, MT_DAILY_SUBJECT, 1), "n", "1", NULL);
    CHECK_STR(out, "Nouveau sur Hubcast\xc2\xa0: 1 mise à jour de votre équipe");
    mail_fill(out, sizeof(out), MAIL_FR, mail_plural(MAIL_FR, MT_DAILY_SUBJECT, 3), "n", "3", NULL);
    CHECK_STR(out, "Nouveau sur Hubcast\xc2\xa0: 3 mises à jour de votre équipe");
}

UNIT_TEST(weeks_read_as_each_language_writes_them)
{
    char out[64];

    mail_week_label(MAIL_FR, "2026-W48", out, sizeof(out));
    CHECK_STR(out, "semaine\xc2\xa0" "48");
    mail_week_label(MAIL_FR, "2027-W01", out, sizeof(out));
    CHECK_STR(out, "semaine\xc2\xa0" "1");
    mail_week_label(MAIL_EN, "2026-W48", out, sizeof(out));
    CHECK_STR(out, "2026-W48");
    mail_week_label(MAIL_FR, "nonsense", out, sizeof(out));
    CHECK_STR(out, "nonsense");
}

int main(void)
{
    unit_run(every_text_exists_in_every_language, "every_text_exists_in_every_language");
    unit_run(languages_are_named_by_users_lang, "languages_are_named_by_users_lang");
    unit_run(placeholders_are_filled_by_name, "placeholders_are_filled_by_name");
    unit_run(plurals_follow_each_language, "plurals_follow_each_language");
    unit_run(weeks_read_as_each_language_writes_them, "weeks_read_as_each_language_writes_them");
    return unit_done();
}
