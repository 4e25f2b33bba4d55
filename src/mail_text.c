/*
 * mail_text.c - the words of every message Hubcast mails, in each language
 * it writes (English, French), as one table: mail.c names a text by its
 * id and fills in {placeholders}; a translation is a line here, never a
 * change to how a message is built. Plurals and week labels follow each
 * language's rules. Not here: the layout of a message (mail.c).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mail_int.h"

/* French puts a no-break space before : ; ! ? and inside « ». */
#define NBSP "\xc2\xa0"

static const char *const texts[MT_COUNT][MAIL_NLANGS] = {
    [MT_HELLO] = { "Hello {name},", "Bonjour {name}," },
    [MT_FOOTER] = { "Hubcast: one short video update a week, from everyone.",
                    "Hubcast" NBSP ": une courte vidéo par semaine, de chacun." },
    [MT_UNSUBSCRIBE] = { "Unsubscribe from all Hubcast mail", "Ne plus recevoir aucun e-mail de Hubcast" },
    [MT_LINK] = { "{label}:", "{label}" NBSP ":" },

    [MT_INVITE_SUBJECT] = { "{inviter} invited you to Hubcast", "{inviter} vous invite sur Hubcast" },
    [MT_YOUR_TEAM] = { "Your team", "Votre équipe" },
    [MT_INVITE_HEADING] = { "You are invited to Hubcast", "Invitation à rejoindre Hubcast" },
    [MT_INVITE_BODY] = { "{inviter} invited you to share a short video update with your team each week.",
                         "{inviter} vous invite à partager chaque semaine une courte vidéo avec votre équipe." },
    [MT_INVITE_BUTTON] = { "Choose your password", "Choisir votre mot de passe" },
    [MT_INVITE_EXPIRY] = { "The link works for 7 days.", "Le lien est valable 7" NBSP "jours." },

    [MT_RESET_SUBJECT] = { "Reset your Hubcast password", "Réinitialisez votre mot de passe Hubcast" },
    [MT_RESET_HEADING] = { "Reset your password", "Réinitialiser votre mot de passe" },
    [MT_RESET_BODY] = { "Someone (hopefully you) asked to reset your Hubcast password.",
                        "Quelqu’un (vous, espérons-le) a demandé à réinitialiser votre mot de passe Hubcast." },
    [MT_RESET_BUTTON] = { "Choose a new password", "Choisir un nouveau mot de passe" },
    [MT_RESET_EXPIRY] = { "The link works for one hour. If you did not ask for this, ignore this message: "
                          "your password stays as it is.",
                          "Le lien est valable une heure. Si vous n’avez rien demandé, ignorez ce message" NBSP ": "
                          "votre mot de passe reste le même." },

    [MT_UPDATE_SUBJECT] = { "{author} posted their weekly update", "{author} a publié sa vidéo de la semaine" },
    [MT_UPDATE_SUBJECT_TITLED] = { "{author} posted their weekly update: {title}",
                                   "{author} a publié sa vidéo de la semaine" NBSP ": {title}" },
    [MT_ALLHANDS_SUBJECT] = { "All-hands from {author}", "Message à tous de {author}" },
    [MT_ALLHANDS_SUBJECT_TITLED] = { "All-hands from {author}: {title}",
                                     "Message à tous de {author}" NBSP ": {title}" },
    [MT_UPDATE_HEADING] = { "A new weekly update", "Une nouvelle vidéo de la semaine" },
    [MT_ALLHANDS_HEADING] = { "A new all-hands update", "Un nouveau message à tous" },
    [MT_UPDATE_BODY] = { "{author} shared their update for {week}.",
                         "{author} a partagé sa vidéo pour la {week}." },
    [MT_UPDATE_BODY_TITLED] = { "{author} shared their update for {week}: \xe2\x80\x9c{title}\xe2\x80\x9d.",
                                "{author} a partagé sa vidéo pour la {week}" NBSP ": «" NBSP "{title}" NBSP "»." },
    [MT_ALLHANDS_BODY] = { "{author} shared an all-hands update for everyone.",
                           "{author} a partagé un message pour toute l’équipe." },
    [MT_ALLHANDS_BODY_TITLED] = { "{author} shared an all-hands update for everyone: \xe2\x80\x9c{title}\xe2\x80\x9d.",
                                  "{author} a partagé un message pour toute l’équipe" NBSP ": «" NBSP "{title}"
                                  NBSP "»." },
    [MT_WATCH_BUTTON] = { "Watch it", "Regarder" },

    [MT_COMMENT_SUBJECT] = { "{commenter} commented on your update", "{commenter} a commenté votre vidéo" },
    [MT_COMMENT_SUBJECT_TITLED] = { "{commenter} commented on your update: {title}",
                                    "{commenter} a commenté votre vidéo" NBSP ": {title}" },
    [MT_COMMENT_HEADING] = { "A new comment on your update", "Un nouveau commentaire sur votre vidéo" },
    [MT_COMMENT_WROTE] = { "{commenter} wrote:", "{commenter} a écrit" NBSP ":" },
    [MT_REPLY_BUTTON] = { "Reply", "Répondre" },

    [MT_REMINDER_SUBJECT] = { "Time for your weekly update ({week})", "Votre vidéo de la {week}" },
    [MT_REMINDER_HEADING] = { "Time for your weekly update", "C’est le moment de votre vidéo de la semaine" },
    [MT_REMINDER_BODY] = { "Take two minutes to share where things are and where they are going: "
                           "record a short video for your team.",
                           "Prenez deux minutes pour dire où en sont les choses et où elles vont" NBSP ": "
                           "enregistrez une courte vidéo pour votre équipe." },
    [MT_NUDGE_SUBJECT] = { "A gentle nudge: your update for {week}", "Petit rappel" NBSP ": votre vidéo de la {week}" },
    [MT_NUDGE_HEADING] = { "Still time to share your update", "Il est encore temps de partager votre vidéo" },
    [MT_NUDGE_BODY] = { "No pressure: if you have a couple of minutes today, your team would love to hear "
                        "how your week went.",
                        "Aucune pression" NBSP ": si vous avez quelques minutes aujourd’hui, votre équipe aimerait "
                        "savoir comment s’est passée votre semaine." },
    [MT_POSTED_SO_FAR] = { "{posted} of {active} people have posted for {week} so far.",
                           "{posted} personne sur {active} a déjà publié pour la {week}." },
    [MT_POSTED_SO_FAR_PLURAL] = { "{posted} of {active} people have posted for {week} so far.",
                                  "{posted} personnes sur {active} ont déjà publié pour la {week}." },
    [MT_RECORD_BUTTON] = { "Record your update", "Enregistrer votre vidéo" },

    [MT_DIGEST_SUBJECT] = { "Hubcast weekly digest {week}: {posted} of {active} posted ({pct}%)",
                            "Résumé Hubcast de la {week}" NBSP ": {posted} sur {active} a publié ({pct}" NBSP "%)" },
    [MT_DIGEST_SUBJECT_PLURAL] = { "Hubcast weekly digest {week}: {posted} of {active} posted ({pct}%)",
                                   "Résumé Hubcast de la {week}" NBSP ": {posted} sur {active} ont publié ({pct}"
                                   NBSP "%)" },
    [MT_DIGEST_HEADING] = { "Last week on Hubcast", "La semaine dernière sur Hubcast" },
    [MT_DIGEST_PARTICIPATION] = { "Participation for {week}: {posted} of {active} people posted ({pct}%).",
                                  "Participation de la {week}" NBSP ": {posted} personne sur {active} a publié ({pct}"
                                  NBSP "%)." },
    [MT_DIGEST_PARTICIPATION_PLURAL] = { "Participation for {week}: {posted} of {active} people posted ({pct}%).",
                                         "Participation de la {week}" NBSP ": {posted} personnes sur {active} ont "
                                         "publié ({pct}" NBSP "%)." },
    [MT_DIGEST_NOBODY] = { "Nobody posted last week. Be the first this week!",
                           "Personne n’a publié la semaine dernière. Lancez-vous cette semaine" NBSP "!" },
    [MT_DIGEST_BUTTON] = { "Record this week's update", "Enregistrer la vidéo de cette semaine" },

    [MT_DAILY_SUBJECT] = { "New on Hubcast: {n} update from your team",
                           "Nouveau sur Hubcast" NBSP ": {n} mise à jour de votre équipe" },
    [MT_DAILY_SUBJECT_PLURAL] = { "New on Hubcast: {n} updates from your team",
                                  "Nouveau sur Hubcast" NBSP ": {n} mises à jour de votre équipe" },
    [MT_DAILY_HEADING] = { "New updates from your team", "Les nouvelles vidéos de votre équipe" },
    [MT_ITEM_ALLHANDS] = { "All-hands: ", "Message à tous" NBSP ": " },
    [MT_ITEM_UNTITLED] = { "Weekly update", "Vidéo de la semaine" },

    [MT_TEST_SUBJECT] = { "Hubcast test message", "Message de test Hubcast" },
    [MT_TEST_HEADING] = { "Mail from Hubcast works", "L’envoi d’e-mails de Hubcast fonctionne" },
    [MT_TEST_BODY] = { "This is the test message you asked for on the admin page. "
                       "Invites, reminders and digests will arrive the same way.",
                       "Voici le message de test demandé sur la page d’administration. "
                       "Les invitations, rappels et résumés arriveront de la même façon." },
    [MT_OPEN_BUTTON] = { "Open Hubcast", "Ouvrir Hubcast" },

    /* An all-hands whose title was only "All-hands", in a digest. */
    [MT_ITEM_ALLHANDS_ALONE] = { "All-hands", "Message à tous" },

    /* Mentions ({by} wrote @name; {title} is the update's). */
    [MT_MENTION_SUBJECT_UPDATE] = { "{by} mentioned you in their weekly update",
                                    "{by} vous a mentionné dans sa vidéo de la semaine" },
    [MT_MENTION_SUBJECT_ALLHANDS] = { "{by} mentioned you in the all-hands",
                                      "{by} vous a mentionné dans le message à tous" },
    [MT_MENTION_SUBJECT_COMMENT] = { "{by} mentioned you in a comment", "{by} vous a mentionné dans un commentaire" },
    [MT_MENTION_HEADING] = { "You were mentioned", "On parle de vous" },
    [MT_MENTION_IN_UPDATE] = { "{by} mentioned you in their weekly update \xe2\x80\x9c{title}\xe2\x80\x9d:",
                               "{by} vous a mentionné dans sa vidéo de la semaine «" NBSP "{title}" NBSP "»" NBSP ":" },
    [MT_MENTION_IN_ALLHANDS] = { "{by} mentioned you in the all-hands \xe2\x80\x9c{title}\xe2\x80\x9d:",
                                 "{by} vous a mentionné dans le message à tous «" NBSP "{title}" NBSP "»" NBSP ":" },
    [MT_MENTION_IN_COMMENT] = { "{by} mentioned you in a comment on \xe2\x80\x9c{title}\xe2\x80\x9d:",
                                "{by} vous a mentionné dans un commentaire sur «" NBSP "{title}" NBSP "»" NBSP ":" },
    [MT_SEE_BUTTON] = { "See it", "Voir" },

    /* The digest's participation chart: its caption, and a week's short
     * label ({n}: the week's number, "45"). */
    [MT_CHART_HEADING] = { "Participation over the last weeks", "Participation des dernières semaines" },
    [MT_CHART_WEEK] = { "W{n}", "S{n}" },
};

enum mail_lang mail_lang_of(const char *code)
{
    return code && !strcmp(code, "fr") ? MAIL_FR : MAIL_EN;
}

const char *mail_tr(enum mail_lang lang, enum mail_text id)
{
    const char *t;

    if ((unsigned)id >= MT_COUNT)
        return "";
    if ((unsigned)lang >= MAIL_NLANGS)
        lang = MAIL_EN;
    t = texts[id][lang];
    return t ? t : texts[id][MAIL_EN] ? texts[id][MAIL_EN] : "";
}

enum mail_text mail_plural(enum mail_lang lang, enum mail_text one, long long n)
{
    /* French: 0 and 1 take the singular; English: only 1. */
    int singular = lang == MAIL_FR ? (n == 0 || n == 1) : n == 1;
    return singular ? one : (enum mail_text)(one + 1);
}

void mail_week_label(enum mail_lang lang, const char *iso_week, char *out, size_t outsz)
{
    const char *w = iso_week ? strstr(iso_week, "-W") : NULL;

    if (lang == MAIL_FR && w && w[2]) {
        /* "2026-W08" -> "semaine 8" */
        const char *d = w + 2;
        if (d[0] == '0' && d[1])
            d++;
        snprintf(out, outsz, "semaine" NBSP "%s", d);
        return;
    }
    snprintf(out, outsz, "%s", iso_week ? iso_week : "");
}

void mail_fill(char *out, size_t outsz, enum mail_lang lang, enum mail_text id, ...)
{
    const char *t = mail_tr(lang, id);
    size_t len = 0;

    if (!outsz)
        return;
    while (*t && len + 1 < outsz) {
        const char *close = *t == '{' ? strchr(t, '}') : NULL;
        const char *val = NULL;
        size_t n;

        if (close) {
            va_list ap;
            const char *key;
            va_start(ap, id);
            while ((key = va_arg(ap, const char *))) {
                const char *v = va_arg(ap, const char *);
                if (strlen(key) == (size_t)(close - t - 1) && !strncmp(key, t + 1, (size_t)(close - t - 1))) {
                    val = v ? v : "";
                    break;
                }
            }
            va_end(ap);
        }
        if (val) {
            n = strlen(val);
            if (n > outsz - 1 - len)
                n = outsz - 1 - len;
            memcpy(out + len, val, n);
            len += n;
            t = close + 1;
        } else {
            out[len++] = *t++;
        }
    }
    out[len] = '\0';
}
