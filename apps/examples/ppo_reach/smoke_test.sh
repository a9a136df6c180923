#!/usr/bin/env bash
# CTest smoke test of ppo_reach (label `examples`): usage ppo_reach_smoke.sh PPO_REACH_BINARY.
#  1. 2 iterations (8 envs x 16 steps) into a temp folder: DIR/checkpoint.pt exists and the
#     last line is the deterministic evaluation.
#  2. --resume with a total one iteration larger: its only iteration is iteration 3 at
#     384 env steps (the counters continued from the checkpoint).
#  3. Two 1-iteration runs with the same seed print the same JSON apart from the time
#     fields (wall_s, steps_per_s), with different --threads.
set -euo pipefail
bin=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
common=(--envs 8 --rollout-steps 16 --epochs 2 --minibatches 2 --eval-episodes 4 --max-episode-steps 40)

fail() { echo "FAIL: $*" >&2; exit 1; }
strip_times() { sed -E 's/,"wall_s":.*\}$/}/' "$1"; }

"$bin" "${common[@]}" --seed 3 --threads 1 --total-steps 256 --out "$dir/run" > "$dir/first.jsonl"
cat "$dir/first.jsonl"
[[ -f "$dir/run/checkpoint.pt" ]] || fail "no checkpoint at $dir/run/checkpoint.pt"
[[ ! -e "$dir/run/checkpoint.pt.tmp" ]] || fail "the temporary checkpoint was left behind"
[[ $(grep -c '"iteration":' "$dir/first.jsonl" | tr -d ' ') -ge 2 ]] || fail "expected iteration lines"
grep -q '^{"iteration":2,"env_steps":256,' "$dir/first.jsonl" || fail "iteration 2 should end at 256 env steps"
tail -n 1 "$dir/first.jsonl" | grep -q '^{"eval":"deterministic","iteration":2,"env_steps":256,"episodes":4,' \
  || fail "the last line should be the evaluation of 4 episodes"

"$bin" "${common[@]}" --seed 3 --threads 1 --total-steps 384 --out "$dir/run" --resume > "$dir/resumed.jsonl"
cat "$dir/resumed.jsonl"
[[ $(grep -c '^{"iteration":' "$dir/resumed.jsonl" | tr -d ' ') -eq 1 ]] || fail "the resumed run should do one iteration"
grep -q '^{"iteration":3,"env_steps":384,' "$dir/resumed.jsonl" || fail "the resumed run did not continue the counters"

"$bin" "${common[@]}" --seed 5 --threads 1 --total-steps 128 > "$dir/a.jsonl"
"$bin" "${common[@]}" --seed 5 --threads 2 --total-steps 128 > "$dir/b.jsonl"
diff <(strip_times "$dir/a.jsonl") <(strip_times "$dir/b.jsonl") || fail "two runs with seed 5 differ"
[[ $(wc -l < "$dir/a.jsonl") -eq 2 ]] || fail "expected one iteration line and one evaluation line"
echo "ppo_reach smoke test: OK"
