# Draws configs/analysis/../../results/analysis/ymap.png from the CSV beside it: gnuplot configs/analysis/../../results/analysis/ymap.gp
if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {
  set terminal pngcairo size 1500,390 font 'Sans,10' background '#ffffff'
} else {
  set terminal png size 1500,390 background '#ffffff'
}
set output 'configs/analysis/../../results/analysis/ymap.png.tmp'
set datafile separator ','
set multiplot layout 1,5 title "tabular_dense: y after 2000 rule updates under a fixed epsilon-greedy (0.1) optimal policy, beside v_pi (gamma 0.99)\nr: correlation with v_pi over all states visited; maps: the states with object mask 15 (objects in brackets are absent there)" noenhanced
set size ratio -1
unset key
set tics scale 0 font ',8'
set xrange [-0.5:10.5]
set yrange [10.5:-0.5]
set palette rgbformulae 33,13,10
set style fill solid noborder
set label "+1" at 2,2 center front font ',9' textcolor rgb '#006400'
set label "+1" at 8,8 center front font ',9' textcolor rgb '#006400'
set label "-1" at 8,2 center front font ',9' textcolor rgb '#b00000'
set label "-1" at 2,8 center front font ',9' textcolor rgb '#b00000'
set title 'true value v_pi' noenhanced
set palette positive
plot 'configs/analysis/../../results/analysis/ymap_grid.csv' skip 1 using 1:2:(0.5):(0.5):3 with boxxyerror lc palette
set title "y[27]: r = -0.85 (-0.83 in these maps)\ncolours reversed" noenhanced
set palette negative
plot 'configs/analysis/../../results/analysis/ymap_grid.csv' skip 1 using 1:2:(0.5):(0.5):4 with boxxyerror lc palette
set title "y[29]: r = -0.82 (-0.76 in these maps)\ncolours reversed" noenhanced
set palette negative
plot 'configs/analysis/../../results/analysis/ymap_grid.csv' skip 1 using 1:2:(0.5):(0.5):5 with boxxyerror lc palette
set title "y[17]: r = -0.82 (-0.46 in these maps)\ncolours reversed" noenhanced
set palette negative
plot 'configs/analysis/../../results/analysis/ymap_grid.csv' skip 1 using 1:2:(0.5):(0.5):6 with boxxyerror lc palette
set title "y[16]: r = -0.77 (-0.68 in these maps)\ncolours reversed" noenhanced
set palette negative
plot 'configs/analysis/../../results/analysis/ymap_grid.csv' skip 1 using 1:2:(0.5):(0.5):7 with boxxyerror lc palette
unset multiplot
