/*
 * The comparison program, build/bin/compare: it trains the stage 01 CNN,
 * the attention stages and two controls on generated tasks and on real
 * text, and writes CSV files, figures and REPORT.md into --out.
 *
 *   Task 1, distance: accuracy against the distance between two related
 *           words, with the CNN's receptive field marked.
 *   Task 2, order:    stage 02 (no positions) against stage 03 (positions)
 *           on sentences whose label is their word order.
 *   Task 3, text:     next-word prediction on a real corpus, the causal
 *           CNN against the stage 08 transformer, with the validation loss
 *           split by how far back the target word last appeared.
 *
 * stdout carries the results only (the same bytes for the same options,
 * whatever the thread count); progress, timings and notices go to stderr.
 * Every output file is written under a temporary name and renamed.
 */
#define _POSIX_C_SOURCE 200809L

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "cli.h"
#include "compare.h"
#include "program.h"
#include "report.h"
#include "result_file.h"

#define PROGRAM COMPARE_PROGRAM
#define DEFAULT_OUT "results"
#define DEFAULT_CORPUS PROJECT_ROOT "/data/kjv.txt"
#define MAX_THREADS 256

/* Exit status after Ctrl-C, as a shell reports a process ended by SIGINT (128 + 2). */
#define EXIT_INTERRUPTED 130

static void print_usage(void)
{
    printf("Usage: %s [OPTION]...\n"
           "Measure that a CNN cannot relate words farther apart than its receptive field\n"
           "while attention can: train the stage 01 CNN, the attention stages 05 to 08 and\n"
           "two controls on generated tasks and on real text, and write CSV files, figures\n"
           "and REPORT.md.\n"
           "\n"
           "  --quick          the short recipe (a 1-layer CNN, fewer models, distances and\n"
           "                   steps), under 2 minutes on 2 cores; the default is the full run\n"
           "  --tasks LIST     comma-separated tasks to run: distance, order, text\n"
           "                   (default: distance,order,text)\n"
           "  --seed N         first seed; each point is trained with seeds N, N+1, N+2\n"
           "                   (default 1)\n"
           "  --threads N      training runs at once, each on one thread, 1..%d\n"
           "                   (default: the number of processors); results do not depend on it\n"
           "  --out DIR        directory for the CSV files, figures and REPORT.md\n"
           "                   (default %s; created when missing)\n"
           "  --corpus FILE    UTF-8 text for task 3 (default data/kjv.txt, the King James\n"
           "                   Bible, which `make data` extracts)\n"
           "  --help           show this help and exit\n"
           "\n"
           "Ctrl-C stops after the runs in progress; the files of finished tasks are kept.\n",
           PROGRAM, MAX_THREADS, DEFAULT_OUT);
}

/* Returns the number of processors available to OpenMP (1 without OpenMP), at most MAX_THREADS. */
static int default_threads(void)
{
#ifdef _OPENMP
    int processors = omp_get_num_procs();
    if (processors < 1)
        return 1;
    return processors > MAX_THREADS ? MAX_THREADS : processors;
#else
    return 1;
#endif
}

/* Parses "distance,order,text" (any subset, any order) into the task flags. */
static void parse_tasks(const char *text, Options *options)
{
    char copy[256], shown[CLI_ABBREVIATION_SIZE];
    if (strlen(text) >= sizeof copy || text[0] == '\0')
        cli_usage_error(PROGRAM,
                        "invalid value '%s' for --tasks: expected a comma-separated "
                        "list of distance, order and text",
                        cli_abbreviate(text, strlen(text), shown, sizeof shown));
    strcpy(copy, text);
    options->run_distance = options->run_order = options->run_text = false;
    /* Every comma separates two names: "distance,", ",order" and "a,,b" are typing errors. */
    size_t length = strlen(copy);
    if (copy[0] == ',' || copy[length - 1] == ',' || strstr(copy, ",,"))
        cli_usage_error(PROGRAM,
                        "invalid value '%s' for --tasks: an empty task name; expected a "
                        "comma-separated list of distance, order and text",
                        cli_abbreviate(text, strlen(text), shown, sizeof shown));
    char *saved = NULL;
    for (char *name = strtok_r(copy, ",", &saved); name; name = strtok_r(NULL, ",", &saved)) {
        if (strcmp(name, "distance") == 0)
            options->run_distance = true;
        else if (strcmp(name, "order") == 0)
            options->run_order = true;
        else if (strcmp(name, "text") == 0)
            options->run_text = true;
        else
            cli_usage_error(PROGRAM,
                            "invalid value '%s' for --tasks: unknown task '%s' "
                            "(expected distance, order or text)",
                            text, name);
    }
}

/* Copies the command line into options->command, arguments separated by spaces. */
static void record_command(int argc, char **argv, Options *options)
{
    size_t used = 0;
    options->command[0] = '\0';
    for (int i = 0; i < argc && used + 1 < sizeof options->command; i++) {
        int written = snprintf(options->command + used, sizeof options->command - used, "%s%s",
                               i ? " " : "", argv[i]);
        if (written < 0)
            break;
        used += (size_t)written;
    }
}

/* Sets the defaults, then reads argv; exits on --help and on any invalid option. */
static void parse_options(int argc, char **argv, Options *options)
{
    enum { OPT_QUICK = 256, OPT_TASKS, OPT_SEED, OPT_THREADS, OPT_OUT, OPT_CORPUS, OPT_HELP };
    static const struct option long_options[] = {
        {"quick", no_argument, NULL, OPT_QUICK},
        {"tasks", required_argument, NULL, OPT_TASKS},
        {"seed", required_argument, NULL, OPT_SEED},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"out", required_argument, NULL, OPT_OUT},
        {"corpus", required_argument, NULL, OPT_CORPUS},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
    };
    *options = (Options){.seed = 1,
                         .threads = default_threads(),
                         .out = DEFAULT_OUT,
                         .corpus = DEFAULT_CORPUS,
                         .run_distance = true,
                         .run_order = true,
                         .run_text = true};

    /* A leading ':' makes getopt_long return ':' for a missing value instead of printing. */
    opterr = 0;
    int option;
    char shown[CLI_ABBREVIATION_SIZE];
    while ((option = getopt_long(argc, argv, ":", long_options, NULL)) != -1) {
        switch (option) {
        case OPT_QUICK:
            options->quick = true;
            break;
        case OPT_TASKS:
            parse_tasks(optarg, options);
            break;
        case OPT_SEED:
            /* Seeds N .. N+2 must not wrap around. */
            options->seed = cli_parse_u64(PROGRAM, "--seed", optarg, 0, UINT64_MAX - 64);
            break;
        case OPT_THREADS:
            options->threads = cli_parse_int(PROGRAM, "--threads", optarg, 1, MAX_THREADS);
            break;
        case OPT_OUT:
            options->out = optarg;
            break;
        case OPT_CORPUS:
            if (optarg[0] == '\0')
                cli_usage_error(PROGRAM, "invalid value '' for --corpus: expected a file");
            options->corpus = optarg;
            break;
        case OPT_HELP:
            print_usage();
            exit(0);
        default:
            cli_reject_option(PROGRAM, option, argv[optind - 1], long_options);
        }
    }
    if (optind < argc)
        cli_usage_error(PROGRAM, "unexpected argument '%s'; every option starts with --",
                        cli_abbreviate(argv[optind], strlen(argv[optind]), shown, sizeof shown));
    /* Before the corpus loads: a bad --out is a usage error, reported at once. */
    program_prepare_out(PROGRAM, options->out);
    record_command(argc, argv, options);
}

int main(int argc, char **argv)
{
    /* Before the options, so that --help written to a full disk also exits with status 1. */
    program_check_stdout_at_exit(PROGRAM);
    Options options;
    parse_options(argc, argv, &options);
    char error[1024];

    /* Fail before any training: a missing corpus, a task that cannot be planned. */
    Comparison comparison;
    if (!comparison_prepare(&comparison, &options, error, sizeof error)) {
        fprintf(stderr, "%s: %s\n", PROGRAM, error);
        int status = comparison.corpus_rejected ? 2 : 1;
        comparison_free(&comparison);
        return status;
    }

    runner_install_interrupt_handler();
    bool ok = comparison_run(&comparison, error, sizeof error);
    if (!ok)
        fprintf(stderr, "%s: %s\n", PROGRAM, error);
    bool interrupted = runner_stop_requested();
    bool all_done = comparison_all_done(&comparison);
    comparison_free(&comparison);
    int status = ok ? result_exit_status() : 1;

    /* Ctrl-C during the last runs lets them finish, and then nothing is missing. */
    if (interrupted && all_done) {
        fprintf(stderr,
                "%s: Ctrl-C arrived during the last runs, which finished, so every task is "
                "complete in %s\n",
                PROGRAM, options.out);
        return status;
    }
    if (interrupted) {
        fprintf(stderr,
                "%s: interrupted: the files of the tasks that finished are complete in %s; "
                "the tasks that did not finish wrote none\n",
                PROGRAM, options.out);
        return EXIT_INTERRUPTED;
    }
    return status;
}
