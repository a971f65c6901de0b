# Stage 05: the attention weights of the query word ("roaring") in each shown
# sentence, as a heatmap with one row per sentence and one column per word
# position; each cell is labelled with its word. Reads the CSV written by
# stage05: sentence,position,word,weight,query,roarer.
# Set datafile and outfile on the command line (see common/plot.h).
if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
    set terminal pngcairo size 1100,500 enhanced font ",10"
} else {
    set terminal png size 1100,500
}
set output outfile
set datafile separator ","

stats datafile skip 1 using 1:2 nooutput
sentences = STATS_max_x
positions = STATS_max_y + 1

set title "Weights of \"roaring\" over the words of each sentence (the word that roars is boxed)"
set xlabel "word position in the sentence"
set ylabel "sentence"
set xrange [-0.5:positions - 0.5]
set yrange [sentences + 0.5:0.5]
set xtics 1
set ytics 1
set cblabel "attention weight"
set cbrange [0:1]
set palette defined (0 "white", 0.5 "#f4a261", 1 "#9b2226")
set key off

# One filled box per word: sentences differ in length, so the cells do not form the
# full grid that "with image" needs.
set style fill solid 1.0 noborder
plot datafile skip 1 using 2:1:(0.5):(0.5):4 with boxxyerror lc palette, \
     '' skip 1 using 2:1:(stringcolumn(3)) with labels font ",8", \
     '' skip 1 using 2:1:($6 == 1 ? 0.45 : 1/0):(0.45) with boxxyerror fill empty lc rgb "#1d70b8" lw 2
