# Stage 08: entropy of softmax over 16 random scores q . k against the width
# d of q and k, with raw scores and with scores divided by sqrt(d).
# Reads datafile (width,entropy_raw,entropy_scaled,max_weight_raw,
# max_weight_scaled,gradient_raw,gradient_scaled) and writes outfile.
if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
    set terminal pngcairo size 800,500
} else {
    set terminal png size 800,500
}
set output outfile
set datafile separator ","
set title "Softmax of raw dot-product scores saturates as the width grows"
set xlabel "width d of query and key (dimensions)"
set ylabel "entropy of the weights over 16 keys (nats)"
set logscale x 2
set xrange [3:1400]
set yrange [0:3]
set key bottom left box opaque
set grid
plot datafile skip 1 using 1:3 with linespoints linewidth 2 title "scores / sqrt(d)", \
     datafile skip 1 using 1:2 with linespoints linewidth 2 title "raw scores", \
     log(16) with lines dashtype 2 linecolor rgb "gray40" title "equal weights, ln 16"
