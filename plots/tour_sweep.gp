# The tour's sweep: multiply-adds of one forward pass against the sentence
# length n, one line per stage, on log-log axes, so that a cost growing like
# n^k is a straight line of slope k. Reads datafile (the CSV written by
# build/bin/tour --sweep: stage,n,layers,multiply_adds,peak_bytes,seconds,
# each stage's rows together) and writes outfile (PNG); both are set on the
# command line, as plot_render does.
if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
    set terminal pngcairo size 800,500
} else {
    set terminal png size 800,500
}
set output outfile
set datafile separator ","
set title "Multiply-adds of one forward pass, stages 01 to 08 (06 and 07 coincide)"
set xlabel "sentence length n (words)"
set ylabel "multiply-adds per sentence"
set logscale xy
set xrange [1.8:300]
set format y "10^{%T}"
set key bottom right box opaque noenhanced
set yrange [10:*]
set grid
stages = "01_cnn_baseline 02_pairwise_convolution 03_position_encoding 04_column_sum " . \
         "05_scored_attention 06_linear_projections 07_multi_head 08_transformer_block"
# A row of another stage becomes NaN, which breaks the line, so each stage is drawn alone.
# Stages 06 and 07 cost the same (splitting D among heads is free), so their lines coincide.
plot for [s in stages] datafile skip 1 \
         using 2:(strcol(1) eq s ? $4 : NaN) with linespoints title s
