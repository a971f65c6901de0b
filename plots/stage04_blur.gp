# Stage 04: recoverability of one vector from a sum of n vectors, against n
# (log axis), one curve per dominance. Reads the CSV written by stage04:
# words,dominance,mean_cosine,expected_cosine,retrieval_accuracy.
# Set datafile and outfile on the command line (see common/plot.h).
if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
    set terminal pngcairo size 1000,500 enhanced font ",10"
} else {
    set terminal png size 1000,500
}
set output outfile
set datafile separator ","

# Rows come n by n, each n with one row per dominance in this order, so
# "every 5::i" picks the rows of dominance number i + 1.
dominances = "1 2 4 8 16"
count = words(dominances)

set multiplot layout 1,2 title "Recovering one vector from a sum of n random vectors"
set logscale x 2
set xrange [0.8:320]
set yrange [0:1.05]
set grid
set xlabel "n, vectors in the sum (log scale)"

set ylabel "mean cos(sum, component)"
set title "Cosine between the sum and the component"
set key bottom left title "dominance"
plot for [i = 0:count - 1] datafile skip 1 every count::i using 1:3 \
     with linespoints pointtype 7 title word(dominances, i + 1)

set ylabel "fraction of trials"
set title "Component is the nearest codebook entry"
plot for [i = 0:count - 1] datafile skip 1 every count::i using 1:5 \
     with linespoints pointtype 7 title word(dominances, i + 1)
unset multiplot
