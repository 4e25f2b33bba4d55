/*
 * routes.c - the list of route tables: a new module with routes adds one
 * line here and nowhere else.
 */
#include "config.h"

#include "api.h"
#include "habit.h"
#include "mail.h"
#include "media.h"
#include "onboarding.h"
#include "picture.h"
#include "routes.h"
#include "search.h"
#include "updates.h"
#include "uploads.h"

size_t routes_all(struct route_table *out, size_t max)
{
    const struct route_table all[] = {
        { api_routes, api_nroutes },
        { upload_routes, upload_nroutes },
        { update_routes, update_nroutes },
        { media_routes, media_nroutes },
        { mail_routes, mail_nroutes },
        { habit_routes, habit_nroutes },
        { onboarding_routes, onboarding_nroutes },
        { search_routes, search_nroutes },
        { picture_routes, picture_nroutes },
    };
    size_t n = sizeof(all) / sizeof(all[0]);

    for (size_t i = 0; i < n && i < max; i++)
        out[i] = all[i];
    return n;
}
