/**
 * @file program.h
 * @brief The command line that every program shares: --help, --seed,
 *        --sentence, --sentence-file, --out, --threads and, for programs
 *        that train, --save, --load and --checkpoint-every, parsed in one
 *        getopt_long loop that hands the program's own options back to it,
 *        and the checks every sentence passes.
 *
 * A program describes itself in a ProgramSpec and calls
 * program_parse_options once:
 *
 *     enum { OPT_STEPS = PROGRAM_OWN_OPTION, OPT_LAYERS };
 *     static const struct option own[] = {
 *         {"steps", required_argument, NULL, OPT_STEPS},
 *         {"layers", required_argument, NULL, OPT_LAYERS},
 *         {NULL, 0, NULL, 0},
 *     };
 *     static const char *const examples[] = {"the cat sat"};
 *     ProgramSpec spec = {.name = "stage09", .print_usage = print_usage,
 *                         .own_options = own, .handle_option = handle_option,
 *                         .context = &options, .takes_sentences = true,
 *                         .takes_out = true, .default_out = "results/stage09",
 *                         .default_threads = 1, .max_words = 64,
 *                         PROGRAM_DEFAULT_SENTENCES(examples)};
 *     program_parse_options(&spec, argc, argv, &options.common);
 *     ...
 *     program_options_free(&options.common);
 *
 * Every error in the command line, a sentence included, is reported as
 * cli.h describes: "<program>: invalid value 'VALUE' for --OPTION: REASON"
 * with what to do, then exit status 2. Values longer than a line are
 * shortened by cli_abbreviate.
 *
 * Sentence rules: a sentence has 1 to max_words words of well-formed UTF-8
 * without NUL bytes (see tokenize), from --sentence (repeatable) or from
 * --sentence-file, one per line ('-' reads standard input). An empty line,
 * a line of spaces only and a file without lines are errors, and so are
 * more than max_sentences (by default PROGRAM_MAX_SENTENCES) sentences in
 * all; a --sentence-file is read only
 * up to the first line past that limit, so an endless standard input is
 * rejected too. A line may be up to CLI_MAX_LINE_BYTES (64 MiB) long, so
 * a program with max_words 0 must check the sizes its model allocates for
 * n words before it allocates them.
 */
#ifndef PROGRAM_H
#define PROGRAM_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "optim.h"
#include "sentence_set.h"
#include "train.h"

/**
 * The first getopt_long value (struct option's val) of a program's own
 * options. The shared options use values below it.
 */
#define PROGRAM_OWN_OPTION 512

/** The maximum number of own options a program may pass to program_parse_options. */
#define PROGRAM_MAX_OWN_OPTIONS 32

/**
 * The longest --out, in bytes. Programs build file names such as
 * OUT/stage01_distance.csv in 4096-byte buffers, the usual PATH_MAX.
 */
#define PROGRAM_MAX_OUT_BYTES 4000

/** --checkpoint-every when not given: with --save, a checkpoint every this many steps. */
#define PROGRAM_DEFAULT_CHECKPOINT_EVERY 100

/** Turns @p x into a string literal without expanding it; see PROGRAM_STRINGIFY. */
#define PROGRAM_STRINGIFY_(x) #x
/** Turns the value of the macro @p x into a string literal. */
#define PROGRAM_STRINGIFY(x) PROGRAM_STRINGIFY_(x)

/**
 * The --help lines of --save, --load and --checkpoint-every, for the
 * print_usage of a program with takes_checkpoint. Each program adds which
 * run --save writes and what --load skips.
 */
#define PROGRAM_CHECKPOINT_HELP                                                                    \
    "  --save FILE           write the trained parameters to FILE (through FILE.tmp and\n"         \
    "                        a rename) every --checkpoint-every steps and after training;\n"       \
    "                        FILE must be a regular file or a new name in a writable\n"            \
    "                        folder (exit status 2 otherwise, before training); if\n"              \
    "                        training diverges, FILE keeps the last finite weights and\n"          \
    "                        the program exits with status 3; if a save fails, FILE\n"             \
    "                        keeps the last saved weights and the status is 1\n"                   \
    "  --load FILE           read parameters written by --save of this program with the\n"         \
    "                        same model options (exit status 2 if they do not fit, 1 if\n"         \
    "                        reading fails)\n"                                                     \
    "  --checkpoint-every N  steps between saves, 0 or more; needs --save; 0 saves only\n"         \
    "                        after training (default " PROGRAM_STRINGIFY(                          \
        PROGRAM_DEFAULT_CHECKPOINT_EVERY) ")\n"

/**
 * The maximum number of sentences of a program whose ProgramSpec sets no
 * smaller max_sentences. Reading stops one line past it, so that an endless
 * standard input (`yes | stage05 --sentence-file -`) is rejected at once
 * instead of filling the memory.
 */
#define PROGRAM_MAX_SENTENCES 10000

/** The largest --threads of every program. */
#define PROGRAM_MAX_THREADS 1024

/**
 * Handles one of the program's own options: @p option is the val of its
 * struct option, @p value its argument (NULL for no_argument), @p context
 * the spec's context. It reports an invalid value through cli_usage_error.
 */
typedef void (*ProgramOptionFn)(int option, const char *value, void *context);

/** The settings a program passes to program_parse_options. */
typedef struct ProgramSpec {
    const char *name;                     /**< "stage01": the prefix of every message */
    void (*print_usage)(void);            /**< prints the --help text to stdout */
    const struct option *own_options;     /**< the program's own options, each val at least
                                               PROGRAM_OWN_OPTION, ending with a zero entry;
                                               NULL for none */
    ProgramOptionFn handle_option;        /**< called for each own option given */
    void *context;                        /**< passed to handle_option */
    bool takes_sentences;                 /**< offer --sentence and --sentence-file */
    bool takes_out;                       /**< offer --out */
    bool takes_checkpoint;                /**< offer --save FILE, --load FILE and
                                               --checkpoint-every N (see program_load_checkpoint
                                               and program_configure_checkpoint) */
    const char *default_out;              /**< --out when not given (with takes_out) */
    int default_threads;                  /**< --threads when not given; 0 keeps OpenMP's */
    uint64_t extra_seeds;                 /**< seeds used after --seed N (N+1, ...); --seed
                                               stops at UINT64_MAX - extra_seeds */
    const char *const *default_sentences; /**< [default_sentence_count] used when no
                                               sentence is given */
    size_t default_sentence_count;        /**< entries in default_sentences */
    size_t max_words;                     /**< most words per sentence; 0 for no limit */
    const char *max_words_reason;         /**< why, such as "the model has 16 positions";
                                               NULL for none */
    size_t max_sentences;                 /**< most sentences from --sentence and
                                               --sentence-file together; 0 for
                                               PROGRAM_MAX_SENTENCES */
} ProgramSpec;

/**
 * Expands to the two default-sentence fields of a ProgramSpec initializer,
 * both taken from one array of strings.
 */
#define PROGRAM_DEFAULT_SENTENCES(array)                                                           \
    .default_sentences = (array), .default_sentence_count = sizeof(array) / sizeof((array)[0])

/** The values of the shared options, after program_parse_options. */
typedef struct ProgramOptions {
    uint64_t seed;               /**< --seed, default 1 */
    int threads;                 /**< --threads, default spec.default_threads; 0 = OpenMP's */
    const char *out_dir;         /**< --out (points into argv) or spec.default_out; NULL
                                      without takes_out */
    SentenceSet sentences;       /**< every sentence, in order, or the defaults; not encoded */
    const char *save_path;       /**< --save (points into argv); NULL when not given */
    const char *load_path;       /**< --load (points into argv); NULL when not given */
    int checkpoint_every;        /**< --checkpoint-every, default PROGRAM_DEFAULT_CHECKPOINT_EVERY;
                                      0 saves only after the last step */
    bool checkpoint_every_given; /**< --checkpoint-every was given; it needs --save */
} ProgramOptions;

/**
 * Reads @p argv: the shared options into @p options and each own option
 * through spec->handle_option, in the order given. Then it adds the default
 * sentences when none was given and applies --threads (core_set_threads)
 * when it is above 0.
 *
 * Exits with status 0 after printing the usage for --help. Exits with
 * status 2 and a message naming the option and the value for an unknown
 * option, a missing or invalid value, an argument that is not an option,
 * an empty --out or one longer than PROGRAM_MAX_OUT_BYTES, an --out folder
 * that cannot be created or written (checked here, before any work), a
 * sentence that breaks the rules in this file's description, and
 * --checkpoint-every without --save. It also exits with status 2 for a
 * --save path that exists and is not a regular file (lstat, so a symbolic
 * link too), whose folder cannot be created or written (a missing folder
 * is created, as for --out), whose FILE.tmp is a directory, or that is too
 * long once ".tmp" is added (PATH_MAX for the path, the folder's NAME_MAX for
 * the name). Exits with status 1 when memory runs out.
 * @p options owns the sentences until program_options_free.
 */
void program_parse_options(const ProgramSpec *spec, int argc, char **argv, ProgramOptions *options);

/**
 * Makes the program exit with status 1 and a message naming @p program when
 * writing its results to standard output failed (a full disk, a closed
 * pipe), with the reason when the last flush at exit reports it. It also
 * ignores SIGPIPE, so that a closed pipe (`stage05 | head -1`) fails the
 * writes with EPIPE and the program still writes its result files.
 * program_parse_options calls it before it reads any option; programs with
 * their own option parser call it before theirs, so that --help also fails
 * on a full disk.
 */
void program_check_stdout_at_exit(const char *program);

/**
 * Creates the --out folder @p out_dir and checks that files can be written
 * in it, so that a bad folder is reported before any work. Exits with
 * status 2 and a message naming the value when it is empty, longer than
 * PROGRAM_MAX_OUT_BYTES, cannot be created or is not writable.
 * program_parse_options calls it; programs with their own option parser
 * call it after theirs.
 */
void program_prepare_out(const char *program, const char *out_dir);

/**
 * Reads the --load file of @p options into @p params (checkpoint_load).
 * @p model_options names the options that fix the model's shapes, such as
 * "--width and --layers", for the error message.
 * @return true when the parameters were loaded, false when --load was not
 *         given. When the file cannot be loaded it prints "<program>: " and
 *         checkpoint_load's message to stderr and exits, leaving @p params
 *         unchanged until then: with status 2 when the file is rejected
 *         (missing, not a regular file, larger than a checkpoint of
 *         @p params, truncated, another magic number, version or checksum,
 *         a NaN or infinite value, other shapes), with status 1 when memory
 *         runs out or reading fails.
 */
bool program_load_checkpoint(const char *program, const ProgramOptions *options, ParamList *params,
                             const char *model_options);

/**
 * Sets the checkpoint fields of @p config from --save and
 * --checkpoint-every: no checkpoint without --save.
 */
void program_configure_checkpoint(const ProgramOptions *options, TrainConfig *config);

/** Frees the sentences of @p options. */
void program_options_free(ProgramOptions *options);

/**
 * Reports that sentence @p index (0-based) of @p sentences cannot be used:
 * prints "<program>: invalid sentence N 'TEXT': " and the formatted reason,
 * which should say what to do, then exits with status 2 (cli_usage_error).
 */
void program_reject_sentence(const char *program, const SentenceSet *sentences, size_t index,
                             const char *format, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((noreturn, format(printf, 4, 5)))
#endif
    ;

/**
 * Encodes sentence @p index (0-based) of @p sentences with a trained
 * vocabulary into @p ids [words.count]. Each word that @p vocab lacks
 * becomes VOCAB_UNKNOWN_ID, with a note on stderr:
 * "<program>: note: sentence N: 'WORD' is not in the model's vocabulary and
 * is read as <unk>", the word shortened by cli_abbreviate.
 * @return the number of unknown words.
 */
size_t program_encode_sentence(const char *program, const SentenceSet *sentences, size_t index,
                               const Vocab *vocab, int *ids);

#endif /* PROGRAM_H */
