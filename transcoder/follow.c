/*
 * follow.c - the following reader: an AVIOContext over a file descriptor
 * that never reads past the confirmed length; see follow.h.
 */
#include "follow.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libavutil/mem.h>
#include <libavutil/time.h>

#define READER_BUFSIZE (256 * 1024)

/* The reader's state, the opaque of its AVIOContext. */
struct tc_reader {
    int              fd;         /* the stored file, not ours */
    int64_t          pos;        /* next byte pread() returns */
    int64_t          confirmed;  /* bytes that may be read; never shrinks */
    int              finished;   /* confirmed is the final length */
    int              gone;       /* the caller abandoned the file */
    struct tc_follow follow;     /* length callback and wake fd */
    AVIOInterruptCB  icb;        /* deadline, checked while waiting */
    int64_t          waited_us;  /* time spent waiting for bytes */
};

/* Ask the caller for the confirmed length. Returns 0 or AVERROR_EXIT. */
static int reader_refresh(struct tc_reader *r)
{
    int64_t c = r->confirmed;
    enum tc_follow_state st;

    if (r->finished)
        return 0;
    st = r->follow.length(r->follow.opaque, &c);
    if (st == TC_FOLLOW_GONE) {
        r->gone = 1;
        return AVERROR_EXIT;
    }
    if (c > r->confirmed)
        r->confirmed = c;
    if (st == TC_FOLLOW_FINISHED)
        r->finished = 1;
    return 0;
}

/* Sleep until the wake fd fires or TC_FOLLOW_POLL_MS pass. */
static void reader_wait(struct tc_reader *r)
{
    struct pollfd p = { r->follow.wake_fd, POLLIN, 0 };
    int64_t t0 = av_gettime_relative();
    char drain[64];

    if (r->follow.wake_fd < 0)
        poll(NULL, 0, TC_FOLLOW_POLL_MS);
    else if (poll(&p, 1, TC_FOLLOW_POLL_MS) > 0 && (p.revents & POLLIN))
        while (read(r->follow.wake_fd, drain, sizeof(drain)) ==
               (ssize_t)sizeof(drain))
            ;  /* an eventfd gives 8 bytes, a pipe what was written */
    r->waited_us += av_gettime_relative() - t0;
}

/* Wait until byte pos is confirmed or the length is final. 0 or AVERROR. */
static int reader_reach(struct tc_reader *r, int64_t pos)
{
    int ret;

    for (;;) {
        if (pos < r->confirmed || r->finished)
            return 0;
        if ((ret = reader_refresh(r)) < 0)
            return ret;
        if (pos < r->confirmed || r->finished)
            return 0;
        if (r->icb.callback && r->icb.callback(r->icb.opaque))
            return AVERROR_EXIT;
        reader_wait(r);
    }
}

static int reader_read(void *opaque, uint8_t *buf, int size)
{
    struct tc_reader *r = opaque;
    int64_t avail;
    ssize_t n;
    int ret;

    for (;;) {
        if ((ret = reader_reach(r, r->pos)) < 0)
            return ret;
        avail = r->confirmed - r->pos;
        if (avail <= 0)
            return AVERROR_EOF;  /* finished, and all of it read */
        n = pread(r->fd, buf, size < avail ? (size_t)size : (size_t)avail,
                  r->pos);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return AVERROR(errno);
        if (n == 0) {
            /* confirmed but not on disk: a caller's bug or a truncation */
            if (r->finished)
                return AVERROR_EOF;
            reader_wait(r);
            continue;
        }
        r->pos += n;
        return (int)n;
    }
}

static int64_t reader_seek(void *opaque, int64_t offset, int whence)
{
    struct tc_reader *r = opaque;
    int64_t target;
    int ret;

    if (whence & AVSEEK_SIZE) {
        if ((ret = reader_refresh(r)) < 0)
            return ret;
        return r->finished ? r->confirmed : AVERROR(ENOSYS);
    }
    whence &= ~AVSEEK_FORCE;
    if (whence == SEEK_SET)
        target = offset;
    else if (whence == SEEK_CUR)
        target = r->pos + offset;
    else if (whence == SEEK_END) {
        /* The end is known only once the upload has finished. avio_size()
         * tries this after AVSEEK_SIZE failed: waiting here would hold
         * the probe until the upload ends. */
        if ((ret = reader_refresh(r)) < 0)
            return ret;
        if (!r->finished)
            return AVERROR(ENOSYS);
        target = r->confirmed + offset;
    } else
        return AVERROR(EINVAL);
    if (target < 0)
        return AVERROR(EINVAL);
    /* A seek ahead waits for the bytes, as a read would. */
    if ((ret = reader_reach(r, target > 0 ? target - 1 : 0)) < 0)
        return ret;
    if (r->finished && target > r->confirmed)
        return AVERROR_EOF;
    r->pos = target;
    return target;
}

int tc_reader_open(int fd, const struct tc_follow *follow,
                   const AVIOInterruptCB *icb, AVIOContext **pb)
{
    struct tc_reader *r;
    unsigned char *buf;
    struct stat sb;

    *pb = NULL;
    if (fstat(fd, &sb) < 0)
        return AVERROR(errno);
    if (!S_ISREG(sb.st_mode))
        return AVERROR(EINVAL);
    if (!(r = av_mallocz(sizeof(*r))))
        return AVERROR(ENOMEM);
    r->fd = fd;
    if (icb)
        r->icb = *icb;
    if (follow && follow->length) {
        r->follow = *follow;
    } else {
        r->confirmed = sb.st_size;
        r->finished = 1;
    }
    if (!(buf = av_malloc(READER_BUFSIZE)) ||
        !(*pb = avio_alloc_context(buf, READER_BUFSIZE, 0, r, reader_read,
                                   NULL, reader_seek))) {
        av_free(buf);
        av_free(r);
        return AVERROR(ENOMEM);
    }
    (*pb)->seekable = AVIO_SEEKABLE_NORMAL;
    return 0;
}

int tc_reader_growing(const AVIOContext *pb)
{
    const struct tc_reader *r = pb->opaque;
    return !r->finished;
}

int tc_reader_gone(const AVIOContext *pb)
{
    const struct tc_reader *r = pb->opaque;
    return r->gone;
}

double tc_reader_waited(const AVIOContext *pb)
{
    const struct tc_reader *r = pb->opaque;
    return r->waited_us / 1e6;
}

void tc_reader_close(AVIOContext **pb)
{
    if (!*pb)
        return;
    av_freep(&(*pb)->opaque);
    av_freep(&(*pb)->buffer);
    avio_context_free(pb);
}
