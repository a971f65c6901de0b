# Build, test and documentation targets. `make help` lists them.
#
# Layout of the build tree (all under $(BUILD), removed by `make clean`):
#   bin/    one program per stage (stage01 ...), and the tools
#   lib/    libderivation.a: common/ and every stage's model code
#   obj/    object files and their dependency (.d) files
#   tests/  one cmocka test program per tests/test_*.c

BUILD ?= build

# Options (set on the command line, for example `make OPENMP=0`):
#   OPENMP=0    serial build, no OpenMP even when the compiler has it
#   PORTABLE=1  generic x86-64/arm64 code instead of -march=native
#   SANITIZE=1  AddressSanitizer and UndefinedBehaviorSanitizer (used by `make asan`)
OPENMP ?= 1
PORTABLE ?= 0
SANITIZE ?= 0

CC ?= cc
WARNINGS = -std=c11 -Wall -Wextra -pedantic -Werror
ifeq ($(PORTABLE),1)
  OPTIMIZE = -O2
else
  OPTIMIZE = -O3 -march=native
endif
ifeq ($(SANITIZE),1)
  OPTIMIZE = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
  SANITIZE_LDFLAGS = -fsanitize=address,undefined
endif
CFLAGS ?= $(OPTIMIZE)
LDFLAGS ?=
LDLIBS = -lm

# OpenMP: probe the compiler once; a compiler without it (Apple's clang, or
# clang without libomp) falls back to the serial build with a notice.
ifeq ($(OPENMP),1)
  OPENMP_WORKS := $(shell printf 'int main(void){return 0;}' | $(CC) -fopenmp -x c - -o /dev/null 2>/dev/null && echo yes)
  ifeq ($(OPENMP_WORKS),yes)
    OPENMP_FLAGS = -fopenmp
  else
    $(info notice: $(CC) cannot build with -fopenmp; building the serial version (install libomp-dev for clang))
  endif
endif

INCLUDES = -Icommon -Istages
ALL_CFLAGS = $(WARNINGS) $(INCLUDES) $(OPENMP_FLAGS) $(CFLAGS) -MMD -MP
ALL_LDFLAGS = $(OPENMP_FLAGS) $(SANITIZE_LDFLAGS) $(LDFLAGS)

# Sources: every stage directory holds model code and one main.c program.
COMMON_SRC = $(wildcard common/*.c)
STAGE_DIRS = $(sort $(wildcard stages/[0-9][0-9]_*))
STAGE_MODEL_SRC = $(filter-out %/main.c,$(wildcard $(addsuffix /*.c,$(STAGE_DIRS))))
STAGE_MAIN_SRC = $(wildcard $(addsuffix /main.c,$(STAGE_DIRS)))
TEST_SRC = $(wildcard tests/test_*.c)

LIB = $(BUILD)/lib/libderivation.a
LIB_OBJ = $(patsubst %.c,$(BUILD)/obj/%.o,$(COMMON_SRC) $(STAGE_MODEL_SRC))
# stages/01_cnn_baseline/main.c -> build/bin/stage01
stage_bin = $(BUILD)/bin/stage$(firstword $(subst _, ,$(notdir $(1))))
STAGE_BINS = $(foreach dir,$(STAGE_DIRS),$(if $(wildcard $(dir)/main.c),$(call stage_bin,$(dir))))
TEST_BINS = $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRC))

.PHONY: all help test asan docs format clean figures $(addprefix stage,$(notdir $(STAGE_DIRS)))

# Build the library, every stage program and every test program.
all: $(LIB) $(STAGE_BINS) $(TEST_BINS)

# List the targets.
help:
	@echo "make              build everything into $(BUILD)/"
	@echo "make test         build and run every cmocka test program"
	@echo "make asan         run the tests under AddressSanitizer and UBSan ($(BUILD)/asan)"
	@echo "make docs         run Doxygen over common/ and stages/ (fails on any warning)"
	@echo "make stageNN      build and run one stage, such as make stage01"
	@echo "make figures      regenerate the figures in plots/figures/"
	@echo "make format       apply .clang-format to every C source and header"
	@echo "make clean        remove $(BUILD)/"
	@echo "options: OPENMP=0 (serial), PORTABLE=1 (no -march=native), CC=clang, CFLAGS=..., LDFLAGS=..."

# Compile one source file; the .d file beside the object tracks its headers.
$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

# The static library every program and test links against.
$(LIB): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

# One program per stage: stages/NN_name/main.c -> $(BUILD)/bin/stageNN.
define STAGE_PROGRAM
$(call stage_bin,$(1)): $(BUILD)/obj/$(1)/main.o $(LIB)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(ALL_LDFLAGS) $$< $(LIB) $$(LDLIBS) -o $$@
endef
$(foreach dir,$(STAGE_DIRS),$(if $(wildcard $(dir)/main.c),$(eval $(call STAGE_PROGRAM,$(dir)))))

# One cmocka program per tests/test_*.c.
$(BUILD)/tests/%: $(BUILD)/obj/tests/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) $< $(LIB) -lcmocka $(LDLIBS) -o $@

# Run every test program; stop with a non-zero status on the first failure.
test: $(TEST_BINS)
	@set -e; for t in $(TEST_BINS); do echo "== $$t"; $$t; done

# The same tests, built separately with AddressSanitizer and UndefinedBehaviorSanitizer.
asan:
	$(MAKE) BUILD=$(BUILD)/asan SANITIZE=1 OPENMP=0 test

# API documentation into $(BUILD)/docs; any Doxygen warning fails the target.
docs:
	@mkdir -p $(BUILD)/docs
	doxygen Doxyfile 2> $(BUILD)/docs/warnings.txt
	@if [ -s $(BUILD)/docs/warnings.txt ]; then cat $(BUILD)/docs/warnings.txt; echo "make docs: Doxygen warned (see above)"; exit 1; fi

# Build and run one stage, so a lab can hand out one stage at a time: make stage01.
$(addprefix stage,$(patsubst stages/%,%,$(STAGE_DIRS))):
stage%: $(BUILD)/bin/stage%
	$<

# Apply .clang-format in place.
format:
	clang-format -i $(COMMON_SRC) $(wildcard common/*.h) $(wildcard stages/*/*.[ch]) $(TEST_SRC) $(wildcard tests/*.h)

# Remove every build product.
clean:
	rm -rf $(BUILD)

-include $(LIB_OBJ:.o=.d) $(patsubst %.c,$(BUILD)/obj/%.d,$(STAGE_MAIN_SRC) $(TEST_SRC))
