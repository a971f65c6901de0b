/**
 * @file checkpoint.h
 * @brief Saving a model's parameters to a file and loading them back, with
 *        every field of the file checked before the model is changed.
 *
 * File format, version 1. Every integer is unsigned and little-endian,
 * whatever the machine's byte order; offsets are in bytes.
 *
 *     offset  size  field
 *     0       8     magic number: the ASCII bytes "DRVCKPT" and one 0x00 byte
 *     8       4     format version, 1
 *     12      8     file size in bytes, this header and the checksum included
 *     20      4     parameter count, the ParamList's count
 *     24      ...   one record per parameter, in ParamList order:
 *                     4        name length L in bytes, at least 1
 *                     L        the name, without a terminating NUL
 *                     4        ndim, 1 to TENSOR_MAX_DIMS
 *                     4*ndim   the dimensions, outermost first, each >= 1
 *                     8        element count, the product of the dimensions
 *                     4*count  the values, IEEE 754 float32, row-major, each
 *                              finite (no NaN or infinity) and of magnitude
 *                              at most CHECKPOINT_MAX_ABS_VALUE
 *     size-4  4     CRC-32 of every byte before it
 *
 * So a checkpoint of a given ParamList has exactly 28 bytes plus, per
 * parameter, 16 + L + 4*ndim + 4*count bytes.
 *
 * The checksum is the CRC-32 of zlib, gzip and PNG (CRC-32/ISO-HDLC in
 * Greg Cook's catalogue of parametrised CRC algorithms): the reflected
 * polynomial 0xEDB88320, initial value 0xFFFFFFFF and a final XOR with
 * 0xFFFFFFFF. See checkpoint_crc32.
 *
 * Saving is atomic: the file is written to "<path>.tmp", flushed, fsynced
 * and renamed over @p path, so an interrupted save leaves the previous file
 * and at most a stale .tmp file, never a partial file under the final name.
 * The .tmp file is created anew (create_new_file in files.h), so a file or
 * symbolic link left at that name is removed and never written through. The
 * rename replaces only a regular file: a directory, symbolic link, FIFO or
 * device at @p path makes the save fail and stays as it is. The directory
 * is not fsynced, so after a power failure the old file may come back, but
 * never a partial one.
 *
 * Loading first compares the file's size with the size a checkpoint of the
 * ParamList has: a larger file is rejected after reading only that many
 * bytes, so memory use is bounded by the model's size. A file of at most
 * that size is read whole. The loader checks the magic number, the version,
 * the size, the checksum, every parameter's name and shape against the
 * ParamList and that every value is finite, all before it copies any
 * value. So a load that fails leaves the model exactly as it was. A checkpoint stores
 * parameters only: no optimiser state, step count or vocabulary.
 */
#ifndef CHECKPOINT_H
#define CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "optim.h"

/**
 * The largest magnitude of a stored value. Trained with their default
 * settings, the models of stages 01, 05, 06, 07 and 08 have weights of
 * magnitude at most 3.5 to 5.3. Values near this bound overflow float32 in
 * the forward pass (squared by layer norm, multiplied together in attention
 * scores) and give NaN results, so checkpoint_save refuses them and
 * checkpoint_load rejects a file that contains one.
 */
#define CHECKPOINT_MAX_ABS_VALUE 1.0e6f

/**
 * Returns the name of the first parameter of @p params with a value above
 * CHECKPOINT_MAX_ABS_VALUE in magnitude, or NULL when there is none.
 * Training calls it to stop before saving such weights.
 */
const char *checkpoint_find_value_above_max(const ParamList *params);

/** The version of the file format that checkpoint_save writes and checkpoint_load reads. */
#define CHECKPOINT_VERSION 1u

/**
 * Computes the CRC-32 (zlib's, see the file description) of @p bytes
 * [size], continuing from @p crc: pass 0 for the first chunk and the
 * previous result for each following chunk.
 * @return the CRC-32 of all chunks so far; CRC-32 of "123456789" is 0xCBF43926.
 */
uint32_t checkpoint_crc32(uint32_t crc, const void *bytes, size_t size);

/**
 * Writes the values, names and shapes of every parameter of @p params to
 * @p path in the format above, through "<path>.tmp" and a rename.
 * @return true on success. The save fails when the file cannot be created,
 *         written, fsynced or renamed, when @p path exists and is not a
 *         regular file, when a value is NaN or infinite, when a name or
 *         count does not fit the format, or when memory runs out. Then it
 *         removes the temporary file, leaves @p path as it was and writes a
 *         message naming the file and the reason into @p error (when
 *         @p error_size > 0).
 */
bool checkpoint_save(const ParamList *params, const char *path, char *error, size_t error_size);

/** The outcome of checkpoint_load. */
typedef enum CheckpointLoadStatus {
    CHECKPOINT_LOADED = 0,  /**< every value was copied into the model */
    CHECKPOINT_REJECTED,    /**< the file is not a checkpoint of this model: see checkpoint_load */
    CHECKPOINT_READ_FAILED, /**< memory ran out or reading the file failed */
} CheckpointLoadStatus;

/**
 * Reads the checkpoint at @p path into the tensors of @p params. The file
 * must hold the same number of parameters, in the same order, with the same
 * names and shapes, and finite values only.
 * @return CHECKPOINT_LOADED when every value was copied. CHECKPOINT_REJECTED
 *         when the path is missing, not a regular file or empty. It is also
 *         returned when the file is larger than a checkpoint of @p params,
 *         truncated, has another magic number, version or checksum, has a
 *         NaN or infinite value, or does not match @p params.
 *         CHECKPOINT_READ_FAILED when memory runs
 *         out or a read fails. On failure it writes a message naming the
 *         file and the problem into @p error (when @p error_size > 0) and
 *         leaves every tensor of @p params unchanged.
 */
CheckpointLoadStatus checkpoint_load(ParamList *params, const char *path, char *error,
                                     size_t error_size);

/**
 * Checks the checkpoint in @p bytes [size], a whole file held in memory,
 * against @p params and copies its values into the tensors, as
 * checkpoint_load does for a file. @p source names the data in messages,
 * such as the path it was read from. Allocates nothing.
 * @return true when every value was copied; false, with a message in
 *         @p error and every tensor of @p params unchanged, otherwise.
 */
bool checkpoint_load_buffer(ParamList *params, const unsigned char *bytes, size_t size,
                            const char *source, char *error, size_t error_size);

#endif /* CHECKPOINT_H */
