# Multiply-adds of one attention layer on one sentence against sentence
# length: stage 05's nets on every pair against stage 06's linear maps and
# per-vector MLP. Reads datafile (CSV written by build/bin/stage06) and
# writes outfile (PNG); both are set on the command line, as plot_render does.
if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
    set terminal pngcairo size 800,500
} else {
    set terminal png size 800,500
}
set output outfile
set datafile separator ","
set key autotitle columnhead top left
set title "Cost of one attention layer: a big net per pair (stage 05) vs per word (stage 06)"
set xlabel "sentence length n (words)"
set ylabel "multiply-adds per sentence"
set logscale xy
set xrange [2:256]
set format y "10^{%T}"
set grid
plot datafile using 1:2 with linespoints title "stage 05: nets on all n^2 pairs", \
     "" using 1:3 with linespoints title "stage 06, net scorer", \
     "" using 1:4 with linespoints title "stage 06, bilinear scorer"
