/*
 * Stage 08: collecting and printing attention weights (see attention_view.h).
 */
#include "08_transformer_block/attention_view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool attention_view_weights(const Transformer *model, const int *ids, int n, float *weights)
{
    TransformerConfig config = transformer_config(model);
    size_t heads = (size_t)config.layers * (size_t)config.heads;
    Tensor **all_weights = calloc(heads, sizeof *all_weights);
    if (!all_weights)
        return false;

    Tape tape;
    tape_init(&tape);
    tape.grad_enabled = false;
    transformer_features_with(&tape, model, ids, 1, n, transformer_standard_additions(), NULL,
                              all_weights);
    size_t matrix = (size_t)n * (size_t)n;
    for (size_t i = 0; i < heads; i++)
        memcpy(weights + i * matrix, all_weights[i]->data, matrix * sizeof *weights);
    tape_free(&tape);
    free(all_weights);
    return true;
}

bool attention_view_words_fit(const TokenList *words)
{
    for (size_t t = 0; t < words->count; t++)
        if (strlen(token_list_get(words, t)) > ATTENTION_VIEW_LABEL_BYTES)
            return false;
    return true;
}

void attention_view_print_legend(const TokenList *words)
{
    printf("  words:");
    for (size_t t = 0; t < words->count; t++)
        printf("  %zu %s", t + 1, token_list_get(words, t));
    printf("\n");
}

void attention_view_print_matrix(const TokenList *words, const float *weights, size_t shown)
{
    size_t n = words->count;
    bool by_word = attention_view_words_fit(words);
    printf("%10s", "");
    for (size_t k = 0; k < shown; k++) {
        if (by_word)
            printf(" %6s", token_list_get(words, k));
        else
            printf(" %6zu", k + 1);
    }
    printf("\n");

    for (size_t q = 0; q < shown; q++) {
        if (by_word)
            printf("%10s", token_list_get(words, q));
        else
            printf("%10zu", q + 1);
        for (size_t k = 0; k < shown; k++)
            printf(" %6.3f", (double)weights[q * n + k]);
        printf("\n");
    }
}

/* Returns whether key a ranks before key b in row: a larger weight first, then the lower key. */
static bool ranks_before(const float *row, size_t a, size_t b)
{
    return row[a] > row[b] || (row[a] == row[b] && a < b);
}

/* Returns the first key of row [n] in rank order after key `previous` (n for none yet). */
static size_t next_ranked(const float *row, size_t n, size_t previous)
{
    size_t best = n;
    for (size_t k = 0; k < n; k++) {
        bool after_previous = previous == n || ranks_before(row, previous, k);
        if (after_previous && (best == n || ranks_before(row, k, best)))
            best = k;
    }
    return best;
}

void attention_view_print_ranked(const TokenList *words, const float *weights, const bool *queries)
{
    size_t n = words->count;
    size_t listed = n < ATTENTION_VIEW_TOP_KEYS ? n : ATTENTION_VIEW_TOP_KEYS;

    for (size_t q = 0; q < n; q++) {
        if (!queries[q])
            continue;
        const float *row = weights + q * n;
        const char *word = token_list_get(words, q);
        printf("  query %2zu %-*s", q + 1, ATTENTION_VIEW_LABEL_BYTES,
               strlen(word) <= ATTENTION_VIEW_LABEL_BYTES ? word : "");

        /* The keys in rank order, so the unlisted ones are those ranked after the last listed. */
        size_t key = n;
        for (size_t i = 0; i < listed; i++) {
            key = next_ranked(row, n, key);
            printf("   key %2zu %.3f", key + 1, (double)row[key]);
        }
        double others = 0.0;
        for (size_t k = 0; k < n; k++)
            others += ranks_before(row, key, k) ? (double)row[k] : 0.0;
        if (listed < n)
            printf("   other %zu keys %.3f", n - listed, others);
        printf("\n");
    }
}
