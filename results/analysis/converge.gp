# Draws configs/analysis/../../results/analysis/converge.png from the CSV beside it: gnuplot configs/analysis/../../results/analysis/converge.gp
if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {
  set terminal pngcairo size 640,420 font 'Sans,10' background '#ffffff'
} else {
  set terminal png size 640,420 background '#ffffff'
}
set output 'configs/analysis/../../results/analysis/converge.png.tmp'
set datafile separator ','
set title "Two differently initialised y updated by the rule under the same fixed policy\nprocgrid, 128 instances, band +- 1 standard error" noenhanced
set xlabel 'y updates'
set ylabel 'KL, mean over rollout states'
set logscale y
set grid lc rgb '#dddddd'
set style fill transparent solid 0.25 noborder
set key top right
plot 'configs/analysis/../../results/analysis/converge.csv' skip 1 using 1:($2-$3 > 0 ? $2-$3 : $2/10):($2+$3) with filledcurves lc rgb '#1f77b4' notitle, '' skip 1 using 1:2 with lines lw 2 lc rgb '#1f77b4' title 'KL(y0 || y1)', '' skip 1 using 1:4 with lines lw 1 dt 2 lc rgb '#d62728' title "KL between the rule's targets for them"
