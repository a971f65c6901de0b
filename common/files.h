/**
 * @file files.h
 * @brief File-system helpers for the programs' output directories and
 *        the temporary files of atomic writers.
 */
#ifndef FILES_H
#define FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/**
 * Creates directory @p path and every missing parent, like `mkdir -p`, with
 * permissions 0777 less the process's umask. Existing directories are fine.
 * @return true when the whole path exists as directories afterwards.
 *         Otherwise false, with a message naming the directory that could
 *         not be created and the reason (strerror) in @p error (when
 *         @p error_size > 0). Parents created before the failure remain.
 */
bool make_directories(const char *path, char *error, size_t error_size);

/**
 * Flushes stdout like fflush(stdout) and, when that fails, records its
 * errno for files_stdout_errno: stdio itself keeps only the error flag, so
 * the reason of a failed write is lost once the next call changes errno.
 * @return whether the flush succeeded.
 */
bool files_flush_stdout(void);

/** Returns the errno of the last failed files_flush_stdout, or 0 when none failed. */
int files_stdout_errno(void);

/**
 * Creates the file @p path for writing, with permissions 0644 less the
 * process's umask, and never through what was at @p path before: an old
 * file or a symbolic link there is removed first (the link itself, not its
 * target), and O_CREAT | O_EXCL | O_NOFOLLOW makes the open fail instead of
 * following a file or link that appears between the removal and the open.
 * Atomic writers use it for their "<path>.tmp" file.
 * @return the open stream, which the caller closes; NULL with errno set
 *         when the old entry cannot be removed (a directory, EISDIR) or the
 *         file cannot be created.
 */
FILE *create_new_file(const char *path);

/**
 * Returns a phrase for the file type in @p mode (st_mode), for messages:
 * "a directory", "a symbolic link", "a FIFO", "a character device",
 * "a block device", "a socket", "a regular file", or "a special file".
 */
const char *describe_file_type(mode_t mode);

/**
 * Checks that @p path can be replaced by a rename: it is missing, or it is
 * a regular file. lstat is used, so a symbolic link counts as a link and
 * not as its target.
 * @return true when the rename may go ahead. Otherwise false, with a
 *         message such as "/x/y is a FIFO, not a regular file" or the
 *         reason lstat failed in @p error (when @p error_size > 0).
 */
bool is_replaceable_file(const char *path, char *error, size_t error_size);

#endif /* FILES_H */
