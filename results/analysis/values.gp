# Draws configs/analysis/../../results/analysis/values.png from the CSV beside it: gnuplot configs/analysis/../../results/analysis/values.gp
if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {
  set terminal pngcairo size 720,460 font 'Sans,10' background '#ffffff'
} else {
  set terminal png size 720,460 background '#ffffff'
}
set output 'configs/analysis/../../results/analysis/values.png.tmp'
set datafile separator ','
set title "Regressing true values v_gamma from y (gamma 0.995) and from a TD(lambda) value (gamma 0.995)\nprocgrid_long_episodes: 60 training grids, error on the states of 10 held-out grids" noenhanced
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set xlabel 'discount of the regressed value'
set ylabel 'held-out MSE / MSE of the training mean'
set yrange [0:*]
set grid ytics lc rgb '#dddddd'
set key outside bottom center horizontal noenhanced
plot 'configs/analysis/../../results/analysis/values.csv' skip 1 using ($2/$4):xtic(1) title 'g: y -> v' lc rgb '#1f77b4', '' skip 1 using ($3/$4) title 'h: TD value -> v' lc rgb '#ff7f0e'
