# imgward — plain GNU make, pkg-config for every library.
#
#   make                 build everything under build/
#   make check           run every test (tests/run-tests)
#   make install DESTDIR=... PREFIX=...
#   make fuzz FUZZ_SECONDS=N   (clang, libFuzzer)
#   make check-valgrind / make check-sanitize
#
# HACKING.md says where code goes; this file only has to find it.

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBEXECDIR ?= $(PREFIX)/libexec
HELPERDIR ?= $(LIBEXECDIR)/imgward
DATADIR ?= $(PREFIX)/share
POLICYDIR ?= $(DATADIR)/imgward/policy
SYSCONFDIR ?= /etc
APPARMORDIR ?= $(SYSCONFDIR)/apparmor.d
DESTDIR ?=

B := build
CC ?= cc
PKG_CONFIG ?= pkg-config

VERSION := 0.1.0

include mk/flags.mk
OPT ?= -O2 -g
BASE_CFLAGS := -std=gnu11 $(OPT) $(WARNINGS) $(HARDEN) -D_GNU_SOURCE \
	-DIMGWARD_VERSION='"$(VERSION)"' -Ilib -I$(B)/gen
CFLAGS ?=
LDFLAGS ?=

pc_cflags = $(shell $(PKG_CONFIG) --cflags $(1))
pc_libs = $(shell $(PKG_CONFIG) --libs $(1))

JSON_CFLAGS := $(call pc_cflags,json-c)
SECCOMP_CFLAGS := $(call pc_cflags,libseccomp)
ALL_CFLAGS = $(BASE_CFLAGS) $(JSON_CFLAGS) $(SECCOMP_CFLAGS) $(CFLAGS)

# The broker is a static PIE by default: it starts about 0.5 ms faster
# (a third of a probe's own time), and, run as root, it cannot be steered
# by LD_PRELOAD/LD_LIBRARY_PATH or a replaced shared library.
# STATIC_BROKER=0 links it dynamically (distributions that prefer it).
# The static link prints glibc warnings about initgroups/getpwuid from
# libcap-ng.a: they come from capng_change_id(), which imgward does not
# call (broker/sandbox.c switches ids itself, and looks users up in
# /etc/passwd), so no NSS code ever runs.
STATIC_BROKER ?= 1
BROKER_LIBS := $(call pc_libs,json-c libcap-ng libapparmor)
ifeq ($(STATIC_BROKER),1)
BROKER_LDFLAGS := -static-pie
else
BROKER_LDFLAGS := -pie
endif
# Helpers are static PIEs: they are exec'd inside an empty mount namespace
# where no dynamic loader or library path exists (HACKING.md).
HELPER_STATIC_LIBS := $(call pc_libs,libseccomp json-c zlib liblzma libzstd) -lbz2
HELPER_LDFLAGS := -static-pie $(HARDEN_LD)

# ---- sources ---------------------------------------------------------
LIB_SRCS := $(wildcard lib/*.c) $(wildcard lib/formats/*.c) $(wildcard lib/scan/*.c) \
	$(wildcard lib/inject/*.c)
LIB_OBJS := $(LIB_SRCS:%.c=$(B)/obj/%.o)
BROKER_SRCS := $(wildcard broker/*.c)
BROKER_OBJS := $(BROKER_SRCS:%.c=$(B)/obj/%.o)
HELPERS := $(notdir $(wildcard helpers/*))
POLICIES := $(basename $(notdir $(wildcard policy/seccomp/*.policy)))
UNIT_SRCS := $(wildcard tests/unit/test-*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(B)/tests/%)
BROKER_TEST_SRCS := $(wildcard tests/broker/test-*.c)
BROKER_TEST_BINS := $(BROKER_TEST_SRCS:tests/broker/%.c=$(B)/tests/%)
TEST_TOOL_SRCS := $(wildcard tests/tools/*.c)
TEST_TOOL_BINS := $(TEST_TOOL_SRCS:tests/tools/%.c=$(B)/tests/%)
TEST_HELPER_SRCS := $(wildcard tests/helpers/*.c)
TEST_HELPER_BINS := $(TEST_HELPER_SRCS:tests/helpers/%.c=$(B)/tests/%)

FUZZ_HARNESSES := $(patsubst fuzz/fuzz-%.c,%,$(wildcard fuzz/fuzz-*.c))
FUZZ_REPLAY_BINS := $(FUZZ_HARNESSES:%=$(B)/tests/fuzz-replay-%)

all: $(B)/imgward $(HELPERS:%=$(B)/imgward-%) $(UNIT_BINS) $(TEST_TOOL_BINS) \
	$(TEST_HELPER_BINS) $(FUZZ_REPLAY_BINS) $(BROKER_TEST_BINS)

.PHONY: all check check-slow check-valgrind check-sanitize install uninstall clean fuzz afl \
	format-check

# V=1 shows full command lines
V ?= 0
ifeq ($(V),0)
Q := @
say = printf '  %-8s %s\n' $(1) $(2);
endif

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(Q)$(call say,CC,$<)$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(B)/libimgward.a: $(LIB_OBJS)
	@rm -f $@
	$(Q)$(call say,AR,$@)ar rcs $@ $^

# ---- seccomp policies: text -> generated C (tools/policy-compile) -----
$(B)/tools/policy-compile: tools/policy-compile.c
	@mkdir -p $(dir $@)
	$(Q)$(call say,CC,$@)$(CC) $(ALL_CFLAGS) $< -o $@ $(HARDEN_LD) $(call pc_libs,libseccomp)

$(B)/gen/policy-%.c: policy/seccomp/%.policy $(B)/tools/policy-compile $(wildcard policy/seccomp/*.inc)
	@mkdir -p $(dir $@)
	$(Q)$(call say,POLICY,$<)$(B)/tools/policy-compile $< $* > $@.tmp && mv $@.tmp $@

$(B)/obj/gen/policy-%.o: $(B)/gen/policy-%.c
	@mkdir -p $(dir $@)
	$(Q)$(call say,CC,$@)$(CC) $(ALL_CFLAGS) -Wno-missing-prototypes -c $< -o $@

# ---- rlimit/deadline defaults: policy/limits/*.conf -> generated C ----
$(B)/gen/limits.c: $(wildcard policy/limits/*.conf) tools/limits-gen.sh
	@mkdir -p $(dir $@)
	$(Q)$(call say,GEN,$@)sh tools/limits-gen.sh $(sort $(wildcard policy/limits/*.conf)) > $@.tmp && mv $@.tmp $@

$(B)/obj/gen/limits.o: $(B)/gen/limits.c
	@mkdir -p $(dir $@)
	$(Q)$(call say,CC,$@)$(CC) $(ALL_CFLAGS) -Ibroker -c $< -o $@

# ---- configuration: rewritten only when a value changes, so that
# `make` then `make install PREFIX=/usr` still compiles in the right path
$(B)/gen/config.h: FORCE
	@mkdir -p $(dir $@)
	@printf '#define IMGWARD_HELPERDIR "%s"\n' '$(HELPERDIR)' > $@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi
FORCE:
# keep generated sources (build/gen/*.c) for debugging and for #line lookups
.SECONDARY:
.PHONY: FORCE

$(B)/obj/broker/options.o: $(B)/gen/config.h

# ---- broker ----------------------------------------------------------
$(B)/imgward: $(BROKER_OBJS) $(B)/obj/gen/limits.o $(B)/libimgward.a
	$(Q)$(call say,LD,$@)$(CC) $(ALL_CFLAGS) $(BROKER_LDFLAGS) $(HARDEN_LD) \
		$(LDFLAGS) $^ -o $@ $(BROKER_LIBS)

# ---- helpers: helpers/<name>/*.c + its policy, static PIE ------------
define helper_rule
$(B)/imgward-$(1): $(patsubst %.c,$(B)/obj/%.o,$(wildcard helpers/$(1)/*.c)) \
		$(B)/obj/gen/policy-$(1).o $(B)/libimgward.a
	$$(Q)$$(call say,LD,$$@)$$(CC) $$(ALL_CFLAGS) $$(HELPER_LDFLAGS) $$(LDFLAGS) $$^ -o $$@ $$(HELPER_STATIC_LIBS)
endef
$(foreach h,$(filter-out inject,$(HELPERS)),$(eval $(call helper_rule,$(h))))

# imgward-inject is the exception: a dynamic PIE. It runs libguestfs,
# which has no static build with its dependencies, and it runs qemu, so it
# gets no empty mount namespace anyway: Landlock decides what it can
# read and run (HACKING.md "The injector").
INJECT_LIBS := $(call pc_libs,libguestfs libseccomp json-c zlib liblzma libzstd) -lbz2
$(B)/imgward-inject: $(patsubst %.c,$(B)/obj/%.o,$(wildcard helpers/inject/*.c)) \
		$(B)/obj/gen/policy-inject.o $(B)/libimgward.a
	$(Q)$(call say,LD,$@)$(CC) $(ALL_CFLAGS) -pie $(HARDEN_LD) $(LDFLAGS) $^ -o $@ $(INJECT_LIBS)

# ---- tests -----------------------------------------------------------
$(B)/tests/%: tests/unit/%.c $(B)/libimgward.a
	@mkdir -p $(dir $@)
	$(Q)$(call say,CC,$@)$(CC) $(ALL_CFLAGS) -Itests/unit -pie $(HARDEN_LD) $< -o $@ \
		$(B)/libimgward.a $(call pc_libs,json-c zlib liblzma libzstd) -lbz2

$(B)/tests/%: tests/tools/%.c $(wildcard tests/tools/*.h) $(B)/libimgward.a
	@mkdir -p $(dir $@)
	$(Q)$(call say,CC,$@)$(CC) $(ALL_CFLAGS) -pie $(HARDEN_LD) $< -o $@ \
		$(B)/libimgward.a $(call pc_libs,json-c zlib liblzma libzstd) -lbz2

# Tests of broker internals: every broker object but main.o
$(B)/tests/test-%: tests/broker/test-%.c $(filter-out %/main.o,$(BROKER_OBJS)) \
		$(B)/obj/gen/limits.o $(B)/libimgward.a
	@mkdir -p $(dir $@)
	$(Q)$(call say,CC,$@)$(CC) $(ALL_CFLAGS) -Ibroker -Itests/unit -pie $(HARDEN_LD) \
		$(filter %.c %.o %.a,$^) -o $@ $(BROKER_LIBS)

# Fuzz harnesses without libFuzzer: replay fuzz/regressions/ in make check
$(B)/tests/fuzz-replay-%: fuzz/fuzz-%.c fuzz/replay-main.c $(B)/libimgward.a \
		$(B)/obj/broker/validate.o $(B)/obj/broker/errors.o
	@mkdir -p $(dir $@)
	$(Q)$(call say,CC,$@)$(CC) $(ALL_CFLAGS) -Ibroker -pie $(HARDEN_LD) $(filter %.c %.o,$^) \
		$(B)/libimgward.a -o $@ $(call pc_libs,json-c zlib liblzma libzstd) -lbz2

# Hostile fake helpers for the broker tests, and the syscall prober; they
# link the real sandbox code and policies, statically like real helpers.
$(B)/tests/%: tests/helpers/%.c $(B)/libimgward.a $(foreach p,$(POLICIES),$(B)/obj/gen/policy-$(p).o)
	@mkdir -p $(dir $@)
	$(Q)$(call say,CC,$@)$(CC) $(ALL_CFLAGS) $(HELPER_LDFLAGS) $< $(foreach p,$(POLICIES),$(B)/obj/gen/policy-$(p).o) \
		$(B)/libimgward.a -o $@ $(HELPER_STATIC_LIBS)

check: all
	tests/run-tests

# the slow tests too (libguestfs appliances under TCG: tests that call
# requires_slow in tests/functions.sh)
check-slow: all
	IMGWARD_SLOW_TESTS=1 tests/run-tests

check-valgrind: all
	IMGWARD_TEST_VALGRIND=1 tests/run-tests

# ASan/UBSan build of everything; runs what does not go through a helper's
# seccomp filter (the sanitizer runtime needs system calls a helper policy
# rightly forbids): the C unit tests, the format readers through
# sniff-file, and the fuzz replays.
check-sanitize:
	$(MAKE) B=build-sanitize OPT="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
		STATIC_BROKER=0 \
		HELPER_LDFLAGS="-pie $(HARDEN_LD) -fsanitize=address,undefined" \
		HELPER_STATIC_LIBS="$(call pc_libs,libseccomp json-c zlib liblzma libzstd) -lbz2" \
		CFLAGS="-DIMGWARD_SANITIZE=1" all
	ASAN_OPTIONS=detect_leaks=1 IMGWARD_BUILD=build-sanitize \
		tests/run-tests test-core test-part test-qcow2 test-tar test-vdi \
		test-vhd test-vmdk test-format- test-fuzz-replay \
		test-convert-qcow2.sh test-convert-vmdk test-convert-vhd \
		test-convert-chain test-convert-vhdx-log \
		test-ntfs test-map-view test-scan-ntfs test-scan-hive test-scan-fsid \
		test-virtio-win

# ---- fuzzing (fuzz/README.md) ----------------------------------------
FUZZ_SECONDS ?= 60
fuzz:
	$(MAKE) -C fuzz FUZZ_SECONDS=$(FUZZ_SECONDS)
# AFL++ against the real helper binaries (fuzz/afl/README.md)
afl:
	$(MAKE) -C fuzz/afl

# ---- install ---------------------------------------------------------
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(HELPERDIR) \
		$(DESTDIR)$(POLICYDIR)/seccomp $(DESTDIR)$(POLICYDIR)/limits \
		$(DESTDIR)$(APPARMORDIR)
	install -m 0755 $(B)/imgward $(DESTDIR)$(BINDIR)/imgward
	for h in $(HELPERS); do \
		install -m 0755 $(B)/imgward-$$h $(DESTDIR)$(HELPERDIR)/imgward-$$h; done
	install -m 0644 policy/seccomp/*.policy $(DESTDIR)$(POLICYDIR)/seccomp/
	install -m 0644 policy/limits/*.conf $(DESTDIR)$(POLICYDIR)/limits/
	for p in policy/apparmor/*.in; do \
		n=$$(basename $$p .in); \
		sed -e 's|@HELPERDIR@|$(HELPERDIR)|g' -e 's|@BINDIR@|$(BINDIR)|g' $$p \
			> $(DESTDIR)$(APPARMORDIR)/$$n; \
		chmod 0644 $(DESTDIR)$(APPARMORDIR)/$$n; done

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/imgward
	rm -rf $(DESTDIR)$(HELPERDIR) $(DESTDIR)$(DATADIR)/imgward
	for p in policy/apparmor/*.in; do rm -f $(DESTDIR)$(APPARMORDIR)/$$(basename $$p .in); done

clean:
	rm -rf build build-sanitize

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)
