/*
 * store.h - the media store: where published media (an update's HLS
 * folder, poster, storyboard, its first rendition) and the sources of
 * finished uploads live. Two backends behind one set of functions:
 *
 *   local (the default)  DATA/media/<id>/... and DATA/uploads/<id>.part,
 *                        exactly as layout.h lays them out
 *   S3 (--media-store s3://BUCKET/PREFIX)
 *                        objects media/<id>/<file> (the same relative
 *                        paths as below DATA/media/<id>: v<N>/..., first/...)
 *                        and uploads/<upload-id> (a finished upload's bytes)
 *
 * In S3 mode a worker still writes into a local folder (its own data
 * folder is scratch) and this module uploads what it wrote, segments
 * before the playlists that name them and the master playlist last, so a
 * reader never sees a playlist naming a missing object. Not for uploads in
 * progress (uploads.c) nor for the catalog.
 *
 * One process-wide store, set up once by store_init; S3 clients come from
 * a small pool, so any thread may call these functions.
 */
#ifndef HUBCAST_STORE_H
#define HUBCAST_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct conf;
struct s3_client;

/*
 * Set the store up from conf (--media-store and the S3 options). 0, or -1
 * with the reason in err (a bad store URL, missing credentials). Local
 * mode needs nothing and always succeeds.
 */
int store_init(const struct conf *conf, char *err, size_t errsz);
void store_close(void);

/* 1 when media live in S3, 0 on local disk. */
int store_is_s3(void);

/* A client of the pool (NULL: local mode, or out of memory); give it back
 * with store_release. Clients are not shared between threads. */
struct s3_client *store_client(void);
void store_release(struct s3_client *c);

/* Keys. 0, or -1 when it does not fit. */
int store_media_key(int64_t update_id, const char *file, char *out, size_t outsz);   /* media/<id>/<file> */
int store_source_key(const char *upload_id, char *out, size_t outsz);                 /* uploads/<id> */
/* The upload id of a stored source path as the catalog names it
 * (".../uploads/<id>.part"): 0, or -1 if it is not one. */
int store_upload_id(const char *input_path, char *out, size_t outsz);


/*
 * S3 mode: download the source the catalog names input_path (its upload's
 * object) into the new file local_path (mode 0600). 0, 1 when the store
 * has no such object, -1 on another failure (logged; local_path removed).
 */
int store_fetch_source(const char *input_path, const char *local_path);

/*
 * S3 mode: the object media/<id>/<file> (a playlist, a marker) into a new
 * NUL-terminated buffer *out (free() it), at most max bytes. 0; 1 when
 * there is no such object; -1 on another failure (logged). *out is NULL
 * unless 0 is returned.
 */
int store_get_media_text(int64_t update_id, const char *file, size_t max, char **out);

/*
 * S3 mode: download the object media/<id>/<sub>/<name> into the new file
 * name (mode 0644) below the folder open as dirfd, whose folders exist
 * ("video/init.mp4" needs "video"). 0; 1 when there is no such object;
 * -1 on another failure (logged). A partial file is removed.
 */
int store_fetch_media(int64_t update_id, const char *sub, const char *name, int dirfd);

/*
 * S3 mode: put the empty object media/<id>/<file> (a marker such as
 * first/.encoding, never served: dot names are refused). 0 or -1 (logged).
 */
int store_put_media_marker(int64_t update_id, const char *file);

/*
 * What of a local folder has been uploaded, so that a folder that grows
 * (a first-playable pass) is uploaded a piece at a time: each file's
 * relative path, size and modification time when it was sent.
 */
struct store_sync {
    char    prefix[600];        /* key prefix with its trailing '/': "media/12/first/" */
    struct store_sent *sent;    /* files sent, in no order */
    size_t  n, cap;
};

void store_sync_init(struct store_sync *s, int64_t update_id, const char *sub);  /* sub: "", "first", "v2" */
void store_sync_free(struct store_sync *s);

/*
 * Upload what changed in dir since the last call: first the playlists are
 * read (so they name only segments already complete), then every other
 * new or changed file, then the playlists, master.m3u8 (at the top) last.
 * At the top of dir, "first", "v<N>" folders, ".work-*" folders and
 * download.mp4 are left out (they are published on their own). 0, or -1
 * with the reason logged (call again: what was sent is remembered).
 */
int store_sync_dir(struct store_sync *s, const char *dir);

/*
 * While a ladder is being written into dir: upload the segments that are
 * finished, those with a later segment beside them ("seg_00003.m4s" once
 * "seg_00004.m4s" exists), so that little is left to upload at the end.
 * Playlists, init segments, posters and the rest wait for store_sync_dir.
 * 0, or -1 with the reason logged (what was sent is remembered).
 */
int store_sync_segments(struct store_sync *s, const char *dir);

/*
 * An update is deleted: its media go (DATA/media/<id> on disk and, in S3
 * mode, every object under media/<id>/), and its sources (the catalog's
 * input paths: the local files, and in S3 mode their upload objects).
 * Failures are logged; nothing is retried.
 */
void store_delete_update(const struct conf *conf, int64_t update_id, char *const *inputs, size_t ninputs);

/*
 * S3 mode: delete the objects under media/<id>/<sub>/ (sub "first",
 * "v3"...). 0 or -1 (logged).
 */
int store_delete_media(int64_t update_id, const char *sub);

/*
 * S3 mode, after media version `version` of update id replaced
 * `previous`: delete every other version's objects (version 0's are the
 * files at the top of media/<id>/), keeping the first rendition, as
 * worker.c's remove_versions does on disk.
 */
void store_remove_versions(int64_t update_id, int version, int previous);

/*
 * Profile pictures (DATA/avatars/<name> on disk, avatars/<name> in S3).
 * store_put_avatar: in S3 mode the picture at local_path is uploaded and
 * its local file removed; locally nothing happens. 0, or -1 (logged; the
 * local file is kept). store_delete_avatar: in S3 mode the object goes.
 */
int store_avatar_key(const char *name, char *out, size_t outsz);
int store_put_avatar(const char *name, const char *local_path);
void store_delete_avatar(const char *name);

#endif
