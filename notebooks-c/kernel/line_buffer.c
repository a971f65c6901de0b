/* Linked into every program the notebook kernel builds from a cell.
 *
 * stdout is a pipe to the kernel, which the C library would fully buffer, so a
 * cell's output would appear only when the program exits and would be lost if
 * the program were stopped at its time limit. Line buffering sends each line
 * to the notebook as soon as it is printed. */
#include <stdio.h>

__attribute__((constructor)) static void line_buffer_stdout(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
}
