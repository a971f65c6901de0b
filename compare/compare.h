/*
 * The comparison as a whole: the options, the plan of every task and the
 * phases that train and write them (compare.c).
 */
#ifndef COMPARE_COMPARE_H
#define COMPARE_COMPARE_H

#include <stdbool.h>
#include <stdint.h>

#include "corpus.h"
#include "display.h"
#include "settings.h"
#include "study.h"
#include "text.h"

/** The settings of the command line. */
typedef struct Options {
    bool quick;         /**< the quick recipe */
    uint64_t seed;      /**< the first seed */
    int threads;        /**< training runs at once */
    const char *out;    /**< output directory */
    const char *corpus; /**< the text of task 3 */
    bool run_distance;  /**< task 1 */
    bool run_order;     /**< task 2 */
    bool run_text;      /**< task 3 */
    char command[512];  /**< the command line, for REPORT.md (cut when longer) */
} Options;

/** The figures the program draws, each from one CSV file. */
typedef enum Figure {
    FIGURE_DISTANCE, /**< compare_distance, from distance.csv */
    FIGURE_ORDER,    /**< compare_order, from order.csv */
    FIGURE_TEXT,     /**< compare_text, from text.csv */
    FIGURE_CURVES,   /**< compare_curves, from curves.csv */
    FIGURE_COUNT     /**< the number of figures */
} Figure;

/** The columns of curves.csv; distance is empty for the tasks without one. */
/** The program's name, the prefix of its messages. */
#define COMPARE_PROGRAM "compare"

#define CURVES_CSV_HEADER "task,model,seed,step,seconds,train_loss,val_loss,distance"

/** Models of task 3: the causal CNN and the stage 08 transformer. */
#define TEXT_MODELS 2

/** Everything one run of the program plans, trains and measures. */
typedef struct Comparison {
    Options options;                  /**< as parsed */
    Settings settings;                /**< the recipe */
    Corpus corpus;                    /**< task 3's text, when run_text */
    Study distance;                   /**< task 1, when run_distance */
    Study order;                      /**< task 2, when run_order */
    TextRun text_runs[TEXT_MODELS];   /**< task 3, when run_text */
    Job text_jobs[TEXT_MODELS];       /**< the text runs as jobs */
    bool distance_done;               /**< task 1 trained, its tables printed */
    bool order_done;                  /**< task 2 trained, its tables printed */
    bool text_done;                   /**< task 3 trained, its tables printed */
    double distance_seconds;          /**< wall time of task 1 */
    double order_seconds;             /**< wall time of task 2 */
    double text_seconds;              /**< wall time of task 3 */
    double total_seconds;             /**< wall time of every phase */
    bool figure_drawn[FIGURE_COUNT];  /**< which figures gnuplot drew */
    bool csv_failed[FIGURE_COUNT];    /**< which CSV files could not be written */
    bool figure_failed[FIGURE_COUNT]; /**< which figures could not be written at their
                                           names (a link, FIFO or folder there) */
    bool corpus_rejected;             /**< comparison_prepare failed because the --corpus
                                           file cannot be used (a user error, exit status 2) */
} Comparison;

/** Returns the figure's name, such as "compare_distance" (its script is plots/NAME.gp). */
const char *figure_name(Figure figure);

/** Returns the CSV file a figure is drawn from, such as "distance.csv". */
const char *figure_csv(Figure figure);

/**
 * Plans the comparison: loads the corpus (for task 3), builds the tasks and
 * matches every model's width. Trains nothing.
 * @return false with a message in @p error; the message for a missing
 *         corpus names `make data` and --corpus, and a corpus that cannot
 *         be used (missing, unreadable, empty, a directory, not UTF-8, too
 *         short) sets corpus_rejected. Call comparison_free in both cases.
 */
bool comparison_prepare(Comparison *comparison, const Options *options, char *error,
                        size_t error_size);

/**
 * Trains the tasks in order (distance, order, text), writing each task's
 * CSV file and figure and printing its tables as soon as it finishes, then
 * curves.csv and REPORT.md. After a stop request (Ctrl-C) no further run
 * starts and the task in progress writes nothing. A file that cannot be
 * written is reported through result_file_failed, and the other files are
 * still written.
 * @return false with a message in @p error when memory runs out.
 */
bool comparison_run(Comparison *comparison, char *error, size_t error_size);

/** Returns whether every task selected by --tasks finished its runs. */
bool comparison_all_done(const Comparison *comparison);

/** Frees everything the comparison owns. */
void comparison_free(Comparison *comparison);

#endif /* COMPARE_COMPARE_H */
