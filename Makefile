# lpg: Learned Policy Gradient in C. `make` builds build/lpg; `make test` installs missing
# dependencies, builds, and runs every test (the unit suite in double, in float, and in double
# under ASan+UBSan; MPI; fuzz); `make demo` runs a small evaluation (the shipped rule against
# A2C); `make bench` prints speed figures.

CC      ?= cc
ARCH    := $(shell uname -m)
BLAS_INC ?= $(firstword $(wildcard /usr/include/$(ARCH)-linux-gnu/openblas-pthread /usr/include/$(ARCH)-linux-gnu/openblas-openmp /usr/include/$(ARCH)-linux-gnu/openblas-serial /usr/include/openblas))
WARN    := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter
# GCC's -O2 vectorises only loops that need no scalar remainder (its "very cheap" cost model);
# the dynamic model also vectorises the short loops over a row (30 y categories, 4 gates of 32),
# with the same results: no reassociation, so every sum keeps its order.
CFLAGS  ?= -O2 -g -fvect-cost-model=dynamic
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -fopenmp-simd $(WARN) -Iinclude -Ibuild $(if $(BLAS_INC),-I$(BLAS_INC)) -I/usr/include/cjson
LDLIBS  := -lopenblas -lcjson -lz -lm -lpthread
# The sanitized build uses clang: besides ASan and UBSan's defaults it has the checks UBSan
# leaves off by default and GCC lacks: float-cast-overflow (a float converted to an integer type
# that cannot hold it), float-divide-by-zero, local-bounds, and implicit-conversion (an implicit
# integer conversion that changes the value). Left off: unsigned-integer-overflow (the RNG and
# hashes wrap on purpose) and nullability (no annotations). Every report stops the run.
SAN_CC  ?= clang
SAN     := -fsanitize=address,undefined,float-cast-overflow,float-divide-by-zero,local-bounds \
           -fsanitize=implicit-conversion \
           -fno-sanitize-recover=all -fno-omit-frame-pointer -Wno-pass-failed

SRC      := $(wildcard src/*.c src/env/*.c)
LIB_SRC  := $(filter-out src/main.c,$(SRC))
TEST_SRC := $(wildcard tests/*.c)
BENCH_SRC := $(wildcard bench/*.c)
HDRS     := $(wildcard include/*.h) $(wildcard src/env/*.h) $(wildcard tests/*.h)

# Three builds of the same sources: float (the product), double (gradient tests), asan (double,
# sanitized). The unit suite is linked against each: build/test_lpg (double),
# build/float-test/test_lpg (float: the precision users run) and build/asan/test_lpg.
OBJ_FLOAT  := $(patsubst src/%.c,build/float/%.o,$(SRC))
OBJ_DOUBLE := $(patsubst src/%.c,build/double/%.o,$(LIB_SRC))
OBJ_ASAN   := $(patsubst src/%.c,build/asan/%.o,$(SRC))
LIB_FLOAT  := $(filter-out build/float/main.o,$(OBJ_FLOAT))
LIB_ASAN   := $(filter-out build/asan/main.o,$(OBJ_ASAN))

.PHONY: all deps mpi test test-plain test-float sanitize fuzz demo bench clean FORCE
all: build/lpg build/lpg-double

deps:
	@bash scripts/install-deps

build/lpg: $(OBJ_FLOAT)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# The same program in double precision: `build/lpg-double gradcheck <config>` is the exact
# meta-gradient check (finite differences to 1e-6 need double).
build/lpg-double: $(OBJ_DOUBLE) build/double/main.o
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

build/float/%.o: src/%.c $(HDRS) | build/float
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) -c -o $@ $<
build/double/%.o: src/%.c $(HDRS) | build/double
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) -DLPG_DOUBLE -c -o $@ $<
build/asan/%.o: src/%.c $(HDRS) | build/asan
	@mkdir -p $(@D)
	$(SAN_CC) $(BASE_CFLAGS) -O1 -g $(SAN) -DLPG_DOUBLE -c -o $@ $<

# Test names come from the TEST(name) lines of tests/*.c, so a new test file needs no registration.
build/test_list.h: $(TEST_SRC) | build
	@grep -ho '^TEST([a-z0-9_]*)' $(TEST_SRC) | sed 's/^TEST(\(.*\))/X(\1)/' > $@.tmp && mv $@.tmp $@

build/test_lpg: $(TEST_SRC) $(OBJ_DOUBLE) build/test_list.h $(HDRS)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) -DLPG_DOUBLE -Ibuild -o $@ $(TEST_SRC) $(OBJ_DOUBLE) $(LDLIBS)

# The same suite over the product's float objects, with float tolerances (TOL_ROUND, TOL_LONG in
# tests/test.h); tests that only make sense in double (finite differences) say DOUBLE_ONLY and
# are counted as skipped here. It has no sanitized copy, to keep `make test` short.
build/float-test/test_lpg: $(TEST_SRC) $(LIB_FLOAT) build/test_list.h $(HDRS) | build/float-test
	$(CC) $(BASE_CFLAGS) $(CFLAGS) -Ibuild -o $@ $(TEST_SRC) $(LIB_FLOAT) $(LDLIBS)

build/asan/test_lpg: $(TEST_SRC) $(LIB_ASAN) build/test_list.h $(HDRS)
	$(SAN_CC) $(BASE_CFLAGS) -O1 -g $(SAN) -DLPG_DOUBLE -Ibuild -o $@ $(TEST_SRC) $(LIB_ASAN) $(LDLIBS)
build/asan/lpg: $(OBJ_ASAN)
	$(SAN_CC) -O1 -g $(SAN) -o $@ $^ $(LDLIBS)

# build/lpg-mpi: the float program built with mpicc and -DLPG_MPI, so meta-train splits its
# lifetimes and eval its jobs across MPI ranks (src/dist.c; `mpirun -np N build/lpg-mpi
# meta-train <config>`, `... eval <config>`).
# Only this target needs Open MPI; `make mpi` installs it through scripts/install-deps.
MPICC   ?= mpicc
OBJ_MPI := $(patsubst src/%.c,build/mpi/%.o,$(SRC))
mpi:
	@bash scripts/install-deps mpi
	@$(MAKE) --no-print-directory build/lpg-mpi
build/lpg-mpi: $(OBJ_MPI)
	$(MPICC) $(CFLAGS) -o $@ $^ $(LDLIBS)
build/mpi/%.o: src/%.c $(HDRS) | build/mpi
	@mkdir -p $(@D)
	$(MPICC) $(BASE_CFLAGS) $(CFLAGS) -DLPG_MPI -c -o $@ $<

build build/float build/float-test build/double build/asan build/fuzzobj build/mpi:
	@mkdir -p $@

# lpg's version as `git describe` gives it, for the provenance record (src/provenance.c). Only
# asked of git when this folder is the top of a checkout (an unpacked tarball inside some other
# repository must not take that one's version); rewritten only when it changes.
GIT_DESCRIBE := $(shell [ "$$(git rev-parse --show-toplevel 2>/dev/null)" = "$(CURDIR)" ] && \
                  git describe --always --dirty 2>/dev/null)
build/git_describe.h: FORCE | build
	@echo '#define LPG_GIT_DESCRIBE "$(or $(GIT_DESCRIBE),unknown: not built from a git checkout)"' > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@
$(foreach d,float double asan fuzzobj mpi,build/$(d)/provenance.o): build/git_describe.h

# Fuzz targets (fuzz/*.c) with clang's libFuzzer over the product (float) sources, sanitized as
# above. `make fuzz` builds them; fuzz/run runs each on its committed seed corpus and regression
# inputs and then for FUZZ_SECONDS (`make test` does, with 30 s each).
FUZZ_SECONDS ?= 30
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
FUZZ_TARGETS := build/fuzz/fuzz_config build/fuzz/fuzz_env build/fuzz/fuzz_checkpoint \
                build/fuzz/fuzz_checkpoint_wrapped
OBJ_FUZZ := $(patsubst src/%.c,build/fuzzobj/%.o,$(LIB_SRC))
build/fuzzobj/%.o: src/%.c $(HDRS) | build/fuzzobj
	@mkdir -p $(@D)
	$(SAN_CC) $(BASE_CFLAGS) -O1 -g $(SAN) -fsanitize=fuzzer-no-link -c -o $@ $<
build/fuzz/fuzz_checkpoint_wrapped: fuzz/fuzz_checkpoint.c fuzz/fuzz.h $(OBJ_FUZZ)
	@mkdir -p build/fuzz
	$(SAN_CC) $(BASE_CFLAGS) -O1 -g $(SAN) -fsanitize=fuzzer -DFUZZ_WRAP -o $@ $< $(OBJ_FUZZ) $(LDLIBS)
build/fuzz/%: fuzz/%.c fuzz/fuzz.h $(OBJ_FUZZ)
	@mkdir -p build/fuzz
	$(SAN_CC) $(BASE_CFLAGS) -O1 -g $(SAN) -fsanitize=fuzzer -o $@ $< $(OBJ_FUZZ) $(LDLIBS)
fuzz: deps
	@$(MAKE) --no-print-directory $(FUZZ_TARGETS)

# The test command of README.md and .ci/run. It also builds build/lpg-mpi (Open MPI is installed
# for it) so tests/test_mpi.sh checks meta-training and eval across ranks against threads, and
# build/bench_lpg so the benchmarks keep compiling.
test:
	@bash scripts/install-deps mpi
	@$(MAKE) --no-print-directory -j$(JOBS) build/lpg build/test_lpg build/float-test/test_lpg \
		build/asan/test_lpg build/asan/lpg build/lpg-mpi build/bench_lpg $(FUZZ_TARGETS)
	@FUZZ_SECONDS=$(FUZZ_SECONDS) bash tests/run-all

test-plain: build/lpg build/test_lpg
	@LPG_BIN=build/lpg ./build/test_lpg

test-float: build/lpg build/float-test/test_lpg
	@LPG_BIN=build/lpg ./build/float-test/test_lpg

sanitize: build/asan/lpg build/asan/test_lpg
	@LPG_BIN=build/asan/lpg ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ./build/asan/test_lpg

build/bench_list.h: $(BENCH_SRC) | build
	@grep -ho '^BENCH([a-z0-9_]*)' $(BENCH_SRC) | sed 's/^BENCH(\(.*\))/X(\1)/' > $@.tmp && mv $@.tmp $@

build/bench_lpg: $(BENCH_SRC) $(LIB_FLOAT) build/bench_list.h $(HDRS) $(wildcard bench/*.h)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) -Ibuild -Ibench -o $@ $(BENCH_SRC) $(LIB_FLOAT) $(LDLIBS)

bench: deps
	@$(MAKE) --no-print-directory build/bench_lpg
	@./build/bench_lpg

# The main job in small: the shipped rule trains fresh agents against tuned A2C on a tabular grid,
# a held-out tabular grid, a random grid and a chain; prints the table, draws results/demo/curves.png.
demo: deps
	@$(MAKE) --no-print-directory build/lpg
	./build/lpg eval configs/demo.json
	scripts/plot results/demo

clean:
	rm -rf build
