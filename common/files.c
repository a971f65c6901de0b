/*
 * File-system helpers (POSIX mkdir, stat, unlink and open).
 */
#define _POSIX_C_SOURCE 200809L

#include "files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

/* Creates one directory; an existing directory counts as success. */
static bool make_one_directory(const char *path, char *error, size_t error_size)
{
    if (mkdir(path, 0777) == 0)
        return true;

    int mkdir_errno = errno;
    struct stat info;
    if (mkdir_errno == EEXIST && stat(path, &info) == 0 && S_ISDIR(info.st_mode))
        return true;

    if (error && error_size > 0) {
        if (mkdir_errno == EEXIST)
            snprintf(error, error_size,
                     "failed to create directory %s: it exists and is "
                     "not a directory",
                     path);
        else
            snprintf(error, error_size, "failed to create directory %s: %s", path,
                     strerror(mkdir_errno));
    }
    return false;
}

bool make_directories(const char *path, char *error, size_t error_size)
{
    size_t length = strlen(path);
    if (length == 0) {
        if (error && error_size > 0)
            snprintf(error, error_size, "failed to create directory: the path is empty");
        return false;
    }
    char *prefix = malloc(length + 1);
    if (!prefix) {
        if (error && error_size > 0)
            snprintf(error, error_size, "failed to create directory %s: out of memory", path);
        return false;
    }
    memcpy(prefix, path, length + 1);

    /* Create each parent in turn by cutting the path at every '/' that ends a
     * component (a leading '/' and repeated slashes start none). */
    bool ok = true;
    for (size_t i = 1; ok && i < length; i++) {
        if (prefix[i] != '/' || prefix[i - 1] == '/')
            continue;
        prefix[i] = '\0';
        ok = make_one_directory(prefix, error, error_size);
        prefix[i] = '/';
    }
    if (ok)
        ok = make_one_directory(prefix, error, error_size);
    free(prefix);
    return ok;
}

/* errno of the last failed files_flush_stdout, or 0. */
static int stdout_errno = 0;

bool files_flush_stdout(void)
{
    errno = 0;
    if (fflush(stdout) == 0)
        return true;
    if (errno != 0)
        stdout_errno = errno;
    return false;
}

int files_stdout_errno(void) { return stdout_errno; }

FILE *create_new_file(const char *path)
{
    /* Removing first lets O_EXCL succeed; a missing file is the usual case. */
    if (unlink(path) != 0 && errno != ENOENT)
        return NULL;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        return NULL;
    FILE *file = fdopen(fd, "wb");
    if (!file) {
        int code = errno;
        close(fd);
        unlink(path);
        errno = code;
    }
    return file;
}

const char *describe_file_type(mode_t mode)
{
    if (S_ISREG(mode))
        return "a regular file";
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISLNK(mode))
        return "a symbolic link";
    if (S_ISFIFO(mode))
        return "a FIFO";
    if (S_ISCHR(mode))
        return "a character device";
    if (S_ISBLK(mode))
        return "a block device";
    if (S_ISSOCK(mode))
        return "a socket";
    return "a special file";
}

bool is_replaceable_file(const char *path, char *error, size_t error_size)
{
    struct stat info;
    if (lstat(path, &info) != 0) {
        if (errno == ENOENT)
            return true;
        if (error && error_size > 0)
            snprintf(error, error_size, "failed to check %s: %s", path, strerror(errno));
        return false;
    }
    if (S_ISREG(info.st_mode))
        return true;
    if (error && error_size > 0)
        snprintf(error, error_size, "%s is %s, not a regular file", path,
                 describe_file_type(info.st_mode));
    return false;
}
