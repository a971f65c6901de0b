/**
 * @file files.h
 * @brief File-system helpers for the programs' output directories.
 */
#ifndef FILES_H
#define FILES_H

#include <stdbool.h>
#include <stddef.h>

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

#endif /* FILES_H */
