# The comparison, task 2: held-out accuracy on the word order task ("the fat
# cat" against "the cat fat") of stage 02 (no positions) and stage 03 (with
# positions): a bar for the median over seeds, a dot per seed.
# csv: order.csv
# Reads datafile, order.csv of build/bin/compare (columns: model, seed,
# accuracy, params, layers, width, median_accuracy, ...), and writes outfile:
# SVG when its name ends in .svg, PNG otherwise.
if (outfile[strlen(outfile)-3:] eq ".svg") {
    set terminal svg size 700,480 dynamic
} else {
    if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
        set terminal pngcairo size 700,480
    } else {
        set terminal png size 700,480
    }
}
set output outfile
set datafile separator ","
set termoption noenhanced

set title "Word order task: only the order of the words tells the labels apart"
set xlabel "model"
set ylabel "held-out accuracy (fraction correct)"
set xrange [-0.6:1.6]
set yrange [0:1.1]
set xtics ("02_pairwise_convolution\n(no positions)" 0, "03_position_encoding\n(positions)" 1)
set key top left box
set grid ytics
set bmargin 5
set xlabel offset 0,-1
set offsets graph 0, graph 0, graph 0.2, graph 0
set boxwidth 0.5
set style fill solid 0.35

column_of(name) = name eq "02_pairwise_convolution" ? 0 : 1
plot datafile skip 1 using (column_of(strcol(1))):7 with boxes linecolor rgb "steelblue" \
         title "median over seeds", \
     datafile skip 1 using (column_of(strcol(1)) + 0.06 * (int($2) % 3 - 1)):3 \
         with points pointtype 7 \
         pointsize 1 linecolor rgb "black" title "one seed", \
     0.5 with lines dashtype 2 linecolor rgb "gray40" title "chance"
