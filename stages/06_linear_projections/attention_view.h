/**
 * @file attention_view.h
 * @brief Shows a trained model's attention weights on sentences a user
 *        typed: the sentences encoded with the task's fixed vocabulary, each
 *        n x n weight matrix printed row by row, and every matrix written to
 *        a CSV file that plots/stage06_attention.gp draws as heatmaps.
 *
 * Stages 06 and 07 use it after --load. A trained model has word vectors
 * only for the words of its task and one position vector per word of the
 * task's sentences. So a sentence may be at most that long, and any other
 * word is read as \<unk\>.
 *
 * The CSV file has one row per query-key pair:
 *
 *     sentence,head,query,key,query_word,key_word,weight
 *
 * sentence and head count from 1, and query and key are word positions
 * from 0. The words are quoted (csv_quote). weight is a_qk, so the weights
 * of one sentence, head and query sum to 1.
 */
#ifndef ATTENTION_VIEW_H
#define ATTENTION_VIEW_H

#include <stddef.h>

#include "ops.h"
#include "sentence_set.h"
#include "vocab.h"

/**
 * Adds @p texts [count] to @p sentences; exits with status 1 naming
 * @p program when one cannot be added (memory runs out, or a built-in
 * sentence breaks the sentence rules, which is a bug).
 */
void attention_view_add_sentences(const char *program, SentenceSet *sentences,
                                  const char *const *texts, size_t count);

/**
 * Exits with status 2 through program_reject_sentence for the first
 * sentence of @p sentences with more than @p positions words, naming the
 * limit; @p task_name is the task whose sentence length fixed the model's
 * positions, such as "the distance task".
 */
void attention_view_check_lengths(const char *program, const SentenceSet *sentences, int positions,
                                  const char *task_name);

/**
 * Encodes sentence @p index (0-based) of @p sentences with @p vocab. A word
 * the vocabulary does not contain becomes VOCAB_UNKNOWN_ID, with a note on
 * stderr naming the sentence and the word (program_encode_sentence).
 * @return ids [words.count] that the caller frees with free(); exits with
 *         status 1 when memory runs out.
 */
int *attention_view_encode(const char *program, const SentenceSet *sentences, size_t index,
                           const Vocab *vocab);

/**
 * Encodes every sentence of @p sentences as attention_view_encode does.
 * @return ids [sentences->count][words of that sentence], freed with
 *         attention_view_free_ids; exits with status 1 when memory runs out.
 */
int **attention_view_encode_all(const char *program, const SentenceSet *sentences,
                                const Vocab *vocab);

/** Frees the @p count arrays of @p ids and @p ids itself; NULL is ignored. */
void attention_view_free_ids(int **ids, size_t count);

/**
 * Prints the weights [n * n] of one sentence of n = words->count words to
 * stdout: a header row of the key words, then one row per query word,
 * three decimals each.
 */
void attention_view_print(const TokenList *words, const float *weights);

/**
 * Prints every word of @p vocab but \<unk\> to stdout in id order, on lines
 * of at most about 90 columns, then an empty line.
 */
void attention_view_print_vocabulary(const Vocab *vocab);

/**
 * Runs a loaded classifier on one sentence of @p length word ids.
 * Stores each head's weights [length * length] in weights[h], owned by
 * @p tape, and returns the logits [1, 2], owned by @p tape too.
 */
typedef Tensor *(*AttentionRunFn)(Tape *tape, const void *model, const int *ids, int length,
                                  Tensor **weights);

/** A loaded two-class model as attention_view_show_sentences runs it. */
typedef struct AttentionModel {
    AttentionRunFn run;        /**< the forward pass */
    const void *model;         /**< passed to run */
    int heads;                 /**< weight matrices per sentence, 1 or more */
    const char *label_meaning; /**< what label 1 means, printed as P(label_meaning) */
} AttentionModel;

/**
 * Runs @p model on every sentence of @p sentences, encoded as @p ids (see
 * attention_view_encode_all). For each sentence it prints the text, the
 * probability of label 1 and each head's weights (attention_view_print),
 * and it writes every weight to OUT/NAME.csv (@p out_dir, @p name) with the
 * columns above. Then it draws OUT/NAME.png with plots/stage06_attention.gp
 * and names both files on stderr. A CSV file that cannot be written is
 * reported through result_file_failed, so the program still prints every
 * sentence and then exits with status 1. A figure that cannot be drawn
 * costs only a warning on stderr.
 */
void attention_view_show_sentences(const char *program, const char *out_dir, const char *name,
                                   const SentenceSet *sentences, int *const *ids,
                                   const AttentionModel *model);

#endif /* ATTENTION_VIEW_H */
