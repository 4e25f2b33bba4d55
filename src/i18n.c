/*
 * i18n.c - the language of a request and the table of error messages in
 * French. The table is keyed by the error's code and its English text (the
 * format at the http_error call, or the finished message for texts passed
 * through "%s", such as password rules and refused files), so one code
 * can have several messages. A translation keeps the English conversions
 * in the same order (checked by i18n_check_table in the unit tests), since
 * http_error formats it with the caller's arguments.
 *
 * Translated: sign-in and sessions, setup, invites and joining, passwords,
 * the person's settings, JSON body and field checks, uploads refused
 * (413, 415, 429, storage, busy), not found, storage_full and
 * catalog_unavailable. Left in English: tus protocol details (Upload-*
 * headers, checksums, offsets), week/page/filter parameters of listings,
 * mail server settings, and internal errors (500).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "i18n.h"
#include "util.h"

const char *i18n_lang_name(enum lang l)
{
    return l == LANG_FR ? "fr" : "en";
}

int i18n_lang_parse(const char *s, enum lang *out)
{
    if (!s)
        return -1;
    if (!strcasecmp(s, "en"))
        *out = LANG_EN;
    else if (!strcasecmp(s, "fr"))
        *out = LANG_FR;
    else
        return -1;
    return 0;
}

/* The q of one Accept-Language item's parameters (";q=0.8"): 0..1000. */
static int item_q(const char *p, const char *end)
{
    int q = 1000;

    while ((p = memchr(p, ';', (size_t)(end - p))) != NULL) {
        p++;
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        if (end - p >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
            int scale = 1000;
            p += 2;
            q = 0;
            if (p < end && (*p == '0' || *p == '1')) {
                q = (*p++ - '0') * 1000;
                if (p < end && *p == '.')
                    for (p++; p < end && *p >= '0' && *p <= '9' && scale > 1; p++) {
                        scale /= 10;
                        q += (*p - '0') * scale;
                    }
            }
            return q > 1000 ? 1000 : q;
        }
    }
    return q;
}

enum lang i18n_accept_language(const char *header, int *found)
{
    enum lang best = LANG_EN;
    int best_q = 0;
    const char *p = header;

    while (p && *p) {
        const char *end = strchr(p, ',');
        const char *tag = p;
        size_t taglen;
        enum lang l;
        char base[3];
        int q;

        if (!end)
            end = p + strlen(p);
        while (tag < end && (*tag == ' ' || *tag == '\t'))
            tag++;
        taglen = strcspn(tag, "-;, \t");
        if (tag + taglen > end)
            taglen = (size_t)(end - tag);
        if (taglen == 2) {
            base[0] = tag[0];
            base[1] = tag[1];
            base[2] = '\0';
            q = item_q(tag, end);
            if (i18n_lang_parse(base, &l) == 0 && q > best_q) {
                best = l;
                best_q = q;
            }
        }
        p = *end ? end + 1 : end;
    }
    if (found)
        *found = best_q > 0;
    return best;
}

struct msg {
    const char *code;
    const char *en;     /* as written in the code: a format, or a finished text */
    const char *fr;
};

static const struct msg messages[] = {
    /* requests in general (http.c, api.c) */
    { "bad_request", "this request needs a JSON body", "cette requête attend un corps JSON" },
    { "bad_json", "the body is not valid JSON: %s (line %d)", "le corps n'est pas du JSON valide : %s (ligne %d)" },
    { "bad_json", "the body must be a JSON object", "le corps doit être un objet JSON" },
    { "method_not_allowed", "%s is not allowed on this address", "%s n'est pas permis à cette adresse" },
    { "catalog_unavailable", "the catalog cannot be opened; try again shortly",
      "le catalogue ne peut pas être ouvert ; réessayez dans un instant" },
    { "unauthenticated", "sign in first", "connectez-vous d'abord" },
    { "unauthenticated", "this link has expired; reload the page", "ce lien a expiré ; rechargez la page" },
    { "forbidden", "only administrators can do this", "seuls les administrateurs peuvent faire ceci" },
    { "csrf", "this request did not come from a Hubcast page; reload the page and try again",
      "cette requête ne vient pas d'une page Hubcast ; rechargez la page et réessayez" },
    { "too_large", "the request body is larger than %lld bytes", "le corps de la requête dépasse %lld octets" },
    { "missing_field", "the field \"%s\" is required", "le champ « %s » est obligatoire" },
    { "missing_field", "the field \"%s\" must not be empty", "le champ « %s » ne doit pas être vide" },
    { "bad_field", "the field \"%s\" must be a string", "le champ « %s » doit être du texte" },
    { "bad_field", "the field \"%s\" must be text of at most %zu bytes",
      "le champ « %s » doit être un texte d'au plus %zu octets" },
    { "bad_field", "the field \"%s\" must be true or false", "le champ « %s » doit valoir true ou false" },
    { "unknown_field", "the field \"%s\" is not one this request takes", "cette requête ne prend pas de champ « %s »" },
    { "storage_full", "the server's disk is full, so nothing can be saved right now; "
                      "try again later (an administrator has to free space)",
      "le disque du serveur est plein : rien ne peut être enregistré pour l'instant ; "
      "réessayez plus tard (un administrateur doit libérer de la place)" },
    { "catalog_unavailable", "the server cannot reach its catalog right now; try again in a moment",
      "le serveur ne peut pas joindre son catalogue pour l'instant ; réessayez dans un moment" },

    /* not found */
    { "not_found", "there is no API at this address", "il n'y a pas d'API à cette adresse" },
    { "not_found", "there is no such file", "ce fichier n'existe pas" },
    { "not_found", "the web app is not installed", "l'application web n'est pas installée" },
    { "not_found", "this account no longer exists", "ce compte n'existe plus" },
    { "not_found", "your account no longer exists", "votre compte n'existe plus" },
    { "not_found", "there is no such person", "cette personne n'existe pas" },
    { "not_found", "you have no token with this id", "vous n'avez pas de jeton avec cet identifiant" },
    { "not_found", "there is no pending invite with this id", "il n'y a pas d'invitation en attente avec cet identifiant" },
    { "not_found", "there is no such update", "ce message n'existe pas" },
    { "not_found", "this video is not ready", "cette vidéo n'est pas encore prête" },
    { "not_found", "there is no such upload", "ce téléversement n'existe pas" },
    { "not_found", "the upload's data is gone; start it again",
      "les données de ce téléversement ont disparu ; recommencez-le" },

    /* sign-in, passwords, the person's settings */
    { "bad_credentials", "the email or the password is wrong", "l'adresse e-mail ou le mot de passe est incorrect" },
    { "bad_credentials", "the current password is wrong", "le mot de passe actuel est incorrect" },
    { "too_many_attempts", "too many failed sign-ins; try again in %d minutes",
      "trop de connexions échouées ; réessayez dans %d minutes" },
    { "bad_password", "the password must have at least 8 characters",
      "le mot de passe doit comporter au moins 8 caractères" },
    { "bad_password", "the password must have at most 1024 characters",
      "le mot de passe doit comporter au plus 1024 caractères" },
    { "bad_field", "the name must not be empty", "le nom ne doit pas être vide" },
    { "bad_field", "\"%s\" is not a time zone this server knows (e.g. Europe/Paris)",
      "« %s » n'est pas un fuseau horaire connu de ce serveur (par exemple Europe/Paris)" },
    { "bad_field", "notify_updates must be immediate, digest or off",
      "notify_updates doit valoir immediate, digest ou off" },
    { "bad_field", "lang must be en or fr", "lang doit valoir en ou fr" },
    { "bad_answers", "answers must be a JSON list of at most %d {prompt, text}: a prompt of 1 to 200 bytes "
                     "and a text of at most 1000",
      "answers doit être une liste JSON d'au plus %d {prompt, text} : une question de 1 à 200 octets "
      "et une réponse d'au plus 1000" },
    { "last_admin", "you cannot remove your own administrator rights; ask another administrator",
      "vous ne pouvez pas retirer vos propres droits d'administrateur ; demandez à un autre administrateur" },

    /* setup, invites, joining, the company */
    { "bad_field", "\"%s\" is not an email address", "« %s » n'est pas une adresse e-mail" },
    { "bad_field", "this invite is for %s, not %s", "cette invitation est pour %s, pas pour %s" },
    { "bad_field", "role must be member or admin", "le rôle doit être member ou admin" },
    { "bad_field", "emails must be a list of addresses or a text of addresses separated by commas or lines",
      "emails doit être une liste d'adresses, ou un texte d'adresses séparées par des virgules ou des lignes" },
    { "bad_field", "give at least one email address", "donnez au moins une adresse e-mail" },
    { "bad_field", "at most %d addresses at once", "au plus %d adresses à la fois" },
    { "bad_field", "send email or emails, not both", "envoyez email ou emails, pas les deux" },
    { "bad_field", "the company name must not be empty", "le nom de l'entreprise ne doit pas être vide" },
    { "missing_field", "send purpose, company_name or both", "envoyez purpose, company_name ou les deux" },
    { "missing_field", "the link's token is required", "le jeton du lien est obligatoire" },
    { "link_expired", "this link has expired or was already used; ask for a new one",
      "ce lien a expiré ou a déjà servi ; demandez-en un nouveau" },
    { "already_set_up", "Hubcast already has an administrator", "Hubcast a déjà un administrateur" },
    { "exists", "an account with this email already exists", "un compte existe déjà avec cette adresse e-mail" },
    { "exists", "%s already has an account", "%s a déjà un compte" },
    { "bad_token", "this unsubscribe link is not valid", "ce lien de désabonnement n'est pas valide" },

    /* uploads refused, and what may be done with updates */
    { "too_large", "the upload is larger than the %lld MB limit", "la vidéo dépasse la limite de %lld Mo" },
    { "too_many_uploads", "you already have %lld unfinished uploads; finish or cancel one first",
      "vous avez déjà %lld téléversements inachevés ; terminez-en ou annulez-en un d'abord" },
    { "not_a_video", "this file is not a video Hubcast can read",
      "ce fichier n'est pas une vidéo que Hubcast sait lire" },
    { "not_a_video", "this file is not a video Hubcast can read (MP4, MOV, WebM, MKV, AVI or MPEG-TS)",
      "ce fichier n'est pas une vidéo que Hubcast sait lire (MP4, MOV, WebM, MKV, AVI ou MPEG-TS)" },
    { "not_a_video", "this file is empty", "ce fichier est vide" },
    { "not_a_video", "this file is a playlist, not a video", "ce fichier est une liste de lecture, pas une vidéo" },
    { "not_a_video", "this file is an ffconcat script, not a video", "ce fichier est un script ffconcat, pas une vidéo" },
    { "not_a_video", "this file is a script, not a video", "ce fichier est un script, pas une vidéo" },
    { "not_a_video", "this file is a web page or XML document, not a video",
      "ce fichier est une page web ou un document XML, pas une vidéo" },
    /* profile pictures */
    { "too_large", "the picture is larger than %d MB", "l'image dépasse %d Mo" },
    { "not_an_image", "this file is not a JPEG or PNG picture Hubcast can read",
      "ce fichier n'est pas une image JPEG ou PNG que Hubcast sait lire" },
    { "not_an_image", "the picture is larger than 8192\xc3\x97" "8192",
      "l'image est plus grande que 8192\xc3\x97" "8192" },
    { "not_an_image", "the picture could not be made smaller", "l'image n'a pas pu être réduite" },
    { "not_an_image", "reading the file took too long", "la lecture du fichier a pris trop de temps" },
    { "storage_full", "the server's disk is full, so the picture cannot be stored right now; try again later",
      "le disque du serveur est plein, l'image ne peut pas être enregistrée pour l'instant ; réessayez plus tard" },
    { "busy", "the picture could not be processed right now; try again later",
      "l'image n'a pas pu être traitée pour l'instant ; réessayez plus tard" },
    { "bad_content_type", "data sent with the creation must be application/offset+octet-stream",
      "les données envoyées à la création doivent être en application/offset+octet-stream" },
    { "bad_content_type", "PATCH bodies must be application/offset+octet-stream",
      "le corps d'un PATCH doit être en application/offset+octet-stream" },
    { "empty", "the request body is empty: send the video file as the body",
      "le corps de la requête est vide : envoyez le fichier vidéo comme corps" },
    { "expired", "this upload expired; start it again", "ce téléversement a expiré ; recommencez-le" },
    { "storage", "the server cannot store the upload right now",
      "le serveur ne peut pas enregistrer la vidéo pour l'instant" },
    { "storage", "the server could not store the upload", "le serveur n'a pas pu enregistrer la vidéo" },
    { "busy", "the catalog is busy; try again", "le catalogue est occupé ; réessayez" },
    { "busy", "the catalog is busy; retry the request", "le catalogue est occupé ; refaites la requête" },
    { "locked", "this upload is receiving data; try again when it stops",
      "ce téléversement reçoit des données ; réessayez quand il s'arrête" },
    { "forbidden", "only administrators can post an all-hands update",
      "seuls les administrateurs peuvent publier un message à tous" },
    { "forbidden", "only the author or an administrator can edit this update",
      "seuls l'auteur et les administrateurs peuvent modifier ce message" },
    { "forbidden", "only the author can trim this update", "seul l'auteur peut couper cette vidéo" },
    { "bad_trim", "trim must be {start, end} in seconds, or null",
      "trim doit être {start, end} en secondes, ou null" },
    { "bad_trim", "the trim must start at 0 seconds or later and end after it starts",
      "la coupe doit commencer à 0 seconde ou plus tard et finir après son début" },
    { "trim_too_short", "the trimmed video must last at least 1 second",
      "la vidéo coupée doit durer au moins 1 seconde" },
    { "trim_out_of_range", "the trim must end within the recording (%.1f seconds)",
      "la coupe doit finir dans l'enregistrement (%.1f secondes)" },
    { "nothing_to_trim", "this update has no video to trim", "ce message n'a pas de vidéo à couper" },
    { "forbidden", "only the author or an administrator can delete this update",
      "seuls l'auteur et les administrateurs peuvent supprimer ce message" },
    { "forbidden", "only the author or an administrator can see who watched",
      "seuls l'auteur et les administrateurs peuvent voir qui a regardé" },
};

const char *i18n_error_text(enum lang l, const char *code, const char *en)
{
    if (l != LANG_FR || !code || !en)
        return NULL;
    for (size_t i = 0; i < sizeof(messages) / sizeof(messages[0]); i++)
        if (!strcmp(messages[i].code, code) && !strcmp(messages[i].en, en))
            return messages[i].fr;
    return NULL;
}

/* The next printf conversion of *s ("%s", "%lld", "%zu", ...) into conv;
 * "%%" is skipped. 1 when found, 0 at the end. */
static int next_conv(const char **s, char *conv, size_t convsz)
{
    const char *p = *s;

    while ((p = strchr(p, '%')) != NULL) {
        size_t n = 1 + strspn(p + 1, "-+ #0123456789.*hlLqjzt");
        if (p[n] == '%') {          /* "%%" */
            p += n + 1;
            continue;
        }
        if (!p[n] || n + 2 > convsz)
            break;
        memcpy(conv, p, n + 1);
        conv[n + 1] = '\0';
        *s = p + n + 1;
        return 1;
    }
    *s = p ? p : *s + strlen(*s);
    return 0;
}

int i18n_check_table(char *bad, size_t badsz)
{
    for (size_t i = 0; i < sizeof(messages) / sizeof(messages[0]); i++) {
        const char *e = messages[i].en, *f = messages[i].fr;
        char ce[16], cf[16];
        int he, hf;

        do {
            he = next_conv(&e, ce, sizeof(ce));
            hf = next_conv(&f, cf, sizeof(cf));
            if (he != hf || (he && strcmp(ce, cf))) {
                if (bad && badsz)
                    hc_strlcpy(bad, messages[i].en, badsz);
                return -1;
            }
        } while (he);
    }
    return 0;
}
