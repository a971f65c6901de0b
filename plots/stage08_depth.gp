# Stage 08: root mean square of the vectors (left) and of their gradients
# (right) after each of 8 untrained transformer blocks, with and without
# residual sums and layer norms.
# Reads datafile (block, rms_* of the four variants, grad_* of the four
# variants; block 0 is the embeddings) and writes outfile.
if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
    set terminal pngcairo size 800,500
} else {
    set terminal png size 800,500
}
set output outfile
set datafile separator ","
labels = "residual+norm residual-only norm-only neither"
set multiplot layout 1,2 title "8 untrained blocks, with and without residual sums and layer norms"
set xlabel "block (0 = embeddings)"
set logscale y
set format y "10^{%L}"
set xrange [0:8]
set grid
set key bottom left box opaque font ",9"
set title "activations"
set ylabel "RMS of x after the block"
plot for [column=2:5] datafile skip 1 using 1:column with linespoints linewidth 2 \
         title word(labels, column - 1)
set title "gradients"
set ylabel "RMS of d(loss)/dx after the block"
set key bottom right box opaque font ",9"
plot for [column=6:9] datafile skip 1 using 1:column with linespoints linewidth 2 \
         title word(labels, column - 5)
unset multiplot
