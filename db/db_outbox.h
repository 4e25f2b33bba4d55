/*
 * db_outbox.h - the data layer for the mail outbox: queueing, claiming, marking sent/failed, and the recipients mail needs. Typed functions returning enum db_rc
 * (catalog.h); no caller outside db/ sees SQL.
 */
#ifndef HUBCAST_DB_OUTBOX_H
#define HUBCAST_DB_OUTBOX_H

#include "catalog.h"

#endif
