# fuzz.mk - builds the libFuzzer targets of tests/fuzz with clang under
# AddressSanitizer and UndefinedBehaviorSanitizer, from the same sources
# as libhubcast.a and libtranscoder.a. `make fuzz` calls it with the
# source lists and the library flags configure found; the objects live in
# tests/fuzz/bin (separate from the gcc build).
OUT := tests/fuzz/bin
SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS := -g -O1 -std=c11 -D_GNU_SOURCE $(SAN) -fsanitize=fuzzer-no-link \
	-I. -I$(srcdir)/src -I$(srcdir)/db -I$(srcdir)/transcoder \
	-DHUBCAST_WEBDIR='"$(PKGDATADIR)/web"' -DHUBCAST_SRCDIR='"$(abs_srcdir)"' $(DEP_CFLAGS)
TARGETS := fuzz_sniff fuzz_time fuzz_router fuzz_playlist fuzz_input fuzz_request
SRCS := $(sort $(HC_SOURCES) $(TC_SOURCES)) db/migrations.c db/migrations_pg.c
OBJS := $(patsubst %.c,$(OUT)/obj/%.o,$(SRCS))

vpath %.c $(srcdir)

all: $(addprefix $(OUT)/,$(TARGETS))

$(OUT)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC_FUZZ) $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

$(OUT)/libfuzz.a: $(OBJS)
	rm -f $@ && ar rcs $@ $^

$(OUT)/%: $(OUT)/obj/tests/fuzz/%.o $(OUT)/libfuzz.a
	$(CC_FUZZ) $(SAN) -fsanitize=fuzzer $< $(OUT)/libfuzz.a $(DEP_LIBS) -o $@

.PRECIOUS: $(OUT)/obj/%.o
-include $(OBJS:.o=.d) $(patsubst %,$(OUT)/obj/tests/fuzz/%.d,$(TARGETS))
