/*
 * i18n.h - the languages the server writes in (English, French): which one
 * a request is given (the person's setting, else the browser's Accept-Language)
 * and the French text of the error messages people commonly meet. An
 * error's `code` never changes with the language; only its `message` does.
 * Pure code: no HTTP, no catalog. Mail text is not here (see mail.c).
 */
#ifndef HUBCAST_I18N_H
#define HUBCAST_I18N_H

#include <stddef.h>

enum lang {
    LANG_EN = 0,    /* the default, and the text written in the code */
    LANG_FR
};

/* "en" / "fr": the spelling of the catalog and the API. */
const char *i18n_lang_name(enum lang l);
/* LANG_EN or LANG_FR from "en"/"fr" (any case): 0, else -1 and *out unchanged. */
int i18n_lang_parse(const char *s, enum lang *out);
/*
 * The language an Accept-Language header asks for first among the ones we
 * have: the en or fr range (en-GB counts as en) with the highest q, the
 * earlier one on a tie; q=0 means "not this one". LANG_EN when the header
 * is NULL or names neither. Sets *found (may be NULL) to whether it named one.
 */
enum lang i18n_accept_language(const char *header, int *found);

/*
 * The text in language l of the English message en (a printf format as
 * written at the http_error call, or a finished message) sent with error
 * code: a string with exactly the same conversions as en, or NULL when the
 * table has none (then the English stays). LANG_EN always gives NULL.
 */
const char *i18n_error_text(enum lang l, const char *code, const char *en);

/*
 * Check the table: every translation has the same printf conversions, in
 * the same order, as its English. 0 when all are fine, else -1 with the
 * first bad English text in bad.
 */
int i18n_check_table(char *bad, size_t badsz);

#endif
