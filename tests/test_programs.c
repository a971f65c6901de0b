/*
 * Tests of the stage programs as a user runs them: each program gets hard
 * sentences, hard files and hard option values, and each run is checked
 * for its exact exit status and the key words of its message. Legal inputs
 * must give exit status 0 and print every word whole. Short trainings of
 * stages 01 and 03 run twice, and with 1 and 2 threads, and must print the
 * same bytes. Checkpoints written by --save of stages 01 and 08 must load
 * back to the same results, and damaged ones must be rejected.
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

#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

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
 * 06 and the tour 256, 05 16 (its positions), 07 1024; 02 applies its size
 * guard and 03 its P = 16 positions.
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
    {"tour",
     {NULL},
     true,
     "at most 256 are allowed",
     false,
     {"--width", "--seed", "--threads", NULL},
     {"--seed", NULL}},
};
#define PROGRAM_COUNT (sizeof PROGRAMS / sizeof PROGRAMS[0])

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

/* In the child: standard input from input (or /dev/null), output to the test's files. */
static void exec_child(const Command *command, const char *input)
{
    int in = open(input ? input : "/dev/null", O_RDONLY);
    int out = open(files.stdout_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int err = open(files.stderr_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (in < 0 || out < 0 || err < 0)
        _exit(126);
    dup2(in, STDIN_FILENO);
    dup2(out, STDOUT_FILENO);
    dup2(err, STDERR_FILENO);
    alarm(RUN_TIMEOUT_SECONDS);
    execv(command->argv[0], command->argv);
    _exit(127);
}

/* Runs the command to its end with stdin from input (NULL for none). */
static Run run_command(const Command *command, const char *input)
{
    Run run;
    describe_command(command, &run);
    if (access(command->argv[0], X_OK) != 0)
        fail_msg("%s is missing: build the programs first (make all)", command->argv[0]);

    fflush(NULL);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0)
        exec_child(command, input);
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    run.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    run.out = read_file(files.stdout_path);
    run.err = read_file(files.stderr_path);
    return run;
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
 * Stage 05 has a trained vocabulary, so "zebra" becomes <unk> with a note.
 * The other programs build their vocabulary from the sentences given, so
 * no word is unknown and no note appears.
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

/* Writes the folder's file `name` into path. */
static void folder_path(char *path, size_t size, const char *name)
{
    int length = snprintf(path, size, "%s/%s", files.folder, name);
    assert_true(length > 0 && (size_t)length < size);
}

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

/* Writes a copy of `source` to `target` with `length` bytes, or one byte changed at `flip`. */
static void write_damaged_copy(const char *source, const char *target, long length, long flip)
{
    FILE *file = fopen(source, "rb");
    assert_non_null(file);
    unsigned char bytes[1 << 16];
    size_t size = fread(bytes, 1, sizeof bytes, file);
    fclose(file);
    assert_true(size > 100 && size < sizeof bytes);
    if (length >= 0)
        size = (size_t)length;
    if (flip >= 0)
        bytes[flip] ^= 0x40;
    write_file(target, (const char *)bytes, size);
}

/*
 * Every damaged or mismatched checkpoint is rejected with exit status 2 and
 * the checkpoint module's reason, before any training.
 */
static void test_checkpoint_stage01_bad_files_rejected(void **state)
{
    (void)state;
    char saved[PATH_MAX], damaged[PATH_MAX];
    folder_path(saved, sizeof saved, "stage01_small.ckpt");
    folder_path(damaged, sizeof damaged, "damaged.ckpt");
    char *trained = run_ok(&PROGRAMS[0], WORDS("--distances", "3", "--steps", "1", "--seeds", "1",
                                               "--width", "4", "--save", saved));
    free(trained);
    const Program *stage01 = &PROGRAMS[0];

    write_damaged_copy(saved, damaged, 100, -1);
    expect_answer(stage01, true, NULL, 2, WORDS("truncated", "--load"), "--width", "4", "--load",
                  damaged, NULL);
    write_damaged_copy(saved, damaged, -1, 0);
    expect_answer(stage01, true, NULL, 2, WORDS("magic number"), "--width", "4", "--load", damaged,
                  NULL);
    write_damaged_copy(saved, damaged, -1, 90);
    expect_answer(stage01, true, NULL, 2, WORDS("checksum mismatch"), "--width", "4", "--load",
                  damaged, NULL);
    expect_answer(stage01, true, NULL, 2, WORDS("does not match", "--width"), "--width", "8",
                  "--load", saved, NULL);
    expect_answer(stage01, true, NULL, 2, WORDS("failed to open", "No such file"), "--load",
                  files.missing, NULL);
    expect_answer(stage01, true, NULL, 2, WORDS("invalid value '' for --save"), "--save", "", NULL);
}

/* Stage 08's section 4 transformer saved after 10 steps and loaded: same held-out accuracy. */
static void test_checkpoint_stage08_round_trip(void **state)
{
    (void)state;
    char saved[PATH_MAX];
    folder_path(saved, sizeof saved, "stage08.ckpt");
    Program stage08 = {.name = "stage08", .takes_out = true};

    char *trained = run_ok(&stage08, WORDS("--steps", "10", "--save", saved));
    char *loaded = run_ok(&stage08, WORDS("--steps", "10", "--load", saved));
    char *trained_row = find_line(trained, "transformer (L");
    char *loaded_row = find_line(loaded, "transformer (L");

    assert_string_equal(strstr(trained_row, "held-out"), strstr(loaded_row, "held-out"));
    expect_answer(&stage08, false, NULL, 2, WORDS("does not match", "--width"), "--width", "16",
                  "--load", saved, NULL);
    free(trained);
    free(loaded);
    free(trained_row);
    free(loaded_row);
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
    expect_answer(tour, false, NULL, 2,
                  WORDS("for --sentence-file", "101 sentences in all", "at most 100 are allowed"),
                  "--sentence-file", path, NULL);
    expect_answer(tour, false, path, 2, WORDS("invalid value '-'", "101 sentences in all"),
                  "--sentence-file", "-", NULL);
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
        cmocka_unit_test(test_determinism_stage01),
        cmocka_unit_test(test_determinism_stage03),
        cmocka_unit_test(test_checkpoint_stage01_round_trip),
        cmocka_unit_test(test_checkpoint_stage01_bad_files_rejected),
        cmocka_unit_test(test_checkpoint_stage08_round_trip),
        cmocka_unit_test(test_programs_help_to_full_disk_fails),
        cmocka_unit_test(test_programs_tour_sentence_limit),
    };
    return cmocka_run_group_tests(tests, setup_files, teardown_legal_runs);
}
