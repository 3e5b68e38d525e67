#!/bin/bash
# One call on a lent GPU machine (the `device` tool): GPU speed figures, the CUDA tests,
# then the long-term runs the table still lacks, on WORKERS processes sharing the GPU,
# until BUDGET seconds after the start. Everything it writes lands in $OUT.
#
# Before the call, here (the machine has no network and no skorch):
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 \
#       --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
#       -d .whl skorch==1.4.0 scikit-learn==1.9.1 mapie==1.6.0
#   mkdir -p .devdata && cp ../shared/data/* .devdata/     # both ignored (.git/info/exclude)
# and run it with carry [".whl", ".devdata"]:
#   SKLATTN_BENCHMARK_COMMIT=$(git rev-parse --short HEAD) bash benchmarks/gpu_session.sh
# Afterwards append $OUT/longterm_gpu.jsonl to results/longterm.jsonl and
# $OUT/speed_gpu.jsonl to results/speed.jsonl, then run both scripts' `report`.
# SPEED_S=0, TESTS=0 or INSTALL=0 skip those steps; TASKS names a file of longterm.py option lines
# (default: `longterm.py missing`: absent runs, subset rows, and rows made before their
# model's current defaults); SPEED_ESTIMATORS and COMPILE (estimators also timed compiled,
# "" for none) choose the speed rows; WORKERS and THREADS size the long-term runs.
T0=$(date +%s); DEADLINE=$((T0 + ${BUDGET:-530}))
if [ "${INSTALL:-1}" != 0 ]; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl || exit 1
fi
export PYTHONPATH=$PWD:/tmp/site PYTHONUNBUFFERED=1 OMP_WAIT_POLICY=PASSIVE \
    SKLATTN_DATA_HOME=$PWD/.devdata
{ nvidia-smi; python3 -c "import sys, torch, sklearn, skorch, numpy, pandas; print(sys.version, \
torch.__version__, sklearn.__version__, skorch.__version__, numpy.__version__, \
pandas.__version__, torch.cuda.get_device_name())"; nproc; } > $OUT/env.txt 2>&1
if [ "${SPEED_S:-240}" != 0 ]; then  # alone on the GPU, so that its timings hold
    n0=$(wc -l < benchmarks/results/speed.jsonl)
    # patch (compiled: ~55 s) and the recurrent context (a step per time step) last
    timeout ${SPEED_S:-240} python3 benchmarks/speed.py gpu --rounds 3 --epochs 2 \
        --n-windows 4000 --compile ${COMPILE-patch} --estimators ${SPEED_ESTIMATORS:-linear \
        rnn-none rnn-additive timestep variate patch rnn-recurrent} > $OUT/log_speed.txt 2>&1
    echo "speed rc=$? at $(( $(date +%s) - T0 )) s" >> $OUT/log_speed.txt
    tail -n +$((n0 + 1)) benchmarks/results/speed.jsonl > $OUT/speed_gpu.jsonl
fi
if [ "${TESTS:-1}" != 0 ]; then  # the whole suite on the GPU, beside the long-term runs
    ( OMP_NUM_THREADS=1 timeout $((DEADLINE - $(date +%s) - 5)) python3 -m pytest \
        -p no:cacheprovider -n 2 -q -rs --continue-on-collection-errors tests > $OUT/log_tests.txt 2>&1
      echo "tests rc=$?" >> $OUT/log_tests.txt ) &
fi
TASKS=${TASKS:-/tmp/tasks.txt}
[ -f "$TASKS" ] || python3 benchmarks/longterm.py missing > "$TASKS"
OMP_NUM_THREADS=${THREADS:-2} timeout $((DEADLINE - $(date +%s))) xargs -P ${WORKERS:-8} -L 1 \
    python3 benchmarks/longterm.py --max-epochs 10 --out $OUT/longterm_gpu.jsonl \
    < "$TASKS" > $OUT/log_longterm.txt 2>&1
echo "longterm rc=$? at $(( $(date +%s) - T0 )) s" >> $OUT/log_longterm.txt
wait
echo "done at $(( $(date +%s) - T0 )) s" >> $OUT/env.txt
