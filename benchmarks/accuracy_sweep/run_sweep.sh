#!/bin/bash
# usage: run_sweep.sh ; runs digits jobs (1 thread) and fashion jobs (2 threads) in parallel
cd "$(dirname "$0")"
export OUT=${OUT:-/tmp/sweep_out}; mkdir -p $OUT
nproc > $OUT/nproc.txt; python -c "import numpy; numpy.show_config()" > $OUT/npconfig.txt 2>&1
run() { # threads kind name cfg
  OMP_NUM_THREADS=$1 OPENBLAS_NUM_THREADS=$1 MKL_NUM_THREADS=$1 timeout ${TL:-420} python sweep.py $2 $3 "$4" > $OUT/$2_$3.out 2>&1 &
}
run 1 digits base '{}'
run 1 digits s1 '{"shift":1}'
run 1 digits s1do '{"shift":1,"dropout":0.2}'
run 1 digits s1ls '{"shift":1,"ls":0.1}'
run 1 digits s1bn '{"shift":1,"bn":true}'
run 1 digits s1wd '{"shift":1,"wd":0.5}'
run 1 digits s1do_ls_w512 '{"shift":1,"dropout":0.2,"ls":0.1,"hidden":[512,512]}'
run 1 digits s1do_ls_e200 '{"shift":1,"dropout":0.2,"ls":0.1,"epochs":200}'
F='"hidden":[1024,1024],"epochs":20,"bs":128,"dropout":0.2,"time_limit":380'
run 2 fashion f_do "{$F}"
run 2 fashion f_do_s1 "{$F,\"shift\":1}"
run 2 fashion f_do_s1_ls "{$F,\"shift\":1,\"ls\":0.1}"
run 2 fashion f_do_s1_bn "{$F,\"shift\":1,\"bn\":true}"
wait
tail -n 2 $OUT/*.log
