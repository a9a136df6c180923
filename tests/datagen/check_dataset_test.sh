#!/usr/bin/env bash
# The independent dataset checker (tools/check_dataset.py) against a real dataset and
# against corrupted copies of it.
#
#   bash tests/datagen/check_dataset_test.sh PARAFAB [WORK_ROOT]
#
# Generates a 3-episode dataset (2 shards) with PARAFAB in a fresh directory under WORK_ROOT
# (default $TMPDIR or /tmp), requires the checker to pass it (full and --quick, text and
# --json), then corrupts copies of it one way at a time and requires the checker to exit 1
# with a message naming the problem each time:
#   a byte flipped in an HDF5 file        → sha256 mismatch
#   a shard.json deleted                  → missing file, counts unverifiable
#   an object pose moved (hashes redone)  → that object's projection leaves its mask
#   manifest.json truncated               → manifest not valid JSON
#   a .tmp-* shard directory left behind  → temporary directory
#   manifest counts.frames off by one     → count mismatch
#   obs/time edited (hashes redone)       → brain-rate spacing
#   depth on a background pixel (redone)  → depth/instance consistency
#   a TFRecord byte flipped (redone)      → TFRecord data CRC
#   a BOP cam_t_m2c moved 10 mm (redone)  → BOP pose differs from the HDF5 poses
#   a COCO RLE mask swapped (redone)      → COCO mask differs from the HDF5 instance image
# and exit 2 for usage errors. Runs the checker with Debian's /usr/bin/python3 (h5py, numpy;
# $PF_PYTHON3 overrides it): fails, never skips, without them (tools/setup installs
# python3-h5py python3-numpy). The work directory is removed on success, kept on failure.
set -euo pipefail

PARAFAB=$(readlink -f "${1:?usage: check_dataset_test.sh PARAFAB [WORK_ROOT]}")
WORK_ROOT=${2:-${TMPDIR:-/tmp}}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CHECKER=$HERE/../../tools/check_dataset.py
PY=${PF_PYTHON3:-/usr/bin/python3}
T0=$SECONDS

log() { echo "check_dataset_test: [$((SECONDS - T0))s] $*"; }
fail() {
  echo "check_dataset_test: FAIL: $*" >&2
  [[ -n ${WORK:-} ]] && echo "check_dataset_test: work directory kept: $WORK" >&2
  exit 1
}

[[ -x $PARAFAB ]] || fail "no parafab binary at $PARAFAB"
[[ -f $CHECKER ]] || fail "no checker at $CHECKER"
"$PY" -c 'import h5py, numpy' 2> /dev/null ||
  fail "$PY lacks h5py/numpy: run tools/setup (Debian packages python3-h5py python3-numpy)"

mkdir -p "$WORK_ROOT"
WORK=$(mktemp -d "$(cd "$WORK_ROOT" && pwd)/check_dataset.XXXXXX")
DS=$WORK/ds

log "generating a 3-episode dataset with $PARAFAB"
"$PARAFAB" datagen --out "$DS" --episodes 3 --episodes-per-shard 2 --envs 3 --formats hdf5,bop,coco,rlds > "$WORK/datagen.log" 2>&1 ||
  { cat "$WORK/datagen.log" >&2; fail "parafab datagen failed"; }

# run_checker NAME ARGS...: runs the checker, output in $WORK/NAME.out, status in $RC.
run_checker() {
  local name=$1
  shift
  set +e
  "$PY" "$CHECKER" "$@" > "$WORK/$name.out" 2>&1
  RC=$?
  set -e
}

# The real dataset passes.
run_checker clean "$DS"
((RC == 0)) || { cat "$WORK/clean.out" >&2; fail "the checker rejects a fresh dataset (exit $RC)"; }
tail -n 1 "$WORK/clean.out" | grep -Eq '^[0-9]+ passed, 0 failed$' ||
  { cat "$WORK/clean.out" >&2; fail "no 'N passed, 0 failed' line"; }
log "clean dataset: $(tail -n 1 "$WORK/clean.out")"
run_checker quick "$DS" --quick
((RC == 0)) || { cat "$WORK/quick.out" >&2; fail "the checker rejects a fresh dataset with --quick (exit $RC)"; }
run_checker json "$DS" --json
((RC == 0)) || { cat "$WORK/json.out" >&2; fail "--json exit $RC"; }
"$PY" -c 'import json, sys; d = json.load(open(sys.argv[1])); assert d["ok"] and d["failed"] == 0 and d["passed"] > 0, d' \
  "$WORK/json.out" || fail "--json output is not one JSON object with ok: true"

# Usage errors exit 2.
run_checker usage1 "$WORK/no-such-dir"
((RC == 2)) || fail "a missing directory gives exit $RC, expected 2"
mkdir "$WORK/not-a-dataset"
run_checker usage2 "$WORK/not-a-dataset"
((RC == 2)) || fail "a directory that is not a dataset gives exit $RC, expected 2"

# Python helpers for the corruptions.
# rehash DIR: recomputes sizes and sha256 in every shard.json, then in manifest.json, so that
# only the content check under test can notice the edit.
REHASH='
import hashlib, json, os, sys
root = sys.argv[1]
def digest(p):
    return hashlib.sha256(open(p, "rb").read()).hexdigest()
for name in sorted(os.listdir(os.path.join(root, "shards"))):
    sj = os.path.join(root, "shards", name, "shard.json")
    d = json.load(open(sj))
    for f in d["files"]:
        p = os.path.join(root, "shards", name, f["path"])
        f["bytes"], f["sha256"] = os.path.getsize(p), digest(p)
    json.dump(d, open(sj, "w"), indent=2)
mp = os.path.join(root, "manifest.json")
m = json.load(open(mp))
for s in m["shards"]:
    for f in s["files"]:
        p = os.path.join(root, f["path"])
        f["bytes"], f["sha256"] = os.path.getsize(p), digest(p)
json.dump(m, open(mp, "w"), indent=2)
'

# corrupt NAME PATTERN [GROUP]: the copy $WORK/NAME must make the checker exit 1 with a line
# matching PATTERN (grep -E) and, when GROUP is given, a failed GROUP line.
corrupt_case() {
  local name=$1 pattern=$2 group=${3:-}
  run_checker "$name" "$WORK/$name"
  ((RC == 1)) || { cat "$WORK/$name.out" >&2; fail "$name: checker exit $RC, expected 1"; }
  tail -n 1 "$WORK/$name.out" | grep -Eq '^[0-9]+ passed, [1-9][0-9]* failed$' ||
    { cat "$WORK/$name.out" >&2; fail "$name: no 'N passed, N failed' line (did the checker crash?)"; }
  grep -Eq -- "$pattern" "$WORK/$name.out" ||
    { cat "$WORK/$name.out" >&2; fail "$name: no message matching /$pattern/"; }
  if [[ -n $group ]]; then
    grep -Eq "^FAIL $group " "$WORK/$name.out" ||
      { cat "$WORK/$name.out" >&2; fail "$name: the $group group did not fail"; }
  fi
  log "$name: rejected: $(grep -Em 1 -- "$pattern" "$WORK/$name.out" | sed 's/^ *//' | cut -c1-160)"
}
copy() { cp -a "$DS" "$WORK/$1"; }

# 1. A flipped byte in an HDF5 file.
copy flip
"$PY" -c '
import os, sys
p = sys.argv[1]
with open(p, "r+b") as f:
    f.seek(os.path.getsize(p) // 2)
    b = f.read(1)
    f.seek(-1, 1)
    f.write(bytes([b[0] ^ 0xFF]))
' "$WORK/flip/shards/00000/episodes.hdf5"
corrupt_case flip 'shards/00000/episodes.hdf5: sha256 [0-9a-f]+ does not match' manifest

# 2. A deleted shard.json.
copy noshardjson
rm "$WORK/noshardjson/shards/00001/shard.json"
corrupt_case noshardjson 'shards/00001/shard.json: (missing|listed in manifest.json but missing)' manifest
grep -q 'counts cannot be verified' "$WORK/noshardjson.out" || fail "noshardjson: counts not reported unverifiable"

# 3. An object's pose moved 12 cm sideways in every frame of one demo (hashes redone): its
#    projection leaves its mask.
copy pose
"$PY" -c '
import json, sys, h5py
with h5py.File(sys.argv[1], "r+") as f:
    names = json.loads(f["data"].attrs["env_args"])["object_names"]
    o = names.index("red_cube")
    d = f["data/demo_0/obs/object_poses"]
    a = d[()]
    a[:, o, 1] += 0.12
    d[...] = a
' "$WORK/pose/shards/00000/episodes.hdf5"
"$PY" -c "$REHASH" "$WORK/pose"
corrupt_case pose 'demo_0 obs/front_instance frame [0-9]+: red_cube \(id [0-9]+\) origin projects .* not in its mask' labels
grep -q '^PASS manifest ' "$WORK/pose.out" || fail "pose: rehashing did not keep the manifest group passing"

# 4. A truncated manifest.
copy truncmanifest
truncate -s 700 "$WORK/truncmanifest/manifest.json"
corrupt_case truncmanifest 'manifest.json: not valid JSON' manifest

# 5. A temporary shard directory left behind.
copy tmpshard
mkdir "$WORK/tmpshard/shards/.tmp-00001-4242"
corrupt_case tmpshard 'shards/.tmp-00001-4242: temporary shard directory' manifest

# 6. A manifest count off by one.
copy counts
"$PY" -c '
import json, sys
m = json.load(open(sys.argv[1]))
m["counts"]["frames"] += 1
json.dump(m, open(sys.argv[1], "w"), indent=2)
' "$WORK/counts/manifest.json"
corrupt_case counts 'counts.frames = [0-9]+ but' manifest

# 7. A brain timestamp moved (hashes redone).
copy time
"$PY" -c '
import sys, h5py
with h5py.File(sys.argv[1], "r+") as f:
    f["data/demo_2/obs/time"][5] += 0.001
' "$WORK/time/shards/00001/episodes.hdf5"
"$PY" -c "$REHASH" "$WORK/time"
corrupt_case time 'demo_2 obs/time: step [0-9]+' timing

# 8. Depth on a background pixel (hashes redone).
copy depth
"$PY" -c '
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r+") as f:
    inst = f["data/demo_1/obs/front_instance"][3]
    ys, xs = np.nonzero(inst == 0)
    d = f["data/demo_1/obs/front_depth"]
    frame = d[3]
    frame[ys[0], xs[0]] = 2.5
    d[3] = frame
' "$WORK/depth/shards/00000/episodes.hdf5"
"$PY" -c "$REHASH" "$WORK/depth"
corrupt_case depth 'demo_1 obs/front_depth frame 3 .*depth must be 0 exactly where instance is 0' labels

# 9. A byte flipped inside an RLDS TFRecord's first record (hashes redone): its CRC catches it.
copy tfrecord
"$PY" -c '
import glob, sys
p = glob.glob(sys.argv[1] + "/shards/00000/rlds/*.tfrecord")[0]
with open(p, "r+b") as f:
    f.seek(40)
    b = f.read(1)
    f.seek(-1, 1)
    f.write(bytes([b[0] ^ 0xFF]))
' "$WORK/tfrecord"
"$PY" -c "$REHASH" "$WORK/tfrecord"
corrupt_case tfrecord 'rlds/[a-z0-9_]+-shard.tfrecord: record 0 at byte 0: data CRC mismatch' integrity

# 10. One object's BOP pose (scene_gt.json cam_t_m2c) moved 10 mm (hashes redone): only the
#     cross-check against the HDF5 poses sees it.
copy bopgt
"$PY" -c '
import json, sys
p = sys.argv[1]
gt = json.load(open(p))
gt["4"][0]["cam_t_m2c"][0] += 10.0
json.dump(gt, open(p, "w"))
' "$WORK/bopgt/shards/00000/bop/front/000001/scene_gt.json"
"$PY" -c "$REHASH" "$WORK/bopgt"
corrupt_case bopgt 'demo_1 camera front frame 4: BOP shards/00000/bop/front/000001: [a-z_]+ cam_t_m2c .* the HDF5 poses give' labels
grep -q '^PASS manifest ' "$WORK/bopgt.out" || fail "bopgt: rehashing did not keep the manifest group passing"

# 11. A COCO annotation's RLE mask replaced by another annotation's (hashes redone): its
#     class, area and box still read well; only the cross-check against the HDF5 instance
#     image sees it.
copy cocorle
"$PY" -c '
import json, sys
p = sys.argv[1]
d = json.load(open(p))
a = [x for x in d["annotations"] if x["image_id"] == 100000 + 2]
other = next(x for x in d["annotations"] if x["segmentation"]["counts"] != a[0]["segmentation"]["counts"])
a[0]["segmentation"] = other["segmentation"]
json.dump(d, open(p, "w"))
' "$WORK/cocorle/shards/00000/coco/front.json"
"$PY" -c "$REHASH" "$WORK/cocorle"
corrupt_case cocorle 'demo_1 camera front frame 2: COCO image 100002: [a-z_]+ RLE mask differs from the HDF5 instance image' labels

rm -rf "$WORK"
log "PASS"
