/*
 * The shared command line of the programs (see program.h).
 */
#define _POSIX_C_SOURCE 200809L

#include "program.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint.h"
#include "cli.h"
#include "files.h"
#include "tensor.h"

/* getopt_long values of the shared options, below PROGRAM_OWN_OPTION. */
enum {
    OPT_HELP = 256,
    OPT_SEED,
    OPT_SENTENCE,
    OPT_SENTENCE_FILE,
    OPT_OUT,
    OPT_THREADS,
    OPT_SAVE,
    OPT_LOAD,
    OPT_CHECKPOINT_EVERY,
};

/* Shared options, then the program's own, then the zero entry. */
#define MAX_OPTIONS (9 + PROGRAM_MAX_OWN_OPTIONS + 1)

/* ------------------------------------------------------------------------- */
/* Sentences                                                                  */
/* ------------------------------------------------------------------------- */

void program_reject_sentence(const char *program, const SentenceSet *sentences, size_t index,
                             const char *format, ...)
{
    char reason[1024], shown[CLI_ABBREVIATION_SIZE];
    va_list args;
    va_start(args, format);
    vsnprintf(reason, sizeof reason, format, args);
    va_end(args);

    const char *text = sentences->items[index].text;
    cli_usage_error(program, "invalid sentence %zu '%s': %s", index + 1,
                    cli_abbreviate(text, strlen(text), shown, sizeof shown), reason);
}

/* Writes "N words, at most MAX are allowed (REASON)" into text. */
static void describe_word_limit(const ProgramSpec *spec, size_t words, char *text, size_t size)
{
    const char *reason = spec->max_words_reason;
    snprintf(text, size, "%zu words, at most %zu are allowed%s%s%s", words, spec->max_words,
             reason ? " (" : "", reason ? reason : "", reason ? ")" : "");
}

/* Exits with status 2 when the last sentence added has more than spec->max_words words. */
static void check_word_count(const ProgramSpec *spec, const ProgramOptions *options,
                             const char *text)
{
    size_t words = options->sentences.items[options->sentences.count - 1].words.count;
    if (spec->max_words == 0 || words <= spec->max_words)
        return;
    char limit[512], shown[CLI_ABBREVIATION_SIZE];
    describe_word_limit(spec, words, limit, sizeof limit);
    cli_usage_error(spec->name, "invalid value '%s' for --sentence: %s; shorten the sentence",
                    cli_abbreviate(text, strlen(text), shown, sizeof shown), limit);
}

/* Returns the most sentences the program takes: spec->max_sentences, or PROGRAM_MAX_SENTENCES. */
static size_t max_sentences(const ProgramSpec *spec)
{
    return spec->max_sentences > 0 ? spec->max_sentences : PROGRAM_MAX_SENTENCES;
}

/*
 * Exits with status 2 when the value of @p option brought the sentences
 * above max_sentences(spec). A --sentence-file is checked while it is read
 * (sentence_set_add_file), so that an endless standard input is rejected too.
 */
static void check_sentence_count(const ProgramSpec *spec, const ProgramOptions *options,
                                 const char *option, const char *value)
{
    size_t count = options->sentences.count;
    if (count <= max_sentences(spec))
        return;
    char shown[CLI_ABBREVIATION_SIZE];
    cli_usage_error(spec->name,
                    "invalid value '%s' for %s: %zu sentences in all, at most %zu are allowed; "
                    "split them over several runs",
                    cli_abbreviate(value, strlen(value), shown, sizeof shown), option, count,
                    max_sentences(spec));
}

/* Adds the value of one --sentence; exits with status 2 when it breaks a rule. */
static void add_sentence(const ProgramSpec *spec, ProgramOptions *options, const char *text)
{
    char error[512], shown[CLI_ABBREVIATION_SIZE];
    if (!sentence_set_add(&options->sentences, text, error, sizeof error))
        cli_usage_error(spec->name, "invalid value '%s' for --sentence: %s",
                        cli_abbreviate(text, strlen(text), shown, sizeof shown), error);
    check_word_count(spec, options, text);
    check_sentence_count(spec, options, "--sentence", text);
}

/* Adds every line of one --sentence-file; exits with status 2 when a line breaks a rule. */
static void add_sentence_file(const ProgramSpec *spec, ProgramOptions *options, const char *path)
{
    char error[1024], shown[CLI_ABBREVIATION_SIZE];
    const char *quoted = cli_abbreviate(path, strlen(path), shown, sizeof shown);
    size_t first = options->sentences.count;
    if (!sentence_set_add_file(&options->sentences, path, max_sentences(spec), error, sizeof error))
        cli_usage_error(spec->name, "invalid value '%s' for --sentence-file: %s", quoted, error);

    /* sentence_set_add_file adds one sentence per line, so line i + 1 is sentence first + i. */
    for (size_t i = first; spec->max_words > 0 && i < options->sentences.count; i++) {
        size_t words = options->sentences.items[i].words.count;
        if (words <= spec->max_words)
            continue;
        char limit[512];
        describe_word_limit(spec, words, limit, sizeof limit);
        cli_usage_error(spec->name,
                        "invalid value '%s' for --sentence-file: %s line %zu has "
                        "%s; shorten the line",
                        quoted, strcmp(path, "-") == 0 ? "standard input" : quoted, i - first + 1,
                        limit);
    }
    check_sentence_count(spec, options, "--sentence-file", path);
}

/* Adds the program's default sentences; they are fixed text, so only memory can fail. */
static void add_default_sentences(const ProgramSpec *spec, ProgramOptions *options)
{
    char error[512];
    for (size_t i = 0; i < spec->default_sentence_count; i++) {
        if (!sentence_set_add(&options->sentences, spec->default_sentences[i], error,
                              sizeof error)) {
            fprintf(stderr, "%s: default sentence %zu: %s\n", spec->name, i + 1, error);
            exit(1);
        }
    }
}

/* ------------------------------------------------------------------------- */
/* Options                                                                    */
/* ------------------------------------------------------------------------- */

/* Fills `all` with the shared options the program takes, then its own; returns `all`. */
static const struct option *collect_options(const ProgramSpec *spec, struct option *all)
{
    static const struct option always[] = {
        {"help", no_argument, NULL, OPT_HELP},
        {"seed", required_argument, NULL, OPT_SEED},
        {"threads", required_argument, NULL, OPT_THREADS},
    };
    static const struct option sentences[] = {
        {"sentence", required_argument, NULL, OPT_SENTENCE},
        {"sentence-file", required_argument, NULL, OPT_SENTENCE_FILE},
    };
    static const struct option out = {"out", required_argument, NULL, OPT_OUT};
    static const struct option checkpoints[] = {
        {"save", required_argument, NULL, OPT_SAVE},
        {"load", required_argument, NULL, OPT_LOAD},
        {"checkpoint-every", required_argument, NULL, OPT_CHECKPOINT_EVERY},
    };

    size_t count = 0;
    for (size_t i = 0; i < sizeof always / sizeof always[0]; i++)
        all[count++] = always[i];
    for (size_t i = 0; spec->takes_sentences && i < sizeof sentences / sizeof sentences[0]; i++)
        all[count++] = sentences[i];
    if (spec->takes_out)
        all[count++] = out;
    for (size_t i = 0; spec->takes_checkpoint && i < sizeof checkpoints / sizeof checkpoints[0];
         i++)
        all[count++] = checkpoints[i];

    /* Own options: a value below PROGRAM_OWN_OPTION would shadow a shared one. */
    for (size_t i = 0; spec->own_options && spec->own_options[i].name; i++) {
        if (i == PROGRAM_MAX_OWN_OPTIONS || spec->own_options[i].val < PROGRAM_OWN_OPTION)
            core_fatal("%s: own option --%s: at most %d options, each val at least %d", spec->name,
                       spec->own_options[i].name, PROGRAM_MAX_OWN_OPTIONS, PROGRAM_OWN_OPTION);
        all[count++] = spec->own_options[i];
    }
    all[count] = (struct option){NULL, 0, NULL, 0};
    return all;
}

/* Exits with status 2 when --out is empty or too long for the file names built in it. */
static void check_out(const char *program, const char *value)
{
    char shown[CLI_ABBREVIATION_SIZE];
    size_t length = strlen(value);
    if (length == 0)
        cli_usage_error(program, "invalid value '' for --out: expected a folder name");
    if (length > PROGRAM_MAX_OUT_BYTES)
        cli_usage_error(program,
                        "invalid value '%s' for --out: at most %d bytes are allowed; "
                        "choose a shorter folder name",
                        cli_abbreviate(value, length, shown, sizeof shown), PROGRAM_MAX_OUT_BYTES);
}

/* Exits with status 2 when a --save or --load file name is empty. */
static const char *check_file_name(const ProgramSpec *spec, const char *option, const char *value)
{
    if (value[0] == '\0')
        cli_usage_error(spec->name, "invalid value '' for %s: expected a file name", option);
    return value;
}

/* Writes the folder part of path into folder [PATH_MAX]: "." when path has no '/'. */
static void copy_folder(const char *path, char *folder)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        strcpy(folder, ".");
    else if (slash == path)
        strcpy(folder, "/");
    else {
        memcpy(folder, path, (size_t)(slash - path));
        folder[slash - path] = '\0';
    }
}

/* Returns the longest file name in folder, in bytes; NAME_MAX when the file system reports none. */
static size_t max_name_bytes(const char *folder)
{
    long limit = pathconf(folder, _PC_NAME_MAX);
    return limit > 0 ? (size_t)limit : NAME_MAX;
}

/*
 * Exits with status 2 when --save cannot be written safely, so that the
 * error comes before any training. The path must not exist as anything but
 * a regular file, because the final rename would replace a device, FIFO,
 * link or folder. Its folder must exist and be writable, and the path and
 * name with ".tmp" added must fit PATH_MAX and NAME_MAX. checkpoint_save
 * checks the file type again before its rename.
 */
static void check_save_path(const char *program, const char *path)
{
    char shown[CLI_ABBREVIATION_SIZE], folder[PATH_MAX];
    const char *name = cli_abbreviate(path, strlen(path), shown, sizeof shown);
    size_t path_bytes = strlen(path) + strlen(".tmp");
    if (path_bytes >= PATH_MAX)
        cli_usage_error(program,
                        "invalid value '%s' for --save: the path with .tmp added has %zu bytes, "
                        "at most %d are allowed; choose a shorter path",
                        name, path_bytes, PATH_MAX - 1);

    struct stat info;
    if (lstat(path, &info) == 0 && !S_ISREG(info.st_mode))
        cli_usage_error(program,
                        "invalid value '%s' for --save: it is %s, not a regular file, and --save "
                        "replaces what is there; give the name of a regular file or a new file",
                        name, describe_file_type(info.st_mode));

    /*
     * The folder is created when missing, as --out is, so that a command such
     * as --save results/stage06/model.ckpt works in a fresh checkout.
     */
    copy_folder(path, folder);
    char error[512];
    const char *problem = NULL;
    if (stat(folder, &info) != 0 && errno == ENOENT &&
        !make_directories(folder, error, sizeof error))
        problem = error;
    else if (stat(folder, &info) != 0)
        problem = strerror(errno);
    else if (!S_ISDIR(info.st_mode))
        problem = "it is not a folder";
    else if (access(folder, W_OK | X_OK) != 0)
        problem = strerror(errno);
    if (problem)
        cli_usage_error(program,
                        "invalid value '%s' for --save: the folder %s cannot be created or "
                        "written (%s); choose a file in a folder you can write to",
                        name, folder, problem);

    /* The save writes FILE.tmp first; a folder there would make it fail only after training. */
    char temporary[PATH_MAX];
    snprintf(temporary, sizeof temporary, "%s.tmp", path);
    if (lstat(temporary, &info) == 0 && S_ISDIR(info.st_mode))
        cli_usage_error(program,
                        "invalid value '%s' for --save: %s.tmp is a directory, and --save writes "
                        "the file there before renaming it; remove that directory or choose "
                        "another file",
                        name, name);

    const char *slash = strrchr(path, '/');
    size_t name_bytes = strlen(slash ? slash + 1 : path) + strlen(".tmp");
    if (name_bytes > max_name_bytes(folder))
        cli_usage_error(program,
                        "invalid value '%s' for --save: the file name with .tmp added has %zu "
                        "bytes, at most %zu are allowed in %s; choose a shorter name",
                        name, name_bytes, max_name_bytes(folder), folder);
}

/* Exits with status 2 for --save or --checkpoint-every values that cannot work. */
static void check_checkpoint_options(const ProgramSpec *spec, const ProgramOptions *options)
{
    if (options->checkpoint_every_given && !options->save_path)
        cli_usage_error(spec->name,
                        "invalid value '%d' for --checkpoint-every: --checkpoint-every needs "
                        "--save; add --save FILE or leave out --checkpoint-every",
                        options->checkpoint_every);
    if (options->save_path)
        check_save_path(spec->name, options->save_path);
}

/* Handles one shared option; returns false when `option` is not one. */
static bool handle_shared_option(const ProgramSpec *spec, int option, const char *value,
                                 ProgramOptions *options)
{
    switch (option) {
    case OPT_HELP:
        spec->print_usage();
        exit(0);
    case OPT_SEED:
        options->seed =
            cli_parse_u64(spec->name, "--seed", value, 0, UINT64_MAX - spec->extra_seeds);
        return true;
    case OPT_THREADS:
        options->threads = cli_parse_int(spec->name, "--threads", value, 1, PROGRAM_MAX_THREADS);
        return true;
    case OPT_SENTENCE:
        add_sentence(spec, options, value);
        return true;
    case OPT_SENTENCE_FILE:
        add_sentence_file(spec, options, value);
        return true;
    case OPT_OUT:
        check_out(spec->name, value);
        options->out_dir = value;
        return true;
    case OPT_SAVE:
        options->save_path = check_file_name(spec, "--save", value);
        return true;
    case OPT_LOAD:
        options->load_path = check_file_name(spec, "--load", value);
        return true;
    case OPT_CHECKPOINT_EVERY:
        options->checkpoint_every =
            cli_parse_int(spec->name, "--checkpoint-every", value, 0, INT_MAX);
        options->checkpoint_every_given = true;
        return true;
    default:
        return false;
    }
}

/* The program name that check_stdout_at_exit reports. */
static const char *stdout_program_name = "program";

/*
 * Runs at exit: results go to stdout, so a write that failed there (a full
 * disk, a closed pipe) must not end with status 0. The reason is known only
 * when the last flush fails now or an earlier files_flush_stdout recorded
 * it: stdio does not keep the errno of a failed write. _exit keeps the handler from running twice
 * and sets the status that exit() cannot change here.
 */
static void check_stdout_at_exit(void)
{
    errno = 0;
    bool flush_failed = fflush(stdout) != 0;
    int code = errno;
    if (flush_failed && code != 0) {
        fprintf(stderr, "%s: writing the results to standard output failed: %s\n",
                stdout_program_name, strerror(code));
        _exit(1);
    }
    code = files_stdout_errno();
    if ((flush_failed || ferror(stdout)) && code != 0) {
        fprintf(stderr, "%s: writing the results to standard output failed: %s\n",
                stdout_program_name, strerror(code));
        _exit(1);
    }
    if (flush_failed || ferror(stdout)) {
        fprintf(stderr,
                "%s: writing the results to standard output failed (an earlier write failed, "
                "and its reason was not recorded)\n",
                stdout_program_name);
        _exit(1);
    }
}

void program_check_stdout_at_exit(const char *program)
{
    static bool registered = false;
    stdout_program_name = program;
    if (registered)
        return;

    /* A closed pipe then fails the write with EPIPE instead of killing the program before it
     * writes its files. */
    signal(SIGPIPE, SIG_IGN);
    registered = atexit(check_stdout_at_exit) == 0;
}

void program_prepare_out(const char *program, const char *out_dir)
{
    char error[512];
    char shown[CLI_ABBREVIATION_SIZE];
    check_out(program, out_dir);
    const char *name = cli_abbreviate(out_dir, strlen(out_dir), shown, sizeof shown);
    if (!make_directories(out_dir, error, sizeof error))
        cli_usage_error(program,
                        "invalid value '%s' for --out: %s; choose a folder you can write to", name,
                        error);
    if (access(out_dir, W_OK) != 0)
        cli_usage_error(program,
                        "invalid value '%s' for --out: the folder is not writable (%s); choose a "
                        "folder you can write to",
                        name, strerror(errno));
}

void program_parse_options(const ProgramSpec *spec, int argc, char **argv, ProgramOptions *options)
{
    struct option all[MAX_OPTIONS];
    const struct option *long_options = collect_options(spec, all);
    *options = (ProgramOptions){.seed = 1,
                                .threads = spec->default_threads,
                                .out_dir = spec->takes_out ? spec->default_out : NULL,
                                .checkpoint_every = PROGRAM_DEFAULT_CHECKPOINT_EVERY};
    sentence_set_init(&options->sentences);
    /* Before the options, so that --help written to a full disk also exits with status 1. */
    program_check_stdout_at_exit(spec->name);

    /* A leading ':' makes getopt_long return ':' for a missing value instead of printing. */
    opterr = 0;
    int option;
    while ((option = getopt_long(argc, argv, ":", long_options, NULL)) != -1) {
        if (handle_shared_option(spec, option, optarg, options))
            continue;
        if (option >= PROGRAM_OWN_OPTION && spec->handle_option)
            spec->handle_option(option, optarg, spec->context);
        else
            cli_reject_option(spec->name, option, argv[optind - 1], long_options);
    }
    if (optind < argc) {
        char shown[CLI_ABBREVIATION_SIZE];
        cli_usage_error(spec->name, "unexpected argument '%s'; every option starts with --",
                        cli_abbreviate(argv[optind], strlen(argv[optind]), shown, sizeof shown));
    }

    check_checkpoint_options(spec, options);
    if (spec->takes_sentences && options->sentences.count == 0)
        add_default_sentences(spec, options);
    if (options->threads > 0)
        core_set_threads(options->threads);
    if (options->out_dir)
        program_prepare_out(spec->name, options->out_dir);
}

bool program_load_checkpoint(const char *program, const ProgramOptions *options, ParamList *params,
                             const char *model_options)
{
    if (!options->load_path)
        return false;
    char error[1024];
    CheckpointLoadStatus status = checkpoint_load(params, options->load_path, error, sizeof error);
    if (status == CHECKPOINT_LOADED)
        return true;
    if (status == CHECKPOINT_READ_FAILED) {
        fprintf(stderr, "%s: %s\n", program, error);
        exit(1);
    }
    fprintf(stderr, "%s: %s; --load needs a file written by %s --save with the same %s\n", program,
            error, program, model_options);
    exit(CLI_EXIT_USAGE);
}

void program_configure_checkpoint(const ProgramOptions *options, TrainConfig *config)
{
    config->checkpoint_path = options->save_path;
    config->checkpoint_every = options->checkpoint_every;
}

void program_options_free(ProgramOptions *options) { sentence_set_free(&options->sentences); }

size_t program_encode_sentence(const char *program, const SentenceSet *sentences, size_t index,
                               const Vocab *vocab, int *ids)
{
    const TokenList *words = &sentences->items[index].words;
    size_t unknown = vocab_encode(vocab, words, ids);
    for (size_t t = 0; unknown > 0 && t < words->count; t++) {
        if (ids[t] != VOCAB_UNKNOWN_ID)
            continue;
        const char *word = token_list_get(words, t);
        char shown[CLI_ABBREVIATION_SIZE];
        fprintf(stderr,
                "%s: note: sentence %zu: '%s' is not in the model's vocabulary and is read as "
                "%s\n",
                program, index + 1, cli_abbreviate(word, strlen(word), shown, sizeof shown),
                VOCAB_UNKNOWN_WORD);
    }
    return unknown;
}
