/*
 * libFuzzer target: checkpoint_load_buffer on arbitrary bytes, against a
 * fixed model of three parameters. Each input is loaded twice: as it is,
 * and resealed, that is with the size field and the CRC-32 rewritten to
 * match the bytes. Random bytes almost never carry a valid checksum, so
 * without the resealed copy the fuzzer would rarely get past it to the
 * parameter records. Besides the sanitizers' checks, it aborts when a
 * failed load changed the model or wrote no message.
 *
 * The seed corpus in fuzz/corpus/fuzz_checkpoint contains checkpoints that
 * checkpoint_save wrote for this model, so the names and shapes below must
 * not change without rewriting those seeds.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"

/* Offsets of the file size field and size of the header, from checkpoint.h. */
#define SIZE_FIELD_OFFSET 12
#define HEADER_AND_CHECKSUM_BYTES 28

/* The model every input is loaded into. */
typedef struct FuzzModel {
    ParamList *params;
    Tensor *tensors[3];
} FuzzModel;

/* Stops the run with a message, so that libFuzzer saves the input. */
static void require(bool condition, const char *rule)
{
    if (!condition) {
        fprintf(stderr, "fuzz_checkpoint: broken rule: %s\n", rule);
        abort();
    }
}

/* Returns the model, built on the first call and kept for the whole run. */
static FuzzModel *get_model(void)
{
    static FuzzModel model;
    if (model.params)
        return &model;

    const char *names[3] = {"embed.weight", "conv1.weight", "conv1.bias"};
    Shape shapes[3] = {shape2(3, 2), shape3(2, 2, 2), shape1(2)};
    model.params = params_new();
    require(model.params != NULL, "memory for the model");
    for (int i = 0; i < 3; i++) {
        model.tensors[i] = tensor_new(shapes[i], true);
        require(params_add(model.params, model.tensors[i], names[i]), "params_add succeeds");
    }
    return &model;
}

/* The value every load starts from: element k of parameter i. */
static float start_value(int i, size_t k) { return (float)(i * 100) + (float)k * 0.5f; }

static void reset_model(FuzzModel *model)
{
    for (int i = 0; i < 3; i++) {
        for (size_t k = 0; k < model->tensors[i]->size; k++)
            model->tensors[i]->data[k] = start_value(i, k);
    }
}

/* Compares bits, so that a NaN loaded by mistake is noticed too. */
static bool model_unchanged(const FuzzModel *model)
{
    for (int i = 0; i < 3; i++) {
        for (size_t k = 0; k < model->tensors[i]->size; k++) {
            float expected = start_value(i, k);
            if (memcmp(&model->tensors[i]->data[k], &expected, sizeof expected) != 0)
                return false;
        }
    }
    return true;
}

static void load_and_check(FuzzModel *model, const unsigned char *bytes, size_t size)
{
    char error[512] = "";
    reset_model(model);
    if (!checkpoint_load_buffer(model->params, bytes, size, "fuzz input", error, sizeof error)) {
        require(error[0] != '\0', "a failed load writes a message");
        require(model_unchanged(model), "a failed load leaves the model unchanged");
    }
}

/* Rewrites the size field and the trailing CRC-32 of a copy of the input. */
static void reseal(unsigned char *bytes, size_t size)
{
    for (int i = 0; i < 8; i++)
        bytes[SIZE_FIELD_OFFSET + i] = (unsigned char)((uint64_t)size >> (8 * i));
    uint32_t crc = checkpoint_crc32(0, bytes, size - 4);
    for (int i = 0; i < 4; i++)
        bytes[size - 4 + i] = (unsigned char)(crc >> (8 * i));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FuzzModel *model = get_model();
    load_and_check(model, data, size);

    if (size >= HEADER_AND_CHECKSUM_BYTES) {
        unsigned char *copy = malloc(size);
        require(copy != NULL, "memory for the copy");
        memcpy(copy, data, size);
        reseal(copy, size);
        load_and_check(model, copy, size);
        free(copy);
    }
    return 0;
}
