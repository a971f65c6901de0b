/*
 * Tests of common/csv.c: the final file appears only on csv_close, failures
 * leave the old file untouched and remove the temporary file, and error
 * messages name the file and the reason.
 */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "csv.h"

/* Paths used by one test, inside a fresh temporary directory. */
typedef struct Paths {
    char directory[64];
    char csv[128];       /* directory/results.csv */
    char temporary[160]; /* directory/results.csv.tmp */
} Paths;

static int make_paths(void **state)
{
    Paths *paths = calloc(1, sizeof *paths);
    if (!paths)
        return -1;
    strcpy(paths->directory, "/tmp/test_csv_XXXXXX");
    if (!mkdtemp(paths->directory)) {
        free(paths);
        return -1;
    }
    snprintf(paths->csv, sizeof paths->csv, "%s/results.csv", paths->directory);
    snprintf(paths->temporary, sizeof paths->temporary, "%s.tmp", paths->csv);
    *state = paths;
    return 0;
}

static int remove_paths(void **state)
{
    Paths *paths = *state;
    remove(paths->temporary);
    remove(paths->csv);
    int status = rmdir(paths->directory);
    free(paths);
    return status;
}

static bool file_exists(const char *path)
{
    struct stat info;
    return stat(path, &info) == 0;
}

/* Reads a whole small file into buffer (NUL-terminated); returns false when
 * it cannot be read. */
static bool read_file(const char *path, char *buffer, size_t buffer_size)
{
    FILE *file = fopen(path, "r");
    if (!file)
        return false;
    size_t bytes = fread(buffer, 1, buffer_size - 1, file);
    buffer[bytes] = '\0';
    fclose(file);
    return true;
}

static void write_file(const char *path, const char *text)
{
    FILE *file = fopen(path, "w");
    assert_non_null(file);
    fputs(text, file);
    fclose(file);
}

static void test_csv_close_writes_header_and_rows(void **state)
{
    Paths *paths = *state;
    char error[256] = "";
    CsvWriter *writer = csv_open(paths->csv, "step,loss", error, sizeof error);
    assert_non_null(writer);
    assert_true(csv_row(writer, "%d,%.2f", 1, 0.75));
    assert_true(csv_row(writer, "%d,%.2f", 2, 0.5));

    assert_true(csv_close(writer, error, sizeof error));
    char text[256];
    assert_true(read_file(paths->csv, text, sizeof text));
    assert_string_equal(text, "step,loss\n1,0.75\n2,0.50\n");
    assert_false(file_exists(paths->temporary));
}

static void test_csv_open_writes_only_temporary_file(void **state)
{
    Paths *paths = *state;
    write_file(paths->csv, "old\n");
    CsvWriter *writer = csv_open(paths->csv, "a,b", NULL, 0);
    assert_true(csv_row(writer, "1,2"));

    char text[256];
    assert_true(file_exists(paths->temporary));
    assert_true(read_file(paths->csv, text, sizeof text));
    assert_string_equal(text, "old\n");

    assert_true(csv_close(writer, NULL, 0));
    assert_true(read_file(paths->csv, text, sizeof text));
    assert_string_equal(text, "a,b\n1,2\n");
}

static void test_csv_abort_keeps_old_file(void **state)
{
    Paths *paths = *state;
    write_file(paths->csv, "old\n");
    CsvWriter *writer = csv_open(paths->csv, "a,b", NULL, 0);
    assert_true(csv_row(writer, "1,2"));
    csv_abort(writer);
    csv_abort(NULL);

    char text[256];
    assert_false(file_exists(paths->temporary));
    assert_true(read_file(paths->csv, text, sizeof text));
    assert_string_equal(text, "old\n");
}

static void test_csv_open_missing_directory_fails(void **state)
{
    Paths *paths = *state;
    char path[256], expected[512], error[512] = "";
    snprintf(path, sizeof path, "%s/missing/results.csv", paths->directory);
    assert_null(csv_open(path, "a", error, sizeof error));
    snprintf(expected, sizeof expected, "failed to create %s.tmp: No such file or directory", path);
    assert_string_equal(error, expected);
}

/* A directory at the final path is not replaced: the close fails and names it. */
static void test_csv_close_rename_failure_reported(void **state)
{
    Paths *paths = *state;
    assert_int_equal(mkdir(paths->csv, 0777), 0);
    CsvWriter *writer = csv_open(paths->csv, "a", NULL, 0);
    assert_non_null(writer);

    char error[512] = "", expected[512];
    assert_false(csv_close(writer, error, sizeof error));
    snprintf(expected, sizeof expected,
             "%s is a directory, not a regular file; move it away and run the program again",
             paths->csv);
    assert_string_equal(error, expected);
    assert_false(file_exists(paths->temporary));
    assert_int_equal(rmdir(paths->csv), 0);
}

/* In a child process limited to 4096-byte files (RLIMIT_FSIZE, with SIGXFSZ
 * ignored so that the write fails with EFBIG instead of killing the child),
 * writes rows past the limit. Exit status 0 means csv_close failed with the
 * expected message and removed the temporary file. */
static int write_past_file_size_limit(const Paths *paths)
{
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit limit = {4096, 4096};
    if (setrlimit(RLIMIT_FSIZE, &limit) != 0)
        return 10;

    CsvWriter *writer = csv_open(paths->csv, "index,value", NULL, 0);
    if (!writer)
        return 11;
    for (int i = 0; i < 2000; i++)
        csv_row(writer, "%d,%d", i, i * i);

    char error[512] = "", expected[512];
    if (csv_close(writer, error, sizeof error))
        return 12;
    snprintf(expected, sizeof expected, "failed to write %s: %s", paths->temporary,
             strerror(EFBIG));
    if (strcmp(error, expected) != 0)
        return 13;
    return file_exists(paths->temporary) || file_exists(paths->csv) ? 14 : 0;
}

static void test_csv_close_write_failure_reported(void **state)
{
    Paths *paths = *state;
    fflush(NULL);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0)
        _exit(write_past_file_size_limit(paths));

    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* A process that exits with a writer still open (exit status 3 here) leaves no .tmp file. */
static void test_csv_exit_removes_temporary_file(void **state)
{
    Paths *paths = *state;
    fflush(NULL);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        CsvWriter *writer = csv_open(paths->csv, "a,b", NULL, 0);
        if (!writer || !file_exists(paths->temporary))
            _exit(10);
        exit(3);
    }
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 3);
    assert_false(file_exists(paths->temporary));
    assert_false(file_exists(paths->csv));
}

/* A forked child that exits leaves the writers of its parent alone. */
static void test_csv_child_exit_keeps_parent_file(void **state)
{
    Paths *paths = *state;
    CsvWriter *writer = csv_open(paths->csv, "a,b", NULL, 0);
    assert_non_null(writer);
    fflush(NULL);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0)
        exit(0);
    assert_int_equal(waitpid(child, NULL, 0), child);
    assert_true(file_exists(paths->temporary));
    assert_true(csv_close(writer, NULL, 0));
    assert_true(file_exists(paths->csv));
}

/* A symbolic link at the final path is not replaced: the close fails and the link stays. */
static void test_csv_close_keeps_link_at_path(void **state)
{
    Paths *paths = *state;
    char victim[160], text[64], error[512] = "";
    snprintf(victim, sizeof victim, "%s/victim", paths->directory);
    write_file(victim, "victim\n");
    assert_int_equal(symlink(victim, paths->csv), 0);

    CsvWriter *csv = csv_open(paths->csv, "a,b", NULL, 0);
    assert_non_null(csv);
    assert_false(csv_close(csv, error, sizeof error));
    assert_non_null(strstr(error, "is a symbolic link, not a regular file"));

    struct stat info;
    assert_int_equal(lstat(paths->csv, &info), 0);
    assert_true(S_ISLNK(info.st_mode));
    assert_true(read_file(victim, text, sizeof text));
    assert_string_equal(text, "victim\n");
    assert_false(file_exists(paths->temporary));
    assert_int_equal(remove(paths->csv), 0);
    assert_int_equal(remove(victim), 0);
}

/* A symbolic link at results.csv.tmp is replaced, never written through. */
static void test_csv_open_ignores_temporary_symlink(void **state)
{
    Paths *paths = *state;
    char victim[160], text[64];
    snprintf(victim, sizeof victim, "%s/victim", paths->directory);
    write_file(victim, "victim\n");
    assert_int_equal(symlink(victim, paths->temporary), 0);

    CsvWriter *csv = csv_open(paths->csv, "a,b", NULL, 0);
    assert_non_null(csv);
    assert_true(csv_close(csv, NULL, 0));
    assert_true(read_file(victim, text, sizeof text));
    assert_string_equal(text, "victim\n");
    assert_true(read_file(paths->csv, text, sizeof text));
    assert_string_equal(text, "a,b\n");
    assert_false(file_exists(paths->temporary));
    assert_int_equal(remove(victim), 0);
}

/* Fields quoted by hand: in double quotes, each inner double quote doubled. */

static void test_csv_quote_doubles_quotes(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"dog", "\"dog\""}, {"", "\"\""}, {"a,b", "\"a,b\""}, {"say \"hi\"", "\"say \"\"hi\"\"\""},
        {"\"", "\"\"\"\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *quoted = csv_quote(cases[i][0]);
        assert_non_null(quoted);
        assert_string_equal(quoted, cases[i][1]);
        free(quoted);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_csv_close_writes_header_and_rows, make_paths,
                                        remove_paths),
        cmocka_unit_test_setup_teardown(test_csv_open_writes_only_temporary_file, make_paths,
                                        remove_paths),
        cmocka_unit_test_setup_teardown(test_csv_abort_keeps_old_file, make_paths, remove_paths),
        cmocka_unit_test_setup_teardown(test_csv_open_missing_directory_fails, make_paths,
                                        remove_paths),
        cmocka_unit_test_setup_teardown(test_csv_close_rename_failure_reported, make_paths,
                                        remove_paths),
        cmocka_unit_test_setup_teardown(test_csv_close_keeps_link_at_path, make_paths,
                                        remove_paths),
        cmocka_unit_test_setup_teardown(test_csv_open_ignores_temporary_symlink, make_paths,
                                        remove_paths),
        cmocka_unit_test(test_csv_quote_doubles_quotes),
        cmocka_unit_test_setup_teardown(test_csv_exit_removes_temporary_file, make_paths,
                                        remove_paths),
        cmocka_unit_test_setup_teardown(test_csv_child_exit_keeps_parent_file, make_paths,
                                        remove_paths),
        cmocka_unit_test_setup_teardown(test_csv_close_write_failure_reported, make_paths,
                                        remove_paths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
