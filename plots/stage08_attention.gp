# Stage 08: the attention weights of the section 4 transformer on the first
# given sentence, one heatmap per block and head (row = query position,
# column = key position; each row sums to 1). At most 4 blocks and 8 heads
# are drawn; the CSV holds them all.
# Reads datafile (sentence, layer, head, query, key, weight; positions and
# numbers from 1) and writes outfile.
set datafile separator ","

stats datafile skip 1 using 2:3 nooutput
rows = STATS_max_x < 4 ? int(STATS_max_x) : 4
columns = STATS_max_y < 8 ? int(STATS_max_y) : 8
stats datafile skip 1 using ($1 == 1 ? $4 : 1/0) nooutput
words = int(STATS_max)

# One panel of about 300 x 300 pixels per block and head.
width = 100 + 300 * columns
height = 80 + 300 * rows
if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
    set terminal pngcairo size width, height enhanced font ",10"
} else {
    set terminal png size width, height
}
set output outfile

set xrange [0.5:words + 0.5]
set yrange [words + 0.5:0.5]
set xlabel "key position"
set ylabel "query position"
step = words > 12 ? 4 : 1
set xtics 1, step
set ytics 1, step
set size ratio -1
set cbrange [0:1]
set palette defined (0 "white", 0.5 "#f4a261", 1 "#9b2226")
set style fill solid 1.0 noborder
set key off
unset colorbox
set multiplot layout rows, columns title "Attention weights on sentence 1 (white 0, dark red 1; each row sums to 1)"
do for [l = 1:rows] {
    do for [h = 1:columns] {
        set title sprintf("block %d, head %d", l, h)
        plot datafile skip 1 using ($1 == 1 && $2 == l && $3 == h ? $5 : 1/0):4:(0.5):(0.5):6 \
             with boxxyerror lc palette
    }
}
unset multiplot
