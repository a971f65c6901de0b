# Stage 02: vectors after L pairwise layers, n^(2^L), against the sentence
# length n, one line per L, with the size guard's limit of 2^26 vectors.
# Reads datafile (words,layers,vectors,bytes,accepted; rows ordered by words,
# then layers 1 to 4) and writes outfile.
if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
    set terminal pngcairo size 800,500
} else {
    set terminal png size 800,500
}
set output outfile
set datafile separator ","
set title "Pairwise layers: the vector count n^{2^L} explodes"
set xlabel "sentence length n (words)"
set ylabel "vectors after L layers (count)"
set logscale xy
set xrange [1.8:300]
set format y "10^{%L}"
set key top left box opaque
set grid
limit = 2**26
plot for [L=1:4] datafile skip 1 every 4::(L-1) using 1:3 with linespoints \
         title sprintf("L = %d", L), \
     limit with lines dashtype 2 linewidth 2 linecolor rgb "red" title "size guard limit, 2^{26} vectors"
