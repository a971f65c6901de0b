# The comparison, task 3: loss curves of the causal CNN and the stage 08
# transformer on real text, against optimiser steps (left) and against
# training seconds (right); solid lines are the validation loss, dashed lines
# the training loss since the previous point.
# csv: curves.csv
# Reads datafile, curves.csv of build/bin/compare (columns: task, model, seed,
# step, seconds, train_loss, val_loss, distance; only rows of task "text" are
# drawn), and writes outfile: SVG when its name ends in .svg, PNG otherwise.
if (outfile[strlen(outfile)-3:] eq ".svg") {
    set terminal svg size 1000,450 dynamic
} else {
    if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
        set terminal pngcairo size 1000,450
    } else {
        set terminal png size 1000,450
    }
}
set output outfile
set datafile separator ","
set termoption noenhanced

models = "01_cnn_baseline 08_transformer_block"
is_text(i) = strcol(1) eq "text" && strcol(2) eq word(models, i)

set multiplot layout 1,2 \
    title "Next-word prediction: loss curves (solid: validation, dashed: training)"
set ylabel "cross-entropy (nats per word)"
set key top right box
set grid

set xlabel "optimiser steps"
plot for [i=1:2] datafile skip 1 using 4:(is_text(i) ? $7 : NaN) with linespoints \
         pointtype 7 pointsize 0.5 linecolor i title word(models, i), \
     for [i=1:2] datafile skip 1 using 4:(is_text(i) ? $6 : NaN) with lines dashtype 2 \
         linecolor i notitle

set xlabel "training time (seconds, validation passes excluded)"
plot for [i=1:2] datafile skip 1 using 5:(is_text(i) ? $7 : NaN) with linespoints \
         pointtype 7 pointsize 0.5 linecolor i title word(models, i), \
     for [i=1:2] datafile skip 1 using 5:(is_text(i) ? $6 : NaN) with lines dashtype 2 \
         linecolor i notitle
unset multiplot
