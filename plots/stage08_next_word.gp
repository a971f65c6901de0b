# Stage 08: training loss of the causal transformer predicting every next
# word of a tiny built-in text, one point per Adam step.
# Reads datafile (step,loss) and writes outfile.
if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
    set terminal pngcairo size 800,500
} else {
    set terminal png size 800,500
}
set output outfile
set datafile separator ","
set title "Next-word prediction on a tiny text: the training loss falls"
set xlabel "Adam step"
set ylabel "cross-entropy (nats per word)"
set yrange [0:*]
set key top right box opaque
set grid
plot datafile skip 1 using 1:2 with lines linewidth 1 title "training loss of one batch"
