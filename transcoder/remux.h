/*
 * remux.h - one regular MP4 made from a published HLS ladder: the video
 * of one rung and the audio rendition, stream copied (no re-encoding)
 * with the index at the front (+faststart), for people who download an
 * update. Beside transcode.h, the other interface the rest of Hubcast
 * uses; nothing outside transcoder/ includes a libav* header.
 */
#ifndef HUBCAST_REMUX_H
#define HUBCAST_REMUX_H

#include <stddef.h>

/*
 * Write out_path (created or truncated) from the fMP4 HLS playlist
 * video_m3u8 and, when audio_m3u8 is not NULL, the audio playlist beside
 * it. Only local files are read. Returns 0, or a negative AVERROR with a
 * sentence in err; on failure out_path may be partly written and is the
 * caller's to remove (write to a temporary name, rename on success).
 */
int tc_remux_mp4(const char *video_m3u8, const char *audio_m3u8, const char *out_path,
                 char *err, size_t errsz);

#endif
