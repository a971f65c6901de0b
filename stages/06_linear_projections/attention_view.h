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
 * sentence and head count from 1; query and key are word positions from 0;
 * the words are quoted (csv_quote); weight is a_qk, and the weights of one
 * sentence, head and query sum to 1.
 */
#ifndef ATTENTION_VIEW_H
#define ATTENTION_VIEW_H

#include <stddef.h>

#include "csv.h"
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
 * Encodes sentence @p index (0-based) with @p vocab. A word the vocabulary
 * does not contain becomes VOCAB_UNKNOWN_ID, with a note on stderr naming
 * the sentence and the word.
 * @return ids [words.count] that the caller frees with free(); exits with
 *         status 1 when memory runs out.
 */
int *attention_view_encode(const char *program, const Sentence *sentence, size_t index,
                           const Vocab *vocab);

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

/** The CSV file of the weights and the heatmap drawn from it. */
typedef struct AttentionFigure {
    const char *program; /**< prefix of every message */
    CsvWriter *csv;      /**< the open CSV file */
    char csv_path[4096]; /**< OUT/NAME.csv */
    char png_path[4096]; /**< OUT/NAME.png */
} AttentionFigure;

/**
 * Creates @p out_dir when needed and opens OUT/NAME.csv with the header
 * above. Exits with status 1 and the reason when the file cannot be
 * created.
 */
void attention_figure_open(AttentionFigure *figure, const char *program, const char *out_dir,
                           const char *name);

/**
 * Adds the weights [n * n] of sentence @p sentence (from 1) and head
 * @p head (from 1) to the CSV file. Exits with status 1 when memory runs out.
 */
void attention_figure_add(AttentionFigure *figure, size_t sentence, int head,
                          const TokenList *words, const float *weights);

/**
 * Closes the CSV file and draws the heatmaps with plots/stage06_attention.gp.
 * A CSV file that cannot be completed is lost data, so it exits with status
 * 1; a figure that cannot be drawn costs only a warning on stderr. Names
 * each file written on stderr.
 */
void attention_figure_close(AttentionFigure *figure);

#endif /* ATTENTION_VIEW_H */
