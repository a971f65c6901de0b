/*
 * REPORT.md, the comparison's summary for a reader: what was run (the
 * configuration, seeds, corpus, machine and time taken) and the measured
 * tables, with the figures linked.
 */
#ifndef COMPARE_REPORT_H
#define COMPARE_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "compare.h"

/**
 * Prints the configuration that decides the results (recipe, models, seeds,
 * corpus sizes) in Markdown to @p out. It contains no timing, so stdout stays
 * the same for the same options.
 */
void report_print_configuration(const Comparison *comparison, FILE *out);

/**
 * Writes OUT/REPORT.md through a temporary file that is renamed into place.
 * @return false with a message in @p error when writing fails.
 */
bool report_write(const Comparison *comparison, char *error, size_t error_size);

#endif /* COMPARE_REPORT_H */
