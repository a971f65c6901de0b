/*
 * Checkpoints (see checkpoint.h for the file format): an atomic writer and a
 * loader that validates the whole file before it copies anything.
 */
#define _POSIX_C_SOURCE 200809L

#include "checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "files.h"

/* Values are stored as the bits of IEEE 754 float32 in a uint32. */
_Static_assert(sizeof(float) == sizeof(uint32_t), "checkpoints need a 4-byte float");

/* The first 8 bytes of every checkpoint: "DRVCKPT" and its terminating NUL. */
static const unsigned char CHECKPOINT_MAGIC[8] = "DRVCKPT";

/* Bytes of the fixed header: magic, version, file size, parameter count. */
#define HEADER_BYTES 24u

/* Bytes of the CRC-32 at the end of the file. */
#define CHECKSUM_BYTES 4u

/* Suffix of the file that checkpoint_save writes before renaming it. */
#define TEMPORARY_SUFFIX ".tmp"

/* Bytes of a reason that a message quotes, such as "PATH is a FIFO, not a regular file". */
#define ERROR_REASON_BYTES 4400

/* Maximum bytes of a name from the file that an error message shows. */
#define SHOWN_NAME_BYTES 48

/* ------------------------------------------------------------------------- */
/* CRC-32                                                                     */
/* ------------------------------------------------------------------------- */

/* Entry n is the CRC register after shifting the four bits of n out of it:
 * four times c = (c & 1) ? (c >> 1) ^ 0xEDB88320 : c >> 1, starting at c = n.
 * Processing half a byte per lookup keeps the table small. */
static const uint32_t CRC32_NIBBLE_TABLE[16] = {
    0x00000000, 0x1DB71064, 0x3B6E20C8, 0x26D930AC, 0x76DC4190, 0x6B6B51F4, 0x4DB26158, 0x5005713C,
    0xEDB88320, 0xF00F9344, 0xD6D6A3E8, 0xCB61B38C, 0x9B64C2B0, 0x86D3D2D4, 0xA00AE278, 0xBDBDF21C,
};

uint32_t checkpoint_crc32(uint32_t crc, const void *bytes, size_t size)
{
    const unsigned char *data = bytes;
    uint32_t register_value = crc ^ 0xFFFFFFFFu;
    for (size_t i = 0; i < size; i++) {
        register_value ^= data[i];
        register_value = (register_value >> 4) ^ CRC32_NIBBLE_TABLE[register_value & 15u];
        register_value = (register_value >> 4) ^ CRC32_NIBBLE_TABLE[register_value & 15u];
    }
    return register_value ^ 0xFFFFFFFFu;
}

/* ------------------------------------------------------------------------- */
/* Little-endian integers                                                     */
/* ------------------------------------------------------------------------- */

static void store_u32(unsigned char *bytes, uint32_t value)
{
    for (int i = 0; i < 4; i++)
        bytes[i] = (unsigned char)(value >> (8 * i));
}

static void store_u64(unsigned char *bytes, uint64_t value)
{
    for (int i = 0; i < 8; i++)
        bytes[i] = (unsigned char)(value >> (8 * i));
}

static uint32_t load_u32(const unsigned char *bytes)
{
    uint32_t value = 0;
    for (int i = 3; i >= 0; i--)
        value = (value << 8) | bytes[i];
    return value;
}

static uint64_t load_u64(const unsigned char *bytes)
{
    uint64_t value = 0;
    for (int i = 7; i >= 0; i--)
        value = (value << 8) | bytes[i];
    return value;
}

/* ------------------------------------------------------------------------- */
/* Messages                                                                   */
/* ------------------------------------------------------------------------- */

/* Writes the formatted message into error, when there is room. */
static void write_error(char *error, size_t error_size, const char *format, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static void write_error(char *error, size_t error_size, const char *format, ...)
{
    if (!error || error_size == 0)
        return;
    va_list args;
    va_start(args, format);
    vsnprintf(error, error_size, format, args);
    va_end(args);
}

/* Copies a name read from a file into text for a message: bytes outside
 * printable ASCII become '?', and a long name is cut and ends in "...". */
static void format_file_name(const unsigned char *name, size_t length, char *text)
{
    size_t shown = length < SHOWN_NAME_BYTES ? length : SHOWN_NAME_BYTES;
    for (size_t i = 0; i < shown; i++)
        text[i] = name[i] >= 0x20 && name[i] < 0x7F ? (char)name[i] : '?';
    strcpy(text + shown, length > shown ? "..." : "");
}

/* Formats dims [ndim] read from a file as "[2, 3]". */
static void format_file_shape(const uint32_t *dims, uint32_t ndim, char *text, size_t text_size)
{
    size_t used = (size_t)snprintf(text, text_size, "[");
    for (uint32_t i = 0; i < ndim && used < text_size; i++)
        used +=
            (size_t)snprintf(text + used, text_size - used, i ? ", %" PRIu32 : "%" PRIu32, dims[i]);
    if (used < text_size)
        snprintf(text + used, text_size - used, "]");
}

/* ------------------------------------------------------------------------- */
/* Saving                                                                     */
/* ------------------------------------------------------------------------- */

/* A file being written, with the CRC-32 of everything written so far. */
typedef struct Writer {
    FILE *file;
    uint32_t crc;
    int error_code; /* errno of the first failed write, or 0 */
} Writer;

static void write_bytes(Writer *writer, const void *bytes, size_t size)
{
    if (writer->error_code != 0 || size == 0)
        return;
    writer->crc = checkpoint_crc32(writer->crc, bytes, size);
    errno = 0;
    if (fwrite(bytes, 1, size, writer->file) != size)
        writer->error_code = errno != 0 ? errno : EIO;
}

static void write_u32(Writer *writer, uint32_t value)
{
    unsigned char bytes[4];
    store_u32(bytes, value);
    write_bytes(writer, bytes, sizeof bytes);
}

static void write_u64(Writer *writer, uint64_t value)
{
    unsigned char bytes[8];
    store_u64(bytes, value);
    write_bytes(writer, bytes, sizeof bytes);
}

/* Writes values [count] as little-endian float32, a chunk at a time. */
static void write_floats(Writer *writer, const float *values, size_t count)
{
    unsigned char chunk[4096];
    size_t chunk_values = sizeof chunk / 4;
    for (size_t start = 0; start < count; start += chunk_values) {
        size_t n = count - start < chunk_values ? count - start : chunk_values;
        for (size_t i = 0; i < n; i++) {
            uint32_t bits;
            memcpy(&bits, &values[start + i], sizeof bits);
            store_u32(chunk + 4 * i, bits);
        }
        write_bytes(writer, chunk, 4 * n);
    }
}

/* Computes the bytes of parameter i's record into *bytes. Returns false,
 * with a message, when the name or the size does not fit the format. */
static bool measure_record(const ParamList *params, size_t i, const char *path, uint64_t *bytes,
                           char *error, size_t error_size)
{
    const Tensor *t = params->tensors[i];
    size_t name_bytes = strlen(params->names[i]);
    if (name_bytes > UINT32_MAX || (uint64_t)t->size > UINT64_MAX / 8) {
        write_error(error, error_size,
                    "failed to save checkpoint %s: parameter %zu '%.48s' is too large for the "
                    "format",
                    path, i + 1, params->names[i]);
        return false;
    }
    *bytes = 4 + (uint64_t)name_bytes + 4 + 4 * (uint64_t)t->shape.ndim + 8 + 4 * (uint64_t)t->size;
    return true;
}

/* Computes the size of the whole file into *file_bytes. */
static bool measure_checkpoint(const ParamList *params, const char *path, uint64_t *file_bytes,
                               char *error, size_t error_size)
{
    if (params->count > UINT32_MAX) {
        write_error(error, error_size,
                    "failed to save checkpoint %s: %zu parameters, more than the format's %" PRIu32,
                    path, params->count, UINT32_MAX);
        return false;
    }

    uint64_t total = HEADER_BYTES + CHECKSUM_BYTES;
    for (size_t i = 0; i < params->count; i++) {
        uint64_t record_bytes;
        if (!measure_record(params, i, path, &record_bytes, error, error_size))
            return false;
        if (record_bytes > UINT64_MAX - total) {
            write_error(error, error_size, "failed to save checkpoint %s: the file size overflows",
                        path);
            return false;
        }
        total += record_bytes;
    }
    *file_bytes = total;
    return true;
}

/* Writes the header, every record and the checksum. */
static void write_checkpoint(Writer *writer, const ParamList *params, uint64_t file_bytes)
{
    write_bytes(writer, CHECKPOINT_MAGIC, sizeof CHECKPOINT_MAGIC);
    write_u32(writer, CHECKPOINT_VERSION);
    write_u64(writer, file_bytes);
    write_u32(writer, (uint32_t)params->count);

    for (size_t i = 0; i < params->count; i++) {
        const Tensor *t = params->tensors[i];
        size_t name_bytes = strlen(params->names[i]);
        write_u32(writer, (uint32_t)name_bytes);
        write_bytes(writer, params->names[i], name_bytes);
        write_u32(writer, (uint32_t)t->shape.ndim);
        for (int d = 0; d < t->shape.ndim; d++)
            write_u32(writer, (uint32_t)t->shape.dim[d]);
        write_u64(writer, (uint64_t)t->size);
        write_floats(writer, t->data, t->size);
    }

    /* The checksum covers every byte before it, so it is taken before it is written. */
    write_u32(writer, writer->crc);
}

/* Flushes, fsyncs and closes the file. Returns 0 or the errno of the first
 * failure; the file is closed in every case. */
static int finish_file(Writer *writer)
{
    int code = writer->error_code;
    if (code == 0 && fflush(writer->file) != 0)
        code = errno;
    if (code == 0 && fsync(fileno(writer->file)) != 0)
        code = errno;
    if (fclose(writer->file) != 0 && code == 0)
        code = errno;
    writer->file = NULL;
    return code;
}

/* Returns path + ".tmp" in memory the caller frees, or NULL when memory runs out. */
static char *make_temporary_path(const char *path)
{
    size_t length = strlen(path);
    char *temporary_path = malloc(length + sizeof TEMPORARY_SUFFIX);
    if (!temporary_path)
        return NULL;
    memcpy(temporary_path, path, length);
    memcpy(temporary_path + length, TEMPORARY_SUFFIX, sizeof TEMPORARY_SUFFIX);
    return temporary_path;
}

/* Writes the whole checkpoint to temporary_path and moves it to path. */
static bool save_through(const ParamList *params, const char *path, const char *temporary_path,
                         uint64_t file_bytes, char *error, size_t error_size)
{
    Writer writer = {create_new_file(temporary_path), 0, 0};
    if (!writer.file) {
        write_error(error, error_size, "failed to create %s: %s", temporary_path, strerror(errno));
        return false;
    }

    write_checkpoint(&writer, params, file_bytes);
    int code = finish_file(&writer);
    if (code != 0) {
        write_error(error, error_size, "failed to write %s: %s", temporary_path, strerror(code));
        remove(temporary_path);
        return false;
    }

    /* A rename replaces a device, FIFO or link at path with a regular file, so only a
     * regular file is replaced. NOTE: a non-regular file created at path between this
     * check and the rename is still replaced; POSIX has no rename that excludes it. */
    char reason[ERROR_REASON_BYTES];
    if (!is_replaceable_file(path, reason, sizeof reason)) {
        write_error(error, error_size,
                    "failed to save checkpoint: %s; it is left as it is, choose another file",
                    reason);
        remove(temporary_path);
        return false;
    }
    if (rename(temporary_path, path) != 0) {
        write_error(error, error_size, "failed to rename %s to %s: %s", temporary_path, path,
                    strerror(errno));
        remove(temporary_path);
        return false;
    }
    return true;
}

const char *checkpoint_find_value_above_max(const ParamList *params)
{
    for (size_t i = 0; i < params->count; i++) {
        const Tensor *t = params->tensors[i];
        for (size_t k = 0; k < t->size; k++)
            if (fabsf(t->data[k]) > CHECKPOINT_MAX_ABS_VALUE)
                return params->names[i];
    }
    return NULL;
}

bool checkpoint_save(const ParamList *params, const char *path, char *error, size_t error_size)
{
    uint64_t file_bytes;
    if (!measure_checkpoint(params, path, &file_bytes, error, error_size))
        return false;

    /* checkpoint_load rejects such a file, so it is never written. */
    const char *non_finite = params_all_finite(params);
    if (non_finite) {
        write_error(error, error_size,
                    "failed to save checkpoint %s: parameter '%s' has a NaN or infinite value, "
                    "and a checkpoint stores finite values only",
                    path, non_finite);
        return false;
    }
    const char *too_large = checkpoint_find_value_above_max(params);
    if (too_large) {
        write_error(error, error_size,
                    "failed to save checkpoint %s: parameter '%s' has a value of magnitude above "
                    "%g, which checkpoint_load rejects; the training went wrong",
                    path, too_large, (double)CHECKPOINT_MAX_ABS_VALUE);
        return false;
    }

    char *temporary_path = make_temporary_path(path);
    if (!temporary_path) {
        write_error(error, error_size, "failed to save checkpoint %s: out of memory", path);
        return false;
    }
    bool ok = save_through(params, path, temporary_path, file_bytes, error, error_size);
    free(temporary_path);
    return ok;
}

/* ------------------------------------------------------------------------- */
/* Validating and loading                                                     */
/* ------------------------------------------------------------------------- */

/* A cursor over the records: bytes [end] is the file without its checksum. */
typedef struct Reader {
    const unsigned char *bytes;
    size_t end;
    size_t offset;
} Reader;

/* Where messages go, and the name of the data in them. */
typedef struct Report {
    const char *source;
    char *error;
    size_t error_size;
    bool mismatch; /* true when the message reports a mismatch with the model */
} Report;

static size_t reader_remaining(const Reader *reader) { return reader->end - reader->offset; }

/* Reads a u32, or returns false when fewer than 4 bytes remain. */
static bool read_u32(Reader *reader, uint32_t *value)
{
    if (reader_remaining(reader) < 4)
        return false;
    *value = load_u32(reader->bytes + reader->offset);
    reader->offset += 4;
    return true;
}

static bool read_u64(Reader *reader, uint64_t *value)
{
    if (reader_remaining(reader) < 8)
        return false;
    *value = load_u64(reader->bytes + reader->offset);
    reader->offset += 8;
    return true;
}

/* Checks the magic number and the version, as far as the size bytes reach. */
static bool check_magic_and_version(const unsigned char *bytes, size_t size, Report *report)
{
    size_t magic_bytes = size < sizeof CHECKPOINT_MAGIC ? size : sizeof CHECKPOINT_MAGIC;
    if (size == 0) {
        write_error(report->error, report->error_size, "checkpoint %s is empty (0 bytes)",
                    report->source);
        return false;
    }
    if (memcmp(bytes, CHECKPOINT_MAGIC, magic_bytes) != 0) {
        write_error(report->error, report->error_size,
                    "%s is not a checkpoint: it does not start with the magic number \"DRVCKPT\"",
                    report->source);
        return false;
    }

    if (size >= 12 && load_u32(bytes + 8) != CHECKPOINT_VERSION) {
        write_error(report->error, report->error_size,
                    "checkpoint %s has format version %" PRIu32 ", but this program reads "
                    "version %u",
                    report->source, load_u32(bytes + 8), CHECKPOINT_VERSION);
        return false;
    }
    return true;
}

/* Checks the magic number, the version and the size recorded in the header
 * against the size of the data. */
static bool check_framing(const unsigned char *bytes, size_t size, Report *report)
{
    if (!check_magic_and_version(bytes, size, report))
        return false;
    if (size < HEADER_BYTES + CHECKSUM_BYTES) {
        write_error(report->error, report->error_size,
                    "checkpoint %s is truncated: %zu bytes, less than the %u bytes of the header "
                    "and checksum",
                    report->source, size, HEADER_BYTES + CHECKSUM_BYTES);
        return false;
    }

    uint64_t recorded_bytes = load_u64(bytes + 12);
    if (recorded_bytes > (uint64_t)size) {
        write_error(report->error, report->error_size,
                    "checkpoint %s is truncated: it has %zu bytes, but its header records %" PRIu64,
                    report->source, size, recorded_bytes);
        return false;
    }
    if (recorded_bytes < (uint64_t)size) {
        write_error(report->error, report->error_size,
                    "checkpoint %s has %zu bytes, more than the %" PRIu64 " its header records: "
                    "extra bytes after the end",
                    report->source, size, recorded_bytes);
        return false;
    }
    return true;
}

/* Compares the stored CRC-32 with the CRC-32 of everything before it. */
static bool check_checksum(const unsigned char *bytes, size_t size, Report *report)
{
    uint32_t stored = load_u32(bytes + size - CHECKSUM_BYTES);
    uint32_t computed = checkpoint_crc32(0, bytes, size - CHECKSUM_BYTES);
    if (stored != computed) {
        write_error(report->error, report->error_size,
                    "checkpoint %s is damaged: checksum mismatch (stored CRC-32 0x%08" PRIX32
                    ", computed 0x%08" PRIX32 ")",
                    report->source, stored, computed);
        return false;
    }
    return true;
}

/* Reads and compares parameter i's name. */
static bool check_name(Reader *reader, const ParamList *params, size_t i, Report *report)
{
    uint32_t name_bytes = 0;
    if (!read_u32(reader, &name_bytes) || name_bytes == 0 ||
        name_bytes > reader_remaining(reader)) {
        write_error(report->error, report->error_size,
                    "checkpoint %s is malformed: parameter %zu of %zu has a name length of "
                    "%" PRIu32 " bytes, outside 1 to the %zu bytes that remain",
                    report->source, i + 1, params->count, name_bytes, reader_remaining(reader));
        return false;
    }

    const unsigned char *name = reader->bytes + reader->offset;
    const char *expected = params->names[i];
    reader->offset += name_bytes;
    if (strlen(expected) == name_bytes && memcmp(name, expected, name_bytes) == 0)
        return true;

    char printable_name[SHOWN_NAME_BYTES + 4];
    format_file_name(name, name_bytes, printable_name);
    report->mismatch = true;
    write_error(report->error, report->error_size,
                "checkpoint %s does not match the model: parameter %zu is named '%s' in the "
                "file but '%s' in the model",
                report->source, i + 1, printable_name, expected);
    return false;
}

/* Reads parameter i's dimensions and compares them with its tensor's shape. */
static bool check_shape(Reader *reader, const ParamList *params, size_t i, Report *report)
{
    const char *name = params->names[i];
    const Shape shape = params->tensors[i]->shape;
    uint32_t ndim = 0, dims[TENSOR_MAX_DIMS];
    if (!read_u32(reader, &ndim) || ndim < 1 || ndim > TENSOR_MAX_DIMS) {
        write_error(report->error, report->error_size,
                    "checkpoint %s is malformed: parameter %zu '%s' has %" PRIu32 " dimensions, "
                    "outside 1 to %d",
                    report->source, i + 1, name, ndim, TENSOR_MAX_DIMS);
        return false;
    }
    for (uint32_t d = 0; d < ndim; d++) {
        if (!read_u32(reader, &dims[d])) {
            write_error(report->error, report->error_size,
                        "checkpoint %s is malformed: the shape of parameter %zu '%s' runs past "
                        "the end of the records",
                        report->source, i + 1, name);
            return false;
        }
    }

    bool same = ndim == (uint32_t)shape.ndim;
    for (uint32_t d = 0; same && d < ndim; d++)
        same = dims[d] == (uint32_t)shape.dim[d];
    if (!same) {
        char file_text[96], model_text[96];
        format_file_shape(dims, ndim, file_text, sizeof file_text);
        shape_format(shape, model_text, sizeof model_text);
        report->mismatch = true;
        write_error(report->error, report->error_size,
                    "checkpoint %s does not match the model: parameter %zu '%s' has shape %s "
                    "in the file but %s in the model",
                    report->source, i + 1, name, file_text, model_text);
    }
    return same;
}

/* Reads parameter i's element count and checks that its values fit in the
 * records; with copy, also decodes them into the tensor. */
static bool check_values(Reader *reader, const ParamList *params, size_t i, bool copy,
                         Report *report)
{
    Tensor *t = params->tensors[i];
    uint64_t count = 0;
    if (!read_u64(reader, &count) || count != (uint64_t)t->size ||
        t->size > reader_remaining(reader) / 4) {
        write_error(report->error, report->error_size,
                    "checkpoint %s is malformed: parameter %zu '%s' records %" PRIu64 " values "
                    "where its shape has %zu, and %zu bytes remain",
                    report->source, i + 1, params->names[i], count, t->size,
                    reader_remaining(reader));
        return false;
    }

    const unsigned char *values = reader->bytes + reader->offset;
    for (size_t k = 0; k < t->size; k++) {
        uint32_t bits = load_u32(values + 4 * k);
        float value;
        memcpy(&value, &bits, sizeof value);
        if (copy) {
            t->data[k] = value;
            continue;
        }
        /* Training stops before a weight turns NaN or infinite, so such a value means
         * that the file was changed after it was written. */
        if (!isfinite(value)) {
            write_error(report->error, report->error_size,
                        "checkpoint %s is invalid: parameter %zu '%s' has the non-finite value "
                        "%s at index %zu (bits 0x%08" PRIX32 "), and checkpoints hold finite "
                        "values only",
                        report->source, i + 1, params->names[i], isnan(value) ? "NaN" : "infinity",
                        k, bits);
            return false;
        }
        if (fabsf(value) > CHECKPOINT_MAX_ABS_VALUE) {
            write_error(report->error, report->error_size,
                        "checkpoint %s is invalid: parameter %zu '%s' has the value %g at index "
                        "%zu, above the largest magnitude %g that checkpoints hold (trained "
                        "weights stay far below it; such values overflow the forward pass)",
                        report->source, i + 1, params->names[i], (double)value, k,
                        (double)CHECKPOINT_MAX_ABS_VALUE);
            return false;
        }
    }
    reader->offset += 4 * t->size;
    return true;
}

/* Walks every record of a framed, checksummed file. Without copy it only
 * validates; with copy, which must follow a successful validation, it also
 * copies the values into the tensors. */
static bool walk_records(const ParamList *params, const unsigned char *bytes, size_t size,
                         bool copy, Report *report)
{
    uint32_t count = load_u32(bytes + 20);
    if (count != params->count) {
        report->mismatch = true;
        write_error(report->error, report->error_size,
                    "checkpoint %s does not match the model: it has %" PRIu32 " parameters but "
                    "the model has %zu",
                    report->source, count, params->count);
        return false;
    }

    Reader reader = {bytes, size - CHECKSUM_BYTES, HEADER_BYTES};
    for (size_t i = 0; i < params->count; i++) {
        if (!check_name(&reader, params, i, report) || !check_shape(&reader, params, i, report) ||
            !check_values(&reader, params, i, copy, report))
            return false;
    }
    if (reader_remaining(&reader) != 0) {
        write_error(report->error, report->error_size,
                    "checkpoint %s is malformed: %zu unused bytes after the last parameter",
                    report->source, reader_remaining(&reader));
        return false;
    }
    return true;
}

bool checkpoint_load_buffer(ParamList *params, const unsigned char *bytes, size_t size,
                            const char *source, char *error, size_t error_size)
{
    Report report = {source, error, error_size, false};
    if (!check_framing(bytes, size, &report) || !check_checksum(bytes, size, &report))
        return false;

    /* Validate every record first, so that a mismatch in the last parameter
     * leaves the first ones untouched too. */
    if (!walk_records(params, bytes, size, false, &report))
        return false;
    return walk_records(params, bytes, size, true, &report);
}

/* Reads size bytes of the open file fd into bytes; false with a message on failure. */
static bool read_exactly(int fd, unsigned char *bytes, size_t size, const char *path, char *error,
                         size_t error_size)
{
    size_t done = 0;
    while (done < size) {
        ssize_t got = read(fd, bytes + done, size - done);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            write_error(error, error_size, "failed to read checkpoint %s: %s", path,
                        got < 0 ? strerror(errno) : "the file shrank while it was read");
            return false;
        }
        done += (size_t)got;
    }
    return true;
}

/* Opens path and checks that it is a non-empty regular file; returns the
 * descriptor and its size in *file_bytes, or -1 with a message. */
static int open_checkpoint_file(const char *path, off_t *file_bytes, char *error, size_t error_size)
{
    /* O_NONBLOCK keeps open from waiting for a writer when path is a FIFO,
     * which the S_ISREG check then rejects. */
    int fd = open(path, O_RDONLY | O_NONBLOCK);
    struct stat info;
    if (fd < 0 || fstat(fd, &info) != 0) {
        write_error(error, error_size, "failed to open checkpoint %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }

    if (S_ISREG(info.st_mode) && info.st_size > 0) {
        *file_bytes = info.st_size;
        return fd;
    }
    if (S_ISDIR(info.st_mode))
        write_error(error, error_size, "checkpoint %s is a directory, not a file", path);
    else if (!S_ISREG(info.st_mode))
        write_error(error, error_size, "checkpoint %s is not a regular file", path);
    else
        write_error(error, error_size, "checkpoint %s is empty (0 bytes)", path);
    close(fd);
    return -1;
}

/*
 * Explains why a file of file_bytes, more than the expected_bytes of a
 * checkpoint of params, is rejected, from its first expected_bytes in
 * bytes: another magic number or version, or a record that does not match
 * the model, is named; otherwise the message gives both sizes.
 */
static void explain_oversized_file(const ParamList *params, const unsigned char *bytes,
                                   size_t expected_bytes, off_t file_bytes, Report *report)
{
    if (!check_magic_and_version(bytes, expected_bytes, report))
        return;
    report->mismatch = false;
    if (!walk_records(params, bytes, expected_bytes, false, report) && report->mismatch)
        return;
    write_error(report->error, report->error_size,
                "checkpoint %s has %jd bytes, more than the %zu bytes of a checkpoint of this "
                "model: it holds larger parameters or extra bytes after the end",
                report->source, (intmax_t)file_bytes, expected_bytes);
}

/* Reads the first size bytes of fd into a new buffer and checks them; see checkpoint_load. */
static CheckpointLoadStatus load_from_file(ParamList *params, int fd, size_t size, off_t file_bytes,
                                           Report *report)
{
    unsigned char *bytes = malloc(size);
    if (!bytes) {
        write_error(report->error, report->error_size,
                    "failed to load checkpoint %s: out of memory for %zu bytes", report->source,
                    size);
        return CHECKPOINT_READ_FAILED;
    }
    if (!read_exactly(fd, bytes, size, report->source, report->error, report->error_size)) {
        free(bytes);
        return CHECKPOINT_READ_FAILED;
    }

    CheckpointLoadStatus status = CHECKPOINT_REJECTED;
    if ((uintmax_t)file_bytes > size)
        explain_oversized_file(params, bytes, size, file_bytes, report);
    else if (checkpoint_load_buffer(params, bytes, size, report->source, report->error,
                                    report->error_size))
        status = CHECKPOINT_LOADED;
    free(bytes);
    return status;
}

CheckpointLoadStatus checkpoint_load(ParamList *params, const char *path, char *error,
                                     size_t error_size)
{
    Report report = {path, error, error_size, false};
    uint64_t expected_bytes;
    if (!measure_checkpoint(params, path, &expected_bytes, NULL, 0) || expected_bytes > SIZE_MAX) {
        write_error(error, error_size,
                    "failed to load checkpoint %s: the model is too large for the format", path);
        return CHECKPOINT_REJECTED;
    }

    off_t file_bytes = 0;
    int fd = open_checkpoint_file(path, &file_bytes, error, error_size);
    if (fd < 0)
        return CHECKPOINT_REJECTED;

    /* A file larger than a checkpoint of this model is rejected from its first
     * expected_bytes, so that a huge file is never read whole. */
    size_t size =
        (uintmax_t)file_bytes > expected_bytes ? (size_t)expected_bytes : (size_t)file_bytes;
    CheckpointLoadStatus status = load_from_file(params, fd, size, file_bytes, &report);
    close(fd);
    return status;
}
