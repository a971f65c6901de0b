# Stages 06 and 07: the attention weights of a loaded model, one heatmap per
# sentence and head. In each heatmap row q is a query word and column k a key
# word; the colour is the weight a_qk, and each row sums to 1. Reads the CSV
# written by stage06 --load and stage07 --load:
# sentence,head,query,key,query_word,key_word,weight (positions from 0).
# Set datafile and outfile on the command line (see common/plot.h).
set datafile separator ","

stats datafile skip 1 using 1:2 nooutput
sentences = int(STATS_max_x)
heads = int(STATS_max_y)

# One panel of about 480 x 440 pixels per sentence and head.
if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
    set terminal pngcairo size 480 * heads, 60 + 440 * sentences enhanced font ",9"
} else {
    set terminal png size 480 * heads, 60 + 440 * sentences
}
set output outfile

set cbrange [0:1]
set palette defined (0 "white", 0.5 "#f4a261", 1 "#9b2226")
set style fill solid 1.0 noborder
set key off
unset xtics
unset ytics
unset border
set cblabel "weight"
# Room for the words: the key words above the grid, the query words left of it.
margin = 3.5

set multiplot layout sentences, heads title "Attention weights of the loaded model\nrow: query word, column: key word; each row sums to 1"
do for [s = 1:sentences] {
    # Positions run 0 .. words - 1, and sentences differ in length.
    set xrange [*:*]
    set yrange [*:*]
    stats datafile skip 1 using ($1 == s ? $3 : 1/0) nooutput
    words = int(STATS_max) + 1
    set xrange [-margin:words - 0.5]
    set yrange [words - 0.5:-margin]
    set object 1 rectangle from -0.5, -0.5 to words - 0.5, words - 0.5 fillstyle empty border lc rgb "#999999"
    do for [h = 1:heads] {
        if (heads > 1) {
            set title sprintf("sentence %d, head %d", s, h)
        } else {
            set title sprintf("sentence %d", s)
        }
        plot datafile skip 1 using ($1 == s && $2 == h ? $4 : 1/0):3:(0.5):(0.5):7 with boxxyerror lc palette, \
             '' skip 1 using ($1 == s && $2 == h && $3 == 0 ? $4 : 1/0):(-0.7):(stringcolumn(6)) with labels rotate by 90 left font ",8", \
             '' skip 1 using ($1 == s && $2 == h && $4 == 0 ? -0.7 : 1/0):3:(stringcolumn(5)) with labels right font ",8"
    }
}
unset multiplot
