/*
 * test_i18n.c - the language of a request (Accept-Language) and the table
 * of French error messages: every translation has the conversions of its
 * English (http_error formats it with the caller's arguments).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "i18n.h"
#include "unit.h"

UNIT_TEST(every_translation_has_the_conversions_of_its_english)
{
    char bad[512] = "";

    if (i18n_check_table(bad, sizeof(bad)) != 0)
        UNIT_FAIL("the French of \"%s\" does not have the same conversions", bad);
}

UNIT_TEST(accept_language_picks_the_first_of_en_and_fr)
{
    int found = -1;

    CHECK_INT(i18n_accept_language(NULL, &found), LANG_EN);
    CHECK_INT(found, 0);
    CHECK_INT(i18n_accept_language("", &found), LANG_EN);
    CHECK_INT(i18n_accept_language("fr-FR,fr;q=0.9,en-US;q=0.8,en;q=0.7", &found), LANG_FR);
    CHECK_INT(found, 1);
    CHECK_INT(i18n_accept_language("en-US,en;q=0.9,fr;q=0.8", NULL), LANG_EN);
    CHECK_INT(i18n_accept_language("de-DE,de;q=0.9,fr;q=0.8,en;q=0.7", NULL), LANG_FR);
    CHECK_INT(i18n_accept_language("de-DE, en;q=0.5, fr;q=0.6", NULL), LANG_FR);   /* by q, not order */
    CHECK_INT(i18n_accept_language("fr;q=0, en;q=0.1", NULL), LANG_EN);
    CHECK_INT(i18n_accept_language("fr;q=0", &found), LANG_EN);                   /* "not French" */
    CHECK_INT(found, 0);
    CHECK_INT(i18n_accept_language("FR-ca", NULL), LANG_FR);
    CHECK_INT(i18n_accept_language("fry, french, frx", &found), LANG_EN);          /* not "fr" */
    CHECK_INT(found, 0);
    CHECK_INT(i18n_accept_language("*", &found), LANG_EN);
    CHECK_INT(i18n_accept_language(" fr ; q=1.0 ", NULL), LANG_FR);
    CHECK_INT(i18n_accept_language("en;q=0.5,fr;q=0.5", NULL), LANG_EN);           /* tie: earlier */
}

UNIT_TEST(languages_have_one_spelling)
{
    enum lang l = LANG_EN;

    CHECK_STR(i18n_lang_name(LANG_EN), "en");
    CHECK_STR(i18n_lang_name(LANG_FR), "fr");
    CHECK_INT(i18n_lang_parse("fr", &l), 0);
    CHECK_INT(l, LANG_FR);
    CHECK_INT(i18n_lang_parse("de", &l), -1);
    CHECK_INT(l, LANG_FR);
    CHECK_INT(i18n_lang_parse(NULL, &l), -1);
}

UNIT_TEST(error_texts_are_found_by_code_and_english)
{
    CHECK_STR(i18n_error_text(LANG_FR, "unauthenticated", "sign in first"), "connectez-vous d'abord");
    CHECK(i18n_error_text(LANG_EN, "unauthenticated", "sign in first") == NULL);
    CHECK(i18n_error_text(LANG_FR, "forbidden", "sign in first") == NULL);      /* another code */
    CHECK(i18n_error_text(LANG_FR, "unauthenticated", "something else") == NULL);
    CHECK_STR(i18n_error_text(LANG_FR, "too_large", "the upload is larger than the %lld MB limit"),
              "la vidéo dépasse la limite de %lld Mo");
    /* Finished texts passed through "%s" (password rules, refused files). */
    CHECK_STR(i18n_error_text(LANG_FR, "bad_password", "the password must have at least 8 characters"),
              "le mot de passe doit comporter au moins 8 caractères");
    CHECK(i18n_error_text(LANG_FR, "not_a_video", "%s") == NULL);
}

int main(void)
{
    unit_run(every_translation_has_the_conversions_of_its_english,
             "every_translation_has_the_conversions_of_its_english");
    unit_run(accept_language_picks_the_first_of_en_and_fr, "accept_language_picks_the_first_of_en_and_fr");
    unit_run(languages_have_one_spelling, "languages_have_one_spelling");
    unit_run(error_texts_are_found_by_code_and_english, "error_texts_are_found_by_code_and_english");
    return unit_done();
}
