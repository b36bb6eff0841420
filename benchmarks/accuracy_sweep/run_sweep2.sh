#!/bin/bash
cd "$(dirname "$0")"
export OUT=${OUT:-/tmp/sweep_out}; mkdir -p $OUT
python -c "import sklearn; print(sklearn.__version__)" > $OUT/sk.txt 2>&1
run() { OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 timeout ${TL:-330} python sweep.py digits $1 "$2" > $OUT/digits_$1.out 2>&1 & }
run ls '{"ls":0.1,"n_seeds":5}'
run do_ls '{"ls":0.1,"dropout":0.2,"n_seeds":5}'
run w512_ls '{"ls":0.1,"hidden":[512,512],"n_seeds":3}'
run w1024x1_ls '{"ls":0.1,"hidden":[1024],"n_seeds":3}'
run a1_w512x1 '{"alpha":1.0,"hidden":[512],"epochs":200,"n_seeds":3}'
run a03 '{"alpha":0.3,"n_seeds":5}'
run a1 '{"alpha":1.0,"n_seeds":5}'
run ls_e300_bs32 '{"ls":0.1,"epochs":300,"bs":32,"n_seeds":2}'
run gelu_ls '{"ls":0.1,"act":"gelu","n_seeds":5}'
run ema_ls '{"ls":0.1,"ema":0.99,"n_seeds":5}'
run bn_ls '{"ls":0.1,"bn":true,"n_seeds":5}'
run ls_lr3 '{"ls":0.1,"lr":0.003,"n_seeds":5}'
run lbfgs_256_a1 '{"est":{"hidden_layer_sizes":[256],"solver":"lbfgs","alpha":1.0,"max_iter":500},"n_seeds":5}'
run lbfgs_1024_a3 '{"est":{"hidden_layer_sizes":[1024],"solver":"lbfgs","alpha":3.0,"max_iter":500},"n_seeds":3}'
run a1_ls_do '{"alpha":1.0,"ls":0.1,"dropout":0.2,"n_seeds":5}'
run a03_ls_w512 '{"alpha":0.3,"ls":0.1,"hidden":[512,512],"n_seeds":3}'
wait
grep -h RESULT $OUT/*.log /dev/null; for f in $OUT/*.log; do echo "$f $(tail -1 $f)"; done
