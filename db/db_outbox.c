/*
 * db_outbox.c - the mail outbox: queueing, claiming, marking sent/failed, and the recipients mail needs: every SQL statement about them.
 */
#include "config.h"

#include "db_outbox.h"
