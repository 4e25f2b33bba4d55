/*
 * commands.h - the subcommands of the hubcast binary.
 */
#ifndef HUBCAST_COMMANDS_H
#define HUBCAST_COMMANDS_H

int cmd_serve(int argc, char **argv);
int cmd_worker(int argc, char **argv);
int cmd_first_lane(int argc, char **argv);   /* worker.c: `worker --lane first` */
int cmd_transcode(int argc, char **argv);
int cmd_migrate(int argc, char **argv);
int cmd_user(int argc, char **argv);
int cmd_purpose(int argc, char **argv);
int cmd_remind(int argc, char **argv);
int cmd_job_child(int argc, char **argv);  /* jobchild.c; started by workers */

struct conf;
struct catalog;
/* Create the data folder if needed and open its catalog (migrating if asked). */
struct catalog *hc_open_catalog(const struct conf *c, int migrate);

/* Where the binary lives, for starting workers. */
extern char hc_self_path[];

#endif
