/*
 * Tests of the comparison program, BUILD/bin/compare, as a user runs it.
 * Every bad option value ends with exit status 2 and a message naming the
 * value, and --help written to a full disk fails. After Ctrl-C, the files
 * of the tasks that finished are whole and no other file is left behind.
 *
 * Ctrl-C is simulated as a terminal sends it: SIGINT to the process group
 * of the program, which the test puts in a group of its own. The waits
 * are bounded but generous, and no test asserts a duration, so a loaded
 * machine makes the tests slower but not flaky. The expected row counts
 * come from the recipe in compare/settings.c, which the test reads.
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
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../compare/compare.h"
#include "../compare/settings.h"

/* Maximum wait for a file or an exit; only a hung program reaches it. */
#define WAIT_LIMIT_SECONDS 600

/* Poll interval of the bounded waits, in milliseconds. */
#define POLL_MILLISECONDS 20

/* The columns of order.csv, as compare/README.md documents them. */
#define ORDER_CSV_HEADER                                                                           \
    "model,seed,accuracy,params,layers,width,median_accuracy,final_loss,seconds"

/* Words of the generated corpus: more distinct words than the full recipe's vocabulary. */
#define CORPUS_WORDS 30000
#define CORPUS_DISTINCT_WORDS 3000

/* The program, the temporary folder and the corpus, set by setup. */
static struct {
    char compare[PATH_MAX + 16];
    char folder[64];
    char corpus[128];
    char stdout_path[128];
    char stderr_path[128];
} paths;

/* ------------------------------------------------------------------------- */
/* Setup                                                                      */
/* ------------------------------------------------------------------------- */

/*
 * Writes a corpus of CORPUS_WORDS words drawn from CORPUS_DISTINCT_WORDS by
 * a linear congruential generator, 15 words a line. Its vocabulary fills
 * the full recipe's 2000 words, so a text run of the full recipe takes
 * minutes, and a test can interrupt it while it trains.
 */
static void write_corpus(const char *path)
{
    FILE *file = fopen(path, "w");
    assert_non_null(file);
    uint32_t state = 12345;
    for (int i = 1; i <= CORPUS_WORDS; i++) {
        state = state * 1664525u + 1013904223u;
        fprintf(file, "w%u%c", (state >> 8) % CORPUS_DISTINCT_WORDS, i % 15 ? ' ' : '\n');
    }
    assert_int_equal(fclose(file), 0);
}

static int setup(void **state)
{
    (void)state;
    /* This program is BUILD/tests/NAME, and compare is BUILD/bin/compare. */
    char self[PATH_MAX];
    ssize_t length = readlink("/proc/self/exe", self, sizeof self - 1);
    assert_true(length > 0);
    self[length] = '\0';
    *strrchr(self, '/') = '\0';
    *strrchr(self, '/') = '\0';
    snprintf(paths.compare, sizeof paths.compare, "%s/bin/compare", self);
    if (access(paths.compare, X_OK) != 0)
        fail_msg("%s is missing: build the programs first (make all)", paths.compare);

    snprintf(paths.folder, sizeof paths.folder, "/tmp/test_compare_program_XXXXXX");
    assert_non_null(mkdtemp(paths.folder));
    snprintf(paths.corpus, sizeof paths.corpus, "%s/corpus.txt", paths.folder);
    snprintf(paths.stdout_path, sizeof paths.stdout_path, "%s/stdout", paths.folder);
    snprintf(paths.stderr_path, sizeof paths.stderr_path, "%s/stderr", paths.folder);
    write_corpus(paths.corpus);
    return 0;
}

/* Removes one file or folder (an nftw callback). */
static int remove_path(const char *path, const struct stat *info, int type, struct FTW *walk)
{
    (void)info;
    (void)type;
    (void)walk;
    return remove(path);
}

static int teardown(void **state)
{
    (void)state;
    nftw(paths.folder, remove_path, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

/* ------------------------------------------------------------------------- */
/* Running compare                                                            */
/* ------------------------------------------------------------------------- */

/* Sleeps one poll interval. */
static void poll_pause(void)
{
    struct timespec pause = {0, POLL_MILLISECONDS * 1000000L};
    nanosleep(&pause, NULL);
}

/*
 * Starts compare with the NULL-terminated arguments in a process group of
 * its own, stdout to the descriptor stdout_fd when it is 0 or more, else to
 * the file stdout_target, and stderr to paths.stderr_path. Returns its
 * process id, which is also its process group id.
 */
static pid_t start_compare_on(const char *const *arguments, const char *stdout_target,
                              int stdout_fd)
{
    char *argv[64];
    int count = 0;
    argv[count++] = paths.compare;
    while (arguments[count - 1]) {
        assert_true(count < 63);
        argv[count] = (char *)arguments[count - 1];
        count++;
    }
    argv[count] = NULL;

    fflush(NULL);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        setpgid(0, 0);
        int input = open("/dev/null", O_RDONLY);
        int output =
            stdout_fd >= 0 ? stdout_fd : open(stdout_target, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int errors = open(paths.stderr_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (input < 0 || output < 0 || errors < 0)
            _exit(126);
        dup2(input, STDIN_FILENO);
        dup2(output, STDOUT_FILENO);
        dup2(errors, STDERR_FILENO);
        alarm(WAIT_LIMIT_SECONDS);
        execv(argv[0], argv);
        _exit(127);
    }
    /* Both sides set the group, so that it exists before the parent signals it. */
    setpgid(child, child);
    return child;
}

/* Starts compare with stdout to the file stdout_target (see start_compare_on). */
static pid_t start_compare(const char *const *arguments, const char *stdout_target)
{
    return start_compare_on(arguments, stdout_target, -1);
}

/*
 * Waits for the child to exit and returns its exit status. Fails when it
 * was killed by a signal (an unhandled SIGINT looks like that), or when it
 * is still running after WAIT_LIMIT_SECONDS, in which case it is killed.
 */
static int wait_exit(pid_t child)
{
    int status = 0;
    for (long polls = 0; polls * POLL_MILLISECONDS < WAIT_LIMIT_SECONDS * 1000L; polls++) {
        pid_t done = waitpid(child, &status, WNOHANG);
        assert_true(done >= 0);
        if (done == child) {
            if (!WIFEXITED(status))
                fail_msg("compare was killed by signal %d instead of exiting",
                         WIFSIGNALED(status) ? WTERMSIG(status) : -1);
            return WEXITSTATUS(status);
        }
        poll_pause();
    }
    kill(-child, SIGKILL);
    waitpid(child, &status, 0);
    fail_msg("compare did not exit within %d s", WAIT_LIMIT_SECONDS);
    return -1;
}

/* Returns the whole file at path, NUL-terminated, owned; an empty string when it is missing. */
static char *read_whole_file(const char *path)
{
    FILE *file = fopen(path, "rb");
    size_t size = 0, capacity = 4096;
    char *text = malloc(capacity);
    assert_non_null(text);
    for (size_t got; file && (got = fread(text + size, 1, capacity - size - 1, file)) > 0;) {
        size += got;
        if (capacity - size - 1 == 0) {
            capacity *= 2;
            text = realloc(text, capacity);
            assert_non_null(text);
        }
    }
    if (file)
        fclose(file);
    text[size] = '\0';
    return text;
}

/*
 * Waits until the file at path contains text (or exists, for NULL text).
 * Fails when compare exits first or the wait reaches WAIT_LIMIT_SECONDS.
 */
static void wait_for_file(pid_t child, const char *path, const char *text)
{
    for (long polls = 0; polls * POLL_MILLISECONDS < WAIT_LIMIT_SECONDS * 1000L; polls++) {
        if (access(path, F_OK) == 0) {
            char *content = text ? read_whole_file(path) : NULL;
            bool found = !text || strstr(content, text);
            free(content);
            if (found)
                return;
        }
        int status;
        if (waitpid(child, &status, WNOHANG) == child)
            fail_msg("compare ended (status %d) before %s appeared; stderr: %.600s", status, path,
                     read_whole_file(paths.stderr_path));
        poll_pause();
    }
    kill(-child, SIGKILL);
    waitpid(child, NULL, 0);
    fail_msg("%s did not appear within %d s", path, WAIT_LIMIT_SECONDS);
}

/* Fails unless text contains expected, naming what was expected and where. */
static void expect_contains(const char *text, const char *expected, const char *where)
{
    if (!strstr(text, expected))
        fail_msg("%s lacks '%s'; it holds: %.800s", where, expected, text);
}

/* Fails if text contains unexpected. */
static void expect_lacks(const char *text, const char *unexpected, const char *where)
{
    if (strstr(text, unexpected))
        fail_msg("%s contains '%s'; it holds: %.800s", where, unexpected, text);
}

/* ------------------------------------------------------------------------- */
/* Option values                                                              */
/* ------------------------------------------------------------------------- */

/* One rejected command line: the arguments after the base, and the key words of the error. */
typedef struct BadOption {
    const char *arguments[3];
    const char *words[3];
} BadOption;

/* 10^23 is above every limit, UINT64_MAX (about 1.8e19) included. */
#define HUGE_NUMBER "100000000000000000000000"

static const BadOption BAD_OPTIONS[] = {
    {{"--threads", "-1"}, {"invalid value '-1' for --threads", "from 1 to 256"}},
    {{"--threads", "0"}, {"invalid value '0' for --threads", "from 1 to 256"}},
    {{"--threads", "257"}, {"invalid value '257' for --threads", "from 1 to 256"}},
    {{"--threads", HUGE_NUMBER}, {"invalid value '" HUGE_NUMBER "' for --threads"}},
    {{"--threads", "abc"}, {"invalid value 'abc' for --threads", "expected an integer"}},
    {{"--threads", "2x"}, {"invalid value '2x' for --threads"}},
    {{"--seed", "-1"}, {"invalid value '-1' for --seed", "expected an integer"}},
    {{"--seed", HUGE_NUMBER}, {"invalid value '" HUGE_NUMBER "' for --seed"}},
    {{"--seed", "abc"}, {"invalid value 'abc' for --seed", "expected an integer"}},
    {{"--seed", ""}, {"invalid value '' for --seed"}},
    {{"--tasks", ""}, {"invalid value '' for --tasks", "distance, order and text"}},
    {{"--tasks", ","}, {"invalid value ',' for --tasks", "an empty task name"}},
    {{"--tasks", ",,"}, {"invalid value ',,' for --tasks", "an empty task name"}},
    {{"--tasks", "distance,"}, {"invalid value 'distance,' for --tasks", "an empty task name"}},
    {{"--tasks", ",order"}, {"invalid value ',order' for --tasks", "an empty task name"}},
    {{"--tasks", "distance,,order"},
     {"invalid value 'distance,,order' for --tasks", "an empty task name"}},
    {{"--t", "order"}, {"ambiguous option '--t'", "--tasks", "--threads"}},
    {{"--tasks", "order,bogus"},
     {"invalid value 'order,bogus' for --tasks", "unknown task 'bogus'"}},
    {{"--corpus", ""}, {"invalid value '' for --corpus", "expected a file"}},
    {{"--out", ""}, {"invalid value '' for --out", "folder name"}},
    /* /dev/null is a file, so no folder can be created below it. */
    {{"--out", "/dev/null/x"}, {"invalid value '/dev/null/x' for --out", "choose a folder"}},
    {{"--bogus"}, {"unknown option '--bogus'"}},
    {{"--quick=yes"}, {"--quick=yes"}},
    {{"--seed"}, {"option '--seed' requires a value"}},
    {{"stray"}, {"unexpected argument 'stray'"}},
};
#define BAD_OPTION_COUNT (sizeof BAD_OPTIONS / sizeof BAD_OPTIONS[0])

/* Runs compare --tasks order --out FOLDER/out with the extra arguments; returns the exit status. */
static int run_with_options(const char *const *extra)
{
    char out[160];
    snprintf(out, sizeof out, "%s/out", paths.folder);
    const char *arguments[16] = {"--tasks", "order", "--out", out};
    int count = 4;
    for (int i = 0; extra[i]; i++)
        arguments[count++] = extra[i];
    arguments[count] = NULL;
    return wait_exit(start_compare(arguments, paths.stdout_path));
}

/* Every bad value exits 2 before any output, naming the value and pointing to --help. */
static void test_compare_bad_options_rejected(void **state)
{
    (void)state;
    for (size_t c = 0; c < BAD_OPTION_COUNT; c++) {
        const BadOption *bad = &BAD_OPTIONS[c];
        int status = run_with_options(bad->arguments);
        char *out = read_whole_file(paths.stdout_path);
        char *err = read_whole_file(paths.stderr_path);
        if (status != 2)
            fail_msg("compare %s %s: exit status %d, expected 2; stderr: %.400s", bad->arguments[0],
                     bad->arguments[1] ? bad->arguments[1] : "", status, err);
        for (int w = 0; w < 3 && bad->words[w]; w++)
            expect_contains(err, bad->words[w], "stderr");
        expect_contains(err, "Try 'compare --help'", "stderr");
        assert_string_equal(out, "");
        free(out);
        free(err);
    }
}

/* Values of 5,000 bytes are named by their first 48 bytes and their length. */
static void test_compare_long_values_shortened(void **state)
{
    (void)state;
    char *long_value = malloc(5001);
    assert_non_null(long_value);
    const char *const options[] = {"--seed", "--tasks", "--out"};
    for (int o = 0; o < 3; o++) {
        memset(long_value, o == 0 ? '7' : 'o', 5000);
        long_value[5000] = '\0';
        const char *const extra[] = {options[o], long_value, NULL};
        assert_int_equal(run_with_options(extra), 2);
        char *err = read_whole_file(paths.stderr_path);
        expect_contains(err, "... (5000 bytes)", "stderr");
        expect_contains(err, options[o], "stderr");
        assert_true(strlen(err) < 1000);
        free(err);
    }
    free(long_value);
}

/* --seed 0 is in range; the quick order task keeps the run short. */
static void test_compare_seed_zero_accepted(void **state)
{
    (void)state;
    const char *const extra[] = {"--quick", "--seed", "0", "--threads", "1", NULL};
    int status = run_with_options(extra);
    char *out = read_whole_file(paths.stdout_path);
    char *err = read_whole_file(paths.stderr_path);
    if (status != 0)
        fail_msg("compare --seed 0: exit status %d; stderr: %.400s", status, err);
    expect_contains(out, "Seeds: 0 to 2.", "stdout");
    free(out);
    free(err);
}

/* --help exits 0 with the usage on stdout, and 1 when stdout is a full disk. */
static void test_compare_help_to_full_disk_fails(void **state)
{
    (void)state;
    const char *const help[] = {"--help", NULL};
    assert_int_equal(wait_exit(start_compare(help, paths.stdout_path)), 0);
    char *out = read_whole_file(paths.stdout_path);
    expect_contains(out, "Usage: compare", "stdout");
    expect_contains(out, "Ctrl-C", "stdout");
    free(out);

    assert_int_equal(wait_exit(start_compare(help, "/dev/full")), 1);
    char *err = read_whole_file(paths.stderr_path);
    expect_contains(err, "writing the results to standard output failed", "stderr");
    free(err);
}

/* ------------------------------------------------------------------------- */
/* Ctrl-C                                                                     */
/* ------------------------------------------------------------------------- */

/* Builds FOLDER/name into path. */
static void folder_file(char *path, size_t size, const char *name)
{
    int length = snprintf(path, size, "%s/%s", paths.folder, name);
    assert_true(length > 0 && (size_t)length < size);
}

/*
 * Fails unless every entry of the folder is one of the allowed names
 * (NULL-terminated). A *.tmp file or a file of the task in progress is
 * not allowed.
 */
static void expect_only_files(const char *folder, const char *const *allowed)
{
    DIR *directory = opendir(folder);
    assert_non_null(directory);
    for (struct dirent *entry; (entry = readdir(directory)) != NULL;) {
        if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
            continue;
        bool known = false;
        for (int i = 0; allowed[i] && !known; i++)
            known = strcmp(entry->d_name, allowed[i]) == 0;
        if (!known) {
            closedir(directory);
            fail_msg("%s holds the unexpected file %s", folder, entry->d_name);
        }
    }
    closedir(directory);
}

/* Splits text into lines in place; returns the count, at most max_lines. */
static size_t split_lines(char *text, char **lines, size_t max_lines)
{
    size_t count = 0;
    for (char *line = text; *line && count < max_lines;) {
        char *end = strchr(line, '\n');
        assert_non_null(end); /* every line of a whole CSV file ends with a line break */
        *end = '\0';
        lines[count++] = line;
        line = end + 1;
    }
    return count;
}

/* Returns the number of comma-separated fields of line. */
static int count_fields(const char *line)
{
    int fields = 1;
    for (; *line; line++)
        fields += *line == ',';
    return fields;
}

/* Checks order.csv: the header, then one row per model and seed, each with a valid accuracy. */
static void check_order_csv(const char *path, const Settings *settings)
{
    static const char *const MODELS[] = {"02_pairwise_convolution", "03_position_encoding"};
    char *text = read_whole_file(path);
    char *lines[256] = {NULL};
    size_t count = split_lines(text, lines, 256);
    size_t runs = 2 * (size_t)settings->seed_count;
    assert_int_equal(count, 1 + runs);
    assert_string_equal(lines[0], ORDER_CSV_HEADER);

    for (size_t r = 0; r < runs; r++) {
        const char *row = lines[1 + r];
        assert_int_equal(count_fields(row), 9);
        char model[64];
        unsigned seed;
        double accuracy;
        assert_int_equal(sscanf(row, "%63[^,],%u,%lf,", model, &seed, &accuracy), 3);
        /* Rows come model by model, seeds 1, 2, 3 within each. */
        assert_string_equal(model, MODELS[r / (size_t)settings->seed_count]);
        assert_int_equal(seed, 1 + r % (size_t)settings->seed_count);
        assert_true(accuracy >= 0.0 && accuracy <= 1.0);
    }
    free(text);
}

/*
 * Checks curves.csv: the header, then for each run of the order task one
 * row every curve_every steps up to the last step, and nothing of another
 * task.
 */
static void check_curves_csv(const char *path, const Settings *settings)
{
    char *text = read_whole_file(path);
    char *lines[2048] = {NULL};
    size_t count = split_lines(text, lines, 2048);
    const Recipe *recipe = &settings->order_recipe;
    size_t points = (size_t)(recipe->steps / recipe->curve_every);
    size_t runs = 2 * (size_t)settings->seed_count;
    assert_int_equal(count, 1 + runs * points);
    assert_string_equal(lines[0], CURVES_CSV_HEADER);

    for (size_t i = 1; i < count; i++) {
        assert_int_equal(count_fields(lines[i]), 8);
        assert_int_equal(strncmp(lines[i], "order,", 6), 0);
        int step;
        assert_int_equal(sscanf(lines[i], "%*[^,],%*[^,],%*[^,],%d", &step), 1);
        /* Point p (from 0) of a run is at step (p + 1) * curve_every. */
        assert_int_equal(step, (int)(((i - 1) % points + 1) * (size_t)recipe->curve_every));
    }
    free(text);
}

/* Returns whether gnuplot runs, so that the figures are expected. */
static bool have_gnuplot(void)
{
    fflush(NULL);
    return system("gnuplot --version > /dev/null 2>&1") == 0;
}

/* Checks that the PNG ends with its IEND chunk and the SVG with its closing tag. */
static void check_figures(const char *out, const char *name)
{
    static const unsigned char IEND[12] = {0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xAE, 0x42, 0x60, 0x82};
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s.png", out, name);
    FILE *png = fopen(path, "rb");
    if (!png)
        fail_msg("%s is missing although gnuplot is installed", path);
    unsigned char tail[12];
    assert_int_equal(fseek(png, -12, SEEK_END), 0);
    assert_int_equal(fread(tail, 1, 12, png), 12);
    fclose(png);
    assert_memory_equal(tail, IEND, 12);

    snprintf(path, sizeof path, "%s/%s.svg", out, name);
    char *svg = read_whole_file(path);
    size_t length = strlen(svg);
    assert_true(length > 7);
    expect_contains(svg + length - 8, "</svg>", path);
    free(svg);
}

/*
 * Task 2 (order) finishes in a second; task 3 (text, the full recipe) then
 * trains for minutes. SIGINT to the process group as soon as order.csv
 * exists: exit status 130, the order task's files whole, no file of the
 * text task and no temporary file. SIGINT may also arrive while gnuplot
 * still draws the order figure: gnuplot runs in a process group of its
 * own, so the figure must still appear.
 */
static void test_compare_interrupt_keeps_finished_task(void **state)
{
    (void)state;
    char out[PATH_MAX], order_csv[PATH_MAX + 16], curves_csv[PATH_MAX + 16];
    char report_path[PATH_MAX + 16];
    folder_file(out, sizeof out, "interrupted");
    snprintf(order_csv, sizeof order_csv, "%s/order.csv", out);
    snprintf(curves_csv, sizeof curves_csv, "%s/curves.csv", out);
    snprintf(report_path, sizeof report_path, "%s/REPORT.md", out);

    const char *const arguments[] = {"--tasks", "order,text", "--corpus", paths.corpus, "--out",
                                     out,       "--threads",  "2",        NULL};
    pid_t child = start_compare(arguments, paths.stdout_path);
    wait_for_file(child, order_csv, NULL);
    assert_int_equal(kill(-child, SIGINT), 0);
    int status = wait_exit(child);

    char *err = read_whole_file(paths.stderr_path);
    if (status != 130)
        fail_msg("exit status %d, expected 130; stderr: %.800s", status, err);
    expect_contains(err, "compare: interrupted; finishing the runs in progress", "stderr");
    expect_contains(err, "the files of the tasks that finished are complete in", "stderr");
    free(err);

    char *results = read_whole_file(paths.stdout_path);
    expect_contains(results, "## Task 2: order", "stdout");
    expect_lacks(results, "## Task 3", "stdout");
    free(results);

    Settings settings;
    settings_init(&settings, false);
    check_order_csv(order_csv, &settings);
    check_curves_csv(curves_csv, &settings);
    char *report = read_whole_file(report_path);
    expect_contains(report, "Interrupted with Ctrl-C", "REPORT.md");
    expect_contains(report, "| 2, order | complete |", "REPORT.md");
    expect_lacks(report, "| 3, text | complete |", "REPORT.md");
    free(report);

    expect_only_files(out, (const char *const[]){"order.csv", "curves.csv", "REPORT.md",
                                                 "compare_order.png", "compare_order.svg", NULL});
    if (have_gnuplot())
        check_figures(out, "compare_order");
}

/*
 * SIGINT while the only task, text, trains: exit status 130, and the only
 * file is REPORT.md, which states that no task finished.
 */
static void test_compare_interrupt_before_any_task(void **state)
{
    (void)state;
    char out[PATH_MAX], report_path[PATH_MAX + 16], results[PATH_MAX];
    folder_file(out, sizeof out, "nothing_finished");
    snprintf(report_path, sizeof report_path, "%s/REPORT.md", out);
    /* A stdout file of its own: another test's output must not count as this run's. */
    folder_file(results, sizeof results, "nothing_finished.stdout");

    const char *const arguments[] = {"--tasks", "text", "--corpus", paths.corpus,
                                     "--out",   out,    NULL};
    pid_t child = start_compare(arguments, results);
    /* compare prints its configuration after it installs the SIGINT handler. */
    wait_for_file(child, results, "# CNN against attention");
    assert_int_equal(kill(-child, SIGINT), 0);
    int status = wait_exit(child);

    char *err = read_whole_file(paths.stderr_path);
    if (status != 130)
        fail_msg("exit status %d, expected 130; stderr: %.800s", status, err);
    expect_contains(err, "the tasks that did not finish wrote none", "stderr");
    free(err);

    expect_only_files(out, (const char *const[]){"REPORT.md", NULL});
    char *report = read_whole_file(report_path);
    expect_contains(report, "Interrupted with Ctrl-C", "REPORT.md");
    expect_contains(report, "No task finished, so this run wrote no CSV file.", "REPORT.md");
    expect_lacks(report, "| 3, text | complete |", "REPORT.md");
    free(report);
}

/* ------------------------------------------------------------------------- */
/* Files and standard output that cannot be written                           */
/* ------------------------------------------------------------------------- */

/*
 * stdout is a pipe whose read end is closed, as in `compare | head -1` after
 * head exits: compare must not die of SIGPIPE but write its files and exit
 * with status 1, naming EPIPE's reason.
 */
static void test_compare_closed_pipe_exits_1(void **state)
{
    (void)state;
    char out[PATH_MAX], report[PATH_MAX + 16], order_csv[PATH_MAX + 16];
    folder_file(out, sizeof out, "closed_pipe");
    snprintf(report, sizeof report, "%s/REPORT.md", out);
    snprintf(order_csv, sizeof order_csv, "%s/order.csv", out);
    int ends[2];
    assert_int_equal(pipe(ends), 0);
    close(ends[0]);

    const char *const arguments[] = {"--quick", "--tasks", "order", "--threads",
                                     "1",       "--out",   out,     NULL};
    pid_t child = start_compare_on(arguments, NULL, ends[1]);
    close(ends[1]);
    int status = wait_exit(child);
    char *err = read_whole_file(paths.stderr_path);
    if (status != 1)
        fail_msg("exit status %d, expected 1; stderr: %.800s", status, err);
    expect_contains(err, "writing the results to standard output failed: Broken pipe", "stderr");
    free(err);

    char *text = read_whole_file(report);
    expect_contains(text, "| 2, order | complete |", "REPORT.md");
    free(text);
    Settings settings;
    settings_init(&settings, true);
    check_order_csv(order_csv, &settings);
}

/*
 * OUT/order.csv is a folder, so its rename fails: compare prints the table,
 * writes curves.csv and REPORT.md, which states that the CSV file is missing, and
 * exits with status 1 naming the file.
 */
static void test_compare_unwritable_csv_exits_1(void **state)
{
    (void)state;
    char out[PATH_MAX], report[PATH_MAX + 16], blocked[PATH_MAX + 16], curves[PATH_MAX + 16];
    folder_file(out, sizeof out, "unwritable_csv");
    snprintf(report, sizeof report, "%s/REPORT.md", out);
    snprintf(blocked, sizeof blocked, "%s/order.csv", out);
    snprintf(curves, sizeof curves, "%s/curves.csv", out);
    assert_int_equal(mkdir(out, 0700), 0);
    assert_int_equal(mkdir(blocked, 0700), 0);

    const char *const arguments[] = {"--quick", "--tasks", "order", "--threads",
                                     "1",       "--out",   out,     NULL};
    int status = wait_exit(start_compare(arguments, paths.stdout_path));
    char *err = read_whole_file(paths.stderr_path);
    if (status != 1)
        fail_msg("exit status %d, expected 1; stderr: %.800s", status, err);
    expect_contains(err, "order.csv", "stderr");
    expect_contains(err, "the task's tables are still printed", "stderr");
    free(err);

    char *results = read_whole_file(paths.stdout_path);
    expect_contains(results, "## Task 2: order", "stdout");
    free(results);
    char *text = read_whole_file(report);
    expect_contains(text, "| 2, order | trained, CSV file not written |", "REPORT.md");
    expect_contains(text, "No task's CSV file could be written.", "REPORT.md");
    free(text);
    Settings settings;
    settings_init(&settings, true);
    check_curves_csv(curves, &settings);
    expect_only_files(out, (const char *const[]){"order.csv", "curves.csv", "REPORT.md", NULL});
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compare_bad_options_rejected),
        cmocka_unit_test(test_compare_long_values_shortened),
        cmocka_unit_test(test_compare_seed_zero_accepted),
        cmocka_unit_test(test_compare_help_to_full_disk_fails),
        cmocka_unit_test(test_compare_interrupt_keeps_finished_task),
        cmocka_unit_test(test_compare_interrupt_before_any_task),
        cmocka_unit_test(test_compare_closed_pipe_exits_1),
        cmocka_unit_test(test_compare_unwritable_csv_exits_1),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
