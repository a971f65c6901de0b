# Stage 01: accuracy of the CNN against the distance between the two related
# words, one point per training run, with the edge of the receptive field.
# Reads datafile (distance,layers,receptive_field,seed,accuracy with a header
# line) and writes outfile; plot_render and `make figures` set both.

if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
    set terminal pngcairo size 800,500 enhanced font "sans,11"
} else {
    set terminal png size 800,500
}
set output outfile
set datafile separator ","

# Layers and receptive field (in words) are the same on every row.
stats datafile using 2 nooutput
layers = int(STATS_max)
stats datafile using 3 nooutput
field = int(STATS_max)
stats datafile using 1 nooutput
last_distance = STATS_max

# A pair d positions apart spans d + 1 words, so it fits in the receptive
# field when d <= field - 1. The line sits between that d and the next.
edge = field - 0.5
red = "#b03030"
blue = "#3060b0"
set arrow 1 from edge, graph 0 to edge, graph 1 nohead dashtype 2 linewidth 2 linecolor rgb red
set label 1 sprintf("receptive field: %d words\n(pairs up to %d apart)", field, field - 1) \
    at edge, graph 0.93 offset 0.5, 0 left textcolor rgb red

set title sprintf("Stage 01: accuracy of a %d-layer CNN against the distance between related words", layers)
set xlabel "distance between the related words (positions)"
set ylabel "held-out accuracy (fraction correct)"
set xrange [0:last_distance + 1]
set yrange [0.3:1.05]
set xtics 1
set grid ytics
set key bottom left box opaque

# smooth unique averages the accuracies of equal distances: the mean over seeds.
plot datafile every ::1 using 1:5 with points pointtype 7 pointsize 1.2 linecolor rgb blue \
         title "one training run (seed)", \
     datafile every ::1 using 1:5 smooth unique with lines linewidth 2 linecolor rgb blue \
         title "mean over seeds", \
     0.5 with lines dashtype 3 linecolor rgb "#606060" title "chance (0.5)"
