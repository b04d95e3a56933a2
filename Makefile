# meshgov — build, test, check, bench, fuzz, install, demo.
#
# Layers (one folder each), dependencies pointing one way:
#   cli -> engine -> policy -> stdlib,   engine -> audit
# Every target first makes sure the Debian packages it needs are present
# (see `deps`), so `make demo` and `make test` work on a fresh machine.

PREFIX   ?= /usr/local
DESTDIR  ?=
CC       ?= cc
BUILD    ?= build
VERSION  := 0.1.0

PKGS     := yaml-0.1 libpcre2-8 libsodium sqlite3 jansson
# pkg-config module -> Debian package that provides it
DEB_yaml-0.1   := libyaml-dev
DEB_libpcre2-8 := libpcre2-dev
DEB_libsodium  := libsodium-dev
DEB_sqlite3    := libsqlite3-dev
DEB_jansson    := libjansson-dev
DEB_criterion  := libcriterion-dev

OPT      ?= -O2
CFLAGS   ?= $(OPT) -g
WARN     := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes $(if $(CI),-Werror,)
ALL_CFLAGS = -std=c11 $(WARN) $(CFLAGS) -fPIC -MMD -MP -D_POSIX_C_SOURCE=200809L \
             -I. -Iinclude $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# Recursively expanded on purpose: evaluated only after `deps` has run.
LIBS      = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm
TEST_LIBS = $(shell pkg-config --libs criterion 2>/dev/null)

STDLIB_SRC := $(wildcard stdlib/*.c)
POLICY_SRC := $(wildcard policy/*.c)
AUDIT_SRC  := $(wildcard audit/*.c)
ENGINE_SRC := $(wildcard engine/*.c)
# The front end of the engine: everything that needs policy/ to turn source
# into bytecode (the adoption report compiles each product's set). The rest
# of the engine runs bytecode without it.
ENGINE_FRONT_SRC := $(filter engine/compile%.c engine/load%.c engine/adoption%.c,$(ENGINE_SRC))
ENGINE_VM_SRC    := $(filter-out $(ENGINE_FRONT_SRC),$(ENGINE_SRC))
CLI_COMMON_SRC   := $(filter-out cli/meshgov.c cli/policy_check.c,$(wildcard cli/*.c))

obj = $(patsubst %.c,$(BUILD)/%.o,$(1))
STDLIB_OBJ := $(call obj,$(STDLIB_SRC))
POLICY_OBJ := $(call obj,$(POLICY_SRC))
AUDIT_OBJ  := $(call obj,$(AUDIT_SRC))
ENGINE_OBJ := $(call obj,$(ENGINE_SRC))
ENGINE_VM_OBJ := $(call obj,$(ENGINE_VM_SRC))
LIB_OBJ    := $(ENGINE_OBJ) $(POLICY_OBJ) $(STDLIB_OBJ) $(AUDIT_OBJ)
CLI_COMMON_OBJ := $(call obj,$(CLI_COMMON_SRC))

LIBA  := $(BUILD)/libmeshgov.a
LIBSO := $(BUILD)/libmeshgov.so
PROGS := $(BUILD)/meshgov $(BUILD)/policy-check

# Test suites: tests/<module>/*.c -> one Criterion binary per module, linked
# against only the layers that module may depend on.
TEST_MODULES := $(notdir $(patsubst %/,%,$(dir $(wildcard tests/*/*.c))))
TEST_MODULES := $(filter-out tools,$(sort $(TEST_MODULES)))
TEST_BINS    := $(addprefix $(BUILD)/tests/test-,$(TEST_MODULES))
objs_stdlib  := $(STDLIB_OBJ)
objs_policy  := $(POLICY_OBJ) $(STDLIB_OBJ)
objs_audit   := $(AUDIT_OBJ) $(STDLIB_OBJ)
objs_engine  := $(LIB_OBJ)
objs_vm      := $(ENGINE_VM_OBJ) $(STDLIB_OBJ) $(AUDIT_OBJ)
objs_cli     := $(LIB_OBJ)
objs_manifest := $(BUILD)/engine/manifest.o $(STDLIB_OBJ)
objs_noalloc := $(LIB_OBJ)
TEST_LDFLAGS_noalloc := -Wl,--wrap=malloc -Wl,--wrap=calloc -Wl,--wrap=realloc

.PHONY: all deps test check check-report bench fuzz demo install uninstall clean
all: $(LIBA) $(LIBSO) $(PROGS) $(BUILD)/meshgov.pc

# --- dependencies -----------------------------------------------------------
# Installs the Debian packages listed in the shell variable `missing`,
# saying which (as root, or through sudo); exit 2 if that fails.
APT_INSTALL = if [ -n "$$missing" ]; then \
	  echo "meshgov: installing missing Debian packages:$$missing"; \
	  SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null || \
	  { echo "meshgov: could not install:$$missing" >&2; exit 2; }; \
	fi

DEPS_STAMP := $(BUILD)/.deps
$(DEPS_STAMP):
	@mkdir -p $(BUILD)
	@missing=""; \
	command -v pkg-config >/dev/null 2>&1 || missing="pkg-config"; \
	for p in $(PKGS) criterion; do \
	  case $$p in yaml-0.1) d=libyaml-dev;; libpcre2-8) d=libpcre2-dev;; \
	    libsodium) d=libsodium-dev;; sqlite3) d=libsqlite3-dev;; \
	    jansson) d=libjansson-dev;; criterion) d=libcriterion-dev;; esac; \
	  pkg-config --exists $$p 2>/dev/null || missing="$$missing $$d"; \
	done; \
	command -v sqlite3 >/dev/null 2>&1 || missing="$$missing sqlite3"; \
	$(APT_INSTALL)
	@touch $@
deps: $(DEPS_STAMP)

# --- library and programs ---------------------------------------------------
$(BUILD)/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(LIBA): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(LIBSO): $(LIB_OBJ)
	$(CC) -shared -Wl,-soname,libmeshgov.so.0 -o $@ $^ $(LIBS)

$(BUILD)/meshgov: $(BUILD)/cli/meshgov.o $(CLI_COMMON_OBJ) $(LIBA)
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/policy-check: $(BUILD)/cli/policy_check.o $(CLI_COMMON_OBJ) $(LIBA)
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

# The pkg-config file names PREFIX, so it is rebuilt whenever PREFIX changes.
PC_STAMP := $(BUILD)/.prefix-$(subst /,_,$(PREFIX))
$(PC_STAMP):
	@mkdir -p $(BUILD)
	@rm -f $(BUILD)/.prefix-*
	@touch $@

$(BUILD)/meshgov.pc: Makefile $(PC_STAMP)
	@mkdir -p $(BUILD)
	@printf '%s\n' 'prefix=$(PREFIX)' 'libdir=$${prefix}/lib' 'includedir=$${prefix}/include' '' \
	  'Name: meshgov' 'Description: policy-as-code governance engine for data mesh' \
	  'Version: $(VERSION)' 'Requires.private: $(PKGS)' \
	  'Libs: -L$${libdir} -lmeshgov' 'Libs.private: -lpthread -lm' \
	  'Cflags: -I$${includedir}' > $@

# --- tests ------------------------------------------------------------------
.SECONDEXPANSION:
$(BUILD)/tests/test-%: $$(call obj,$$(wildcard tests/%/*.c)) $$(objs_$$*) | $(DEPS_STAMP)
	$(CC) $(CFLAGS) -o $@ $^ $(TEST_LIBS) $(LIBS) $(TEST_LDFLAGS_$*)

# The bytecode-only suite decides from a bundle made by the full library.
$(BUILD)/tests/mkbundle: tests/tools/mkbundle.c $(LIBA) | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LIBS)
VM_BUNDLE := $(BUILD)/tests/vm-sample.mgb
$(VM_BUNDLE): $(BUILD)/tests/mkbundle tests/vm/data/product.yaml tests/vm/data/sample.policy
	$(BUILD)/tests/mkbundle $@ tests/vm/data/product.yaml tests/vm/data/sample.policy

test: $(TEST_BINS) $(PROGS) $(VM_BUNDLE)
	@fail=0; for t in $(TEST_BINS); do \
	  echo "== $$t"; MG_TEST_BUNDLE=$(VM_BUNDLE) $$t --jobs 2 || fail=1; \
	done; \
	if [ -f tests/cli/run.sh ]; then sh tests/cli/run.sh $(BUILD) || fail=1; fi; \
	exit $$fail

# ASan + UBSan build of the same tests in a separate build tree.
check:
	$(MAKE) BUILD=build/check OPT=-O1 \
	  CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	  test

# --- the HTML adoption report in a real browser -----------------------------
# Writes the sample mesh's report (with decision logs of two products) and
# renders it in headless Chromium (Debian's `chromium`, installed here if
# missing; `make test` never needs it). Look at $(REPORT)/adoption.png.
REPORT := $(BUILD)/report
check-report: $(BUILD)/meshgov
	@missing=""; command -v chromium >/dev/null 2>&1 || missing=" chromium"; \
	$(APT_INSTALL)
	@mkdir -p $(REPORT)
	sh samples/audit-logs.sh $(BUILD) $(REPORT)/audit
	$(BUILD)/meshgov adoption --mesh samples/mesh --audit-dir $(REPORT)/audit --format html \
	  --out $(REPORT)/adoption.html
	chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
	  --screenshot=$(REPORT)/adoption.png --window-size=1400,1000 \
	  file://$(abspath $(REPORT))/adoption.html 2>/dev/null
	@echo "meshgov: $(REPORT)/adoption.html rendered to $(REPORT)/adoption.png"

# --- benchmarks, fuzzing, demo ----------------------------------------------
BENCH_SRC := $(wildcard bench/*.c)
$(BUILD)/bench/%: bench/%.c $(LIBA) | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LIBS)

bench: $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))
	@for b in $^; do echo "== $$b"; $$b || exit 1; done

FUZZ_SECONDS ?= 60
FUZZ_SRC     := $(wildcard fuzz/fuzz_*.c)
FUZZ_CFLAGS   = -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -I. -Iinclude \
                -D_POSIX_C_SOURCE=200809L $(shell pkg-config --cflags $(PKGS))
FUZZ_LIB_SRC := $(ENGINE_SRC) $(POLICY_SRC) $(STDLIB_SRC) $(AUDIT_SRC)
# clang and its libFuzzer runtime (Debian 12's clang is clang-14).
FUZZ_DEPS := $(BUILD)/.fuzz-deps
$(FUZZ_DEPS): | $(DEPS_STAMP)
	@missing=""; command -v clang >/dev/null 2>&1 || missing=" clang"; \
	[ -f "$$(clang -print-file-name=libclang_rt.fuzzer-x86_64.a 2>/dev/null)" ] || \
	  missing="$$missing libclang-rt-14-dev"; \
	$(APT_INSTALL)
	@touch $@
$(BUILD)/fuzz/%: fuzz/%.c $(FUZZ_LIB_SRC) | $(FUZZ_DEPS)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_LIB_SRC) $(LIBS)

fuzz: $(patsubst fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))
	@for f in $^; do n=$$(basename $$f); c=$(BUILD)/fuzz/corpus-$$n; \
	  mkdir -p $$c; seeds=fuzz/seeds/$${n#fuzz_}; \
	  echo "== $$n for $(FUZZ_SECONDS)s"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=10 \
	      -artifact_prefix=$(BUILD)/fuzz/ $$c $$( [ -d $$seeds ] && echo $$seeds ) || exit 1; \
	done

demo: all
	@sh samples/demo.sh $(BUILD)

# --- install ----------------------------------------------------------------
install: all
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include \
	  $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 include/meshgov.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 $(LIBA) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(LIBSO) $(DESTDIR)$(PREFIX)/lib/libmeshgov.so.$(VERSION)
	ln -sf libmeshgov.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libmeshgov.so.0
	ln -sf libmeshgov.so.0 $(DESTDIR)$(PREFIX)/lib/libmeshgov.so
	install -m 644 $(BUILD)/meshgov.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/
	install -m 755 $(PROGS) $(DESTDIR)$(PREFIX)/bin/

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/include/meshgov.h $(DESTDIR)$(PREFIX)/lib/libmeshgov.* \
	  $(DESTDIR)$(PREFIX)/lib/pkgconfig/meshgov.pc $(DESTDIR)$(PREFIX)/bin/meshgov \
	  $(DESTDIR)$(PREFIX)/bin/policy-check

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
