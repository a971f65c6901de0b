# The comparison, task 3: validation loss of the causal CNN and the stage 08
# transformer on real text, for every target word and split by how far back
# the target last appeared in the window (absent, within the CNN's receptive
# field, beyond it).
# csv: text.csv
# Reads datafile, text.csv of build/bin/compare (columns: model, bucket,
# tokens, loss, perplexity, ...), and writes outfile: SVG when its name ends
# in .svg, PNG otherwise.
if (outfile[strlen(outfile)-3:] eq ".svg") {
    set terminal svg size 800,500 dynamic
} else {
    if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
        set terminal pngcairo size 800,500
    } else {
        set terminal png size 800,500
    }
}
set output outfile
set datafile separator ","
set termoption noenhanced

set title "Next-word prediction: validation loss by where the target word last appeared"
set xlabel "targets (where the target word last appeared in the window)"
set ylabel "validation cross-entropy (nats per word)"
set xrange [-0.6:3.6]
set yrange [0:*]
set xtics ("all" 0, "absent" 1, "within the CNN's\nreceptive field" 2, "beyond it" 3)
set key top right box
set grid ytics
set bmargin 5
set xlabel offset 0,-1
set offsets graph 0, graph 0, graph 0.2, graph 0
set boxwidth 0.35
set style fill solid 0.6

bucket_of(name) = name eq "all" ? 0 : name eq "absent" ? 1 : name eq "within_rf" ? 2 : 3
models = "01_cnn_baseline 08_transformer_block"
# Model i's bar sits left (i = 1) or right (i = 2) of its bucket's tick.
shift(i) = 0.36 * (i - 1.5)
plot for [i=1:2] datafile skip 1 \
         using (bucket_of(strcol(2)) + shift(i)):(strcol(1) eq word(models, i) ? $4 : NaN) \
         with boxes linecolor i title (i == 1 ? "causal CNN (01_cnn_baseline)" : word(models, i))
