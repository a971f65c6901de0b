/*
 * Tests of the stage programs as a user runs them: each program gets hard
 * sentences, hard files and hard option values, and each run is checked
 * for its exact exit status and the key words of its message. Legal inputs
 * must give exit status 0 and print every word whole. Short trainings of
 * stages 01 and 03 run twice, and with 1 and 2 threads, and must print the
 * same bytes. Checkpoints written by --save of stages 01, 03, 05, 06, 07
 * and 08 must load back to the same results, and damaged ones must be
 * rejected. The attention stages 05 to 08 must show a loaded model's
 * attention weights on a given sentence, printed and in a CSV file.
 * compare must reject every corpus file it cannot use with status 2.
 *
 * The programs are found beside this test: BUILD/tests/test_programs runs
 * BUILD/bin/stageNN, so the sanitizer build tests its own programs. Every
 * file the tests write goes to a temporary folder that the teardown removes.
 */
#define _POSIX_C_SOURCE 200809L
#define _XOPEN_SOURCE 700

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "checkpoint.h"

/* The user and group id of nobody (Debian), for runs that must not read files as root. */
#define NOBODY_ID 65534

/* A program stopped by this alarm after so many seconds counts as hung. */
#define RUN_TIMEOUT_SECONDS 300

/* Words in the line of 1 MiB: "w w ... w" and a line break, 2 bytes per word. */
#define MEGABYTE_WORDS 524288
#define MEGABYTE_WORDS_TEXT "524288 words"

/* Letters of the long word and of the 1 MiB word of the legal sentences. */
#define LONG_WORD_BYTES 10000
#define MEGABYTE_WORD_BYTES (1024 * 1024)

/* ------------------------------------------------------------------------- */
/* The programs                                                               */
/* ------------------------------------------------------------------------- */

/* One stage program and what the tests expect of it. */
typedef struct Program {
    const char *name;            /* "stage01", the file in BUILD/bin */
    const char *fast[8];         /* options that keep a legal run short; NULL-terminated */
    bool takes_out;              /* has --out, which the tests point into their folder */
    const char *too_long;        /* key words of the rejection of a 524,288-word line */
    bool notes_unknown;          /* unknown words become <unk> with a note on stderr */
    const char *numeric[8];      /* every option that takes a number; NULL-terminated */
    const char *zero_allowed[4]; /* numeric options whose range includes 0 */
} Program;

/*
 * The limits come from each program's --help: stage 01 allows 80 words, 04,
 * 06 and the tour 256, 05 16 (its positions), 07 1024, 08 25 (the positions
 * of its section 4 transformer); 02 applies its size guard and 03 its P = 16
 * positions.
 */
static const Program PROGRAMS[] = {
    {"stage01",
     {"--steps", "1", "--seeds", "1", "--distances", "1", NULL},
     true,
     "at most 80 are allowed",
     false,
     {"--layers", "--width", "--steps", "--distances", "--seed", "--seeds", "--threads", NULL},
     {"--layers", "--seed", NULL}},
    {"stage02",
     {NULL},
     true,
     "the limit is",
     false,
     {"--layers", "--width", "--seed", "--threads", NULL},
     {"--seed", NULL}},
    {"stage03",
     {"--steps", "0", NULL},
     false,
     "positions",
     false,
     {"--positions", "--layers", "--width", "--steps", "--seed", "--threads", NULL},
     {"--steps", "--seed", NULL}},
    {"stage04",
     {"--trials", "1", NULL},
     true,
     "at most 256 are allowed",
     false,
     {"--layers", "--width", "--codebook", "--trials", "--seed", "--threads", NULL},
     {"--seed", NULL}},
    {"stage05",
     {"--steps", "1", NULL},
     true,
     "at most 16 are allowed",
     true,
     {"--steps", "--seed", "--threads", NULL},
     {"--seed", NULL}},
    {"stage06",
     {"--steps", "1", "--scorer", "bilinear", NULL},
     true,
     "at most 256 are allowed",
     false,
     {"--width", "--steps", "--seed", "--threads", NULL},
     {"--seed", NULL}},
    {"stage07",
     {"--steps", "1", "--seeds", "1", "--heads", "1", NULL},
     true,
     "at most 1024 are allowed",
     false,
     {"--seeds", "--heads", "--width", "--steps", "--seed", "--threads", NULL},
     {"--seed", NULL}},
    {"stage08",
     {"--steps", "1", "--width", "8", "--heads", "2", NULL},
     true,
     "at most 25 are allowed",
     true,
     {"--layers", "--heads", "--width", "--steps", "--checkpoint-every", "--seed", "--threads",
      NULL},
     {"--steps", "--checkpoint-every", "--seed", NULL}},
    {"tour",
     {NULL},
     true,
     "at most 256 are allowed",
     false,
     {"--width", "--seed", "--threads", NULL},
     {"--seed", NULL}},
};
#define PROGRAM_COUNT (sizeof PROGRAMS / sizeof PROGRAMS[0])

/* Returns the entry of PROGRAMS named name; fails the test when there is none. */
static const Program *program_named(const char *name)
{
    for (size_t p = 0; p < PROGRAM_COUNT; p++)
        if (strcmp(PROGRAMS[p].name, name) == 0)
            return &PROGRAMS[p];
    fail_msg("no program %s in PROGRAMS", name);
    return NULL;
}

/* ------------------------------------------------------------------------- */
/* Test files                                                                 */
/* ------------------------------------------------------------------------- */

/* The temporary folder and the paths of the files in it, set by setup_files. */
static struct {
    char folder[64];
    char out[128];            /* --out of every run */
    char blank_line[128];     /* "the cat", then a line of spaces and a tab */
    char bad_utf8[128];       /* a lone 0xFF byte at offset 4 of line 1 */
    char nul[128];            /* a NUL byte at offset 4 of line 1 */
    char megabyte_words[128]; /* one line of 1 MiB: 524,288 words */
    char legal[128];          /* the legal hard sentences, see setup_files */
    char empty[128];          /* no bytes at all */
    char missing[128];        /* never created */
    char stdout_path[128];    /* what a run printed */
    char stderr_path[128];
    char *long_word;     /* LONG_WORD_BYTES letters y */
    char *megabyte_word; /* MEGABYTE_WORD_BYTES letters x */
    char bin[PATH_MAX];  /* BUILD/bin, found from this program's path */
} files;

/* Writes bytes [length] to path. */
static void write_file(const char *path, const char *bytes, size_t length)
{
    FILE *file = fopen(path, "wb");
    assert_non_null(file);
    assert_int_equal(fwrite(bytes, 1, length, file), length);
    assert_int_equal(fclose(file), 0);
}

/* Writes the folder's file `name` into path. */
static void folder_path(char *path, size_t size, const char *name)
{
    int length = snprintf(path, size, "%s/%s", files.folder, name);
    assert_true(length > 0 && (size_t)length < size);
}

/* Returns count copies of letter, NUL-terminated, in memory the caller frees. */
static char *repeat_letter(char letter, size_t count)
{
    char *text = malloc(count + 1);
    assert_non_null(text);
    memset(text, letter, count);
    text[count] = '\0';
    return text;
}

/* Sets files.bin to BUILD/bin from /proc/self/exe, which is BUILD/tests/test_programs. */
static void find_programs(void)
{
    ssize_t length = readlink("/proc/self/exe", files.bin, sizeof files.bin - 1);
    assert_true(length > 0 && (size_t)length < sizeof files.bin - 8);
    files.bin[length] = '\0';
    for (int i = 0; i < 2; i++) {
        char *slash = strrchr(files.bin, '/');
        assert_non_null(slash);
        *slash = '\0';
    }
    strcat(files.bin, "/bin");
}

/* Writes the 1 MiB line of MEGABYTE_WORDS words "w". */
static void write_megabyte_words(const char *path)
{
    char *line = repeat_letter(' ', 2 * MEGABYTE_WORDS);
    for (size_t i = 0; i < MEGABYTE_WORDS; i++)
        line[2 * i] = 'w';
    line[2 * MEGABYTE_WORDS - 1] = '\n';
    write_file(path, line, 2 * MEGABYTE_WORDS);
    free(line);
}

/*
 * Writes the legal hard sentences, one per line: a single word, a word of
 * 10,000 letters between two short ones, a sentence with "zebra" (a word
 * stage 05 was not trained on) and a single word of 1 MiB.
 */
static void write_legal(const char *path)
{
    FILE *file = fopen(path, "wb");
    assert_non_null(file);
    fprintf(file, "walrus\nthe %s cat\nthere was a zebra on fire and it was roaring\n%s\n",
            files.long_word, files.megabyte_word);
    assert_int_equal(fclose(file), 0);
}

static int setup_files(void **state)
{
    (void)state;
    find_programs();
    snprintf(files.folder, sizeof files.folder, "/tmp/test_programs_XXXXXX");
    assert_non_null(mkdtemp(files.folder));
#define FOLDER_FILE(field, name)                                                                   \
    snprintf(files.field, sizeof files.field, "%s/%s", files.folder, name)
    FOLDER_FILE(out, "out");
    FOLDER_FILE(blank_line, "blank_line.txt");
    FOLDER_FILE(bad_utf8, "bad_utf8.txt");
    FOLDER_FILE(nul, "nul.txt");
    FOLDER_FILE(megabyte_words, "megabyte_words.txt");
    FOLDER_FILE(legal, "legal.txt");
    FOLDER_FILE(empty, "empty.txt");
    FOLDER_FILE(missing, "missing.txt");
    FOLDER_FILE(stdout_path, "stdout");
    FOLDER_FILE(stderr_path, "stderr");
#undef FOLDER_FILE

    files.long_word = repeat_letter('y', LONG_WORD_BYTES);
    files.megabyte_word = repeat_letter('x', MEGABYTE_WORD_BYTES);
    write_file(files.blank_line, "the cat\n \t \n", 12);
    write_file(files.bad_utf8, "the \xff cat\n", 10);
    write_file(files.nul, "the \0 cat\n", 10);
    write_file(files.empty, "", 0);
    write_megabyte_words(files.megabyte_words);
    write_legal(files.legal);
    return 0;
}

/* Removes one file or folder (an nftw callback). */
static int remove_entry(const char *path, const struct stat *info, int type, struct FTW *walk)
{
    (void)info;
    (void)type;
    (void)walk;
    return remove(path);
}

static int teardown_files(void **state)
{
    (void)state;
    nftw(files.folder, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(files.long_word);
    free(files.megabyte_word);
    return 0;
}

/* ------------------------------------------------------------------------- */
/* Running a program                                                          */
/* ------------------------------------------------------------------------- */

/* A command line of up to 47 arguments. */
typedef struct Command {
    char *argv[48]; /* argv[0] is the program's path; NULL-terminated */
    int count;
    char path[PATH_MAX + 32];
    long max_file_bytes; /* above 0: RLIMIT_FSIZE of the run, a full disk for larger files */
} Command;

/* What a run printed and how it ended. */
typedef struct Run {
    int status;     /* exit status, or 128 + the signal that stopped it */
    char *out;      /* stdout, NUL-terminated; owned */
    char *err;      /* stderr, NUL-terminated; owned */
    char line[512]; /* the command line, shortened, for failure messages */
} Run;

static void command_add(Command *command, const char *argument)
{
    assert_true(command->count < 47);
    command->argv[command->count++] = (char *)argument;
    command->argv[command->count] = NULL;
}

/* Starts a command for program, with --out in the test folder when it takes one, and the
 * options that keep a legal run short when fast is true. */
static void command_init(Command *command, const Program *program, bool fast)
{
    int length = snprintf(command->path, sizeof command->path, "%s/%s", files.bin, program->name);
    assert_true(length > 0 && (size_t)length < sizeof command->path);
    command->count = 0;
    command->max_file_bytes = 0;
    command_add(command, command->path);
    if (program->takes_out) {
        command_add(command, "--out");
        command_add(command, files.out);
    }
    for (int i = 0; fast && program->fast[i]; i++)
        command_add(command, program->fast[i]);
}

/* Returns the whole file at path, NUL-terminated, in memory the caller frees. */
static char *read_file(const char *path)
{
    FILE *file = fopen(path, "rb");
    assert_non_null(file);
    assert_int_equal(fseek(file, 0, SEEK_END), 0);
    long size = ftell(file);
    assert_true(size >= 0);
    rewind(file);
    char *text = malloc((size_t)size + 1);
    assert_non_null(text);
    assert_int_equal(fread(text, 1, (size_t)size, file), (size_t)size);
    text[size] = '\0';
    fclose(file);
    return text;
}

/* Writes the command line into run->line, each argument cut to 40 bytes. */
static void describe_command(const Command *command, Run *run)
{
    size_t used = 0;
    run->line[0] = '\0';
    for (int i = 0; i < command->count && used < sizeof run->line; i++) {
        const char *argument = command->argv[i];
        const char *shown = i == 0 ? strrchr(argument, '/') + 1 : argument;
        int written = snprintf(run->line + used, sizeof run->line - used, "%s%.40s%s", i ? " " : "",
                               shown, strlen(shown) > 40 ? "..." : "");
        used += written > 0 ? (size_t)written : 0;
    }
}

/*
 * In the child: standard input from input (or /dev/null), output to the
 * test's files, and with as_nobody the user and group NOBODY_ID, which
 * file permissions apply to (root would read any file).
 */
static void exec_child(const Command *command, const char *input, bool as_nobody)
{
    int in = open(input ? input : "/dev/null", O_RDONLY);
    int out = open(files.stdout_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int err = open(files.stderr_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (in < 0 || out < 0 || err < 0)
        _exit(126);
    dup2(in, STDIN_FILENO);
    dup2(out, STDOUT_FILENO);
    dup2(err, STDERR_FILENO);
    if (as_nobody && (setgid(NOBODY_ID) != 0 || setuid(NOBODY_ID) != 0))
        _exit(125);

    /* A write past the limit then fails with EFBIG, as on a full disk, instead of SIGXFSZ. */
    if (command->max_file_bytes > 0) {
        struct rlimit limit = {(rlim_t)command->max_file_bytes, (rlim_t)command->max_file_bytes};
        if (setrlimit(RLIMIT_FSIZE, &limit) != 0)
            _exit(124);
        signal(SIGXFSZ, SIG_IGN);
    }
    alarm(RUN_TIMEOUT_SECONDS);
    execv(command->argv[0], command->argv);
    _exit(127);
}

/* Runs the command to its end with stdin from input (NULL for none), as user nobody with
 * as_nobody. */
static Run run_command_as(const Command *command, const char *input, bool as_nobody)
{
    Run run;
    describe_command(command, &run);
    if (access(command->argv[0], X_OK) != 0)
        fail_msg("%s is missing: build the programs first (make all)", command->argv[0]);

    fflush(NULL);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0)
        exec_child(command, input, as_nobody);
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    run.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    run.out = read_file(files.stdout_path);
    run.err = read_file(files.stderr_path);
    return run;
}

/* Runs the command to its end with stdin from input (NULL for none). */
static Run run_command(const Command *command, const char *input)
{
    return run_command_as(command, input, false);
}

static void run_free(Run *run)
{
    free(run->out);
    free(run->err);
}

/* Fails unless the run ended with status and its stderr contains every key word. */
static void check_run(const Run *run, int status, const char *const *keywords)
{
    bool ok = run->status == status;
    for (int i = 0; ok && keywords && keywords[i]; i++)
        ok = strstr(run->err, keywords[i]) != NULL;
    if (!ok) {
        print_error("command: %s\nexpected exit status %d and these words on stderr:", run->line,
                    status);
        for (int i = 0; keywords && keywords[i]; i++)
            print_error(" '%s'", keywords[i]);
        print_error("\ngot exit status %d, stderr: %.600s\n", run->status, run->err);
        fail();
    }
}

/* Runs program with the given arguments (NULL-terminated) and checks its exit and stderr. */
static void expect_answer(const Program *program, bool fast, const char *input, int status,
                          const char *const *keywords, ...)
{
    Command command;
    command_init(&command, program, fast);
    va_list args;
    va_start(args, keywords);
    for (const char *argument; (argument = va_arg(args, const char *)) != NULL;)
        command_add(&command, argument);
    va_end(args);

    Run run = run_command(&command, input);
    check_run(&run, status, keywords);
    run_free(&run);
}

/* Shorthand for a list of key words. */
#define WORDS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* ------------------------------------------------------------------------- */
/* Sentences that are rejected                                                */
/* ------------------------------------------------------------------------- */

static void test_programs_empty_sentence_rejected(void **state)
{
    (void)state;
    for (size_t p = 0; p < PROGRAM_COUNT; p++)
        expect_answer(&PROGRAMS[p], false, NULL, 2,
                      WORDS("invalid value '' for --sentence", "no words"), "--sentence", "", NULL);
}

/* Spaces and a tab: the tab is shown as \x09, so the message stays on one line. */
static void test_programs_blank_sentence_rejected(void **state)
{
    (void)state;
    for (size_t p = 0; p < PROGRAM_COUNT; p++)
        expect_answer(&PROGRAMS[p], false, NULL, 2,
                      WORDS("invalid value ' \\x09 ' for --sentence", "no words"), "--sentence",
                      " \t ", NULL);
}

static void test_programs_blank_line_rejected(void **state)
{
    (void)state;
    for (size_t p = 0; p < PROGRAM_COUNT; p++)
        expect_answer(&PROGRAMS[p], false, NULL, 2,
                      WORDS("for --sentence-file", "line 2", "no words"), "--sentence-file",
                      files.blank_line, NULL);
}

/* The lone byte 0xFF is named by its offset and shown escaped. */
static void test_programs_invalid_utf8_argument_rejected(void **state)
{
    (void)state;
    for (size_t p = 0; p < PROGRAM_COUNT; p++)
        expect_answer(&PROGRAMS[p], false, NULL, 2,
                      WORDS("'the \\xFF cat' for --sentence", "invalid UTF-8", "offset 4"),
                      "--sentence", "the \xff cat", NULL);
}

static void test_programs_invalid_utf8_line_rejected(void **state)
{
    (void)state;
    for (size_t p = 0; p < PROGRAM_COUNT; p++)
        expect_answer(&PROGRAMS[p], false, NULL, 2,
                      WORDS("for --sentence-file", "line 1", "invalid UTF-8", "UTF-8 text"),
                      "--sentence-file", files.bad_utf8, NULL);
}

static void test_programs_nul_byte_rejected(void **state)
{
    (void)state;
    for (size_t p = 0; p < PROGRAM_COUNT; p++)
        expect_answer(&PROGRAMS[p], false, NULL, 2,
                      WORDS("for --sentence-file", "line 1", "NUL byte", "offset 4"),
                      "--sentence-file", files.nul, NULL);
}

static void test_programs_nul_byte_stdin_rejected(void **state)
{
    (void)state;
    for (size_t p = 0; p < PROGRAM_COUNT; p++)
        expect_answer(&PROGRAMS[p], false, files.nul, 2, WORDS("standard input line 1", "NUL byte"),
                      "--sentence-file", "-", NULL);
}

/* A line of 1 MiB holds 524,288 words: each program's word limit or size guard rejects it. */
static void test_programs_megabyte_line_rejected(void **state)
{
    (void)state;
    for (size_t p = 0; p < PROGRAM_COUNT; p++)
        expect_answer(&PROGRAMS[p], false, NULL, 2,
                      WORDS(MEGABYTE_WORDS_TEXT, PROGRAMS[p].too_long), "--sentence-file",
                      files.megabyte_words, NULL);
}

static void test_programs_megabyte_stdin_rejected(void **state)
{
    (void)state;
    for (size_t p = 0; p < PROGRAM_COUNT; p++)
        expect_answer(&PROGRAMS[p], false, files.megabyte_words, 2,
                      WORDS(MEGABYTE_WORDS_TEXT, PROGRAMS[p].too_long), "--sentence-file", "-",
                      NULL);
}

/* ------------------------------------------------------------------------- */
/* Files of sentences that are rejected                                       */
/* ------------------------------------------------------------------------- */

static void test_programs_missing_file_rejected(void **state)
{
    (void)state;
    for (size_t p = 0; p < PROGRAM_COUNT; p++)
        expect_answer(&PROGRAMS[p], false, NULL, 2,
                      WORDS("for --sentence-file", "failed to open", "No such file"),
                      "--sentence-file", files.missing, NULL);
}

static void test_programs_folder_as_file_rejected(void **state)
{
    (void)state;
    for (size_t p = 0; p < PROGRAM_COUNT; p++)
        expect_answer(&PROGRAMS[p], false, NULL, 2, WORDS("for --sentence-file", "Is a directory"),
                      "--sentence-file", files.folder, NULL);
}

static void test_programs_empty_file_rejected(void **state)
{
    (void)state;
    for (size_t p = 0; p < PROGRAM_COUNT; p++)
        expect_answer(&PROGRAMS[p], false, NULL, 2,
                      WORDS("for --sentence-file", "has no lines", "one sentence per line"),
                      "--sentence-file", files.empty, NULL);
}

/* ------------------------------------------------------------------------- */
/* Legal hard sentences: one run per program, cached                          */
/* ------------------------------------------------------------------------- */

/* The run of each program on the legal sentences with --seed 0, made on first use. */
static Run legal_runs[PROGRAM_COUNT];
static bool legal_run_done[PROGRAM_COUNT];

static const Run *legal_run(size_t p)
{
    if (!legal_run_done[p]) {
        Command command;
        command_init(&command, &PROGRAMS[p], true);
        command_add(&command, "--seed");
        command_add(&command, "0");
        command_add(&command, "--sentence-file");
        command_add(&command, files.legal);
        legal_runs[p] = run_command(&command, NULL);
        legal_run_done[p] = true;
    }
    return &legal_runs[p];
}

static int teardown_legal_runs(void **state)
{
    for (size_t p = 0; p < PROGRAM_COUNT; p++)
        if (legal_run_done[p])
            run_free(&legal_runs[p]);
    return teardown_files(state);
}

/* Fails unless the legal run of program p ended with 0 and printed text whole. */
static void check_printed(size_t p, const char *text, const char *what)
{
    const Run *run = legal_run(p);
    check_run(run, 0, NULL);
    if (!strstr(run->out, text))
        fail_msg("%s: stdout lacks %s (command: %s)", PROGRAMS[p].name, what, run->line);
}

static void test_programs_single_word_accepted(void **state)
{
    (void)state;
    for (size_t p = 0; p < PROGRAM_COUNT; p++)
        check_printed(p, "walrus", "the single-word sentence 'walrus'");
}

static void test_programs_long_word_kept_whole(void **state)
{
    (void)state;
    for (size_t p = 0; p < PROGRAM_COUNT; p++)
        check_printed(p, files.long_word, "the word of 10,000 letters, whole");
}

static void test_programs_megabyte_word_kept_whole(void **state)
{
    (void)state;
    for (size_t p = 0; p < PROGRAM_COUNT; p++)
        check_printed(p, files.megabyte_word, "the word of 1 MiB, whole");
}

/* --seed 0 is in range for every program; the legal run uses it. */
static void test_programs_seed_zero_accepted(void **state)
{
    (void)state;
    for (size_t p = 0; p < PROGRAM_COUNT; p++)
        check_run(legal_run(p), 0, NULL);
}

/*
 * Stage 05 and stage 08's section 4 have a trained vocabulary, so "zebra"
 * becomes <unk> with a note. The other programs build their vocabulary from
 * the sentences given, so no word is unknown and no note appears.
 */
static void test_programs_unknown_words_handled(void **state)
{
    (void)state;
    for (size_t p = 0; p < PROGRAM_COUNT; p++) {
        const Run *run = legal_run(p);
        check_run(run, 0, NULL);
        bool noted = strstr(run->err, "'zebra' is not in the model's vocabulary and is read as "
                                      "<unk>") != NULL;
        if (noted != PROGRAMS[p].notes_unknown)
            fail_msg("%s: expected %s note about 'zebra' on stderr, got: %.400s", PROGRAMS[p].name,
                     PROGRAMS[p].notes_unknown ? "a" : "no", run->err);
    }
}

/* --help documents what happens to a word outside the vocabulary. */
static void test_programs_help_documents_unknown_words(void **state)
{
    (void)state;
    for (size_t p = 0; p < PROGRAM_COUNT; p++) {
        Command command;
        command_init(&command, &PROGRAMS[p], false);
        command_add(&command, "--help");
        Run run = run_command(&command, NULL);
        check_run(&run, 0, NULL);
        const char *expected = PROGRAMS[p].notes_unknown ? "<unk>" : "so no word is unknown";
        if (!strstr(run.out, expected))
            fail_msg("%s --help does not say '%s'", PROGRAMS[p].name, expected);
        run_free(&run);
    }
}

/* ------------------------------------------------------------------------- */
/* Option values                                                              */
/* ------------------------------------------------------------------------- */

/* Expects every numeric option of every program to reject value, naming both. */
static void expect_numeric_rejected(const char *value, const char *shown)
{
    for (size_t p = 0; p < PROGRAM_COUNT; p++) {
        for (int i = 0; PROGRAMS[p].numeric[i]; i++) {
            char expected[128];
            snprintf(expected, sizeof expected, "invalid value '%s' for %s", shown,
                     PROGRAMS[p].numeric[i]);
            expect_answer(&PROGRAMS[p], false, NULL, 2, WORDS(expected, "expected"),
                          PROGRAMS[p].numeric[i], value, NULL);
        }
    }
}

static void test_programs_negative_values_rejected(void **state)
{
    (void)state;
    expect_numeric_rejected("-1", "-1");
}

static void test_programs_text_values_rejected(void **state)
{
    (void)state;
    expect_numeric_rejected("abc", "abc");
}

/* 10^23 is above every limit, UINT64_MAX (about 1.8e19) included. */
static void test_programs_huge_values_rejected(void **state)
{
    (void)state;
    expect_numeric_rejected("100000000000000000000000", "100000000000000000000000");
}

/* A value of 5,000 digits is named by its first 48 and its length. */
static void test_programs_huge_value_shortened(void **state)
{
    (void)state;
    char *digits = repeat_letter('7', 5000);
    for (size_t p = 0; p < PROGRAM_COUNT; p++)
        expect_answer(&PROGRAMS[p], false, NULL, 2, WORDS("for --seed", "77777... (5000 bytes)"),
                      "--seed", digits, NULL);
    free(digits);
}

static bool allows_zero(const Program *program, const char *option)
{
    for (int i = 0; program->zero_allowed[i]; i++)
        if (strcmp(program->zero_allowed[i], option) == 0)
            return true;
    return false;
}

/* 0 is rejected where the range starts at 1 or 2, and runs where it starts at 0. */
static void test_programs_zero_values(void **state)
{
    (void)state;
    for (size_t p = 0; p < PROGRAM_COUNT; p++) {
        for (int i = 0; PROGRAMS[p].numeric[i]; i++) {
            const char *option = PROGRAMS[p].numeric[i];
            char expected[128];
            snprintf(expected, sizeof expected, "invalid value '0' for %s", option);
            if (strcmp(option, "--seed") == 0)
                continue; /* the legal runs use --seed 0 */
            if (strcmp(option, "--checkpoint-every") == 0)
                continue; /* needs --save: see test_checkpoint_every_needs_save */
            if (allows_zero(&PROGRAMS[p], option))
                expect_answer(&PROGRAMS[p], true, NULL, 0, NULL, option, "0", NULL);
            else
                expect_answer(&PROGRAMS[p], false, NULL, 2, WORDS(expected), option, "0", NULL);
        }
    }
}

static void test_programs_unknown_option_rejected(void **state)
{
    (void)state;
    for (size_t p = 0; p < PROGRAM_COUNT; p++)
        expect_answer(&PROGRAMS[p], false, NULL, 2, WORDS("unknown option '--bogus'", "--help"),
                      "--bogus", NULL);
}

static void test_programs_missing_value_rejected(void **state)
{
    (void)state;
    for (size_t p = 0; p < PROGRAM_COUNT; p++)
        expect_answer(&PROGRAMS[p], false, NULL, 2, WORDS("option '--seed' requires a value"),
                      "--seed", NULL);
}

static void test_programs_stray_argument_rejected(void **state)
{
    (void)state;
    for (size_t p = 0; p < PROGRAM_COUNT; p++)
        expect_answer(&PROGRAMS[p], false, NULL, 2, WORDS("unexpected argument 'stray'"), "stray",
                      NULL);
}

static void test_programs_bad_out_rejected(void **state)
{
    (void)state;
    char *long_name = repeat_letter('o', 5000);
    for (size_t p = 0; p < PROGRAM_COUNT; p++) {
        if (!PROGRAMS[p].takes_out)
            continue;
        expect_answer(&PROGRAMS[p], false, NULL, 2,
                      WORDS("invalid value '' for --out", "folder name"), "--out", "", NULL);
        expect_answer(&PROGRAMS[p], false, NULL, 2,
                      WORDS("for --out", "(5000 bytes)", "at most 4000 bytes"), "--out", long_name,
                      NULL);
        /* /dev/null is a file, so no folder can be created below it: rejected before any work. */
        expect_answer(&PROGRAMS[p], false, NULL, 2,
                      WORDS("invalid value '/dev/null/x' for --out", "choose a folder"), "--out",
                      "/dev/null/x", NULL);
    }
    free(long_name);
}

/* ------------------------------------------------------------------------- */
/* The corpus of compare                                                      */
/* ------------------------------------------------------------------------- */

/* compare with task 3 only and the short recipe; it reads the corpus before any training. */
static const Program COMPARE_TEXT = {
    .name = "compare", .fast = {"--tasks", "text", "--quick", NULL}, .takes_out = true};

/* The first bytes of a 64-bit ELF file, split after \x7f so that "E" is not a hex digit. */
#define ELF_START                                                                                  \
    "\x7f"                                                                                         \
    "ELF\x02\x01\x01\0\0\0"

/* Every corpus file that cannot be used stops compare with status 2 before any training. */
static void test_compare_bad_corpus_rejected(void **state)
{
    (void)state;
    char binary[PATH_MAX], short_text[PATH_MAX];
    folder_path(binary, sizeof binary, "binary.bin");
    folder_path(short_text, sizeof short_text, "short.txt");
    write_file(binary, ELF_START, sizeof ELF_START - 1);
    write_file(short_text, "hello world\n", 12);

    expect_answer(&COMPARE_TEXT, true, NULL, 2,
                  WORDS("cannot read corpus", "No such file", "make data", "--corpus"), "--corpus",
                  files.missing, NULL);
    expect_answer(&COMPARE_TEXT, true, NULL, 2, WORDS("is a directory"), "--corpus", files.folder,
                  NULL);
    expect_answer(&COMPARE_TEXT, true, NULL, 2, WORDS("is empty"), "--corpus", files.empty, NULL);
    expect_answer(&COMPARE_TEXT, true, NULL, 2, WORDS("not UTF-8 text", "NUL"), "--corpus", binary,
                  NULL);
    expect_answer(&COMPARE_TEXT, true, NULL, 2, WORDS("not a regular file"), "--corpus",
                  "/dev/null", NULL);
    expect_answer(&COMPARE_TEXT, true, NULL, 2, WORDS("has 2 words, too few"), "--corpus",
                  short_text, NULL);
    expect_answer(&COMPARE_TEXT, true, NULL, 2, WORDS("invalid value '' for --corpus"), "--corpus",
                  "", NULL);
}

/* Copies the file at source to target with mode 0755. */
static void copy_executable(const char *source, const char *target)
{
    FILE *in = fopen(source, "rb"), *out = fopen(target, "wb");
    assert_non_null(in);
    assert_non_null(out);
    char buffer[1 << 16];
    for (size_t got; (got = fread(buffer, 1, sizeof buffer, in)) > 0;)
        assert_int_equal(fwrite(buffer, 1, got, out), got);
    assert_false(ferror(in));
    fclose(in);
    assert_int_equal(fclose(out), 0);
    assert_int_equal(chmod(target, 0755), 0);
}

/*
 * A corpus without read permission. Root reads every file, so as root the
 * run drops to user nobody. nobody must then reach the program and the
 * file, and write --out: it runs a copy of compare inside the test folder,
 * which is opened to other users (search only) for this run, with --out in
 * a folder that everyone may write.
 */
static void test_compare_unreadable_corpus_rejected(void **state)
{
    (void)state;
    char corpus[PATH_MAX], program[PATH_MAX], out[PATH_MAX];
    folder_path(corpus, sizeof corpus, "unreadable.txt");
    write_file(corpus, "a corpus that nobody may read\n", 30);
    assert_int_equal(chmod(corpus, 0), 0);

    bool as_nobody = geteuid() == 0;
    Command command;
    command_init(&command, &COMPARE_TEXT, true);
    if (as_nobody) {
        folder_path(program, sizeof program, "compare_copy");
        copy_executable(command.path, program);
        command.argv[0] = program;
        assert_int_equal(chmod(files.folder, 0711), 0);

        /* compare checks that it can write --out first; the last --out given counts. */
        folder_path(out, sizeof out, "out_for_nobody");
        assert_int_equal(mkdir(out, 0777), 0);
        assert_int_equal(chmod(out, 0777), 0);
        command_add(&command, "--out");
        command_add(&command, out);
    }
    command_add(&command, "--corpus");
    command_add(&command, corpus);

    Run run = run_command_as(&command, NULL, as_nobody);
    assert_int_equal(chmod(files.folder, 0700), 0);
    check_run(&run, 2, WORDS("cannot open corpus", "Permission denied", "--corpus"));
    run_free(&run);
}

/* ------------------------------------------------------------------------- */
/* Determinism                                                                */
/* ------------------------------------------------------------------------- */

/* Runs program with the arguments and --threads threads; returns its stdout, owned. */
static char *run_for_output(const Program *program, const char *const *arguments,
                            const char *threads)
{
    Command command;
    command_init(&command, program, false);
    for (int i = 0; arguments[i]; i++)
        command_add(&command, arguments[i]);
    command_add(&command, "--threads");
    command_add(&command, threads);

    Run run = run_command(&command, NULL);
    check_run(&run, 0, NULL);
    free(run.err);
    return run.out;
}

/* Fails with the first differing line unless both outputs have the same bytes. */
static void check_same_output(const char *label, const char *first, const char *second)
{
    if (strcmp(first, second) == 0)
        return;
    size_t at = 0;
    while (first[at] == second[at])
        at++;
    while (at > 0 && first[at - 1] != '\n')
        at--;
    fail_msg("%s: outputs differ from byte %zu on:\n  first:  %.120s\n  second: %.120s", label, at,
             first + at, second + at);
}

/* Trains with one program's arguments twice with 1 thread and once with 2. */
static void check_training_repeats(const Program *program, const char *const *arguments)
{
    char *first = run_for_output(program, arguments, "1");
    char *again = run_for_output(program, arguments, "1");
    char *two = run_for_output(program, arguments, "2");
    check_same_output("same seed, 1 thread, two runs", first, again);
    check_same_output("same seed, 1 thread against 2 threads", first, two);
    free(first);
    free(again);
    free(two);
}

/* The stage 01 CNN trained for 20 steps on distance 1. */
static void test_determinism_stage01(void **state)
{
    (void)state;
    check_training_repeats(&PROGRAMS[0],
                           WORDS("--distances", "1", "--steps", "20", "--seeds", "1"));
}

/* Stage 02 and stage 03 trained for 20 steps on the word order task. */
static void test_determinism_stage03(void **state)
{
    (void)state;
    check_training_repeats(&PROGRAMS[2], WORDS("--steps", "20"));
}

/* ------------------------------------------------------------------------- */
/* Checkpoints: --save and --load                                             */
/* ------------------------------------------------------------------------- */

/* Returns the first line of text that starts with prefix (after spaces), owned; fails if none. */
static char *find_line(const char *text, const char *prefix)
{
    for (const char *line = text; *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : "") {
        const char *start = line + strspn(line, " ");
        if (strncmp(start, prefix, strlen(prefix)) != 0)
            continue;
        size_t length = strcspn(line, "\n");
        char *copy = malloc(length + 1);
        assert_non_null(copy);
        memcpy(copy, line, length);
        copy[length] = '\0';
        return copy;
    }
    fail_msg("no line starts with '%s' in:\n%.600s", prefix, text);
    return NULL;
}

/* Returns whether the files at the two paths hold the same bytes; checkpoints contain NULs. */
static bool same_bytes(const char *first_path, const char *second_path)
{
    FILE *first = fopen(first_path, "rb"), *second = fopen(second_path, "rb");
    assert_non_null(first);
    assert_non_null(second);
    int a, b;
    do {
        a = fgetc(first);
        b = fgetc(second);
    } while (a == b && a != EOF);
    fclose(first);
    fclose(second);
    return a == b;
}

/* Runs program with the arguments and returns its stdout, owned; fails unless it exits 0. */
static char *run_ok(const Program *program, const char *const *arguments)
{
    return run_for_output(program, arguments, "1");
}

/*
 * Stage 01 trained for 20 steps and saved, then loaded without training:
 * the held-out accuracy row of distance 3 must be the same, because the
 * accuracy is measured on the same held-out stream with the same weights.
 * Saving the loaded model again must give the same bytes (a bit-identical
 * round trip), and no .tmp file may be left.
 */
static void test_checkpoint_stage01_round_trip(void **state)
{
    (void)state;
    char saved[PATH_MAX], again[PATH_MAX], temporary[PATH_MAX + 8];
    folder_path(saved, sizeof saved, "stage01.ckpt");
    folder_path(again, sizeof again, "stage01_again.ckpt");
    snprintf(temporary, sizeof temporary, "%s.tmp", saved);

    char *trained = run_ok(
        &PROGRAMS[0], WORDS("--distances", "3", "--steps", "20", "--seeds", "1", "--save", saved));
    char *loaded = run_ok(
        &PROGRAMS[0], WORDS("--distances", "3", "--seeds", "1", "--load", saved, "--save", again));
    char *trained_row = find_line(trained, "3 ");
    char *loaded_row = find_line(loaded, "3 ");

    assert_string_equal(trained_row, loaded_row);
    assert_true(same_bytes(saved, again));
    assert_int_equal(access(temporary, F_OK), -1);
    assert_non_null(strstr(loaded, "No training"));
    free(trained);
    free(loaded);
    free(trained_row);
    free(loaded_row);
}

/* Bytes of the largest checkpoint that the copying helpers below read. */
#define MAX_CHECKPOINT_BYTES (1 << 16)

/* Reads the checkpoint at source into bytes [MAX_CHECKPOINT_BYTES]; returns its size. */
static size_t read_checkpoint(const char *source, unsigned char *bytes)
{
    FILE *file = fopen(source, "rb");
    assert_non_null(file);
    size_t size = fread(bytes, 1, MAX_CHECKPOINT_BYTES, file);
    fclose(file);
    assert_true(size > 100 && size < MAX_CHECKPOINT_BYTES);
    return size;
}

/* Writes a copy of `source` to `target` with `length` bytes, or one byte changed at `flip`. */
static void write_damaged_copy(const char *source, const char *target, long length, long flip)
{
    unsigned char bytes[MAX_CHECKPOINT_BYTES];
    size_t size = read_checkpoint(source, bytes);
    if (length >= 0)
        size = (size_t)length;
    if (flip >= 0)
        bytes[flip] ^= 0x40;
    write_file(target, (const char *)bytes, size);
}

/*
 * Runs program with the options (NULL-terminated) and --load path. Expects
 * exit status 2 with every key word on stderr, and nothing on stdout
 * because every program checks the file before it prints anything.
 */
static void expect_load_rejected(const Program *program, const char *const *options,
                                 const char *path, const char *const *keywords)
{
    Command command;
    command_init(&command, program, true);
    for (int i = 0; options[i]; i++)
        command_add(&command, options[i]);
    command_add(&command, "--load");
    command_add(&command, path);
    Run run = run_command(&command, NULL);
    check_run(&run, 2, keywords);
    if (run.out[0] != '\0')
        fail_msg("%s: expected no output on stdout, got: %.300s", run.line, run.out);
    run_free(&run);
}

/*
 * Expects program, run with the options that fit the checkpoint at saved,
 * to reject three damaged copies: one cut to 100 bytes, one with a changed
 * magic number and one with byte 90 changed. In every checkpoint these
 * tests write, byte 90 lies in the first parameter's values.
 */
static void expect_damaged_copies_rejected(const Program *program, const char *const *options,
                                           const char *saved)
{
    char damaged[PATH_MAX];
    folder_path(damaged, sizeof damaged, "damaged.ckpt");
    write_damaged_copy(saved, damaged, 100, -1);
    expect_load_rejected(program, options, damaged, WORDS("truncated", "--load"));
    write_damaged_copy(saved, damaged, -1, 0);
    expect_load_rejected(program, options, damaged, WORDS("magic number"));
    write_damaged_copy(saved, damaged, -1, 90);
    expect_load_rejected(program, options, damaged, WORDS("checksum mismatch"));
}

/*
 * Every damaged or mismatched checkpoint is rejected with exit status 2 and
 * the checkpoint module's reason, before any training.
 */
static void test_checkpoint_stage01_bad_files_rejected(void **state)
{
    (void)state;
    char saved[PATH_MAX];
    folder_path(saved, sizeof saved, "stage01_small.ckpt");
    char *trained = run_ok(&PROGRAMS[0], WORDS("--distances", "3", "--steps", "1", "--seeds", "1",
                                               "--width", "4", "--save", saved));
    free(trained);
    const Program *stage01 = &PROGRAMS[0];

    expect_damaged_copies_rejected(stage01, WORDS("--width", "4"), saved);
    expect_answer(stage01, true, NULL, 2, WORDS("does not match", "--width"), "--width", "8",
                  "--load", saved, NULL);
    expect_answer(stage01, true, NULL, 2, WORDS("failed to open", "No such file"), "--load",
                  files.missing, NULL);
    expect_answer(stage01, true, NULL, 2, WORDS("invalid value '' for --save"), "--save", "", NULL);
}

/* Returns whether the file at path exists. */
static bool file_exists(const char *path) { return access(path, F_OK) == 0; }

/* Writes a stage 01 checkpoint to path, for the checks that other stages reject it. */
static void save_stage01_checkpoint(const char *path)
{
    char *trained = run_ok(&PROGRAMS[0], WORDS("--distances", "3", "--steps", "1", "--seeds", "1",
                                               "--width", "4", "--save", path));
    free(trained);
}

/* The programs with --save, --load and --checkpoint-every. */
static const char *const CHECKPOINT_PROGRAMS[] = {"stage01", "stage03", "stage05",
                                                  "stage06", "stage07", "stage08"};
#define CHECKPOINT_PROGRAM_COUNT (sizeof CHECKPOINT_PROGRAMS / sizeof CHECKPOINT_PROGRAMS[0])

/*
 * --save of a symbolic link, a FIFO (standing for a device) or a folder is
 * rejected with status 2 before any work. So are a file below a regular
 * file, a file whose FILE.tmp is a folder, and names too long once ".tmp"
 * is added. What was at the path stays as it was. A missing folder is
 * created, as --out is.
 */
static void test_checkpoint_save_targets_rejected(void **state)
{
    (void)state;
    char link[PATH_MAX], victim[PATH_MAX], fifo[PATH_MAX], folder[PATH_MAX], missing[PATH_MAX];
    char below_file[PATH_MAX], long_name[PATH_MAX], long_path[PATH_MAX + 64];
    char folder_tmp[PATH_MAX], folder_tmp_dir[PATH_MAX];
    folder_path(victim, sizeof victim, "save_victim.txt");
    folder_path(link, sizeof link, "save_link.ckpt");
    folder_path(fifo, sizeof fifo, "save_fifo.ckpt");
    folder_path(folder, sizeof folder, "save_folder.ckpt");
    folder_path(missing, sizeof missing, "save_missing/model.ckpt");
    folder_path(folder_tmp, sizeof folder_tmp, "save_folder_tmp.ckpt");
    folder_path(folder_tmp_dir, sizeof folder_tmp_dir, "save_folder_tmp.ckpt.tmp");
    assert_int_equal(mkdir(folder_tmp_dir, 0700), 0);
    folder_path(below_file, sizeof below_file, "save_victim.txt/model.ckpt");
    write_file(victim, "victim\n", 7);
    assert_int_equal(symlink(victim, link), 0);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_int_equal(mkdir(folder, 0700), 0);

    /* 252 bytes fit NAME_MAX (255) alone but not with ".tmp"; the path stays below PATH_MAX. */
    char *letters = repeat_letter('n', 252);
    folder_path(long_name, sizeof long_name, letters);
    free(letters);
    letters = repeat_letter('p', PATH_MAX);
    snprintf(long_path, sizeof long_path, "%s/%s", files.folder, letters);
    free(letters);

    for (size_t p = 0; p < CHECKPOINT_PROGRAM_COUNT; p++) {
        const Program *program = program_named(CHECKPOINT_PROGRAMS[p]);
        expect_answer(program, true, NULL, 2,
                      WORDS("for --save", "is a symbolic link, not a regular file"), "--save", link,
                      NULL);
        expect_answer(program, true, NULL, 2, WORDS("for --save", "is a FIFO, not a regular file"),
                      "--save", fifo, NULL);
        expect_answer(program, true, NULL, 2,
                      WORDS("for --save", "is a directory, not a regular file"), "--save", folder,
                      NULL);
        expect_answer(program, true, NULL, 2,
                      WORDS("for --save", "cannot be created or written", "it is not a folder"),
                      "--save", below_file, NULL);
        expect_answer(
            program, true, NULL, 2,
            WORDS("for --save", "save_folder_tmp.ckpt.tmp is a directory", "remove that directory"),
            "--save", folder_tmp, NULL);
        expect_answer(
            program, true, NULL, 2,
            WORDS("for --save", "with .tmp added has 256 bytes, at most 255", "shorter name"),
            "--save", long_name, NULL);
        expect_answer(program, true, NULL, 2,
                      WORDS("for --save", "the path with .tmp added", "shorter path"), "--save",
                      long_path, NULL);
    }

    struct stat info;
    assert_int_equal(lstat(link, &info), 0);
    assert_true(S_ISLNK(info.st_mode));
    assert_int_equal(lstat(fifo, &info), 0);
    assert_true(S_ISFIFO(info.st_mode));
    char *text = read_file(victim);
    assert_string_equal(text, "victim\n");
    free(text);
    assert_false(file_exists(long_name));

    expect_answer(&PROGRAMS[0], true, NULL, 0, NULL, "--save", missing, NULL);
    assert_true(file_exists(missing));
}

/*
 * A save that fails during training exits with status 1, the I/O status,
 * and names the file and the reason; the file from an earlier run stays.
 * The run may write files of at most 16 KiB, so the 42 KB checkpoint of
 * stage01's default CNN fails with EFBIG as on a full disk, while its
 * stdout and CSV files fit.
 */
static void test_checkpoint_save_failure_exits_1(void **state)
{
    (void)state;
    char saved[PATH_MAX], temporary[PATH_MAX + 8];
    folder_path(saved, sizeof saved, "save_failure.ckpt");
    snprintf(temporary, sizeof temporary, "%s.tmp", saved);
    write_file(saved, "old", 3);

    Command command;
    command_init(&command, &PROGRAMS[0], true);
    command.max_file_bytes = 16 * 1024;
    command_add(&command, "--save");
    command_add(&command, saved);
    Run run = run_command(&command, NULL);
    check_run(&run, 1,
              WORDS("saving the checkpoint after step 1 failed", "save_failure.ckpt",
                    "File too large", "no checkpoint was saved"));
    run_free(&run);

    char *text = read_file(saved);
    assert_string_equal(text, "old");
    free(text);
    assert_false(file_exists(temporary));
}

/* Returns the offset of the first value in the checkpoint bytes [size], from its first record. */
static size_t first_value_offset(const unsigned char *bytes, size_t size)
{
    uint32_t name_bytes = (uint32_t)bytes[24] | (uint32_t)bytes[25] << 8 |
                          (uint32_t)bytes[26] << 16 | (uint32_t)bytes[27] << 24;
    size_t ndim_offset = 28 + (size_t)name_bytes;
    assert_true(ndim_offset + 4 <= size);
    size_t offset = ndim_offset + 4 + 4 * (size_t)bytes[ndim_offset] + 8;
    assert_true(offset + 4 <= size - 4);
    return offset;
}

/* Copies the checkpoint at source to target with its first value made NaN and the CRC-32
 * rewritten, so that only the value is wrong. */
static void write_nan_copy(const char *source, const char *target)
{
    unsigned char bytes[MAX_CHECKPOINT_BYTES];
    size_t size = read_checkpoint(source, bytes);

    size_t offset = first_value_offset(bytes, size);
    const unsigned char nan_bits[4] = {0x00, 0x00, 0xC0, 0x7F}; /* 0x7FC00000, a quiet NaN */
    memcpy(bytes + offset, nan_bits, 4);
    uint32_t crc = checkpoint_crc32(0, bytes, size - 4);
    for (int i = 0; i < 4; i++)
        bytes[size - 4 + i] = (unsigned char)(crc >> (8 * i));
    write_file(target, (const char *)bytes, size);
}

/*
 * A checkpoint with a NaN and a valid checksum, and a 1 GiB file (sparse,
 * a valid checkpoint followed by a hole) are rejected with status 2 before
 * any output; the large one by its size, without reading it whole.
 */
static void test_checkpoint_bad_values_and_sizes_rejected(void **state)
{
    (void)state;
    char saved[PATH_MAX], damaged[PATH_MAX];
    folder_path(saved, sizeof saved, "stage01_values.ckpt");
    folder_path(damaged, sizeof damaged, "stage01_values_damaged.ckpt");
    save_stage01_checkpoint(saved);
    const Program *stage01 = &PROGRAMS[0];

    write_nan_copy(saved, damaged);
    expect_load_rejected(stage01, WORDS("--width", "4"), damaged,
                         WORDS("the non-finite value NaN", "finite values only", "--load"));

    write_damaged_copy(saved, damaged, -1, -1);
    assert_int_equal(truncate(damaged, (off_t)1 << 30), 0);
    expect_load_rejected(stage01, WORDS("--width", "4"), damaged,
                         WORDS("has 1073741824 bytes, more than the", "bytes of a checkpoint"));
}

/* --steps 0 trains no transformer in stage 08, so --save without --load is rejected there too. */
static void test_stage08_save_needs_steps(void **state)
{
    (void)state;
    char saved[PATH_MAX];
    folder_path(saved, sizeof saved, "stage08_no_steps.ckpt");
    expect_answer(program_named("stage08"), false, NULL, 2,
                  WORDS("invalid value '0' for --steps", "--save", "--steps 1 or more"), "--steps",
                  "0", "--save", saved, NULL);
    assert_false(file_exists(saved));
}

/* --checkpoint-every without --save would be ignored, so every program rejects it; with
 * --save, 0 (save only after training) runs. */
static void test_checkpoint_every_needs_save(void **state)
{
    (void)state;
    for (size_t p = 0; p < CHECKPOINT_PROGRAM_COUNT; p++)
        expect_answer(
            program_named(CHECKPOINT_PROGRAMS[p]), true, NULL, 2,
            WORDS("invalid value '5' for --checkpoint-every", "--checkpoint-every needs --save"),
            "--checkpoint-every", "5", NULL);

    char saved[PATH_MAX];
    folder_path(saved, sizeof saved, "stage08_every_0.ckpt");
    expect_answer(program_named("stage08"), true, NULL, 0, NULL, "--checkpoint-every", "0",
                  "--save", saved, NULL);
    assert_true(file_exists(saved));
}

/*
 * Stage 03's section 5 model trained for 20 steps and saved, then loaded:
 * the held-out accuracy of stage 03 must be the same, because it is
 * measured on the held-out stream of the same seed with the same weights.
 * Stage 02 still trains in both runs, so its line must be the same too.
 * Saving the loaded model again must give the same bytes, with no .tmp left.
 */
static void test_checkpoint_stage03_round_trip(void **state)
{
    (void)state;
    char saved[PATH_MAX], again[PATH_MAX], temporary[PATH_MAX + 8];
    folder_path(saved, sizeof saved, "stage03.ckpt");
    folder_path(again, sizeof again, "stage03_again.ckpt");
    snprintf(temporary, sizeof temporary, "%s.tmp", saved);

    char *trained = run_ok(&PROGRAMS[2], WORDS("--steps", "20", "--save", saved));
    char *loaded = run_ok(&PROGRAMS[2], WORDS("--steps", "20", "--load", saved, "--save", again));
    char *trained_row = find_line(trained, "stage 03 (with positions)");
    char *loaded_row = find_line(loaded, "stage 03 (with positions)");
    char *trained_words = find_line(trained, "stage 02 (no positions)");
    char *loaded_words = find_line(loaded, "stage 02 (no positions)");

    assert_non_null(strstr(trained_row, "final loss"));
    assert_non_null(strstr(loaded_row, "loaded, no training"));
    assert_string_equal(strstr(trained_row, "held-out accuracy"),
                        strstr(loaded_row, "held-out accuracy"));
    assert_string_equal(trained_words, loaded_words);
    assert_non_null(strstr(loaded, "No training of stage 03"));
    assert_true(same_bytes(saved, again));
    assert_false(file_exists(temporary));
    free(trained);
    free(loaded);
    free(trained_row);
    free(loaded_row);
    free(trained_words);
    free(loaded_words);
}

/*
 * Every damaged or mismatched checkpoint is rejected with exit status 2 and
 * the checkpoint module's reason, and a mismatch names the options that fix
 * the shapes. Checkpoint options that section 5 cannot serve are rejected too.
 */
static void test_checkpoint_stage03_bad_files_rejected(void **state)
{
    (void)state;
    char saved[PATH_MAX], stage01[PATH_MAX];
    folder_path(saved, sizeof saved, "stage03_small.ckpt");
    folder_path(stage01, sizeof stage01, "stage01_for_stage03.ckpt");
    const Program *stage03 = &PROGRAMS[2];
    char *trained = run_ok(stage03, WORDS("--steps", "1", "--width", "4", "--save", saved));
    free(trained);
    save_stage01_checkpoint(stage01);

    expect_damaged_copies_rejected(stage03, WORDS("--width", "4"), saved);
    expect_answer(stage03, true, NULL, 2,
                  WORDS("does not match", "shape", "--positions, --layers and --width"), "--width",
                  "8", "--load", saved, NULL);
    expect_answer(stage03, true, NULL, 2,
                  WORDS("does not match", "--positions, --layers and --width"), "--width", "4",
                  "--positions", "8", "--load", saved, NULL);
    expect_answer(stage03, true, NULL, 2, WORDS("does not match", "parameters"), "--load", stage01,
                  NULL);
    expect_answer(stage03, true, NULL, 2, WORDS("failed to open", "No such file"), "--load",
                  files.missing, NULL);
    expect_answer(stage03, true, NULL, 2, WORDS("invalid value '2' for --positions", "--load"),
                  "--positions", "2", "--load", saved, NULL);
    expect_answer(stage03, true, NULL, 2, WORDS("invalid value '0' for --steps", "--save"),
                  "--save", stage01, NULL);
}

/* The tiger sentence of the stage 05 checks: "roaring" at position 9, the tiger at 3. */
#define TIGER_SENTENCE "there was a tiger on fire and it was roaring"

/* Returns the path of a stage 05 checkpoint trained for 30 steps, made on first use. */
static const char *stage05_checkpoint(void)
{
    static char path[PATH_MAX];
    if (path[0] == '\0') {
        folder_path(path, sizeof path, "stage05.ckpt");
        char *trained = run_ok(&PROGRAMS[4], WORDS("--steps", "30", "--save", path));
        free(trained);
    }
    return path;
}

/* Returns the part of stage 05's stdout from the table of its first shown sentence on. */
static const char *stage05_sentence_table(const char *out)
{
    const char *table = strstr(out, "sentence 1, weights of");
    if (!table)
        fail_msg("no table of sentence 1 in:\n%.600s", out);
    return table;
}

/* Writes the path of OUT/stage05_attention.csv into path. */
static void stage05_csv_path(char *path, size_t size)
{
    int length = snprintf(path, size, "%s/stage05_attention.csv", files.out);
    assert_true(length > 0 && (size_t)length < size);
}

/*
 * Stage 05 trained for 30 steps and saved, then loaded: the held-out
 * accuracy, the attention score and the weights of "roaring" in the tiger
 * sentence must be the same bytes, in the table and in the CSV. The loaded
 * parameters are the trained ones, and saving them again gives the same file.
 */
static void test_checkpoint_stage05_round_trip(void **state)
{
    (void)state;
    char saved[PATH_MAX], again[PATH_MAX], temporary[PATH_MAX + 8], csv[PATH_MAX];
    folder_path(saved, sizeof saved, "stage05_round_trip.ckpt");
    folder_path(again, sizeof again, "stage05_again.ckpt");
    snprintf(temporary, sizeof temporary, "%s.tmp", saved);
    stage05_csv_path(csv, sizeof csv);

    char *trained =
        run_ok(&PROGRAMS[4], WORDS("--steps", "30", "--sentence", TIGER_SENTENCE, "--save", saved));
    char *trained_csv = read_file(csv);
    assert_int_equal(remove(csv), 0);
    char *loaded =
        run_ok(&PROGRAMS[4], WORDS("--sentence", TIGER_SENTENCE, "--load", saved, "--save", again));
    char *loaded_csv = read_file(csv);

    char *trained_result = find_line(trained, "final training loss");
    char *loaded_result = find_line(loaded, "held-out accuracy");
    const char *trained_accuracy = strstr(trained_result, "held-out accuracy");
    assert_non_null(trained_accuracy);
    assert_true(strncmp(loaded_result, trained_accuracy, strlen(trained_accuracy)) == 0);
    char *trained_score = find_line(trained, "all ");
    char *loaded_score = find_line(loaded, "all ");
    assert_string_equal(trained_score, loaded_score);
    char *trained_weights = find_line(stage05_sentence_table(trained), "weight ");
    char *loaded_weights = find_line(stage05_sentence_table(loaded), "weight ");
    assert_string_equal(trained_weights, loaded_weights);
    assert_string_equal(trained_csv, loaded_csv);
    assert_non_null(strstr(loaded, "no training ran"));
    assert_null(strstr(loaded, "final training loss"));
    assert_true(same_bytes(saved, again));
    assert_false(file_exists(temporary));

    free(trained_result);
    free(loaded_result);
    free(trained_score);
    free(loaded_score);
    free(trained_weights);
    free(loaded_weights);
    free(trained);
    free(loaded);
    free(trained_csv);
    free(loaded_csv);
}

/* Returns the CSV row of sentence 1 at position, owned; fails if there is none. */
static char *csv_row_at(const char *csv, int position)
{
    char prefix[32];
    snprintf(prefix, sizeof prefix, "1,%d,", position);
    return find_line(csv, prefix);
}

/*
 * --load with --sentence shows that sentence's weights and writes them to
 * the CSV. The query and roarer columns follow the task's rule (by hand:
 * "roaring" at 9 is the query, the tiger at 3 roars). Each query's weights
 * sum to 1, so the CSV's 10 weights, rounded to 6 decimals, sum to 1 within
 * 10 * 5e-7. The figure is checked only when gnuplot is installed.
 */
static void test_checkpoint_stage05_load_shows_sentence(void **state)
{
    (void)state;
    char csv_path[PATH_MAX], png_path[PATH_MAX + 8];
    stage05_csv_path(csv_path, sizeof csv_path);
    snprintf(png_path, sizeof png_path, "%s/stage05_attention.png", files.out);
    remove(csv_path);
    remove(png_path);

    char *loaded =
        run_ok(&PROGRAMS[4], WORDS("--sentence", TIGER_SENTENCE, "--load", stage05_checkpoint()));
    assert_non_null(strstr(loaded, "sentence 1, weights of \"roaring\":"));
    assert_null(strstr(loaded, "sentence 2,"));
    char *word_row = find_line(stage05_sentence_table(loaded), "word ");
    assert_non_null(strstr(word_row, "tiger"));
    assert_non_null(strstr(loaded, "(the word that roars is \"tiger\""));

    char *csv = read_file(csv_path);
    assert_true(strncmp(csv, "sentence,position,word,weight,query,roarer\n", 43) == 0);
    char *tiger = csv_row_at(csv, 3);
    char *roaring = csv_row_at(csv, 9);
    assert_true(strncmp(tiger, "1,3,\"tiger\",", 12) == 0);
    assert_string_equal(tiger + strlen(tiger) - 4, ",0,1");
    assert_true(strncmp(roaring, "1,9,\"roaring\",", 14) == 0);
    assert_string_equal(roaring + strlen(roaring) - 4, ",1,0");

    double sum = 0.0;
    for (int t = 0; t < 10; t++) {
        char *row = csv_row_at(csv, t);
        const char *weight = strchr(strchr(strchr(row, ',') + 1, ',') + 1, ',') + 1;
        sum += strtod(weight, NULL);
        free(row);
    }
    assert_true(fabs(sum - 1.0) < 1e-5);
    assert_null(strstr(csv, "\n1,10,"));

    if (system("command -v gnuplot > /dev/null 2>&1") == 0) {
        char *png = read_file(png_path);
        assert_true(strncmp(png, "\x89PNG", 4) == 0);
        free(png);
    }
    free(loaded);
    free(word_row);
    free(csv);
    free(tiger);
    free(roaring);
}

/*
 * Damaged files, another stage's checkpoints (stage 01's and stage 03's,
 * whose parameters differ in name and count) and a missing file are all
 * rejected with exit status 2. Stage 05 has no option that changes its
 * sizes, and the message states that.
 */
static void test_checkpoint_stage05_bad_files_rejected(void **state)
{
    (void)state;
    char stage01[PATH_MAX], stage03[PATH_MAX];
    folder_path(stage01, sizeof stage01, "stage01_for_stage05.ckpt");
    folder_path(stage03, sizeof stage03, "stage03_for_stage05.ckpt");
    const Program *stage05 = &PROGRAMS[4];
    save_stage01_checkpoint(stage01);
    char *trained = run_ok(&PROGRAMS[2], WORDS("--steps", "1", "--save", stage03));
    free(trained);

    static const char *const no_options[] = {NULL};
    expect_damaged_copies_rejected(stage05, no_options, stage05_checkpoint());
    expect_answer(stage05, true, NULL, 2,
                  WORDS("does not match", "'embedding'", "no option of stage05 changes"), "--load",
                  stage01, NULL);
    expect_answer(stage05, true, NULL, 2, WORDS("does not match", "6 parameters"), "--load",
                  stage03, NULL);
    expect_answer(stage05, true, NULL, 2, WORDS("failed to open", "No such file"), "--load",
                  files.missing, NULL);
}

/* Stage 08's section 4 transformer saved after 10 steps and loaded: same held-out accuracy. */
static void test_checkpoint_stage08_round_trip(void **state)
{
    (void)state;
    char saved[PATH_MAX];
    folder_path(saved, sizeof saved, "stage08.ckpt");
    const Program *stage08 = program_named("stage08");

    char *trained = run_ok(stage08, WORDS("--steps", "10", "--save", saved));
    char *loaded = run_ok(stage08, WORDS("--steps", "10", "--load", saved));
    char *trained_row = find_line(trained, "transformer (L");
    char *loaded_row = find_line(loaded, "transformer (L");

    assert_string_equal(strstr(trained_row, "held-out"), strstr(loaded_row, "held-out"));
    expect_answer(stage08, false, NULL, 2, WORDS("does not match", "--width"), "--width", "16",
                  "--load", saved, NULL);
    free(trained);
    free(loaded);
    free(trained_row);
    free(loaded_row);
}

/* The sentence of the stage 08 attention tests: 6 words of the distance task's vocabulary. */
#define STAGE08_SENTENCE "the dog was on a tail"
#define STAGE08_WORDS 6

/* Returns the text from the line that starts with prefix to the next blank line, owned. */
static char *copy_paragraph(const char *text, const char *prefix)
{
    char *line = find_line(text, prefix);
    const char *start = strstr(text, line);
    free(line);
    const char *end = strstr(start, "\n\n");
    size_t length = end ? (size_t)(end - start) : strlen(start);
    char *copy = malloc(length + 1);
    assert_non_null(copy);
    memcpy(copy, start, length);
    copy[length] = '\0';
    return copy;
}

/*
 * Checks the matrix under the line "block 1, head N:" of one sentence of
 * `words` words: a header line, then one row per query, a word and `words`
 * weights with 3 decimals. Each row is a softmax, so it sums to 1 (an
 * identity); printing rounds each weight by at most 0.0005.
 */
static void check_printed_rows(const char *paragraph, int head, size_t words)
{
    char heading[64];
    snprintf(heading, sizeof heading, "block 1, head %d:", head);
    const char *line = strstr(paragraph, heading);
    assert_non_null(line);
    line = strchr(line, '\n') + 1; /* the heading */
    line = strchr(line, '\n') + 1; /* the key words */
    for (size_t q = 0; q < words; q++) {
        const char *number = line + strspn(line, " ");
        number += strcspn(number, " "); /* the query word */
        double sum = 0.0;
        for (size_t k = 0; k < words; k++) {
            char *end;
            sum += strtod(number, &end);
            assert_true(end > number);
            number = end;
        }
        if (fabs(sum - 1.0) > 0.0005 * (double)words + 1e-9)
            fail_msg("head %d, row %zu sums to %.4f, not 1: %.100s", head, q + 1, sum, line);
        line = strchr(line, '\n') + 1;
    }
}

/*
 * Checks OUT/stage08_attention.csv of one sentence of `words` words and
 * `heads` heads in one block: a row per weight, and the weights of each
 * query sum to 1 within the rounding of 6 decimals.
 */
static void check_attention_csv(int heads, size_t words)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/stage08_attention.csv", files.out);
    char *csv = read_file(path);
    const char *line = strchr(csv, '\n');
    assert_non_null(line);
    assert_true(strncmp(csv, "sentence,layer,head,query,key,weight\n", 37) == 0);

    double sums[8][STAGE08_WORDS] = {{0}};
    size_t rows = 0;
    for (line = line + 1; *line; line = strchr(line, '\n') + 1) {
        int sentence, layer, head;
        size_t query, key;
        double weight;
        assert_int_equal(
            sscanf(line, "%d,%d,%d,%zu,%zu,%lf", &sentence, &layer, &head, &query, &key, &weight),
            6);
        assert_int_equal(sentence, 1);
        assert_int_equal(layer, 1);
        assert_true(head >= 1 && head <= heads && query >= 1 && query <= words);
        sums[head - 1][query - 1] += weight;
        rows++;
    }
    assert_int_equal(rows, (size_t)heads * words * words);
    for (int h = 0; h < heads; h++)
        for (size_t q = 0; q < words; q++)
            assert_true(fabs(sums[h][q] - 1.0) <= 5e-7 * (double)words + 1e-9);
    free(csv);
}

/*
 * Stage 08 trains its section 4 transformer for 5 steps and saves it, then
 * loads it with --steps 0 and shows its attention on a sentence. The loaded
 * run must print the same weights as the training run (the same
 * parameters), every printed row must sum to 1, and the CSV must hold every
 * weight of both heads.
 */
static void test_checkpoint_stage08_attention_of_loaded_model(void **state)
{
    (void)state;
    char saved[PATH_MAX];
    folder_path(saved, sizeof saved, "stage08_small.ckpt");
    const Program *stage08 = program_named("stage08");

    char *trained = run_ok(stage08, WORDS("--steps", "5", "--width", "8", "--heads", "2", "--save",
                                          saved, "--sentence", STAGE08_SENTENCE));
    char *loaded = run_ok(stage08, WORDS("--steps", "0", "--width", "8", "--heads", "2", "--load",
                                         saved, "--sentence", STAGE08_SENTENCE));
    char *trained_weights = copy_paragraph(trained, "Sentence 1, 6 words:");
    char *loaded_weights = copy_paragraph(loaded, "Sentence 1, 6 words:");

    assert_non_null(strstr(loaded, "its parameters come from"));
    assert_string_equal(trained_weights, loaded_weights);
    check_printed_rows(loaded_weights, 1, STAGE08_WORDS);
    check_printed_rows(loaded_weights, 2, STAGE08_WORDS);
    check_attention_csv(2, STAGE08_WORDS);
    free(trained);
    free(loaded);
    free(trained_weights);
    free(loaded_weights);
}

/* A sentence of 25 words fits the 25 positions of stage 08's transformer; 26 do not. */
static void test_stage08_sentence_limit(void **state)
{
    (void)state;
    const Program *stage08 = program_named("stage08");
    const char *limit_sentence = "w w w w w w w w w w w w w w w w w w w w w w w w w";
    char over_limit_sentence[64];
    snprintf(over_limit_sentence, sizeof over_limit_sentence, "%s w", limit_sentence);

    expect_answer(stage08, true, NULL, 0, NULL, "--sentence", limit_sentence, NULL);
    expect_answer(stage08, false, NULL, 2,
                  WORDS("for --sentence", "26 words, at most 25 are allowed", "positions"),
                  "--sentence", over_limit_sentence, NULL);
}

/*
 * Every damaged or mismatched stage 08 checkpoint is rejected with exit
 * status 2 and the checkpoint module's reason, before any training.
 */
static void test_checkpoint_stage08_bad_files_rejected(void **state)
{
    (void)state;
    char saved[PATH_MAX], damaged[PATH_MAX];
    folder_path(saved, sizeof saved, "stage08_damaged_source.ckpt");
    folder_path(damaged, sizeof damaged, "stage08_damaged.ckpt");
    const Program *stage08 = program_named("stage08");
    char *trained =
        run_ok(stage08, WORDS("--steps", "1", "--width", "8", "--heads", "2", "--save", saved));
    free(trained);

    /* The fast options set --width 8 --heads 2, the shapes of the saved model. */
    write_damaged_copy(saved, damaged, 100, -1);
    expect_answer(stage08, true, NULL, 2, WORDS("truncated", "--load"), "--load", damaged, NULL);
    write_damaged_copy(saved, damaged, -1, 0);
    expect_answer(stage08, true, NULL, 2, WORDS("magic number"), "--load", damaged, NULL);
    /* Offset 90 lies in the values of word_embedding, the first record (from offset 62). */
    write_damaged_copy(saved, damaged, -1, 90);
    expect_answer(stage08, true, NULL, 2, WORDS("checksum mismatch"), "--load", damaged, NULL);
    expect_answer(stage08, true, NULL, 2, WORDS("does not match", "--width, --heads and --layers"),
                  "--layers", "2", "--load", saved, NULL);
    expect_answer(stage08, true, NULL, 2, WORDS("failed to open", "No such file"), "--load",
                  files.missing, NULL);
    expect_answer(stage08, true, NULL, 2, WORDS("invalid value '' for --load"), "--load", "", NULL);
}

/* Returns the first `count` space-separated fields of `line` with the spaces before them,
 * owned: the part of a table row up to the first held-out accuracy. */
static char *leading_fields(const char *line, int count)
{
    const char *end = line;
    for (int i = 0; i < count; i++) {
        end += strspn(end, " ");
        end += strcspn(end, " ");
    }
    size_t length = (size_t)(end - line);
    char *copy = malloc(length + 1);
    assert_non_null(copy);
    memcpy(copy, line, length);
    copy[length] = '\0';
    return copy;
}

/*
 * Saves after training with `train` (NULL-terminated), loads with `load` and
 * saves again. The row below `table_header` must agree in its first `fields`
 * fields, the run's name and the held-out accuracy of seed 1. They agree
 * because the accuracy is measured on the same held-out stream with the
 * same weights. The second file must have the same bytes, and no .tmp file
 * may be left.
 */
static void check_round_trip(const Program *program, const char *name, const char *const *train,
                             const char *const *load, const char *table_header, int fields)
{
    char saved[PATH_MAX], again[PATH_MAX], temporary[PATH_MAX + 8], file[64];
    snprintf(file, sizeof file, "%s.ckpt", name);
    folder_path(saved, sizeof saved, file);
    snprintf(file, sizeof file, "%s_again.ckpt", name);
    folder_path(again, sizeof again, file);
    snprintf(temporary, sizeof temporary, "%s.tmp", saved);

    Command command;
    command_init(&command, program, false);
    for (int i = 0; train[i]; i++)
        command_add(&command, train[i]);
    command_add(&command, "--save");
    command_add(&command, saved);
    Run trained = run_command(&command, NULL);
    check_run(&trained, 0, NULL);

    command_init(&command, program, false);
    for (int i = 0; load[i]; i++)
        command_add(&command, load[i]);
    const char *const files_given[] = {"--load", saved, "--save", again};
    for (size_t i = 0; i < 4; i++)
        command_add(&command, files_given[i]);
    Run loaded = run_command(&command, NULL);
    check_run(&loaded, 0, NULL);

    const char *trained_table = strstr(trained.out, table_header);
    const char *loaded_table = strstr(loaded.out, table_header);
    assert_non_null(trained_table);
    assert_non_null(loaded_table);
    char *trained_line = find_line(strchr(trained_table, '\n') + 1, "");
    char *loaded_line = find_line(strchr(loaded_table, '\n') + 1, "");
    char *trained_row = leading_fields(trained_line, fields);
    char *loaded_row = leading_fields(loaded_line, fields);
    assert_string_equal(trained_row, loaded_row);
    assert_true(same_bytes(saved, again));
    assert_int_equal(access(temporary, F_OK), -1);
    assert_non_null(strstr(loaded.out, "No training ran"));
    free(trained_line);
    free(loaded_line);
    free(trained_row);
    free(loaded_row);
    run_free(&trained);
    run_free(&loaded);
}

/*
 * Checks the weights printed for the row of query word `word` in `output`,
 * the first such row after `from`. Every query's weights are a softmax, so
 * the values must sum to 1 within `count` times 0.0005, half of the last
 * printed digit.
 */
static void check_weight_row(const char *output, const char *from, const char *word, int count)
{
    const char *start = strstr(output, from);
    assert_non_null(start);
    char prefix[64];
    snprintf(prefix, sizeof prefix, "%s ", word);
    char *line = find_line(start, prefix);
    const char *cursor = strstr(line, word) + strlen(word);
    double sum = 0.0;
    int values = 0;
    for (char *end;; cursor = end) {
        double value = strtod(cursor, &end);
        if (end == cursor)
            break;
        assert_true(value >= 0.0 && value <= 1.0);
        sum += value;
        values++;
    }
    if (values != count || fabs(sum - 1.0) > count * 0.0005 + 1e-9)
        fail_msg("row '%s': expected %d weights summing to 1, got %d summing to %.4f", line, count,
                 values, sum);
    free(line);
}

/*
 * Checks OUT/NAME.csv: the header, `rows` rows, and the weights of query 0
 * of sentence 1 and each head summing to 1 within 6 decimals' rounding.
 */
static void check_weights_csv(const char *name, int rows, int heads, int words)
{
    char path[PATH_MAX];
    int length = snprintf(path, sizeof path, "%s/%s.csv", files.out, name);
    assert_true(length > 0 && (size_t)length < sizeof path);
    char *text = read_file(path);
    const char *header = "sentence,head,query,key,query_word,key_word,weight\n";
    assert_memory_equal(text, header, strlen(header));

    int count = 0;
    double sums[8] = {0};
    assert_true(heads <= 8);
    for (const char *line = strchr(text, '\n') + 1; *line; line = strchr(line, '\n') + 1) {
        int sentence, head, query, key;
        assert_int_equal(sscanf(line, "%d,%d,%d,%d,", &sentence, &head, &query, &key), 4);
        assert_true(head >= 1 && head <= heads);

        /* The weight is the last field of the line. */
        const char *weight = strchr(line, '\n');
        assert_non_null(weight);
        while (weight > line && weight[-1] != ',')
            weight--;
        if (sentence == 1 && query == 0)
            sums[head - 1] += strtod(weight, NULL);
        count++;
    }
    assert_int_equal(count, rows);
    for (int h = 0; h < heads; h++)
        if (fabs(sums[h] - 1.0) > words * 5e-7 + 1e-9)
            fail_msg("%s: head %d, query 0: weights sum to %.7f, not 1", name, h + 1, sums[h]);
    free(text);
}

/* Stage 06: 20 steps of the bilinear scorer saved and loaded give the same accuracy. */
static void test_checkpoint_stage06_round_trip(void **state)
{
    (void)state;
    check_round_trip(&PROGRAMS[5], "stage06", WORDS("--scorer", "bilinear", "--steps", "20"),
                     WORDS("--scorer", "bilinear"), "   scorer ", 2);
}

/*
 * Stage 06 rejects damaged files, a file of another width, scorer or
 * activation (the activation is part of the MLP's parameter names), and a
 * sentence longer than the model's 14 positions, all with exit status 2.
 */
static void test_checkpoint_stage06_bad_files_rejected(void **state)
{
    (void)state;
    const Program *stage06 = &PROGRAMS[5];
    char saved[PATH_MAX];
    folder_path(saved, sizeof saved, "stage06_small.ckpt");
    char *trained = run_ok(
        stage06, WORDS("--steps", "1", "--scorer", "bilinear", "--width", "4", "--save", saved));
    free(trained);

    expect_damaged_copies_rejected(stage06, WORDS("--width", "4"), saved);
    expect_load_rejected(stage06, WORDS("--width", "4"), files.missing,
                         WORDS("failed to open", "No such file"));
    expect_load_rejected(stage06, WORDS("--width", "8"), saved,
                         WORDS("does not match", "--width, --scorer and --activation"));
    expect_load_rejected(stage06, WORDS("--width", "4", "--scorer", "net"), saved,
                         WORDS("does not match", "--scorer"));
    expect_load_rejected(stage06, WORDS("--width", "4", "--activation", "gelu"), saved,
                         WORDS("does not match", "mlp_relu", "--activation"));
    expect_answer(
        stage06, false, NULL, 2,
        WORDS("invalid sentence 1", "15 words", "14 position vectors", "at most 14 words"),
        "--width", "4", "--load", saved, "--sentence", "a b c d e f g h i j k l m n o", NULL);
}

/*
 * Stage 06 --load --sentence prints the weights of that sentence, each row
 * summing to 1, reads "zebra" as <unk> with a note, and writes the CSV file
 * of 3 x 3 weights.
 */
static void test_checkpoint_stage06_shows_weights(void **state)
{
    (void)state;
    const Program *stage06 = &PROGRAMS[5];
    char saved[PATH_MAX];
    folder_path(saved, sizeof saved, "stage06_weights.ckpt");
    char *trained = run_ok(
        stage06, WORDS("--steps", "5", "--scorer", "bilinear", "--width", "4", "--save", saved));
    free(trained);

    Command command;
    command_init(&command, stage06, false);
    const char *const arguments[] = {"--width", "4",          "--load",
                                     saved,     "--sentence", "dog zebra tail"};
    for (size_t i = 0; i < sizeof arguments / sizeof arguments[0]; i++)
        command_add(&command, arguments[i]);
    Run run = run_command(&command, NULL);
    check_run(&run, 0,
              WORDS("'zebra' is not in the model's vocabulary and is read as <unk>",
                    "stage06_attention.csv"));
    assert_non_null(strstr(run.out, "no training ran"));
    const char *section = "sentence 1: dog zebra tail\n";
    check_weight_row(run.out, section, "dog", 3);
    check_weight_row(run.out, section, "zebra", 3);
    check_weight_row(run.out, section, "tail", 3);
    check_weights_csv("stage06_attention", 9, 1, 3);
    run_free(&run);
}

/* Stage 07: 2 heads trained for 20 steps, saved and loaded, give the same accuracy. */
static void test_checkpoint_stage07_round_trip(void **state)
{
    (void)state;
    check_round_trip(&PROGRAMS[6], "stage07",
                     WORDS("--heads", "2", "--seeds", "1", "--steps", "20"), WORDS("--heads", "2"),
                     "   heads head width", 3);
}

/*
 * Stage 07 rejects damaged files, a file of another head count, width or
 * output projection, more than one --heads value (the default lists three)
 * and a sentence longer than the model's 10 positions, all with exit status 2.
 */
static void test_checkpoint_stage07_bad_files_rejected(void **state)
{
    (void)state;
    const Program *stage07 = &PROGRAMS[6];
    char saved[PATH_MAX];
    folder_path(saved, sizeof saved, "stage07_small.ckpt");
    char *trained =
        run_ok(stage07, WORDS("--steps", "1", "--seeds", "1", "--heads", "2", "--save", saved));
    free(trained);

    expect_damaged_copies_rejected(stage07, WORDS("--heads", "2"), saved);
    expect_load_rejected(stage07, WORDS("--heads", "2"), files.missing,
                         WORDS("failed to open", "No such file"));
    expect_load_rejected(stage07, WORDS("--heads", "4"), saved,
                         WORDS("does not match", "--width, --heads and --output-projection"));
    expect_load_rejected(stage07, WORDS("--heads", "2", "--width", "32"), saved,
                         WORDS("does not match", "--width"));
    expect_load_rejected(stage07, WORDS("--heads", "2", "--output-projection"), saved,
                         WORDS("does not match", "--output-projection"));
    /* Without the short-run options, which set --heads 1, so that the default list applies. */
    expect_answer(stage07, false, NULL, 2,
                  WORDS("--heads lists 3 head counts", "the default 1,2,4", "one --heads value"),
                  "--seeds", "1", "--load", saved, NULL);
    expect_answer(
        stage07, false, NULL, 2,
        WORDS("invalid sentence 1", "11 words", "10 position vectors", "at most 10 words"),
        "--heads", "2", "--load", saved, "--sentence", "a b c d e f g h i j k", NULL);
}

/*
 * Stage 07 --load --sentence prints each head's weights of that sentence,
 * each row summing to 1, and writes the CSV file of 2 heads x 3 x 3 weights.
 */
static void test_checkpoint_stage07_shows_weights(void **state)
{
    (void)state;
    const Program *stage07 = &PROGRAMS[6];
    char saved[PATH_MAX];
    folder_path(saved, sizeof saved, "stage07_weights.ckpt");
    char *trained =
        run_ok(stage07, WORDS("--steps", "5", "--seeds", "1", "--heads", "2", "--save", saved));
    char *loaded =
        run_ok(stage07, WORDS("--heads", "2", "--load", saved, "--sentence", "dog owns tail"));

    assert_non_null(strstr(loaded, "no training ran"));
    check_weight_row(loaded, "sentence 1: dog owns tail\n", "owns", 3);
    check_weight_row(loaded, "head 2 of 2:\n", "dog", 3);
    check_weight_row(loaded, "head 2 of 2:\n", "tail", 3);
    check_weights_csv("stage07_attention", 18, 2, 3);
    free(trained);
    free(loaded);
}

/* ------------------------------------------------------------------------- */
/* --help on a full disk, and the tour's sentence limit                       */
/* ------------------------------------------------------------------------- */

/* Runs `PROGRAM --help` with stdout on /dev/full; returns the exit status, stderr in files. */
static int run_help_to_full_disk(const Program *program)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/%s", files.bin, program->name);
    fflush(NULL);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        int full = open("/dev/full", O_WRONLY);
        int err = open(files.stderr_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (full < 0 || err < 0)
            _exit(126);
        dup2(full, STDOUT_FILENO);
        dup2(err, STDERR_FILENO);
        alarm(RUN_TIMEOUT_SECONDS);
        execl(path, path, "--help", (char *)NULL);
        _exit(127);
    }
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

/* The usage text is output too: when it cannot be written, the exit status is 1, not 0. */
static void test_programs_help_to_full_disk_fails(void **state)
{
    (void)state;
    for (size_t p = 0; p < PROGRAM_COUNT; p++) {
        int status = run_help_to_full_disk(&PROGRAMS[p]);
        char *err = read_file(files.stderr_path);
        if (status != 1 || !strstr(err, "writing the results to standard output failed"))
            fail_msg("%s --help > /dev/full: exit status %d, expected 1; stderr: %.400s",
                     PROGRAMS[p].name, status, err);
        free(err);
    }
}

/* The tour takes at most 100 sentences; 101 lines are rejected, naming both numbers. */
static void test_programs_tour_sentence_limit(void **state)
{
    (void)state;
    char path[PATH_MAX];
    folder_path(path, sizeof path, "101_lines.txt");
    FILE *file = fopen(path, "w");
    assert_non_null(file);
    for (int i = 0; i < 101; i++)
        fprintf(file, "the cat %d\n", i);
    assert_int_equal(fclose(file), 0);

    const Program *tour = &PROGRAMS[PROGRAM_COUNT - 1];
    assert_string_equal(tour->name, "tour");
    expect_answer(
        tour, false, NULL, 2,
        WORDS("for --sentence-file", "more than 100 lines", "at most 100 sentences are allowed"),
        "--sentence-file", path, NULL);
    expect_answer(tour, false, path, 2,
                  WORDS("invalid value '-'", "standard input has more than 100 lines"),
                  "--sentence-file", "-", NULL);

    /* 1 --sentence leaves room for 99 lines; the count names what is left. */
    expect_answer(tour, false, NULL, 2,
                  WORDS("more than 99 lines", "at most 100 sentences are allowed in all"),
                  "--sentence", "a cat", "--sentence-file", path, NULL);
}

/*
 * Creates the FIFO FOLDER/name (into fifo[PATH_MAX]) and starts a child that
 * writes `bytes` [length] into it again and again until the reader closes
 * it. Returns the child's process id, for finish_endless_writer.
 */
static pid_t start_endless_writer(char *fifo, const char *name, const char *bytes, size_t length)
{
    folder_path(fifo, PATH_MAX, name);
    assert_int_equal(mkfifo(fifo, 0600), 0);

    fflush(NULL);
    pid_t writer = fork();
    assert_true(writer >= 0);
    if (writer == 0) {
        /* The default SIGPIPE ends the writer once the reader closes its end. */
        signal(SIGPIPE, SIG_DFL);
        int out = open(fifo, O_WRONLY);
        if (out < 0)
            _exit(1);
        alarm(RUN_TIMEOUT_SECONDS);
        for (;;)
            if (write(out, bytes, length) != (ssize_t)length)
                _exit(0);
    }
    return writer;
}

/* Waits for the writer, which the closed FIFO must have stopped, and removes the FIFO. */
static void finish_endless_writer(pid_t writer, const char *fifo)
{
    int status = 0;
    assert_int_equal(waitpid(writer, &status, 0), writer);
    assert_true(WIFSIGNALED(status) ? WTERMSIG(status) == SIGPIPE : WEXITSTATUS(status) == 0);
    assert_int_equal(remove(fifo), 0);
}

/*
 * Every program but the tour (which takes 100) takes at most 10,000
 * sentences (PROGRAM_MAX_SENTENCES): a file of 10,001 lines is rejected
 * before any work, from a file and from standard input.
 */
static void test_programs_sentence_count_limit(void **state)
{
    (void)state;
    char path[PATH_MAX];
    folder_path(path, sizeof path, "10001_lines.txt");
    FILE *file = fopen(path, "w");
    assert_non_null(file);
    for (int i = 0; i < 10001; i++)
        fputs("the cat\n", file);
    assert_int_equal(fclose(file), 0);

    for (size_t p = 0; p < PROGRAM_COUNT; p++) {
        if (strcmp(PROGRAMS[p].name, "tour") == 0)
            continue;
        expect_answer(&PROGRAMS[p], true, NULL, 2,
                      WORDS("for --sentence-file", "more than 10000 lines",
                            "at most 10000 sentences are allowed"),
                      "--sentence-file", path, NULL);
        expect_answer(&PROGRAMS[p], true, path, 2,
                      WORDS("invalid value '-'", "standard input has more than 10000 lines"),
                      "--sentence-file", "-", NULL);
    }
}

/*
 * Standard input that never ends: "the cat" lines into a FIFO. The tour
 * must stop reading after 101 lines and reject them, instead of reading
 * until memory runs out.
 */
static void test_programs_tour_endless_stdin(void **state)
{
    (void)state;
    char fifo[PATH_MAX];
    pid_t writer = start_endless_writer(fifo, "endless.fifo", "the cat\n", 8);
    const Program *tour = &PROGRAMS[PROGRAM_COUNT - 1];
    expect_answer(tour, false, fifo, 2, WORDS("standard input has more than 100 lines"),
                  "--sentence-file", "-", NULL);
    finish_endless_writer(writer, fifo);
}

/*
 * One line that never ends, from a FIFO: every program stops once the line
 * passes 64 MiB and names the limit, instead of reading until memory runs
 * out.
 */
static void test_programs_endless_line_rejected(void **state)
{
    (void)state;
    static char letters[65536];
    memset(letters, 'a', sizeof letters);
    for (size_t p = 0; p < PROGRAM_COUNT; p++) {
        char fifo[PATH_MAX];
        pid_t writer = start_endless_writer(fifo, "endless_line.fifo", letters, sizeof letters);
        expect_answer(&PROGRAMS[p], false, NULL, 2,
                      WORDS("for --sentence-file", "line 1 is longer than 67108864 bytes (64 MiB)",
                            "maximum line length"),
                      "--sentence-file", fifo, NULL);
        finish_endless_writer(writer, fifo);
    }
}

/* /dev/zero, NUL bytes without end, is rejected at its first byte (reading it only). */
static void test_programs_endless_nul_rejected(void **state)
{
    (void)state;
    for (size_t p = 0; p < PROGRAM_COUNT; p++)
        expect_answer(&PROGRAMS[p], false, NULL, 2,
                      WORDS("/dev/zero line 1: NUL byte at byte offset 0"), "--sentence-file",
                      "/dev/zero", NULL);
}

/* A UTF-8 byte order mark before the first line is dropped, so it never shows in a word. */
static void test_programs_byte_order_mark_dropped(void **state)
{
    (void)state;
    char path[PATH_MAX];
    folder_path(path, sizeof path, "byte_order_mark.txt");
    write_file(path, "\xEF\xBB\xBFthe cat\n", 11);
    for (size_t p = 0; p < PROGRAM_COUNT; p++) {
        Command command;
        command_init(&command, &PROGRAMS[p], true);
        command_add(&command, "--sentence-file");
        command_add(&command, path);
        Run run = run_command(&command, NULL);
        check_run(&run, 0, NULL);
        if (strstr(run.out, "\xEF\xBB\xBF") || strstr(run.err, "\xEF\xBB\xBF"))
            fail_msg("%s: the byte order mark shows in the output", run.line);
        run_free(&run);
    }
}

/* ------------------------------------------------------------------------- */
/* Result files and standard output that cannot be written                    */
/* ------------------------------------------------------------------------- */

/*
 * Fails if the folder contains a file whose name contains ".tmp": the CSV
 * and checkpoint writers' NAME.tmp and the figures' NAME.tmp.png.
 */
static void expect_no_temporary_file(const char *folder)
{
    DIR *directory = opendir(folder);
    assert_non_null(directory);
    for (struct dirent *entry; (entry = readdir(directory)) != NULL;) {
        if (strstr(entry->d_name, ".tmp")) {
            closedir(directory);
            fail_msg("%s still contains %s", folder, entry->d_name);
        }
    }
    closedir(directory);
}

/* One program and one CSV file it writes, with another result that must still appear. */
typedef struct ResultFileCase {
    const char *program;
    const char *csv;         /* the file made a folder, so that its rename fails */
    const char *other_file;  /* another CSV file of the same run, or NULL */
    const char *stdout_text; /* text of the last section printed, which must still appear */
    const char *option;      /* an option the program needs to write the file, or NULL */
} ResultFileCase;

static const ResultFileCase RESULT_FILE_CASES[] = {
    {"stage01", "stage01_distance.csv", NULL, "inside the receptive field", NULL},
    {"stage02", "stage02_growth.csv", NULL, "float rounding of the mean in another order", NULL},
    {"stage04", "stage04_blur.csv", NULL, "Stage 05 lets the model choose", NULL},
    {"stage05", "stage05_attention.csv", NULL, "the model predicts", NULL},
    {"stage06", "stage06_cost.csv", NULL, "score spread", NULL},
    {"stage07", "stage07_heads.csv", NULL, "head width", NULL},
    {"stage08", "stage08_scaling.csv", "stage08_depth.csv", "takes over once n exceeds", NULL},
    {"tour", "tour_sweep.csv", NULL, "08_transformer_block", "--sweep"},
};

/*
 * OUT/NAME.csv is a folder, so csv_close cannot rename the finished file
 * over it. Every program must print all its results, write its other
 * files, leave no .tmp file, and exit with status 1 naming the file.
 */
static void test_programs_unwritable_csv_exits_1(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof RESULT_FILE_CASES / sizeof RESULT_FILE_CASES[0]; c++) {
        const ResultFileCase *test = &RESULT_FILE_CASES[c];
        char out[PATH_MAX], blocked[PATH_MAX + 64], other[PATH_MAX + 64];
        folder_path(out, sizeof out, test->program);
        snprintf(blocked, sizeof blocked, "%s/%s", out, test->csv);
        assert_int_equal(mkdir(out, 0700), 0);
        assert_int_equal(mkdir(blocked, 0700), 0);

        Command command;
        command_init(&command, program_named(test->program), true);
        command_add(&command, "--out");
        command_add(&command, out);
        if (test->option)
            command_add(&command, test->option);
        Run run = run_command(&command, NULL);
        check_run(&run, 1, WORDS(blocked, "is not written"));
        if (!strstr(run.out, test->stdout_text))
            fail_msg("%s: stdout lacks '%s'", run.line, test->stdout_text);
        if (test->other_file) {
            snprintf(other, sizeof other, "%s/%s", out, test->other_file);
            assert_true(file_exists(other));
        }
        expect_no_temporary_file(out);
        run_free(&run);
    }
}

/*
 * Stage 07 may write files of at most 2 KiB, so its checkpoint save fails
 * after training as on a full disk. The program exits with status 1 while
 * OUT/stage07_heads.csv is still open, and that CSV's .tmp file must be
 * removed at the exit.
 */
static void test_programs_early_exit_removes_tmp(void **state)
{
    (void)state;
    char out[PATH_MAX], save[PATH_MAX + 32];
    folder_path(out, sizeof out, "stage07_failed_save");
    snprintf(save, sizeof save, "%s/heads.ckpt", out);
    assert_int_equal(mkdir(out, 0700), 0);

    Command command;
    command_init(&command, program_named("stage07"), true);
    command.max_file_bytes = 2048;
    command_add(&command, "--out");
    command_add(&command, out);
    command_add(&command, "--save");
    command_add(&command, save);
    Run run = run_command(&command, NULL);
    check_run(&run, 1, WORDS("saving the checkpoint", "failed", "File too large"));
    expect_no_temporary_file(out);
    run_free(&run);
}

/*
 * Runs stage05 --steps 3 with --out folder and stdout on `stdout_fd` (the
 * caller's descriptor, closed here). Returns the exit status, or 128 plus
 * the signal that killed it; stderr goes to files.stderr_path.
 */
static int run_stage05_to(const char *out, int stdout_fd)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/stage05", files.bin);
    fflush(NULL);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        int err = open(files.stderr_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (err < 0)
            _exit(126);
        dup2(stdout_fd, STDOUT_FILENO);
        dup2(err, STDERR_FILENO);
        /* As a shell starts it: SIGPIPE at its default, which would kill the program. */
        signal(SIGPIPE, SIG_DFL);
        alarm(RUN_TIMEOUT_SECONDS);
        execl(path, path, "--steps", "3", "--out", out, (char *)NULL);
        _exit(127);
    }
    close(stdout_fd);
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/*
 * stdout is a pipe whose read end is already closed, like `stage05 | head
 * -1` after head exits: the program must not die of SIGPIPE (status 141)
 * but finish its files and exit with status 1, naming EPIPE's reason.
 */
static void test_programs_closed_pipe_exits_1(void **state)
{
    (void)state;
    char out[PATH_MAX], csv[PATH_MAX + 32];
    folder_path(out, sizeof out, "closed_pipe");
    snprintf(csv, sizeof csv, "%s/stage05_attention.csv", out);
    int ends[2];
    assert_int_equal(pipe(ends), 0);
    close(ends[0]);

    int status = run_stage05_to(out, ends[1]);
    char *err = read_file(files.stderr_path);
    if (status != 1 || !strstr(err, "writing the results to standard output failed: Broken pipe"))
        fail_msg("stage05 into a closed pipe: exit status %d, expected 1; stderr: %.600s", status,
                 err);
    free(err);
    assert_true(file_exists(csv));
}

/* stdout on /dev/full (opened for writing by this child only): the reason is ENOSPC's. */
static void test_programs_full_disk_names_reason(void **state)
{
    (void)state;
    char out[PATH_MAX];
    folder_path(out, sizeof out, "full_disk");
    int full = open("/dev/full", O_WRONLY);
    assert_true(full >= 0);

    int status = run_stage05_to(out, full);
    char *err = read_file(files.stderr_path);
    if (status != 1 ||
        !strstr(err, "writing the results to standard output failed: No space left on device"))
        fail_msg("stage05 > /dev/full: exit status %d, expected 1; stderr: %.600s", status, err);
    free(err);
}

/* getopt_long reports an abbreviation of several options as unknown; the programs name them. */
static void test_programs_ambiguous_option_named(void **state)
{
    (void)state;
    expect_answer(program_named("stage07"), false, NULL, 2,
                  WORDS("ambiguous option '--he'", "--heads", "--help"), "--he", NULL);
    expect_answer(program_named("stage01"), false, NULL, 2,
                  WORDS("ambiguous option '--se=1'", "--seed", "--seeds", "--sentence"), "--se=1",
                  NULL);
}

/* A sentence longer than the largest --positions cannot be fixed by raising it. */
static void test_stage03_sentence_beyond_max_positions(void **state)
{
    (void)state;
    expect_answer(program_named("stage03"), false, NULL, 2,
                  WORDS(MEGABYTE_WORDS_TEXT,
                        "more than the 4096 positions that --positions "
                        "allows at most",
                        "shorten the sentence"),
                  "--sentence-file", files.megabyte_words, NULL);
}

/* ------------------------------------------------------------------------- */
/* Figures whose path is not a regular file                                   */
/* ------------------------------------------------------------------------- */

/* The contents of the file that a symbolic link in --out points to. */
#define VICTIM_BYTES "not a figure\n"

/* What the test puts at OUT/stage05_attention.png or at its temporary name. */
typedef enum FigureEntry { ENTRY_LINK, ENTRY_FIFO, ENTRY_FOLDER } FigureEntry;

/* The paths of one run of stage05 --steps 3 into its own --out folder. */
typedef struct FigureRun {
    char out[PATH_MAX];
    char csv[PATH_MAX + 32];
    char figure[PATH_MAX + 32];
    char temporary[PATH_MAX + 32]; /* the name gnuplot draws into, OUT/NAME.tmp.png */
    char victim[PATH_MAX + 32];    /* the target of ENTRY_LINK, outside --out */
} FigureRun;

/* Creates the folder `name` for a run and its victim file with VICTIM_BYTES. */
static void figure_run_init(FigureRun *run, const char *name)
{
    folder_path(run->out, sizeof run->out, name);
    snprintf(run->csv, sizeof run->csv, "%s/stage05_attention.csv", run->out);
    snprintf(run->figure, sizeof run->figure, "%s/stage05_attention.png", run->out);
    snprintf(run->temporary, sizeof run->temporary, "%s/stage05_attention.tmp.png", run->out);
    snprintf(run->victim, sizeof run->victim, "%s.victim", run->out);
    assert_int_equal(mkdir(run->out, 0700), 0);
    write_file(run->victim, VICTIM_BYTES, strlen(VICTIM_BYTES));
}

/* Puts a symbolic link to the victim, a FIFO or a folder at path. */
static void make_entry(const FigureRun *run, FigureEntry entry, const char *path)
{
    if (entry == ENTRY_LINK)
        assert_int_equal(symlink(run->victim, path), 0);
    else if (entry == ENTRY_FIFO)
        assert_int_equal(mkfifo(path, 0600), 0);
    else
        assert_int_equal(mkdir(path, 0700), 0);
}

/* Fails unless path is still the entry that make_entry made and the victim is unchanged. */
static void expect_entry_untouched(const FigureRun *run, FigureEntry entry, const char *path)
{
    struct stat info;
    assert_int_equal(lstat(path, &info), 0);
    if (entry == ENTRY_LINK) {
        char target[PATH_MAX + 32];
        assert_true(S_ISLNK(info.st_mode));
        ssize_t length = readlink(path, target, sizeof target - 1);
        assert_true(length > 0);
        target[length] = '\0';
        assert_string_equal(target, run->victim);
    } else if (entry == ENTRY_FIFO) {
        assert_true(S_ISFIFO(info.st_mode));
    } else {
        assert_true(S_ISDIR(info.st_mode));
    }
    char *victim = read_file(run->victim);
    assert_string_equal(victim, VICTIM_BYTES);
    free(victim);
}

/* Runs stage05 --steps 3 --out run->out; the alarm of run_command stops a hung run. */
static Run run_stage05_figure(const FigureRun *run)
{
    Command command;
    command_init(&command, program_named("stage05"), false);
    command_add(&command, "--steps");
    command_add(&command, "3");
    command_add(&command, "--out");
    command_add(&command, run->out);
    return run_command(&command, NULL);
}

/* Fails unless OUT/stage05_attention.csv was written: it starts with its header. */
static void expect_attention_csv(const FigureRun *run)
{
    char *csv = read_file(run->csv);
    assert_true(strncmp(csv, "sentence,position,word,weight,query,roarer\n", 43) == 0);
    free(csv);
}

/*
 * A symbolic link, a FIFO or a folder at OUT/stage05_attention.png: the
 * program must not write through the link (the victim keeps its bytes),
 * must not hang on the FIFO, must leave each entry as it was, and must
 * write its CSV, leave no temporary file and exit with status 1 naming the
 * figure and what is there. The entry is checked before gnuplot starts, so
 * all of this holds with or without gnuplot installed.
 */
static void test_programs_figure_target_not_regular(void **state)
{
    (void)state;
    static const struct {
        FigureEntry entry;
        const char *folder;
        const char *type; /* as describe_file_type names it */
    } CASES[] = {
        {ENTRY_LINK, "figure_link", "is a symbolic link"},
        {ENTRY_FIFO, "figure_fifo", "is a FIFO"},
        {ENTRY_FOLDER, "figure_folder", "is a directory"},
    };
    for (size_t c = 0; c < sizeof CASES / sizeof CASES[0]; c++) {
        FigureRun paths;
        figure_run_init(&paths, CASES[c].folder);
        make_entry(&paths, CASES[c].entry, paths.figure);

        Run run = run_stage05_figure(&paths);
        check_run(&run, 1, WORDS(paths.figure, CASES[c].type, "not drawn"));
        expect_entry_untouched(&paths, CASES[c].entry, paths.figure);
        expect_attention_csv(&paths);
        expect_no_temporary_file(paths.out);
        run_free(&run);
    }
}

/*
 * A symbolic link or FIFO at the temporary name OUT/stage05_attention.tmp.png
 * is removed, not followed: the victim keeps its bytes, the run does not
 * hang, and the figure is drawn (checked when gnuplot is installed). A
 * folder there cannot be removed, so the figure fails with status 1 and
 * the folder stays. A regular file at the figure's own name is replaced.
 */
static void test_programs_figure_temporary_not_followed(void **state)
{
    (void)state;
    bool have_gnuplot = system("command -v gnuplot > /dev/null 2>&1") == 0;
    static const struct {
        FigureEntry entry;
        const char *folder;
    } CASES[] = {{ENTRY_LINK, "temporary_link"}, {ENTRY_FIFO, "temporary_fifo"}};
    for (size_t c = 0; c < sizeof CASES / sizeof CASES[0]; c++) {
        FigureRun paths;
        figure_run_init(&paths, CASES[c].folder);
        make_entry(&paths, CASES[c].entry, paths.temporary);
        write_file(paths.figure, "old figure\n", 11);

        Run run = run_stage05_figure(&paths);
        check_run(&run, 0, NULL);
        char *victim = read_file(paths.victim);
        assert_string_equal(victim, VICTIM_BYTES);
        free(victim);
        expect_attention_csv(&paths);
        expect_no_temporary_file(paths.out);
        if (have_gnuplot) {
            char *png = read_file(paths.figure);
            assert_true(strncmp(png, "\x89PNG", 4) == 0);
            free(png);
        }
        run_free(&run);
    }

    FigureRun paths;
    figure_run_init(&paths, "temporary_folder");
    make_entry(&paths, ENTRY_FOLDER, paths.temporary);
    Run run = run_stage05_figure(&paths);
    check_run(&run, 1, WORDS("failed to create", paths.temporary, "Is a directory"));
    expect_entry_untouched(&paths, ENTRY_FOLDER, paths.temporary);
    expect_attention_csv(&paths);
    assert_false(file_exists(paths.figure));
    run_free(&run);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_programs_empty_sentence_rejected),
        cmocka_unit_test(test_programs_blank_sentence_rejected),
        cmocka_unit_test(test_programs_blank_line_rejected),
        cmocka_unit_test(test_programs_invalid_utf8_argument_rejected),
        cmocka_unit_test(test_programs_invalid_utf8_line_rejected),
        cmocka_unit_test(test_programs_nul_byte_rejected),
        cmocka_unit_test(test_programs_nul_byte_stdin_rejected),
        cmocka_unit_test(test_programs_megabyte_line_rejected),
        cmocka_unit_test(test_programs_megabyte_stdin_rejected),
        cmocka_unit_test(test_programs_missing_file_rejected),
        cmocka_unit_test(test_programs_folder_as_file_rejected),
        cmocka_unit_test(test_programs_empty_file_rejected),
        cmocka_unit_test(test_programs_single_word_accepted),
        cmocka_unit_test(test_programs_long_word_kept_whole),
        cmocka_unit_test(test_programs_megabyte_word_kept_whole),
        cmocka_unit_test(test_programs_seed_zero_accepted),
        cmocka_unit_test(test_programs_unknown_words_handled),
        cmocka_unit_test(test_programs_help_documents_unknown_words),
        cmocka_unit_test(test_programs_negative_values_rejected),
        cmocka_unit_test(test_programs_text_values_rejected),
        cmocka_unit_test(test_programs_huge_values_rejected),
        cmocka_unit_test(test_programs_huge_value_shortened),
        cmocka_unit_test(test_programs_zero_values),
        cmocka_unit_test(test_programs_unknown_option_rejected),
        cmocka_unit_test(test_programs_missing_value_rejected),
        cmocka_unit_test(test_programs_stray_argument_rejected),
        cmocka_unit_test(test_programs_bad_out_rejected),
        cmocka_unit_test(test_compare_bad_corpus_rejected),
        cmocka_unit_test(test_compare_unreadable_corpus_rejected),
        cmocka_unit_test(test_determinism_stage01),
        cmocka_unit_test(test_determinism_stage03),
        cmocka_unit_test(test_checkpoint_stage01_round_trip),
        cmocka_unit_test(test_checkpoint_stage01_bad_files_rejected),
        cmocka_unit_test(test_checkpoint_save_targets_rejected),
        cmocka_unit_test(test_checkpoint_save_failure_exits_1),
        cmocka_unit_test(test_checkpoint_bad_values_and_sizes_rejected),
        cmocka_unit_test(test_stage08_save_needs_steps),
        cmocka_unit_test(test_checkpoint_every_needs_save),
        cmocka_unit_test(test_checkpoint_stage03_round_trip),
        cmocka_unit_test(test_checkpoint_stage03_bad_files_rejected),
        cmocka_unit_test(test_checkpoint_stage05_round_trip),
        cmocka_unit_test(test_checkpoint_stage05_load_shows_sentence),
        cmocka_unit_test(test_checkpoint_stage05_bad_files_rejected),
        cmocka_unit_test(test_checkpoint_stage06_round_trip),
        cmocka_unit_test(test_checkpoint_stage06_bad_files_rejected),
        cmocka_unit_test(test_checkpoint_stage06_shows_weights),
        cmocka_unit_test(test_checkpoint_stage07_round_trip),
        cmocka_unit_test(test_checkpoint_stage07_bad_files_rejected),
        cmocka_unit_test(test_checkpoint_stage07_shows_weights),
        cmocka_unit_test(test_checkpoint_stage08_round_trip),
        cmocka_unit_test(test_checkpoint_stage08_attention_of_loaded_model),
        cmocka_unit_test(test_checkpoint_stage08_bad_files_rejected),
        cmocka_unit_test(test_stage08_sentence_limit),
        cmocka_unit_test(test_programs_help_to_full_disk_fails),
        cmocka_unit_test(test_programs_tour_sentence_limit),
        cmocka_unit_test(test_programs_tour_endless_stdin),
        cmocka_unit_test(test_programs_sentence_count_limit),
        cmocka_unit_test(test_programs_endless_line_rejected),
        cmocka_unit_test(test_programs_endless_nul_rejected),
        cmocka_unit_test(test_programs_byte_order_mark_dropped),
        cmocka_unit_test(test_programs_unwritable_csv_exits_1),
        cmocka_unit_test(test_programs_early_exit_removes_tmp),
        cmocka_unit_test(test_programs_closed_pipe_exits_1),
        cmocka_unit_test(test_programs_full_disk_names_reason),
        cmocka_unit_test(test_programs_ambiguous_option_named),
        cmocka_unit_test(test_stage03_sentence_beyond_max_positions),
        cmocka_unit_test(test_programs_figure_target_not_regular),
        cmocka_unit_test(test_programs_figure_temporary_not_followed),
    };
    return cmocka_run_group_tests(tests, setup_files, teardown_legal_runs);
}
