/*
 * libFuzzer target: read arbitrary bytes as a corpus for next-word
 * prediction. Besides the sanitizers' memory and undefined behaviour
 * checks, it aborts when a result breaks a rule of corpus.h:
 * - a rejected input leaves the corpus zeroed and explains why;
 * - an accepted input has at least the minimum words in each part, a
 *   training part that is the first train_count words, and only ids that
 *   the vocabulary holds, with the vocabulary no larger than asked.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corpus.h"

/* Small limits, so that short inputs reach the accepted path too. */
#define FUZZ_MAX_VOCAB 8
#define FUZZ_MIN_WORDS 2

/* Stops the run with a message, so that libFuzzer saves the input. */
static void require(bool condition, const char *rule)
{
    if (!condition) {
        fprintf(stderr, "fuzz_corpus: broken rule: %s\n", rule);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Corpus corpus;
    memset(&corpus, 0, sizeof corpus);
    char error[512] = "";

    bool ok = corpus_load_buffer((const char *)data, size, "fuzz input", FUZZ_MAX_VOCAB, 0.5,
                                 FUZZ_MIN_WORDS, &corpus, error, sizeof error);
    if (!ok) {
        require(corpus.ids == NULL && corpus.vocab == NULL, "a rejected input leaves the corpus zeroed");
        require(error[0] != '\0', "a rejected input gets a message");
        return 0;
    }

    require(corpus.train_count >= FUZZ_MIN_WORDS, "the training part has the minimum words");
    require(corpus.count - corpus.train_count >= FUZZ_MIN_WORDS, "the validation part has the minimum words");
    for (size_t i = 0; i < corpus.count; i++) {
        const char *word = vocab_word(corpus.vocab, corpus.ids[i]);
        require(word != NULL, "every id names a word of the vocabulary");
    }
    require(vocab_word(corpus.vocab, FUZZ_MAX_VOCAB) == NULL, "the vocabulary is no larger than asked");

    corpus_free(&corpus);
    return 0;
}
