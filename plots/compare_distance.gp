# The comparison, task 1: held-out accuracy against the distance between the
# two related words, one line per model through the median over seeds, one
# dot per seed, and the edge of the stage 01 CNN's receptive field.
# csv: distance.csv
# Reads datafile, distance.csv of build/bin/compare (columns: model, layers,
# distance, seed, accuracy, params, receptive_field, width, heads,
# median_accuracy, ...), and writes outfile: SVG when its name ends in .svg,
# PNG otherwise.
if (outfile[strlen(outfile)-3:] eq ".svg") {
    set terminal svg size 900,540 dynamic
} else {
    if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
        set terminal pngcairo size 900,540
    } else {
        set terminal png size 900,540
    }
}
set output outfile
set datafile separator ","
set termoption noenhanced

# The models in the order of their first row; each row adds its model once.
models = ""
stats datafile skip 1 using (strstrt(models, strcol(1)) == 0 ? \
    (models = models . " " . strcol(1), 0) : 0) nooutput

# The CNN's receptive field 2L+1 and the largest distance, from the data.
stats datafile skip 1 using (strcol(1) eq "01_cnn_baseline" ? $7 : NaN) nooutput
field = STATS_max
stats datafile skip 1 using 3 nooutput
longest = STATS_max

set title "Accuracy against the distance between two related words\n" . \
          "(lines: median over seeds, dots: each seed)"
set xlabel "distance d between the related words (words)"
set ylabel "held-out accuracy (fraction correct)"
set xrange [0:longest + 1]
set yrange [0.3:1.05]
set key outside right top box
set grid
# The CNN combines two words only when d <= 2L = field - 1.
set arrow 1 from field - 0.5, graph 0 to field - 0.5, graph 1 nohead dashtype 2 linewidth 2 \
    linecolor rgb "black"
set label 1 sprintf("CNN receptive field\n(2L+1 = %d words)", field) at field - 0.3, 0.36 left
set arrow 2 from 0, 0.5 to longest + 1, 0.5 nohead dashtype 3 linecolor rgb "gray40"

# Each model's dots are shifted sideways a little, so that equal accuracies stay visible.
shift(i) = 0.08 * (i - (words(models) + 1) / 2.0)
plot for [i=1:words(models)] datafile skip 1 \
         using 3:(strcol(1) eq word(models, i) ? $10 : NaN) \
         with lines linewidth 2 linecolor i title word(models, i), \
     for [i=1:words(models)] datafile skip 1 \
         using ($3 + shift(i)):(strcol(1) eq word(models, i) ? $5 : NaN) \
         with points pointtype 7 pointsize 0.5 linecolor i notitle
