/*
 * Tests of common/checkpoint.c: the CRC-32 against its published check
 * value, the byte layout of a tiny file, bit-identical round trips and the
 * atomic save. Every kind of bad file must fail with a message that names
 * the problem and leave the model bit-identical.
 */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint.h"

/* Room for every error message of these tests. */
#define ERROR_BYTES 512

/* Largest file these tests build in memory. */
#define MAX_FILE_BYTES 4096

/* ------------------------------------------------------------------------- */
/* Fixtures: a temporary directory and small models                           */
/* ------------------------------------------------------------------------- */

/* Paths used by one test, inside a fresh temporary directory. */
typedef struct Paths {
    char directory[64];
    char checkpoint[128]; /* directory/model.ckpt */
    char temporary[160];  /* directory/model.ckpt.tmp */
} Paths;

static int make_paths(void **state)
{
    Paths *paths = calloc(1, sizeof *paths);
    if (!paths)
        return -1;
    strcpy(paths->directory, "/tmp/test_checkpoint_XXXXXX");
    if (!mkdtemp(paths->directory)) {
        free(paths);
        return -1;
    }
    snprintf(paths->checkpoint, sizeof paths->checkpoint, "%s/model.ckpt", paths->directory);
    snprintf(paths->temporary, sizeof paths->temporary, "%s.tmp", paths->checkpoint);
    *state = paths;
    return 0;
}

static int remove_paths(void **state)
{
    Paths *paths = *state;
    remove(paths->temporary);
    remove(paths->checkpoint);
    int status = rmdir(paths->directory);
    free(paths);
    return status;
}

/* A ParamList with the tensors it lists, which the list does not own. */
typedef struct Model {
    ParamList *params;
    Tensor *tensors[4];
    size_t count;
} Model;

/* One parameter of a model: its name and shape. */
typedef struct ParamSpec {
    const char *name;
    Shape shape;
} ParamSpec;

/* The model most tests save and load: three parameters of different ranks. */
static ParamSpec standard_specs(size_t i)
{
    const ParamSpec specs[3] = {
        {"embed.weight", {2, {5, 3}}},
        {"conv1.weight", {3, {4, 3, 2}}},
        {"conv1.bias", {1, {4}}},
    };
    return specs[i];
}

/* Fills t with values that depend on seed, including the float values whose
 * bits are easy to lose: -0, the smallest subnormals of both signs, the
 * smallest normal, and the largest magnitude a checkpoint stores
 * (CHECKPOINT_MAX_ABS_VALUE, 1e6) with both signs. */
static void fill_values(Tensor *t, unsigned seed)
{
    const uint32_t special_bits[6] = {0x80000000u, 0x00000001u, 0x80000001u,
                                      0x00800000u, 0x49742400u, 0xC9742400u};
    unsigned state = seed;
    for (size_t i = 0; i < t->size; i++) {
        state = state * 1664525u + 1013904223u;
        t->data[i] = (float)(int)(state >> 16) / 1000.0f - 30.0f;
    }
    for (size_t i = 0; i < 6 && i < t->size; i++)
        memcpy(&t->data[(i * 7) % t->size], &special_bits[i], sizeof(float));
}

/* Builds a model of count parameters from specs, filled from seed. */
static Model make_model(const ParamSpec *specs, size_t count, unsigned seed)
{
    Model model = {params_new(), {NULL}, count};
    assert_non_null(model.params);
    for (size_t i = 0; i < count; i++) {
        model.tensors[i] = tensor_new(specs[i].shape, true);
        fill_values(model.tensors[i], seed + (unsigned)i);
        assert_true(params_add(model.params, model.tensors[i], specs[i].name));
    }
    return model;
}

static Model make_standard_model(unsigned seed)
{
    ParamSpec specs[3] = {standard_specs(0), standard_specs(1), standard_specs(2)};
    return make_model(specs, 3, seed);
}

static void free_model(Model *model)
{
    params_free(model->params);
    for (size_t i = 0; i < model->count; i++)
        tensor_free(model->tensors[i]);
}

/* ------------------------------------------------------------------------- */
/* Comparisons and files                                                      */
/* ------------------------------------------------------------------------- */

/* A copy of every value of a model, to check later that it did not change. */
typedef struct Snapshot {
    float values[256];
    size_t count;
} Snapshot;

static Snapshot take_snapshot(const Model *model)
{
    Snapshot snapshot = {{0}, 0};
    for (size_t i = 0; i < model->count; i++) {
        const Tensor *t = model->tensors[i];
        assert_true(snapshot.count + t->size <= 256);
        memcpy(snapshot.values + snapshot.count, t->data, t->size * sizeof(float));
        snapshot.count += t->size;
    }
    return snapshot;
}

/* Compares the bits of every value of model with snapshot; on a difference
 * prints the parameter, the element and both bit patterns, then fails. */
static void assert_model_bits(const Model *model, const Snapshot *snapshot, const char *label)
{
    size_t offset = 0, mismatches = 0;
    for (size_t i = 0; i < model->count; i++) {
        const Tensor *t = model->tensors[i];
        for (size_t k = 0; k < t->size; k++) {
            uint32_t got, expected;
            memcpy(&got, &t->data[k], sizeof got);
            memcpy(&expected, &snapshot->values[offset + k], sizeof expected);
            if (got != expected && mismatches++ < 5)
                print_error("%s: %s[%zu] has bits 0x%08X, expected 0x%08X\n", label,
                            model->params->names[i], k, got, expected);
        }
        offset += t->size;
    }
    if (mismatches > 0)
        fail_msg("%s: %zu values differ", label, mismatches);
}

/* Reads a whole file into bytes [MAX_FILE_BYTES]; returns its size. */
static size_t read_file(const char *path, unsigned char *bytes)
{
    FILE *file = fopen(path, "rb");
    assert_non_null(file);
    size_t size = fread(bytes, 1, MAX_FILE_BYTES, file);
    assert_int_equal(fgetc(file), EOF);
    fclose(file);
    return size;
}

static void write_file(const char *path, const unsigned char *bytes, size_t size)
{
    FILE *file = fopen(path, "wb");
    assert_non_null(file);
    assert_int_equal(fwrite(bytes, 1, size, file), size);
    assert_int_equal(fclose(file), 0);
}

static bool file_exists(const char *path)
{
    struct stat info;
    return stat(path, &info) == 0;
}

/* Saves a standard model filled from seed 100 and reads the file into bytes. */
static size_t save_standard_file(const Paths *paths, unsigned char *bytes)
{
    Model source = make_standard_model(100);
    char error[ERROR_BYTES] = "";
    assert_true(checkpoint_save(source.params, paths->checkpoint, error, sizeof error));
    free_model(&source);
    return read_file(paths->checkpoint, bytes);
}

static void put_u32(unsigned char *bytes, uint32_t value)
{
    for (int i = 0; i < 4; i++)
        bytes[i] = (unsigned char)(value >> (8 * i));
}

/* Rewrites the size field and the checksum of a file of size bytes, so that
 * the loader gets past them to the field a test has changed. */
static void reseal(unsigned char *bytes, size_t size)
{
    for (int i = 0; i < 8; i++)
        bytes[12 + i] = (unsigned char)((uint64_t)size >> (8 * i));
    put_u32(bytes + size - 4, checkpoint_crc32(0, bytes, size - 4));
}

/* Loads path into a standard model filled from seed 1 and checks that the
 * load fails with every one of the words in the NULL-terminated list and
 * leaves the model bit-identical. */
static void assert_load_fails(const char *path, const char *const *words)
{
    Model model = make_standard_model(1);
    Snapshot before = take_snapshot(&model);
    char error[ERROR_BYTES] = "";

    CheckpointLoadStatus status = checkpoint_load(model.params, path, error, sizeof error);
    if (status != CHECKPOINT_REJECTED)
        fail_msg("checkpoint_load(%s) returned %d, expected CHECKPOINT_REJECTED (%d)", path,
                 (int)status, (int)CHECKPOINT_REJECTED);
    for (size_t i = 0; words[i]; i++) {
        if (!strstr(error, words[i]))
            fail_msg("error \"%s\" lacks \"%s\"", error, words[i]);
    }
    assert_model_bits(&model, &before, path);
    free_model(&model);
}

/* Offsets in the standard file: the first record starts after the 24-byte
 * header with the 4-byte length of "embed.weight" (12 bytes), so its ndim
 * is at 24 + 4 + 12 = 40, its two dims at 44 and 48, its count at 52. */
#define FIRST_NAME_LENGTH_OFFSET 24
#define FIRST_NDIM_OFFSET 40
#define FIRST_COUNT_OFFSET 52
#define FIRST_VALUES_OFFSET 60

/* ------------------------------------------------------------------------- */
/* CRC-32                                                                     */
/* ------------------------------------------------------------------------- */

/* The check value of CRC-32/ISO-HDLC, the CRC of the nine ASCII bytes
 * "123456789", is 0xCBF43926 in Greg Cook's "Catalogue of parametrised CRC
 * algorithms" (reveng.sourceforge.net/crc-catalogue/all.htm); Python 3's
 * zlib.crc32(b"123456789") gives the same value. */
static void test_checkpoint_crc32_reference_value(void **state)
{
    (void)state;
    assert_int_equal(checkpoint_crc32(0, "123456789", 9), 0xCBF43926u);
}

/* By definition: 0xFFFFFFFF in, nothing shifted, 0xFFFFFFFF XORed out. */
static void test_checkpoint_crc32_empty_is_zero(void **state)
{
    (void)state;
    assert_int_equal(checkpoint_crc32(0, "", 0), 0u);
}

static void test_checkpoint_crc32_chunks_match_whole(void **state)
{
    (void)state;
    uint32_t crc = checkpoint_crc32(0, "1234", 4);
    assert_int_equal(checkpoint_crc32(crc, "56789", 5), 0xCBF43926u);
}

/* ------------------------------------------------------------------------- */
/* Saving                                                                     */
/* ------------------------------------------------------------------------- */

/* The expected bytes are written by hand from the format in checkpoint.h.
 * The last four, the CRC-32, come from Python 3's zlib.crc32 over the 53
 * bytes before them. */
static void test_checkpoint_file_layout_matches_format(void **state)
{
    Paths *paths = *state;
    ParamSpec spec = {"w", {1, {2}}};
    Model model = make_model(&spec, 1, 0);
    model.tensors[0]->data[0] = 1.0f;
    model.tensors[0]->data[1] = -2.0f;
    /* clang-format off */
    const unsigned char expected[57] = {
        'D', 'R', 'V', 'C', 'K', 'P', 'T', 0,  /* magic number */
        1, 0, 0, 0,                            /* version 1 */
        57, 0, 0, 0, 0, 0, 0, 0,               /* file size */
        1, 0, 0, 0,                            /* one parameter */
        1, 0, 0, 0, 'w',                       /* name length and name */
        1, 0, 0, 0, 2, 0, 0, 0,                /* ndim 1, shape [2] */
        2, 0, 0, 0, 0, 0, 0, 0,                /* two elements */
        0x00, 0x00, 0x80, 0x3F,                /* 1.0f = 0x3F800000 */
        0x00, 0x00, 0x00, 0xC0,                /* -2.0f = 0xC0000000 */
        0x53, 0x36, 0x45, 0x6C,                /* CRC-32 0x6C453653 */
    };
    /* clang-format on */

    char error[ERROR_BYTES] = "";
    assert_true(checkpoint_save(model.params, paths->checkpoint, error, sizeof error));
    unsigned char bytes[MAX_FILE_BYTES];
    assert_int_equal(read_file(paths->checkpoint, bytes), sizeof expected);
    assert_memory_equal(bytes, expected, sizeof expected);
    free_model(&model);
}

static void test_checkpoint_roundtrip_bit_identical(void **state)
{
    Paths *paths = *state;
    Model saved = make_standard_model(100);
    Model loaded = make_standard_model(1);
    char error[ERROR_BYTES] = "";

    assert_true(checkpoint_save(saved.params, paths->checkpoint, error, sizeof error));
    bool ok =
        checkpoint_load(loaded.params, paths->checkpoint, error, sizeof error) == CHECKPOINT_LOADED;
    if (!ok)
        fail_msg("load failed: %s", error);
    for (size_t i = 0; i < saved.count; i++) {
        size_t bytes = saved.tensors[i]->size * sizeof(float);
        assert_memory_equal(loaded.tensors[i]->data, saved.tensors[i]->data, bytes);
    }
    free_model(&saved);
    free_model(&loaded);
}

static void test_checkpoint_save_leaves_no_temporary_file(void **state)
{
    Paths *paths = *state;
    Model model = make_standard_model(1);
    assert_true(checkpoint_save(model.params, paths->checkpoint, NULL, 0));
    assert_true(file_exists(paths->checkpoint));
    assert_false(file_exists(paths->temporary));
    free_model(&model);
}

static void test_checkpoint_save_replaces_old_file(void **state)
{
    Paths *paths = *state;
    write_file(paths->checkpoint, (const unsigned char *)"old", 3);
    Model model = make_standard_model(1);
    assert_true(checkpoint_save(model.params, paths->checkpoint, NULL, 0));

    unsigned char bytes[MAX_FILE_BYTES];
    size_t size = read_file(paths->checkpoint, bytes);
    assert_true(size > 3);
    assert_memory_equal(bytes, "DRVCKPT", 8);
    free_model(&model);
}

static void test_checkpoint_save_missing_directory_fails(void **state)
{
    Paths *paths = *state;
    char path[200], error[ERROR_BYTES] = "";
    snprintf(path, sizeof path, "%s/missing/model.ckpt", paths->directory);
    Model model = make_standard_model(1);

    assert_false(checkpoint_save(model.params, path, error, sizeof error));
    assert_non_null(strstr(error, "failed to create"));
    assert_non_null(strstr(error, "missing/model.ckpt.tmp"));
    free_model(&model);
}

/* Saves the standard model at paths->checkpoint, expects the save to fail with
 * every word of the NULL-terminated list, and no temporary file to remain. */
static void assert_save_fails(const Paths *paths, const char *const *words)
{
    Model model = make_standard_model(1);
    char error[ERROR_BYTES] = "";
    assert_false(checkpoint_save(model.params, paths->checkpoint, error, sizeof error));
    for (size_t i = 0; words[i]; i++) {
        if (!strstr(error, words[i]))
            fail_msg("error \"%s\" lacks \"%s\"", error, words[i]);
    }
    assert_false(file_exists(paths->temporary));
    free_model(&model);
}

/* A directory at the path stays; the whole temporary file was written and is removed. */
static void test_checkpoint_save_over_directory_fails(void **state)
{
    Paths *paths = *state;
    assert_int_equal(mkdir(paths->checkpoint, 0700), 0);
    const char *words[] = {paths->checkpoint, "is a directory, not a regular file", NULL};
    assert_save_fails(paths, words);
    assert_int_equal(rmdir(paths->checkpoint), 0);
}

/* A rename would replace the link itself with a regular file; the save must leave it. */
static void test_checkpoint_save_over_symlink_fails(void **state)
{
    Paths *paths = *state;
    char victim[160];
    snprintf(victim, sizeof victim, "%s/victim", paths->directory);
    write_file(victim, (const unsigned char *)"victim", 6);
    assert_int_equal(symlink(victim, paths->checkpoint), 0);

    const char *words[] = {"is a symbolic link, not a regular file", NULL};
    assert_save_fails(paths, words);
    struct stat info;
    assert_int_equal(lstat(paths->checkpoint, &info), 0);
    assert_true(S_ISLNK(info.st_mode));
    unsigned char bytes[MAX_FILE_BYTES];
    assert_int_equal(read_file(victim, bytes), 6);
    assert_memory_equal(bytes, "victim", 6);
    assert_int_equal(remove(victim), 0);
}

/* A FIFO stands for a device here: a save must not replace a special file. */
static void test_checkpoint_save_over_fifo_fails(void **state)
{
    Paths *paths = *state;
    assert_int_equal(mkfifo(paths->checkpoint, 0600), 0);
    const char *words[] = {"is a FIFO, not a regular file", NULL};
    assert_save_fails(paths, words);
    struct stat info;
    assert_int_equal(lstat(paths->checkpoint, &info), 0);
    assert_true(S_ISFIFO(info.st_mode));
}

/* A symbolic link at FILE.tmp is removed and replaced, never written through. */
static void test_checkpoint_save_ignores_temporary_symlink(void **state)
{
    Paths *paths = *state;
    char victim[160];
    snprintf(victim, sizeof victim, "%s/victim", paths->directory);
    write_file(victim, (const unsigned char *)"victim", 6);
    assert_int_equal(symlink(victim, paths->temporary), 0);

    Model model = make_standard_model(1);
    char error[ERROR_BYTES] = "";
    if (!checkpoint_save(model.params, paths->checkpoint, error, sizeof error))
        fail_msg("save failed: %s", error);
    unsigned char bytes[MAX_FILE_BYTES];
    assert_int_equal(read_file(victim, bytes), 6);
    assert_memory_equal(bytes, "victim", 6);
    assert_false(file_exists(paths->temporary));
    assert_true(read_file(paths->checkpoint, bytes) > 6);
    assert_memory_equal(bytes, "DRVCKPT", 8);
    free_model(&model);
    assert_int_equal(remove(victim), 0);
}

/* A stale FILE.tmp from an interrupted save is replaced; the new file is 0644 under umask 022. */
static void test_checkpoint_save_replaces_stale_temporary(void **state)
{
    Paths *paths = *state;
    write_file(paths->temporary, (const unsigned char *)"stale", 5);
    assert_int_equal(chmod(paths->temporary, 0600), 0);
    mode_t old_mask = umask(022);
    Model model = make_standard_model(1);
    bool saved = checkpoint_save(model.params, paths->checkpoint, NULL, 0);
    umask(old_mask);

    assert_true(saved);
    assert_false(file_exists(paths->temporary));
    struct stat info;
    assert_int_equal(stat(paths->checkpoint, &info), 0);
    assert_int_equal(info.st_mode & 0777, 0644);
    free_model(&model);
}

/* The umask applies: 077 leaves 0600. */
static void test_checkpoint_save_respects_umask(void **state)
{
    Paths *paths = *state;
    mode_t old_mask = umask(077);
    Model model = make_standard_model(1);
    bool saved = checkpoint_save(model.params, paths->checkpoint, NULL, 0);
    umask(old_mask);

    assert_true(saved);
    struct stat info;
    assert_int_equal(stat(paths->checkpoint, &info), 0);
    assert_int_equal(info.st_mode & 0777, 0600);
    free_model(&model);
}

/* A NaN or infinity would be rejected by checkpoint_load, so it is never written. */
static void test_checkpoint_save_non_finite_fails(void **state)
{
    Paths *paths = *state;
    write_file(paths->checkpoint, (const unsigned char *)"old", 3);
    Model model = make_standard_model(1);
    model.tensors[1]->data[5] = INFINITY;
    char error[ERROR_BYTES] = "";

    assert_false(checkpoint_save(model.params, paths->checkpoint, error, sizeof error));
    assert_non_null(strstr(error, "'conv1.weight' has a NaN or infinite value"));
    assert_false(file_exists(paths->temporary));
    unsigned char bytes[MAX_FILE_BYTES];
    assert_int_equal(read_file(paths->checkpoint, bytes), 3);
    free_model(&model);
}

/* A value above CHECKPOINT_MAX_ABS_VALUE would be rejected by checkpoint_load too. */
static void test_checkpoint_save_huge_value_fails(void **state)
{
    Paths *paths = *state;
    Model model = make_standard_model(1);
    model.tensors[1]->data[5] = -2.0f * CHECKPOINT_MAX_ABS_VALUE;
    char error[ERROR_BYTES] = "";

    assert_false(checkpoint_save(model.params, paths->checkpoint, error, sizeof error));
    assert_non_null(strstr(error, "'conv1.weight' has a value of magnitude above"));
    assert_false(file_exists(paths->temporary));
    assert_false(file_exists(paths->checkpoint));
    free_model(&model);
}

/* ------------------------------------------------------------------------- */
/* Loading files that are not checkpoints                                     */
/* ------------------------------------------------------------------------- */

static void test_checkpoint_load_missing_file_fails(void **state)
{
    Paths *paths = *state;
    const char *words[] = {"failed to open", paths->checkpoint, "No such file", NULL};
    assert_load_fails(paths->checkpoint, words);
}

static void test_checkpoint_load_directory_fails(void **state)
{
    Paths *paths = *state;
    const char *words[] = {"is a directory", paths->directory, NULL};
    assert_load_fails(paths->directory, words);
}

/* The test keeps the FIFO open for reading and writing itself (Linux allows
 * O_RDWR on a FIFO), so that a loader that opened it without O_NONBLOCK
 * would still not hang the test. */
static void test_checkpoint_load_fifo_fails(void **state)
{
    Paths *paths = *state;
    assert_int_equal(mkfifo(paths->checkpoint, 0600), 0);
    int fd = open(paths->checkpoint, O_RDWR | O_NONBLOCK);
    assert_true(fd >= 0);

    const char *words[] = {"is not a regular file", paths->checkpoint, NULL};
    assert_load_fails(paths->checkpoint, words);
    close(fd);
}

static void test_checkpoint_load_empty_file_fails(void **state)
{
    Paths *paths = *state;
    write_file(paths->checkpoint, (const unsigned char *)"", 0);
    const char *words[] = {"empty", paths->checkpoint, NULL};
    assert_load_fails(paths->checkpoint, words);
}

static void test_checkpoint_load_bad_magic_fails(void **state)
{
    Paths *paths = *state;
    unsigned char bytes[MAX_FILE_BYTES];
    size_t size = save_standard_file(paths, bytes);
    bytes[0] = 'X';
    write_file(paths->checkpoint, bytes, size);
    const char *words[] = {"not a checkpoint", "magic number", paths->checkpoint, NULL};
    assert_load_fails(paths->checkpoint, words);
}

/* A short text file is rejected by its first bytes, not called truncated. */
static void test_checkpoint_load_text_file_fails(void **state)
{
    Paths *paths = *state;
    write_file(paths->checkpoint, (const unsigned char *)"hi\n", 3);
    const char *words[] = {"magic number", NULL};
    assert_load_fails(paths->checkpoint, words);
}

static void test_checkpoint_load_bad_version_fails(void **state)
{
    Paths *paths = *state;
    unsigned char bytes[MAX_FILE_BYTES];
    size_t size = save_standard_file(paths, bytes);
    put_u32(bytes + 8, 2);
    write_file(paths->checkpoint, bytes, size);
    const char *words[] = {"format version 2", "reads version 1", NULL};
    assert_load_fails(paths->checkpoint, words);
}

/* ------------------------------------------------------------------------- */
/* Loading damaged checkpoints                                                */
/* ------------------------------------------------------------------------- */

static void test_checkpoint_load_truncated_fails(void **state)
{
    Paths *paths = *state;
    unsigned char bytes[MAX_FILE_BYTES];
    size_t size = save_standard_file(paths, bytes);
    /* Inside the magic number, the version, the size field, the first name,
     * the first values, the last values and the checksum. */
    const size_t cuts[] = {1,        7,        8,       11, 12, 20, 27, 30, FIRST_VALUES_OFFSET + 6,
                           size - 9, size - 4, size - 1};

    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        write_file(paths->checkpoint, bytes, cuts[i]);
        const char *words[] = {"truncated", paths->checkpoint, NULL};
        assert_load_fails(paths->checkpoint, words);
    }
}

static void test_checkpoint_load_extra_bytes_fails(void **state)
{
    Paths *paths = *state;
    unsigned char bytes[MAX_FILE_BYTES];
    size_t size = save_standard_file(paths, bytes);
    bytes[size] = 0;
    write_file(paths->checkpoint, bytes, size + 1);
    const char *words[] = {"extra bytes", NULL};
    assert_load_fails(paths->checkpoint, words);
}

static void test_checkpoint_load_flipped_value_byte_fails(void **state)
{
    Paths *paths = *state;
    unsigned char bytes[MAX_FILE_BYTES];
    size_t size = save_standard_file(paths, bytes);
    bytes[FIRST_VALUES_OFFSET + 5] ^= 0x10;
    write_file(paths->checkpoint, bytes, size);
    const char *words[] = {"checksum mismatch", paths->checkpoint, NULL};
    assert_load_fails(paths->checkpoint, words);
}

static void test_checkpoint_load_flipped_checksum_byte_fails(void **state)
{
    Paths *paths = *state;
    unsigned char bytes[MAX_FILE_BYTES];
    size_t size = save_standard_file(paths, bytes);
    bytes[size - 2] ^= 0x01;
    write_file(paths->checkpoint, bytes, size);
    const char *words[] = {"checksum mismatch", NULL};
    assert_load_fails(paths->checkpoint, words);
}

/* The fields below are changed and the file resealed with a valid size and
 * checksum, as a buggy writer would produce it. */
static void test_checkpoint_load_bad_name_length_fails(void **state)
{
    Paths *paths = *state;
    unsigned char bytes[MAX_FILE_BYTES];
    size_t size = save_standard_file(paths, bytes);
    put_u32(bytes + FIRST_NAME_LENGTH_OFFSET, 0xFFFFFFFFu);
    reseal(bytes, size);
    write_file(paths->checkpoint, bytes, size);
    const char *words[] = {"malformed", "name length of 4294967295", NULL};
    assert_load_fails(paths->checkpoint, words);
}

static void test_checkpoint_load_bad_ndim_fails(void **state)
{
    Paths *paths = *state;
    unsigned char bytes[MAX_FILE_BYTES];
    size_t size = save_standard_file(paths, bytes);
    put_u32(bytes + FIRST_NDIM_OFFSET, 9);
    reseal(bytes, size);
    write_file(paths->checkpoint, bytes, size);
    const char *words[] = {"malformed", "'embed.weight' has 9 dimensions", NULL};
    assert_load_fails(paths->checkpoint, words);
}

static void test_checkpoint_load_bad_element_count_fails(void **state)
{
    Paths *paths = *state;
    unsigned char bytes[MAX_FILE_BYTES];
    size_t size = save_standard_file(paths, bytes);
    bytes[FIRST_COUNT_OFFSET + 7] = 0x80; /* 2^63 + 15 elements */
    reseal(bytes, size);
    write_file(paths->checkpoint, bytes, size);
    const char *words[] = {"malformed", "records 9223372036854775823 values", NULL};
    assert_load_fails(paths->checkpoint, words);
}

/* The file is 4 bytes larger than a checkpoint of the model, so checkpoint_load
 * rejects it by its size. The record walk's own check is reached through
 * checkpoint_load_buffer. */
static void test_checkpoint_load_unused_bytes_fails(void **state)
{
    Paths *paths = *state;
    unsigned char bytes[MAX_FILE_BYTES];
    size_t size = save_standard_file(paths, bytes);
    memmove(bytes + size, bytes + size - 4, 4);
    memset(bytes + size - 4, 0, 4);
    reseal(bytes, size + 4);

    Model model = make_standard_model(1);
    Snapshot before = take_snapshot(&model);
    char error[ERROR_BYTES] = "";
    assert_false(
        checkpoint_load_buffer(model.params, bytes, size + 4, "memory", error, sizeof error));
    assert_non_null(strstr(error, "malformed"));
    assert_non_null(strstr(error, "4 unused bytes"));
    assert_model_bits(&model, &before, "unused bytes");
    free_model(&model);

    write_file(paths->checkpoint, bytes, size + 4);
    char sizes[96];
    snprintf(sizes, sizeof sizes, "has %zu bytes, more than the %zu bytes", size + 4, size);
    const char *words[] = {sizes, NULL};
    assert_load_fails(paths->checkpoint, words);
}

/* Writes a NaN or infinity into the first value and reseals, as a tool that
 * edited the weights would; the loader must name the parameter. */
static void test_checkpoint_load_non_finite_fails(void **state)
{
    Paths *paths = *state;
    const uint32_t bad_bits[3] = {0x7FC00000u, 0x7F800000u, 0xFF800000u};
    const char *shown[3] = {"NaN", "infinity", "infinity"};
    for (size_t i = 0; i < 3; i++) {
        unsigned char bytes[MAX_FILE_BYTES];
        size_t size = save_standard_file(paths, bytes);
        put_u32(bytes + FIRST_VALUES_OFFSET + 8, bad_bits[i]);
        reseal(bytes, size);
        write_file(paths->checkpoint, bytes, size);
        const char *words[] = {"parameter 1 'embed.weight'", shown[i], "index 2", "finite", NULL};
        assert_load_fails(paths->checkpoint, words);
    }
}

/*
 * A finite value of 3e38 (bits 0x7F61B1E6), resealed: it would give NaN in
 * the forward pass, so the loader rejects it like a NaN. The bound itself,
 * 1e6 (0x49742400), still loads.
 */
static void test_checkpoint_load_huge_value_fails(void **state)
{
    Paths *paths = *state;
    unsigned char bytes[MAX_FILE_BYTES];
    size_t size = save_standard_file(paths, bytes);
    put_u32(bytes + FIRST_VALUES_OFFSET + 8, 0x7F61B1E6u);
    reseal(bytes, size);
    write_file(paths->checkpoint, bytes, size);
    const char *words[] = {"parameter 1 'embed.weight'", "index 2", "largest magnitude", NULL};
    assert_load_fails(paths->checkpoint, words);

    put_u32(bytes + FIRST_VALUES_OFFSET + 8, 0x49742400u);
    reseal(bytes, size);
    write_file(paths->checkpoint, bytes, size);
    Model model = make_standard_model(2);
    char error[ERROR_BYTES] = "";
    assert_int_equal(checkpoint_load(model.params, paths->checkpoint, error, sizeof error),
                     CHECKPOINT_LOADED);
    assert_true(model.tensors[0]->data[2] == CHECKPOINT_MAX_ABS_VALUE);
    free_model(&model);
}

/* Appends bytes to a valid checkpoint until it has file_bytes, as a sparse hole. */
static void extend_file(const char *path, off_t file_bytes)
{
    int fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, file_bytes), 0);
    assert_int_equal(close(fd), 0);
}

/* A 1 GiB file, sparse so that it takes no disk space, is rejected by its size:
 * reading it whole would have ended in the "extra bytes" check instead. */
static void test_checkpoint_load_huge_file_fails(void **state)
{
    Paths *paths = *state;
    unsigned char bytes[MAX_FILE_BYTES];
    size_t size = save_standard_file(paths, bytes);
    extend_file(paths->checkpoint, (off_t)1 << 30);
    char sizes[96];
    snprintf(sizes, sizeof sizes, "has 1073741824 bytes, more than the %zu bytes", size);
    const char *words[] = {sizes, "of a checkpoint of this model", NULL};
    assert_load_fails(paths->checkpoint, words);
}

/* A large file with another magic number is named as such, not by its size. */
static void test_checkpoint_load_huge_text_file_fails(void **state)
{
    Paths *paths = *state;
    write_file(paths->checkpoint, (const unsigned char *)"hi\n", 3);
    extend_file(paths->checkpoint, (off_t)1 << 30);
    const char *words[] = {"magic number", NULL};
    assert_load_fails(paths->checkpoint, words);
}

/* ------------------------------------------------------------------------- */
/* Loading checkpoints of another model                                       */
/* ------------------------------------------------------------------------- */

/* Saves a model built from specs [count] at path. */
static void save_model(const ParamSpec *specs, size_t count, const char *path)
{
    Model model = make_model(specs, count, 100);
    char error[ERROR_BYTES] = "";
    assert_true(checkpoint_save(model.params, path, error, sizeof error));
    free_model(&model);
}

/* [4, 2, 3] has as many elements as [4, 3, 2], so only the shape differs. */
static void test_checkpoint_load_wrong_shape_fails(void **state)
{
    Paths *paths = *state;
    ParamSpec specs[3] = {standard_specs(0), standard_specs(1), standard_specs(2)};
    specs[1].shape = shape3(4, 2, 3);
    save_model(specs, 3, paths->checkpoint);
    const char *words[] = {
        "parameter 2 'conv1.weight' has shape [4, 2, 3] in the file but [4, 3, 2] in the model",
        paths->checkpoint, NULL};
    assert_load_fails(paths->checkpoint, words);
}

/* The wrong name is the last parameter's, so the test also shows that the
 * parameters before it are not copied before the mismatch is found. */
static void test_checkpoint_load_wrong_name_fails(void **state)
{
    Paths *paths = *state;
    ParamSpec specs[3] = {standard_specs(0), standard_specs(1), standard_specs(2)};
    specs[2].name = "conv2.bias";
    save_model(specs, 3, paths->checkpoint);
    const char *words[] = {
        "parameter 3 is named 'conv2.bias' in the file but 'conv1.bias' in the model", NULL};
    assert_load_fails(paths->checkpoint, words);
}

/* The file's second parameter is larger than the model's, so the file is too:
 * the loader still names the parameter that differs. */
static void test_checkpoint_load_larger_shape_fails(void **state)
{
    Paths *paths = *state;
    ParamSpec specs[3] = {standard_specs(0), standard_specs(1), standard_specs(2)};
    specs[1].shape = shape3(4, 3, 3);
    save_model(specs, 3, paths->checkpoint);
    const char *words[] = {
        "parameter 2 'conv1.weight' has shape [4, 3, 3] in the file but [4, 3, 2] in the model",
        NULL};
    assert_load_fails(paths->checkpoint, words);
}

/* Four parameters where the model has three: the count is named, not the size. */
static void test_checkpoint_load_extra_parameter_fails(void **state)
{
    Paths *paths = *state;
    ParamSpec specs[4] = {
        standard_specs(0), standard_specs(1), standard_specs(2), {"conv2.bias", {1, {4}}}};
    save_model(specs, 4, paths->checkpoint);
    const char *words[] = {"has 4 parameters but the model has 3", NULL};
    assert_load_fails(paths->checkpoint, words);
}

static void test_checkpoint_load_wrong_parameter_count_fails(void **state)
{
    Paths *paths = *state;
    ParamSpec specs[2] = {standard_specs(0), standard_specs(1)};
    save_model(specs, 2, paths->checkpoint);
    const char *words[] = {"has 2 parameters but the model has 3", NULL};
    assert_load_fails(paths->checkpoint, words);
}

static void test_checkpoint_load_buffer_empty_fails(void **state)
{
    (void)state;
    Model model = make_standard_model(1);
    char error[ERROR_BYTES] = "";
    assert_false(checkpoint_load_buffer(model.params, NULL, 0, "memory", error, sizeof error));
    assert_non_null(strstr(error, "checkpoint memory is empty"));
    free_model(&model);
}

int main(void)
{
#define PATH_TEST(name) cmocka_unit_test_setup_teardown(name, make_paths, remove_paths)
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checkpoint_crc32_reference_value),
        cmocka_unit_test(test_checkpoint_crc32_empty_is_zero),
        cmocka_unit_test(test_checkpoint_crc32_chunks_match_whole),
        PATH_TEST(test_checkpoint_file_layout_matches_format),
        PATH_TEST(test_checkpoint_roundtrip_bit_identical),
        PATH_TEST(test_checkpoint_save_leaves_no_temporary_file),
        PATH_TEST(test_checkpoint_save_replaces_old_file),
        PATH_TEST(test_checkpoint_save_missing_directory_fails),
        PATH_TEST(test_checkpoint_save_over_directory_fails),
        PATH_TEST(test_checkpoint_save_over_symlink_fails),
        PATH_TEST(test_checkpoint_save_over_fifo_fails),
        PATH_TEST(test_checkpoint_save_ignores_temporary_symlink),
        PATH_TEST(test_checkpoint_save_replaces_stale_temporary),
        PATH_TEST(test_checkpoint_save_respects_umask),
        PATH_TEST(test_checkpoint_save_non_finite_fails),
        PATH_TEST(test_checkpoint_save_huge_value_fails),
        PATH_TEST(test_checkpoint_load_missing_file_fails),
        PATH_TEST(test_checkpoint_load_directory_fails),
        PATH_TEST(test_checkpoint_load_fifo_fails),
        PATH_TEST(test_checkpoint_load_empty_file_fails),
        PATH_TEST(test_checkpoint_load_bad_magic_fails),
        PATH_TEST(test_checkpoint_load_text_file_fails),
        PATH_TEST(test_checkpoint_load_bad_version_fails),
        PATH_TEST(test_checkpoint_load_truncated_fails),
        PATH_TEST(test_checkpoint_load_extra_bytes_fails),
        PATH_TEST(test_checkpoint_load_flipped_value_byte_fails),
        PATH_TEST(test_checkpoint_load_flipped_checksum_byte_fails),
        PATH_TEST(test_checkpoint_load_bad_name_length_fails),
        PATH_TEST(test_checkpoint_load_bad_ndim_fails),
        PATH_TEST(test_checkpoint_load_bad_element_count_fails),
        PATH_TEST(test_checkpoint_load_unused_bytes_fails),
        PATH_TEST(test_checkpoint_load_non_finite_fails),
        PATH_TEST(test_checkpoint_load_huge_value_fails),
        PATH_TEST(test_checkpoint_load_huge_file_fails),
        PATH_TEST(test_checkpoint_load_huge_text_file_fails),
        PATH_TEST(test_checkpoint_load_larger_shape_fails),
        PATH_TEST(test_checkpoint_load_extra_parameter_fails),
        PATH_TEST(test_checkpoint_load_wrong_shape_fails),
        PATH_TEST(test_checkpoint_load_wrong_name_fails),
        PATH_TEST(test_checkpoint_load_wrong_parameter_count_fails),
        cmocka_unit_test(test_checkpoint_load_buffer_empty_fails),
    };
#undef PATH_TEST
    return cmocka_run_group_tests(tests, NULL, NULL);
}
