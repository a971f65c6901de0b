/*
 * Tests of common/files.c and common/clock.c in a fresh temporary directory.
 */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "files.h"

/* Creates a fresh directory under /tmp for one test and stores its path. */
static int make_temporary_directory(void **state)
{
    char *path = malloc(64);
    if (!path)
        return -1;
    strcpy(path, "/tmp/test_files_XXXXXX");
    if (!mkdtemp(path)) {
        free(path);
        return -1;
    }
    *state = path;
    return 0;
}

/* Removes the directories and files the tests created, deepest first. */
static int remove_temporary_directory(void **state)
{
    const char *root = *state;
    const char *inside[] = {"a/b/c", "a/b", "a", "x/y", "x", "file"};
    char path[256];
    for (size_t i = 0; i < sizeof inside / sizeof inside[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", root, inside[i]);
        remove(path);
    }
    int status = rmdir(root);
    free(*state);
    return status;
}

static bool is_directory(const char *path)
{
    struct stat info;
    return stat(path, &info) == 0 && S_ISDIR(info.st_mode);
}

static void test_make_directories_creates_nested(void **state)
{
    char path[256];
    snprintf(path, sizeof path, "%s/a/b/c", (const char *)*state);
    char error[256] = "";
    assert_true(make_directories(path, error, sizeof error));
    assert_true(is_directory(path));
    assert_string_equal(error, "");
}

static void test_make_directories_existing_is_success(void **state)
{
    char path[256];
    snprintf(path, sizeof path, "%s/a", (const char *)*state);
    assert_true(make_directories(path, NULL, 0));
    assert_true(make_directories(path, NULL, 0));
    assert_true(make_directories(*state, NULL, 0));
    assert_true(make_directories("/", NULL, 0));
}

static void test_make_directories_extra_slashes(void **state)
{
    char path[256];
    snprintf(path, sizeof path, "%s//x///y/", (const char *)*state);
    assert_true(make_directories(path, NULL, 0));
    snprintf(path, sizeof path, "%s/x/y", (const char *)*state);
    assert_true(is_directory(path));
}

static void test_make_directories_file_in_path_fails(void **state)
{
    char file[256], path[300], expected[400];
    snprintf(file, sizeof file, "%s/file", (const char *)*state);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fclose(f);

    snprintf(path, sizeof path, "%s/sub", file);
    char error[400] = "";
    assert_false(make_directories(path, error, sizeof error));
    snprintf(expected, sizeof expected,
             "failed to create directory %s: it exists and is not a directory", file);
    assert_string_equal(error, expected);
}

/* A component of 300 bytes exceeds NAME_MAX (255 on Linux file systems), so
 * mkdir fails with ENAMETOOLONG, and the message names the component. */
static void test_make_directories_reports_strerror(void **state)
{
    char name[301], path[600], expected[800];
    memset(name, 'n', 300);
    name[300] = '\0';
    snprintf(path, sizeof path, "%s/%s/leaf", (const char *)*state, name);

    char error[800] = "";
    assert_false(make_directories(path, error, sizeof error));
    snprintf(expected, sizeof expected, "failed to create directory %s/%s: File name too long",
             (const char *)*state, name);
    assert_string_equal(error, expected);
}

static void test_make_directories_empty_path_fails(void **state)
{
    (void)state;
    char error[128] = "";
    assert_false(make_directories("", error, sizeof error));
    assert_string_equal(error, "failed to create directory: the path is empty");
}

/* Not a timing test: the monotonic clock never goes backwards. */
static void test_time_now_seconds_never_decreases(void **state)
{
    (void)state;
    double previous = time_now_seconds();
    for (int i = 0; i < 1000; i++) {
        double now = time_now_seconds();
        assert_true(now >= previous);
        previous = now;
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_make_directories_creates_nested,
                                        make_temporary_directory, remove_temporary_directory),
        cmocka_unit_test_setup_teardown(test_make_directories_existing_is_success,
                                        make_temporary_directory, remove_temporary_directory),
        cmocka_unit_test_setup_teardown(test_make_directories_extra_slashes,
                                        make_temporary_directory, remove_temporary_directory),
        cmocka_unit_test_setup_teardown(test_make_directories_file_in_path_fails,
                                        make_temporary_directory, remove_temporary_directory),
        cmocka_unit_test_setup_teardown(test_make_directories_reports_strerror,
                                        make_temporary_directory, remove_temporary_directory),
        cmocka_unit_test(test_make_directories_empty_path_fails),
        cmocka_unit_test(test_time_now_seconds_never_decreases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
