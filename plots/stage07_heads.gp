# Held-out accuracy on the cue task against the number of attention heads at
# equal total width: one point per seed and the mean over seeds. Reads
# datafile (CSV written by build/bin/stage07: heads,head_width,seed,accuracy)
# and writes outfile (PNG); both are set on the command line, as plot_render does.
if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
    set terminal pngcairo size 800,500
} else {
    set terminal png size 800,500
}
set output outfile
set datafile separator ","
set key autotitle columnhead
set title "Cue task: accuracy against heads at equal total width (each head D/H wide)"
set xlabel "attention heads H"
set ylabel "held-out accuracy (fraction, chance 0.5)"
set logscale x 2
set offsets graph 0.08, graph 0.08, 0, 0
set xtics 2
set yrange [0.4:1.02]
set key bottom left
set grid
# Mean per head count: gnuplot's smooth unique averages the y values of equal x.
plot datafile using 1:4 with points pointtype 7 pointsize 1.2 title "one seed", \
     "" using 1:4 smooth unique with linespoints linewidth 2 title "mean over seeds", \
     0.5 with lines dashtype 2 linecolor "gray" title "chance"
