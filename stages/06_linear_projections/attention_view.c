/*
 * Shows a loaded model's attention weights on given sentences (see
 * attention_view.h): encoding, printing, the CSV file and its heatmap.
 */
#define _POSIX_C_SOURCE 200809L

#include "06_linear_projections/attention_view.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "program.h"
#include "result_file.h"

/* The weights print with three decimals, so a column is at least as wide as "0.000". */
#define MIN_COLUMN_WIDTH 5

/* The label of the first column, above the query words. */
#define CORNER_LABEL "query \\ key"

void attention_view_add_sentences(const char *program, SentenceSet *sentences,
                                  const char *const *texts, size_t count)
{
    char error[512];
    for (size_t i = 0; i < count; i++) {
        if (!sentence_set_add(sentences, texts[i], error, sizeof error)) {
            fprintf(stderr, "%s: built-in sentence %zu: %s\n", program, i + 1, error);
            exit(1);
        }
    }
}

void attention_view_check_lengths(const char *program, const SentenceSet *sentences, int positions,
                                  const char *task_name)
{
    for (size_t i = 0; i < sentences->count; i++) {
        size_t words = sentences->items[i].words.count;
        if (words > (size_t)positions)
            program_reject_sentence(program, sentences, i,
                                    "%zu words, but the loaded model has %d position vectors, "
                                    "one per word of %s; give at most %d words",
                                    words, positions, task_name, positions);
    }
}

int *attention_view_encode(const char *program, const SentenceSet *sentences, size_t index,
                           const Vocab *vocab)
{
    size_t count = sentences->items[index].words.count;
    int *ids = malloc(count * sizeof *ids);
    if (!ids) {
        fprintf(stderr, "%s: out of memory encoding sentence %zu\n", program, index + 1);
        exit(1);
    }
    program_encode_sentence(program, sentences, index, vocab, ids);
    return ids;
}

int **attention_view_encode_all(const char *program, const SentenceSet *sentences,
                                const Vocab *vocab)
{
    int **ids = calloc(sentences->count, sizeof *ids);
    if (!ids) {
        fprintf(stderr, "%s: out of memory encoding the sentences\n", program);
        exit(1);
    }
    for (size_t i = 0; i < sentences->count; i++)
        ids[i] = attention_view_encode(program, sentences, i, vocab);
    return ids;
}

void attention_view_free_ids(int **ids, size_t count)
{
    if (!ids)
        return;
    for (size_t i = 0; i < count; i++)
        free(ids[i]);
    free(ids);
}

/* Returns the column width of word @p t: its length, but at least MIN_COLUMN_WIDTH. */
static int column_width(const TokenList *words, size_t t)
{
    size_t length = strlen(token_list_get(words, t));
    return length < MIN_COLUMN_WIDTH ? MIN_COLUMN_WIDTH : (int)length;
}

/* Returns the width of the first column: the longest word, but at least CORNER_LABEL. */
static int label_width(const TokenList *words)
{
    size_t width = strlen(CORNER_LABEL);
    for (size_t t = 0; t < words->count; t++)
        if (strlen(token_list_get(words, t)) > width)
            width = strlen(token_list_get(words, t));
    return (int)width;
}

void attention_view_print(const TokenList *words, const float *weights)
{
    size_t n = words->count;
    int first = label_width(words);

    printf("   %-*s", first, CORNER_LABEL);
    for (size_t k = 0; k < n; k++)
        printf(" %*s", column_width(words, k), token_list_get(words, k));
    printf("\n");

    for (size_t q = 0; q < n; q++) {
        printf("   %-*s", first, token_list_get(words, q));
        for (size_t k = 0; k < n; k++)
            printf(" %*.3f", column_width(words, k), (double)weights[q * n + k]);
        printf("\n");
    }
}

void attention_view_print_vocabulary(const Vocab *vocab)
{
    enum { LINE_COLUMNS = 90, INDENT = 3 };
    int column = INDENT;
    printf("%*s", INDENT - 1, "");
    for (int id = VOCAB_UNKNOWN_ID + 1; id < vocab->size; id++) {
        const char *word = vocab_word(vocab, id);
        int width = 1 + (int)strlen(word);
        if (column > INDENT && column + width > LINE_COLUMNS) {
            printf("\n%*s", INDENT - 1, "");
            column = INDENT;
        }
        printf(" %s", word);
        column += width;
    }
    printf("\n\n");
}

/* Returns every word of @p words quoted for the CSV file; exits with status 1 on no memory. */
static char **quote_words(const char *program, const TokenList *words)
{
    char **quoted = calloc(words->count, sizeof *quoted);
    for (size_t t = 0; quoted && t < words->count; t++) {
        quoted[t] = csv_quote(token_list_get(words, t));
        if (!quoted[t]) {
            for (size_t i = 0; i < t; i++)
                free(quoted[i]);
            free(quoted);
            quoted = NULL;
        }
    }
    if (!quoted) {
        fprintf(stderr, "%s: out of memory writing the attention weights\n", program);
        exit(1);
    }
    return quoted;
}

/* Adds the weights [n * n] of one sentence and head (both from 1) to the CSV file, if open. */
static void attention_figure_add(ResultCsv *figure, size_t sentence, int head,
                                 const TokenList *words, const float *weights)
{
    if (!figure->writer)
        return;
    size_t n = words->count;
    char **quoted = quote_words(figure->program, words);
    for (size_t q = 0; q < n; q++)
        for (size_t k = 0; k < n; k++)
            csv_row(figure->writer, "%zu,%d,%zu,%zu,%s,%s,%.6f", sentence, head, q, k, quoted[q],
                    quoted[k], (double)weights[q * n + k]);
    for (size_t t = 0; t < n; t++)
        free(quoted[t]);
    free(quoted);
}

/* Runs the model on sentence `index`, prints its output and weights, and records them. */
static void show_sentence(const AttentionModel *model, const Sentence *sentence, size_t index,
                          const int *ids, ResultCsv *figure)
{
    int n = (int)sentence->words.count;
    Tensor **weights = calloc((size_t)model->heads, sizeof *weights);
    if (!weights) {
        fprintf(stderr, "%s: out of memory running the loaded model\n", figure->program);
        exit(1);
    }
    Tape tape;
    tape_init(&tape);
    tape.grad_enabled = false;
    Tensor *logits = model->run(&tape, model->model, ids, n, weights);

    /* Softmax over the two classes: P(label 1) = 1 / (1 + exp(logit 0 - logit 1)). */
    double label_one = 1.0 / (1.0 + exp((double)logits->data[0] - (double)logits->data[1]));
    printf("   sentence %zu: %s\n", index + 1, sentence->text);
    printf("   P(%s) = %.3f\n", model->label_meaning, label_one);
    for (int h = 0; h < model->heads; h++) {
        if (model->heads > 1)
            printf("   head %d of %d:\n", h + 1, model->heads);
        attention_view_print(&sentence->words, weights[h]->data);
        attention_figure_add(figure, index + 1, h + 1, &sentence->words, weights[h]->data);
    }
    printf("\n");
    tape_free(&tape);
    free(weights);
}

void attention_view_show_sentences(const char *program, const char *out_dir, const char *name,
                                   const SentenceSet *sentences, int *const *ids,
                                   const AttentionModel *model)
{
    /* The weights are printed even when the CSV file cannot be written. */
    ResultCsv figure;
    result_csv_open(&figure, program, out_dir, name,
                    "sentence,head,query,key,query_word,key_word,weight");
    for (size_t i = 0; i < sentences->count; i++)
        show_sentence(model, &sentences->items[i], i, ids[i], &figure);
    result_csv_close(&figure, "stage06_attention.gp");
}
