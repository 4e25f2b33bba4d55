/*
 * layout.h - the one place that knows how the data folder is laid out:
 *
 *   DATA/hubcast.db              the catalog (db/catalog.c names it)
 *   DATA/uploads/<id>.part       bytes of an upload, as tus receives them
 *   DATA/media/<update>/...      a published HLS folder (media version 0)
 *   DATA/media/<update>/v<N>/... media version N >= 1 (a trim made later)
 *   DATA/media/<update>.work-*   a transcode in progress (renamed when done)
 *   DATA/avatars/<user>-<random>.jpg  a profile picture (the catalog names it)
 *   DATA/avatars/.work-*         a picture being made (removed when done)
 *
 * Every function writes a path into out and returns 0, or -1 (out = "")
 * when it does not fit. Nothing here touches the disk but layout_prepare.
 */
#ifndef HUBCAST_LAYOUT_H
#define HUBCAST_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

/* A size that holds any path below the data folder. */
#define LAYOUT_PATH_MAX 1200
/* The first-playable rendition, DATA/media/<id>/first/, beside the ladder. */
#define LAYOUT_FIRST_DIR "first"
/* In it, while its pass encodes (not copies): a ladder does not wait for
 * it. A dot name, which /media never serves. */
#define LAYOUT_FIRST_ENCODING ".encoding"

/* Create DATA, DATA/uploads (0700), DATA/media (0755) and DATA/avatars
 * (0700). 0 or -1. */
int layout_prepare(const char *data_dir);

int layout_uploads_dir(const char *data_dir, char *out, size_t outsz);
int layout_upload_part(const char *data_dir, const char *upload_id, char *out, size_t outsz);
int layout_media_dir(const char *data_dir, char *out, size_t outsz);
/* DATA/media/<id>: where an update's HLS folder is published. */
int layout_update_media(const char *data_dir, int64_t update_id, char *out, size_t outsz);
/* Where media version `version` of an update is published: DATA/media/<id>
 * for 0, DATA/media/<id>/v<N> for N >= 1. */
int layout_version_media(const char *data_dir, int64_t update_id, int version, char *out, size_t outsz);
/* The name of version N >= 1 inside DATA/media/<id> ("v<N>"); "" for 0. */
int layout_version_name(int version, char *out, size_t outsz);
/* A published file relative to DATA/media: "<id>/<file>". */
int layout_media_rel(int64_t update_id, const char *file, char *out, size_t outsz);
/* The name prefix of an update's work folders inside DATA/media
 * ("<id>.work-"); the transcoder adds the rest when it makes one. */
int layout_work_prefix(int64_t update_id, char *out, size_t outsz);

/* DATA/avatars: the profile pictures. */
int layout_avatars_dir(const char *data_dir, char *out, size_t outsz);
/* The file name of a new picture of user: "<user>-<random>.jpg". */
int layout_avatar_name(int64_t user_id, const char *random, char *out, size_t outsz);
/* DATA/avatars/.work-XXXXXX: a template for mkdtemp. */
int layout_avatar_work(const char *data_dir, char *out, size_t outsz);

#endif
