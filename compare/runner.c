/* Parallel training runs and the interrupt flag (see runner.h). */
#define _POSIX_C_SOURCE 200809L
#include "runner.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef _OPENMP
#include <omp.h>
#endif

static volatile sig_atomic_t stop_requested = 0;

/* The SIGINT handler: only async-signal-safe calls (write) and the flag. */
static void handle_interrupt(int signal_number)
{
    (void)signal_number;
    static const char message[] =
        "\ncompare: interrupted; finishing the runs in progress (Ctrl-C again stops at once)\n";
    stop_requested = 1;
    ssize_t ignored = write(STDERR_FILENO, message, sizeof message - 1);
    (void)ignored;
}

void runner_install_interrupt_handler(void)
{
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = handle_interrupt;
    sigemptyset(&action.sa_mask);
    /*
     * SA_RESTART: without it, a Ctrl-C during a blocking write of the
     * results to a pipe makes the write fail with EINTR, and stdout is lost.
     */
    action.sa_flags = SA_RESETHAND | SA_RESTART;
    sigaction(SIGINT, &action, NULL);
}

void runner_request_stop(void) { stop_requested = 1; }

bool runner_stop_requested(void) { return stop_requested != 0; }

uint64_t runner_seed(uint64_t seed, const char *run_name)
{
    /* FNV-1a over the bytes of the name. */
    uint64_t hash = 14695981039346656037ull;
    for (const unsigned char *p = (const unsigned char *)run_name; *p; p++) {
        hash ^= *p;
        hash *= 1099511628211ull;
    }

    /* SplitMix64's finaliser spreads every input bit over the output. */
    uint64_t z = hash ^ (seed + 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Orders job indices by decreasing cost, equal costs by index, so the order is reproducible. */
static const Job *sort_jobs;
static int compare_cost(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    if (sort_jobs[i].cost != sort_jobs[j].cost)
        return sort_jobs[i].cost > sort_jobs[j].cost ? -1 : 1;
    return i < j ? -1 : (i > j);
}

size_t runner_execute(Job *jobs, size_t count, int threads, Display *display)
{
    size_t *order = malloc((count ? count : 1) * sizeof *order);
    if (!order)
        return 0;
    for (size_t i = 0; i < count; i++)
        order[i] = i;
    sort_jobs = jobs;
    qsort(order, count, sizeof *order, compare_cost);

    /* Expensive runs first, so that the threads run out of work at about the same time. */
    long total = (long)count;
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
#else
    (void)threads;
#endif
    for (long k = 0; k < total; k++) {
        if (runner_stop_requested())
            continue;
        int slot = 0;
#ifdef _OPENMP
        slot = omp_get_thread_num();
#endif
        Job *job = &jobs[order[k]];
        job->finished = job->run(job->argument, display, slot);
    }

    size_t finished = 0;
    for (size_t i = 0; i < count; i++)
        finished += jobs[i].finished;
    free(order);
    return finished;
}
