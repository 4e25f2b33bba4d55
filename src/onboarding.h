/*
 * onboarding.h - a company's first steps with Hubcast: the administrator's
 * first-run checklist, the invites waiting for an answer (list, send
 * again, withdraw), and what the join form shows before an account exists.
 * Making invites and accepting them are in api.c (POST /api/people/invite,
 * POST /api/invites/accept).
 */
#ifndef HUBCAST_ONBOARDING_H
#define HUBCAST_ONBOARDING_H

#include <stddef.h>

#include "router.h"

extern const struct route onboarding_routes[];
extern const size_t onboarding_nroutes;

#endif
