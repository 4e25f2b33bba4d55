# transcoder/local.mk - automake fragment for the media pipeline library and
# its unit tests; included by the top-level Makefile.am.
transcoder_libtranscoder_a_SOURCES = transcoder/transcode.h transcoder/transcode.c \
	transcoder/input.c transcoder/input.h \
	transcoder/follow.c transcoder/follow.h \
	transcoder/first.c \
	transcoder/segment.c transcoder/segment.h \
	transcoder/reuse.c transcoder/reuse.h \
	transcoder/ladder.c transcoder/ladder.h \
	transcoder/gap.c transcoder/gap.h \
	transcoder/trim.c transcoder/trim.h \
	transcoder/playlist.c transcoder/playlist.h \
	transcoder/graph.c transcoder/graph.h \
	transcoder/encode.c transcoder/encode.h \
	transcoder/poster.c transcoder/poster.h \
	transcoder/publish.c transcoder/publish.h \
	transcoder/remux.c transcoder/remux.h \
	transcoder/avatar.c transcoder/avatar.h
transcoder_libtranscoder_a_CFLAGS = $(AM_CFLAGS) $(LIBAV_CFLAGS)
tests_unit_test_transcoder_SOURCES = tests/unit/test_transcoder.c
tests_unit_test_transcoder_CFLAGS = $(AM_CFLAGS) $(LIBAV_CFLAGS) -I$(srcdir)/transcoder -I$(srcdir)/tests/unit
tests_unit_test_transcoder_LDADD = transcoder/libtranscoder.a $(LIBAV_LIBS) -lm
