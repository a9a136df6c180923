#!/usr/bin/python3
"""Independent checker of a parafab dataset directory (datagen/include/pf/datagen/datagen.h).

    /usr/bin/python3 tools/check_dataset.py DIR [--quick] [--json]

Reads the dataset with h5py and numpy (and OpenCV for BOP/COCO PNGs; no parafab code) and checks it against the
documented format, in five groups:

  manifest   manifest.json / run.json present and consistent; the manifest's counts equal
             what the shard.json files and the HDF5 files contain; every listed file has its
             listed size and sha256; no extra, missing or temporary (.tmp-*) shard
             directories or files; shard episode ranges tile [0, episodes).
  structure  every dataset of hdf5_episodes.h with its dtype and shape relations
             (T brain frames, N = control steps + 1, M = (N-1)·physics_hz/control_hz,
             K contacts), image chunking and compression, attributes, env_args, masks.
  timing     obs/time, cerebellum/time and cerebellum/physics_time spaced 1/brain_hz,
             1/control_hz, 1/physics_hz; brain frame t at control step t·(control_hz/brain_hz)
             (time, brain_frame, and the proprioception the two streams share); dones,
             rewards, actions, unit quaternions, contacts, intrinsics.
  labels     projects every movable object's origin (an object whose pose ever changes)
             with the camera's X_WC and K and checks it lands inside that object's instance
             mask (1 px tolerance) unless something nearer the camera hides it; depth at the
             mask pixel nearest the projection is within 0.1 m of the origin's z-depth; every
             pixel of the mask back-projects (z-depth, K, X_WC) to within 0.1 m of the origin;
             depth is 0 exactly where instance is 0; semantic is 0 on the background and a
             function of the instance id. Instance ids are found from the data: the id under
             the projected origin most often over a sample of frames. Where a shard also has
             BOP or COCO labels, they are cross-checked with its HDF5 frame by frame: BOP's
             cam_K, every object's cam_R_m2c/cam_t_m2c (from X_WC and X_WO), RGB, depth
             (× depth_scale) and mask_visib PNGs (the object's instance ids' pixels); COCO's
             images, and one annotation exactly per object with visible pixels, with its
             category, area, bbox and decoded RLE mask (reading PNGs needs python3-opencv).
  integrity  every HDF5 file opens read-only, every dataset reads back, no NaN or Inf in
             any floating-point dataset.

--quick checks a sample of frames per demo (first, last and evenly spaced) for the image
checks instead of every frame. --json prints one JSON object instead of the text report.

Prints one line per group and a final "N passed, N failed" line (N counts single checks).
Exit status: 0 every check passed, 1 some check failed, 2 usage error (no such directory,
not a dataset).
"""
import argparse
import hashlib
import json
import math
import os
import re
import sys

try:
    import h5py
    import numpy as np
except ImportError as e:  # pragma: no cover
    print(f"check_dataset: {e}: run with Debian's /usr/bin/python3 (python3-h5py, python3-numpy)",
          file=sys.stderr)
    sys.exit(2)

GROUPS = ["manifest", "structure", "timing", "labels", "integrity"]
TIME_TOL = 1e-9          # seconds
QUAT_TOL = 1e-6          # | |q| - 1 |
DEPTH_BOUND = 0.1        # metres: |depth(mask pixel) - z_cam(origin)| for the small parts
QUICK_FRAMES = 8         # frames per demo for --quick
MAX_SHOWN = 12           # failure messages printed per group (text mode)
MAX_KEPT = 500           # failure messages kept per group (JSON mode)
SHA_CHUNK = 1 << 20


class Report:
    def __init__(self):
        self.groups = {g: {"passed": 0, "failed": 0, "failures": [], "warnings": [], "summary": ""}
                       for g in GROUPS}

    def check(self, group, ok, message):
        """Counts one check; `message` (str or callable, built only on failure) says what failed."""
        g = self.groups[group]
        if ok:
            g["passed"] += 1
            return True
        g["failed"] += 1
        if len(g["failures"]) < MAX_KEPT:
            g["failures"].append(message() if callable(message) else message)
        return False

    def fail(self, group, message):
        return self.check(group, False, message)

    def fail_many(self, group, count, message):
        """`count` failed checks described by one message."""
        g = self.groups[group]
        g["failed"] += count
        if len(g["failures"]) < MAX_KEPT:
            g["failures"].append(message)

    def warn(self, group, message):
        if message not in self.groups[group]["warnings"]:
            self.groups[group]["warnings"].append(message)

    def summary(self, group, text):
        self.groups[group]["summary"] = text

    def totals(self):
        return (sum(g["passed"] for g in self.groups.values()),
                sum(g["failed"] for g in self.groups.values()))


# ----------------------------------------------------------------------------------------
# Small helpers


def load_json(path):
    """(object, None) or (None, error text)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        return None, f"cannot read: {e.strerror}"
    try:
        return json.loads(data.decode("utf-8")), None
    except (UnicodeDecodeError, ValueError) as e:
        return None, f"not valid JSON ({len(data)} bytes): {e}"


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            block = f.read(SHA_CHUNK)
            if not block:
                break
            h.update(block)
    return h.hexdigest()


def is_int(x):
    return isinstance(x, int) and not isinstance(x, bool)


def is_num(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def integral_ratio(a, b):
    """a / b when it is (within 1e-9) a positive integer, else None."""
    if not (is_num(a) and is_num(b)) or b <= 0 or a <= 0:
        return None
    r = a / b
    n = round(r)
    return int(n) if n >= 1 and abs(r - n) < 1e-9 else None


def attr_value(v):
    if isinstance(v, (bytes, np.bytes_)):
        return bytes(v).decode("utf-8", "replace")
    if isinstance(v, np.ndarray) and v.shape == ():
        v = v[()]
    if isinstance(v, np.generic):
        return v.item()
    return v


def quat_to_matrix(q):
    """(w, x, y, z) → 3×3 rotation (q normalised)."""
    w, x, y, z = np.asarray(q, dtype=np.float64) / np.linalg.norm(q)
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
        [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
        [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
    ])


def first_bad(mask):
    idx = np.flatnonzero(np.asarray(mask).ravel())
    return int(idx[0]) if idx.size else None


def sample_frames(T, quick):
    if T <= 0:
        return []
    if not quick or T <= QUICK_FRAMES:
        return list(range(T))
    return sorted({int(round(x)) for x in np.linspace(0, T - 1, QUICK_FRAMES)})


# ----------------------------------------------------------------------------------------
# Dataset-level context shared by the groups


class Context:
    def __init__(self, root, quick, report):
        self.root = root
        self.quick = quick
        self.r = report
        self.manifest = None
        self.run = None
        self.rates = {}            # physics_hz, control_hz, brain_hz (from the manifest)
        self.cameras = []          # [(name, width, height)]
        self.episodes = None
        self.per_shard = None
        self.seed = None
        self.keep_failed = None
        self.shard_json = {}       # shard index → parsed shard.json
        self.hdf5_files = []       # [(shard index, path)]
        self.hdf5_ok = {}          # path → whether it opened
        self.demo_info = {}        # (shard, episode) → dict(frames, success, ...) from HDF5
        self.hdf5_totals = {}      # path → data.attrs total
        self.dims = {}             # dataset-wide sizes: A, G, S
        self.object_names = None
        self.dof_names = None
        # Labels.
        self.ids = {}              # movable object index → instance id (find_ids)
        self.label_stats = {}      # object index → hit/occluded/miss/out/absent counts
        self.label_failures = {}   # (where, cam, object, kind) → [first message, count, T]
        self.label_frames = 0
        self.inst_sem = {}         # instance id → {semantic id: where first seen}
        self.movable = None        # bool per object (find_movable)
        self.read_image_datasets = set()  # image datasets read by the label pass

    def label_fail(self, key, kind, where, T, message):
        k = key + (kind,)
        if k not in self.label_failures:
            self.label_failures[k] = [message, 0, T]
        self.label_failures[k][1] += 1

    def rel(self, path):
        return os.path.relpath(path, self.root)


# ----------------------------------------------------------------------------------------
# Group 1: manifest, run.json, shard.json, files, counts

COUNT_KEYS = ["episodes_attempted", "episodes_kept", "successes", "frames", "shards"]
SHARD_NAME = re.compile(r"^\d{5}$")


def check_manifest(ctx):
    r = ctx.r
    G = "manifest"
    mpath = os.path.join(ctx.root, "manifest.json")
    rpath = os.path.join(ctx.root, "run.json")
    man, err = load_json(mpath) if os.path.exists(mpath) else (None, "missing")
    if not r.check(G, man is not None, f"manifest.json: {err}"):
        man = None
    elif not r.check(G, isinstance(man, dict), "manifest.json: not a JSON object"):
        man = None
    run, err = load_json(rpath) if os.path.exists(rpath) else (None, "missing")
    if not r.check(G, isinstance(run, dict), f"run.json: {err or 'not a JSON object'}"):
        run = None
    ctx.manifest, ctx.run = man, run
    src = man if man is not None else (run or {})

    # Fixed settings.
    if man is not None:
        r.check(G, man.get("format") == "parafab-dataset",
                f"manifest.json: format is {man.get('format')!r}, expected 'parafab-dataset'")
        r.check(G, man.get("format_version") == 1,
                f"manifest.json: format_version is {man.get('format_version')!r}, expected 1")
        for key in ["scenario", "seed", "episodes", "episodes_per_shard", "formats", "brain_hz",
                    "keep_failed", "parafab_version", "rates", "cameras", "conventions", "counts",
                    "shards"]:
            r.check(G, key in man, f"manifest.json: no '{key}'")
        fm = man.get("formats")
        r.check(G, isinstance(fm, list) and fm and all(isinstance(x, str) for x in fm),
                f"manifest.json: formats is {fm!r}, expected a list of format names")
        r.check(G, isinstance(man.get("parafab_version"), str) and man["parafab_version"],
                f"manifest.json: parafab_version is {man.get('parafab_version')!r}")
        sc = man.get("scenario")
        r.check(G, isinstance(sc, dict) and isinstance(sc.get("hash"), str) and sc["hash"],
                f"manifest.json: scenario is {sc!r}, expected an object with a hash")
        r.check(G, is_int(man.get("seed")) and man["seed"] >= 0, f"manifest.json: seed is {man.get('seed')!r}")
        r.check(G, isinstance(man.get("keep_failed"), bool),
                f"manifest.json: keep_failed is {man.get('keep_failed')!r}")
    if man is not None and run is not None:
        for key, value in run.items():
            r.check(G, key in man and man[key] == value,
                    lambda key=key, value=value: f"run.json '{key}' = {json.dumps(value)} but "
                    f"manifest.json has {json.dumps(man.get(key, '<missing>'))}")

    ctx.episodes = src.get("episodes")
    ctx.per_shard = src.get("episodes_per_shard")
    ctx.seed = src.get("seed")
    ctx.keep_failed = src.get("keep_failed")
    r.check(G, is_int(ctx.episodes) and ctx.episodes >= 0,
            f"manifest.json: episodes is {ctx.episodes!r}, expected a count")
    r.check(G, is_int(ctx.per_shard) and ctx.per_shard > 0,
            f"manifest.json: episodes_per_shard is {ctx.per_shard!r}, expected a positive count")
    if not (is_int(ctx.episodes) and is_int(ctx.per_shard) and ctx.per_shard > 0):
        ctx.episodes = ctx.per_shard = None

    # Rates and cameras.
    if man is not None:
        rates = man.get("rates") if isinstance(man.get("rates"), dict) else {}
        for key in ["physics_hz", "control_hz", "brain_hz"]:
            if r.check(G, is_num(rates.get(key)) and rates[key] > 0,
                       f"manifest.json: rates.{key} is {rates.get(key)!r}"):
                ctx.rates[key] = float(rates[key])
        r.check(G, man.get("brain_hz") == rates.get("brain_hz"),
                f"manifest.json: brain_hz {man.get('brain_hz')!r} != rates.brain_hz "
                f"{rates.get('brain_hz')!r}")
        if len(ctx.rates) == 3:
            r.check(G, integral_ratio(ctx.rates["physics_hz"], ctx.rates["control_hz"]) is not None,
                    f"manifest.json: physics_hz/control_hz = {ctx.rates['physics_hz']}/"
                    f"{ctx.rates['control_hz']} is not an integer")
            r.check(G, integral_ratio(ctx.rates["control_hz"], ctx.rates["brain_hz"]) is not None,
                    f"manifest.json: control_hz/brain_hz = {ctx.rates['control_hz']}/"
                    f"{ctx.rates['brain_hz']} is not an integer")
        cams = man.get("cameras")
        if r.check(G, isinstance(cams, list) and len(cams) > 0,
                   "manifest.json: cameras is not a non-empty list"):
            for i, c in enumerate(cams):
                ok = (isinstance(c, dict) and isinstance(c.get("name"), str) and
                      is_int(c.get("width")) and is_int(c.get("height")) and
                      c["width"] > 0 and c["height"] > 0)
                if r.check(G, ok, f"manifest.json: cameras[{i}] = {json.dumps(c)} lacks name/width/height"):
                    ctx.cameras.append((c["name"], c["width"], c["height"]))
        conv = man.get("conventions")
        if isinstance(conv, dict):
            for key in ["quaternion", "pose", "camera", "intrinsics", "depth", "segmentation"]:
                r.check(G, isinstance(conv.get(key), str) and conv[key],
                        f"manifest.json: conventions.{key} missing")

    # Shard directories on disk.
    shards_dir = os.path.join(ctx.root, "shards")
    on_disk = []
    if r.check(G, os.path.isdir(shards_dir), "shards/: missing"):
        for name in sorted(os.listdir(shards_dir)):
            path = os.path.join(shards_dir, name)
            if name.startswith(".tmp-") or ".tmp" in name:
                r.fail(G, f"shards/{name}: temporary shard directory left behind")
            elif not (SHARD_NAME.match(name) and os.path.isdir(path)):
                r.fail(G, f"shards/{name}: unexpected entry (shard directories are named NNNNN)")
            else:
                on_disk.append(int(name))
    for name in sorted(os.listdir(ctx.root)):
        if name.startswith(".tmp") or name.endswith(".tmp"):
            r.fail(G, f"{name}: temporary file left behind in the dataset directory")

    num_shards = None
    if ctx.episodes is not None:
        num_shards = -(-ctx.episodes // ctx.per_shard)
        expected = list(range(num_shards))
        missing = sorted(set(expected) - set(on_disk))
        extra = sorted(set(on_disk) - set(expected))
        r.check(G, not missing, f"shards/: missing shard directories {['%05d' % s for s in missing]}")
        r.check(G, not extra, f"shards/: extra shard directories {['%05d' % s for s in extra]} "
                f"(episodes {ctx.episodes}, episodes_per_shard {ctx.per_shard})")

    # Manifest shard list: ranges tile [0, episodes).
    man_shards = {}
    if man is not None and isinstance(man.get("shards"), list):
        pos = 0
        for i, s in enumerate(man["shards"]):
            if not r.check(G, isinstance(s, dict) and is_int(s.get("shard")),
                           f"manifest.json: shards[{i}] has no shard index"):
                continue
            r.check(G, s["shard"] == i, f"manifest.json: shards[{i}].shard is {s['shard']}")
            man_shards[s["shard"]] = s
            rng = s.get("episodes")
            if not r.check(G, isinstance(rng, list) and len(rng) == 2 and all(map(is_int, rng)),
                           f"manifest.json: shards[{i}].episodes is {rng!r}"):
                continue
            r.check(G, rng[0] == pos, f"manifest.json: shard {i} starts at episode {rng[0]}, "
                    f"expected {pos} (ranges must tile [0, episodes))")
            if ctx.episodes is not None:
                want = [i * ctx.per_shard, min((i + 1) * ctx.per_shard, ctx.episodes)]
                r.check(G, rng == want, f"manifest.json: shard {i} episodes {rng}, expected {want}")
            pos = rng[1]
        if ctx.episodes is not None:
            r.check(G, pos == ctx.episodes,
                    f"manifest.json: shard ranges end at {pos}, episodes is {ctx.episodes}")
            r.check(G, len(man["shards"]) == num_shards,
                    f"manifest.json: {len(man['shards'])} shards listed, expected {num_shards}")

    # Every shard: shard.json, files, hashes.
    hashes = {}

    def verify_file(path, size, digest, who):
        rel = ctx.rel(path)
        if not r.check(G, os.path.isfile(path), f"{rel}: listed in {who} but missing"):
            return
        actual = os.path.getsize(path)
        r.check(G, actual == size, f"{rel}: size {actual} bytes, {who} says {size}")
        if path not in hashes:
            hashes[path] = sha256_of(path)
        r.check(G, hashes[path] == digest,
                f"{rel}: sha256 {hashes[path]} does not match {who} ({digest})")

    formats = src.get("formats") if isinstance(src.get("formats"), list) else ["hdf5"]
    sums = {"attempted": 0, "kept": 0, "successes": 0, "frames": 0}
    sums_ok = True
    for s in sorted(set(on_disk) | set(man_shards)):
        sdir = os.path.join(shards_dir, "%05d" % s)
        srel = ctx.rel(sdir)
        sj_path = os.path.join(sdir, "shard.json")
        sj, err = load_json(sj_path) if os.path.exists(sj_path) else (None, "missing")
        if not r.check(G, isinstance(sj, dict), f"{srel}/shard.json: {err or 'not a JSON object'}"):
            sj = None
            sums_ok = False
        ms = man_shards.get(s)
        want_range = None
        if ctx.episodes is not None and s < (num_shards or 0):
            want_range = [s * ctx.per_shard, min((s + 1) * ctx.per_shard, ctx.episodes)]
        if sj is not None:
            ctx.shard_json[s] = sj
            r.check(G, sj.get("shard") == s, f"{srel}/shard.json: shard is {sj.get('shard')!r}")
            if want_range is not None:
                r.check(G, sj.get("episodes") == want_range,
                        f"{srel}/shard.json: episodes {sj.get('episodes')!r}, expected {want_range}")
            el = sj.get("episode_list")
            if r.check(G, isinstance(el, list), f"{srel}/shard.json: no episode_list"):
                eps = [e.get("episode") if isinstance(e, dict) else None for e in el]
                if want_range is not None:
                    r.check(G, eps == list(range(*want_range)),
                            f"{srel}/shard.json: episode_list has episodes {eps}, expected "
                            f"{list(range(*want_range))}")
                kept = [e for e in el if isinstance(e, dict) and e.get("kept") is True]
                succ = [e for e in el if isinstance(e, dict) and e.get("success") is True]
                frames = sum(e.get("frames", 0) for e in kept if is_int(e.get("frames")))
                r.check(G, sj.get("kept") == len(kept),
                        f"{srel}/shard.json: kept {sj.get('kept')!r} but episode_list has {len(kept)} kept")
                r.check(G, sj.get("successes") == len(succ),
                        f"{srel}/shard.json: successes {sj.get('successes')!r} but episode_list has "
                        f"{len(succ)} successful")
                r.check(G, sj.get("frames") == frames,
                        f"{srel}/shard.json: frames {sj.get('frames')!r} but its kept episodes have {frames}")
                if ctx.keep_failed is False:
                    for e in kept:
                        r.check(G, e.get("success") is True,
                                f"{srel}/shard.json: episode {e.get('episode')} kept but not successful "
                                f"(keep_failed is false)")
                sums["attempted"] += len(el)
                sums["kept"] += len(kept)
                sums["successes"] += len(succ)
                sums["frames"] += frames
            else:
                sums_ok = False
            for key in ["kept", "successes", "frames"]:
                if ms is not None:
                    r.check(G, ms.get(key) == sj.get(key),
                            f"{srel}: manifest.json says {key} {ms.get(key)!r}, shard.json says {sj.get(key)!r}")
            if ms is not None:
                r.check(G, ms.get("episodes") == sj.get("episodes"),
                        f"{srel}: manifest.json episodes {ms.get('episodes')!r}, shard.json {sj.get('episodes')!r}")
            for f in sj.get("files", []) if isinstance(sj.get("files"), list) else []:
                if r.check(G, isinstance(f, dict) and isinstance(f.get("path"), str),
                           f"{srel}/shard.json: bad files entry {f!r}"):
                    verify_file(os.path.join(sdir, f["path"]), f.get("bytes"), f.get("sha256"),
                                f"{srel}/shard.json")
        if ms is None:
            if man is not None:
                r.fail(G, f"{srel}: shard directory not listed in manifest.json")
        else:
            listed = set()
            for f in ms.get("files", []) if isinstance(ms.get("files"), list) else []:
                if not r.check(G, isinstance(f, dict) and isinstance(f.get("path"), str),
                               f"manifest.json: shard {s} bad files entry {f!r}"):
                    continue
                p = os.path.normpath(os.path.join(ctx.root, f["path"]))
                r.check(G, p.startswith(os.path.normpath(sdir) + os.sep),
                        f"manifest.json: shard {s} lists {f['path']}, outside {srel}")
                listed.add(p)
                verify_file(p, f.get("bytes"), f.get("sha256"), "manifest.json")
            if os.path.isdir(sdir):
                # Every file in the shard, in subfolders too (bop/, coco/, rlds/), is listed.
                for dirpath, _dirs, names in os.walk(sdir):
                    for name in sorted(names):
                        p = os.path.normpath(os.path.join(dirpath, name))
                        r.check(G, p in listed, f"{ctx.rel(p)}: file not listed in manifest.json")
            r.check(G, os.path.join(sdir, "shard.json") in listed,
                    f"manifest.json: shard {s} does not list shard.json")
            if sj is not None and isinstance(sj.get("files"), list):
                own = {os.path.normpath(os.path.join(sdir, f["path"])) for f in sj["files"]
                       if isinstance(f, dict) and isinstance(f.get("path"), str)}
                others = listed - {os.path.join(sdir, "shard.json")}
                r.check(G, own == others, f"{srel}: shard.json lists {sorted(map(ctx.rel, own))} but "
                        f"manifest.json lists {sorted(map(ctx.rel, others))} (besides shard.json)")
        if "hdf5" in formats:
            h = os.path.join(sdir, "episodes.hdf5")
            if r.check(G, os.path.isfile(h), f"{srel}/episodes.hdf5: missing"):
                ctx.hdf5_files.append((s, h))
    r.summary(G, f"{len(on_disk)} shard(s), {len(hashes)} file(s) hashed")
    ctx.manifest_sums = sums if sums_ok else None
    ctx.manifest_num_shards = num_shards
    ctx.man_on_disk = on_disk


def check_counts(ctx):
    """After the HDF5 pass: the manifest's counts against shard.json and HDF5 contents."""
    r, man = ctx.r, ctx.manifest
    G = "manifest"
    if man is None:
        return
    counts = man.get("counts") if isinstance(man.get("counts"), dict) else {}
    for key in COUNT_KEYS:
        r.check(G, is_int(counts.get(key)), f"manifest.json: counts.{key} is {counts.get(key)!r}")
    sums = ctx.manifest_sums
    if sums is None:
        r.fail(G, "manifest.json counts cannot be verified: some shard.json is missing or unreadable")
    else:
        for key, skey in [("episodes_attempted", "attempted"), ("episodes_kept", "kept"),
                          ("successes", "successes"), ("frames", "frames")]:
            r.check(G, counts.get(key) == sums[skey],
                    f"manifest.json: counts.{key} = {counts.get(key)!r} but the shard.json files "
                    f"add up to {sums[skey]}")
    r.check(G, counts.get("shards") == len(ctx.man_on_disk),
            f"manifest.json: counts.shards = {counts.get('shards')!r} but shards/ holds "
            f"{len(ctx.man_on_disk)} shard directories")
    if ctx.manifest_num_shards is not None:
        r.check(G, counts.get("shards") == ctx.manifest_num_shards,
                f"manifest.json: counts.shards = {counts.get('shards')!r}, expected "
                f"{ctx.manifest_num_shards} for {ctx.episodes} episodes")
    if ctx.episodes is not None:
        r.check(G, counts.get("episodes_attempted") == ctx.episodes,
                f"manifest.json: counts.episodes_attempted = {counts.get('episodes_attempted')!r} "
                f"but episodes is {ctx.episodes} (the manifest is written when all are done)")
    if isinstance(man.get("shards"), list):
        for key in ["kept", "successes", "frames"]:
            total = sum(s.get(key, 0) for s in man["shards"] if isinstance(s, dict) and is_int(s.get(key)))
            ckey = {"kept": "episodes_kept"}.get(key, key)
            r.check(G, counts.get(ckey) == total,
                    f"manifest.json: counts.{ckey} = {counts.get(ckey)!r} but its shard list adds up to {total}")
    # Against the HDF5 contents.
    if isinstance(man.get("formats"), list) and "hdf5" in man["formats"]:
        if not all(ctx.hdf5_ok.get(p) for _, p in ctx.hdf5_files) or \
                len(ctx.hdf5_files) != len(ctx.man_on_disk):
            r.fail(G, "manifest.json counts cannot be verified against HDF5: some episodes.hdf5 "
                   "is missing or unreadable")
            return
        demos = ctx.demo_info
        kept = len(demos)
        succ = sum(1 for d in demos.values() if d.get("success") == 1)
        frames = sum(d["frames"] for d in demos.values() if is_int(d.get("frames")))
        r.check(G, counts.get("episodes_kept") == kept,
                f"manifest.json: counts.episodes_kept = {counts.get('episodes_kept')!r} but the HDF5 "
                f"files hold {kept} demos")
        r.check(G, counts.get("successes") == succ,
                f"manifest.json: counts.successes = {counts.get('successes')!r} but {succ} HDF5 demos "
                f"have success = 1")
        r.check(G, counts.get("frames") == frames,
                f"manifest.json: counts.frames = {counts.get('frames')!r} but the HDF5 demos hold "
                f"{frames} brain frames")
        for s, path in ctx.hdf5_files:
            sj = ctx.shard_json.get(s)
            if not sj or not isinstance(sj.get("episode_list"), list):
                continue
            rel = ctx.rel(path)
            in_file = sorted(e for (sh, e) in demos if sh == s)
            listed = sorted(e.get("episode") for e in sj["episode_list"]
                            if isinstance(e, dict) and e.get("kept") is True and is_int(e.get("episode")))
            r.check(G, in_file == listed,
                    f"{rel}: demos for episodes {in_file} but shard.json lists kept episodes {listed}")
            r.check(G, ctx.hdf5_totals.get(path) == sj.get("frames"),
                    f"{rel}: data.attrs total = {ctx.hdf5_totals.get(path)!r} but shard.json frames = "
                    f"{sj.get('frames')!r}")


# ----------------------------------------------------------------------------------------
# Groups 2-5 over the HDF5 files


def spec_for(cameras):
    """(path, dtype kind/char, shape template) of every documented dataset of a demo."""
    spec = []
    for name, w, h in cameras:
        spec += [
            (f"obs/{name}_image", "u1", ("T", h, w, 3)),
            (f"obs/{name}_depth", "f4", ("T", h, w)),
            (f"obs/{name}_instance", "u4", ("T", h, w)),
            (f"obs/{name}_semantic", "u4", ("T", h, w)),
            (f"obs/{name}_intrinsics", "f8", ("T", 4)),
            (f"obs/{name}_pose", "f8", ("T", 7)),
        ]
    spec += [
        ("obs/robot0_joint_pos", "f8", ("T", "D")),
        ("obs/robot0_joint_vel", "f8", ("T", "D")),
        ("obs/robot0_eef_pos", "f8", ("T", 3)),
        ("obs/robot0_eef_quat", "f8", ("T", 4)),
        ("obs/robot0_gripper_qpos", "f8", ("T", "G")),
        ("obs/object_poses", "f8", ("T", "O", 7)),
        ("obs/time", "f8", ("T",)),
        ("actions", "f4", ("T", 7)),
        ("rewards", "f4", ("T",)),
        ("sparse_rewards", "f4", ("T",)),
        ("dones", "u1", ("T",)),
        ("states", "f8", ("T", "S")),
        ("cerebellum/time", "f8", ("N",)),
        ("cerebellum/q", "f8", ("N", "D")),
        ("cerebellum/qd", "f8", ("N", "D")),
        ("cerebellum/joint_targets", "f8", ("N", "A")),
        ("cerebellum/eef_pose", "f8", ("N", 7)),
        ("cerebellum/eef_wrench", "f8", ("N", 6)),
        ("cerebellum/brain_frame", "i4", ("N",)),
        ("cerebellum/physics_time", "f8", ("M",)),
        ("cerebellum/applied_torques", "f8", ("M", "D")),
        ("cerebellum/physics_q", "f8", ("M", "D")),
        ("cerebellum/physics_qd", "f8", ("M", "D")),
        ("cerebellum/contacts/step", "i4", ("K",)),
        ("cerebellum/contacts/bodies", "i4", ("K", 2)),
        ("cerebellum/contacts/point", "f", ("K", 3)),      # float (width undocumented)
        ("cerebellum/contacts/normal", "f", ("K", 3)),
        ("cerebellum/contacts/force", "f", ("K",)),
    ]
    return spec


def shape_text(shape, dims):
    return " × ".join(str(s) + (f"={dims[s]}" if isinstance(s, str) and s in dims else "") for s in shape)


def dtype_ok(dtype, want):
    if want == "f":
        return dtype.kind == "f"
    return dtype == np.dtype("<" + want) or dtype == np.dtype(want)


def walk_datasets(group, prefix=""):
    out = []
    for key in group:
        obj = group.get(key, getlink=False)
        name = prefix + key
        if isinstance(obj, h5py.Group):
            out += walk_datasets(obj, name + "/")
        elif isinstance(obj, h5py.Dataset):
            out.append(name)
    return out


def check_hdf5_file(ctx, shard, path):
    r = ctx.r
    rel = ctx.rel(path)
    try:
        f = h5py.File(path, "r")
    except Exception as e:  # noqa: BLE001 - anything h5py raises means a broken file
        r.fail("integrity", f"{rel}: cannot open read-only: {e}")
        ctx.hdf5_ok[path] = False
        return
    r.check("integrity", True, "")
    ctx.hdf5_ok[path] = True
    try:
        with f:
            check_hdf5_contents(ctx, shard, path, f)
    except Exception as e:  # noqa: BLE001
        r.fail("integrity", f"{rel}: error while reading: {type(e).__name__}: {e}")
        ctx.hdf5_ok[path] = False


def check_hdf5_contents(ctx, shard, path, f):
    r = ctx.r
    S = "structure"
    rel = ctx.rel(path)
    if not r.check(S, "data" in f and isinstance(f["data"], h5py.Group), f"{rel}: no group 'data'"):
        return
    data = f["data"]
    # data attrs
    total = attr_value(data.attrs["total"]) if "total" in data.attrs else None
    r.check(S, is_int(total), f"{rel}: data.attrs total is {total!r}, expected an integer")
    ctx.hdf5_totals[path] = total
    env_args = None
    if r.check(S, "env_args" in data.attrs, f"{rel}: data.attrs has no env_args"):
        try:
            env_args = json.loads(attr_value(data.attrs["env_args"]))
            r.check(S, isinstance(env_args, dict), f"{rel}: data.attrs env_args is not a JSON object")
        except (ValueError, TypeError) as e:
            r.fail(S, f"{rel}: data.attrs env_args does not parse as JSON: {e}")
    if not isinstance(env_args, dict):
        env_args = {}
    names = env_args.get("object_names")
    if r.check(S, isinstance(names, list) and all(isinstance(n, str) for n in names),
               f"{rel}: env_args has no object_names list"):
        if ctx.object_names is None:
            ctx.object_names = names
        r.check(S, names == ctx.object_names, f"{rel}: env_args object_names {names} differ from "
                f"another file's {ctx.object_names}")
    else:
        names = None
    dofs = env_args.get("dof_names")
    if r.check(S, isinstance(dofs, list) and all(isinstance(n, str) for n in dofs),
               f"{rel}: env_args has no dof_names list"):
        if ctx.dof_names is None:
            ctx.dof_names = dofs
        r.check(S, dofs == ctx.dof_names, f"{rel}: env_args dof_names differ from another file's")
    else:
        dofs = None
    # env_args against the manifest
    man = ctx.manifest or {}
    kw = env_args.get("env_kwargs") if isinstance(env_args.get("env_kwargs"), dict) else {}
    for key in ["control_hz", "brain_hz", "physics_hz"]:
        v = kw.get(key, env_args.get(key))
        if v is None and isinstance(env_args.get("rates"), dict):
            v = env_args["rates"].get(key)
        if v is None:
            if key == "physics_hz":
                ctx.r.warn(S, "env_args carries no physics_hz (hdf5_episodes.h: env_args holds the "
                              "rates)")
            else:
                r.fail(S, f"{rel}: env_args has no {key}")
            continue
        if key in ctx.rates:
            r.check(S, is_num(v) and abs(v - ctx.rates[key]) < 1e-12,
                    f"{rel}: env_args {key} = {v!r} but manifest.json rates.{key} = {ctx.rates[key]}")
    if "conventions" not in env_args:
        ctx.r.warn(S, "env_args carries no conventions (hdf5_episodes.h: env_args holds scenario, "
                      "rates, conventions)")
    for key in ["scenario", "seed", "episodes", "episodes_per_shard"]:
        if key in man and key in env_args:
            r.check(S, env_args[key] == man[key],
                    f"{rel}: env_args {key} = {json.dumps(env_args[key])} but manifest.json has "
                    f"{json.dumps(man[key])}")

    # demos
    demo_names = []
    for key in data:
        m = re.fullmatch(r"demo_(\d+)", key)
        if r.check(S, m is not None and isinstance(data[key], h5py.Group),
                   f"{rel}: unexpected member data/{key}"):
            demo_names.append((int(m.group(1)), key))
    demo_names.sort()
    sj = ctx.shard_json.get(shard) or {}
    rng = sj.get("episodes") if isinstance(sj.get("episodes"), list) else None
    listed = {e.get("episode"): e for e in sj.get("episode_list", []) if isinstance(e, dict)} \
        if isinstance(sj.get("episode_list"), list) else {}
    if not isinstance(sj.get("episode_list"), list):
        ctx.shard_json[shard] = None

    # masks
    mask_sets = {}
    if r.check(S, "mask" in f and isinstance(f["mask"], h5py.Group), f"{rel}: no group 'mask'"):
        for split in ["train", "valid"]:
            key = f"mask/{split}"
            if not r.check(S, key in f and isinstance(f[key], h5py.Dataset), f"{rel}: no dataset {key}"):
                continue
            ds = f[key]
            r.check(S, ds.dtype.kind == "S" and ds.ndim == 1,
                    f"{rel}: {key} dtype {ds.dtype} shape {ds.shape}, expected 1-D fixed-length byte strings")
            vals = [bytes(v).decode("utf-8", "replace") for v in ds[()]] if ds.dtype.kind == "S" else []
            r.check(S, len(vals) == len(set(vals)), f"{rel}: {key} has duplicate entries")
            mask_sets[split] = set(vals)
        if len(mask_sets) == 2:
            demos = {n for _, n in demo_names}
            both = mask_sets["train"] & mask_sets["valid"]
            r.check(S, not both, f"{rel}: mask/train and mask/valid share {sorted(both)}")
            union = mask_sets["train"] | mask_sets["valid"]
            r.check(S, union == demos,
                    f"{rel}: mask/train ∪ mask/valid = {sorted(union)} but data holds {sorted(demos)}")

    frames_sum = 0
    for episode, name in demo_names:
        where = f"{rel} {name}"
        if rng is not None:
            r.check(S, rng[0] <= episode < rng[1],
                    f"{where}: episode {episode} outside the shard's range {rng}")
        try:
            info = check_demo(ctx, shard, path, data[name], episode, where, names, dofs, listed.get(episode))
        except Exception as e:  # noqa: BLE001
            r.fail("integrity", f"{where}: error while reading: {type(e).__name__}: {e}")
            info = {"frames": None, "success": None}
        ctx.demo_info[(shard, episode)] = info
        if is_int(info.get("frames")):
            frames_sum += info["frames"]
    r.check(S, total == frames_sum, f"{rel}: data.attrs total = {total!r} but the demos hold {frames_sum} frames")

    # integrity: every other dataset of the file reads back, without NaN
    for name in walk_datasets(f):
        if name in ctx.read_image_datasets:
            continue
        ds = f[name]
        try:
            arr = ds[()]
        except Exception as e:  # noqa: BLE001
            r.fail("integrity", f"{rel} {name}: cannot read: {e}")
            continue
        if ds.dtype.kind == "f":
            bad = first_bad(~np.isfinite(arr))
            r.check("integrity", bad is None,
                    lambda: f"{rel} {name}: non-finite value {arr.ravel()[bad]} at flat index {bad} "
                    f"(index {np.unravel_index(bad, arr.shape)})")
        else:
            r.check("integrity", True, "")


def check_demo(ctx, shard, path, demo, episode, where, names, dofs, listed):
    r = ctx.r
    S, TM = "structure", "timing"
    info = {"frames": None, "success": None}

    # attributes
    attrs = {k: attr_value(v) for k, v in demo.attrs.items()}
    for key in ["num_samples", "episode", "seed", "success", "faulted", "instruction", "draws"]:
        r.check(S, key in attrs, f"{where}: no attribute {key}")
    r.check(S, attrs.get("episode") == episode,
            f"{where}: attrs episode = {attrs.get('episode')!r}, expected {episode}")
    if ctx.seed is not None:
        r.check(S, attrs.get("seed") == ctx.seed,
                f"{where}: attrs seed = {attrs.get('seed')!r}, manifest seed is {ctx.seed}")
    for key in ["success", "faulted"]:
        r.check(S, attrs.get(key) in (0, 1, True, False),
                f"{where}: attrs {key} = {attrs.get(key)!r}, expected 0 or 1")
    info["success"] = int(attrs["success"]) if attrs.get("success") in (0, 1, True, False) else None
    if "draws" in attrs:
        try:
            draws = json.loads(attrs["draws"])
            r.check(S, isinstance(draws, dict) and all(is_num(v) for v in draws.values()),
                    f"{where}: attrs draws is not a JSON object of numbers")
        except (ValueError, TypeError) as e:
            r.fail(S, f"{where}: attrs draws does not parse as JSON: {e}")
    if listed is None:
        if ctx.shard_json.get(shard) is not None:
            r.fail(S, f"{where}: episode {episode} not in its shard.json episode_list")
    else:
        r.check(S, listed.get("kept") is True, f"{where}: shard.json says episode {episode} was not kept")
        for key in ["success", "faulted"]:
            r.check(S, bool(attrs.get(key)) == listed.get(key),
                    f"{where}: attrs {key} = {attrs.get(key)!r} but shard.json says {listed.get(key)!r}")
        r.check(S, attrs.get("instruction") == listed.get("instruction"),
                f"{where}: attrs instruction {attrs.get('instruction')!r} != shard.json "
                f"{listed.get('instruction')!r}")

    # datasets, dtypes, shapes
    dims = {}
    if names is not None:
        dims["O"] = len(names)
    if dofs is not None:
        dims["D"] = len(dofs)
    for key in ["A", "G", "S"]:
        if key in ctx.dims:
            dims[key] = ctx.dims[key]
    sub = None
    if "physics_hz" in ctx.rates and "control_hz" in ctx.rates:
        sub = integral_ratio(ctx.rates["physics_hz"], ctx.rates["control_hz"])
    for anchor, sym in [("obs/time", "T"), ("cerebellum/time", "N"), ("cerebellum/contacts/step", "K")]:
        if anchor in demo and isinstance(demo[anchor], h5py.Dataset) and demo[anchor].ndim >= 1:
            dims[sym] = demo[anchor].shape[0]
    if "N" in dims and sub is not None:
        dims["M"] = (dims["N"] - 1) * sub
    present = {}
    spec = spec_for(ctx.cameras)
    for name, want, shape in spec:
        if not r.check(S, name in demo and isinstance(demo[name], h5py.Dataset), f"{where}: no dataset {name}"):
            continue
        ds = demo[name]
        present[name] = ds
        r.check(S, dtype_ok(ds.dtype, want),
                f"{where} {name}: dtype {ds.dtype}, expected {'float' if want == 'f' else np.dtype(want)}")
        ok = len(ds.shape) == len(shape)
        if ok:
            for size, s in zip(ds.shape, shape):
                if isinstance(s, str):
                    if s not in dims:
                        dims[s] = size
                        if s in ("A", "G", "S"):
                            ctx.dims[s] = size
                    ok = ok and dims[s] == size
                else:
                    ok = ok and size == s
        r.check(S, ok, lambda name=name, ds=ds, shape=shape: f"{where} {name}: shape {ds.shape}, expected "
                f"[{shape_text(shape, dims)}]")
    for name in walk_datasets(demo):
        if name not in present and not any(name == s[0] for s in spec):
            r.warn(S, f"undocumented dataset {name} (first in {where})")
    # image chunking / compression
    for cam, w, h in ctx.cameras:
        for kind, multibyte in [("image", False), ("depth", True), ("instance", True), ("semantic", True)]:
            name = f"obs/{cam}_{kind}"
            if name not in present:
                continue
            ds = present[name]
            want_chunk = (1,) + ds.shape[1:]
            r.check(S, ds.chunks == want_chunk and ds.compression == "gzip" and ds.compression_opts == 1
                    and bool(ds.shuffle) == multibyte,
                    f"{where} {name}: chunks {ds.chunks} {ds.compression} level {ds.compression_opts} "
                    f"shuffle {ds.shuffle}; expected one frame per chunk, gzip level 1, shuffle {multibyte}")
    T, N = dims.get("T"), dims.get("N")
    info["frames"] = T
    r.check(S, T is not None and attrs.get("num_samples") == T,
            f"{where}: attrs num_samples = {attrs.get('num_samples')!r} but obs/time has {T} frames")
    r.check(S, T is not None and T >= 1, f"{where}: no frames")
    if listed is not None:
        r.check(S, listed.get("frames") == T, f"{where}: {T} frames but shard.json says {listed.get('frames')!r}")
        if N is not None:
            r.check(S, listed.get("control_steps") == N - 1,
                    f"{where}: cerebellum/time has N = {N} (control steps + 1) but shard.json says "
                    f"control_steps {listed.get('control_steps')!r}")
    if "G" in dims and "D" in dims:
        r.check(S, dims["G"] <= dims["D"], f"{where}: {dims['G']} gripper joints but {dims['D']} dofs")
    if not T or not N:
        return info

    # --- timing ------------------------------------------------------------------------
    def arr(name):
        return present[name][()] if name in present else None

    bh, ch, ph = ctx.rates.get("brain_hz"), ctx.rates.get("control_hz"), ctx.rates.get("physics_hz")
    ratio = integral_ratio(ch, bh) if ch and bh else None

    def spacing(name, hz, label):
        t = arr(name)
        if t is None or hz is None or t.ndim != 1:
            return t
        if t.size >= 2:
            d = np.diff(t)
            bad = first_bad(~(d > 0))
            r.check(TM, bad is None, lambda: f"{where} {name}: not strictly increasing at index {bad + 1} "
                    f"({t[bad]!r} then {t[bad + 1]!r})")
            bad = first_bad(~(np.abs(d - 1.0 / hz) <= TIME_TOL))
            r.check(TM, bad is None, lambda: f"{where} {name}: step {bad}→{bad + 1} is {d[bad]!r} s, expected "
                    f"1/{label} = {1.0 / hz!r} s (±{TIME_TOL})")
        return t

    bt = spacing("obs/time", bh, "brain_hz")
    ct = spacing("cerebellum/time", ch, "control_hz")
    pt = spacing("cerebellum/physics_time", ph, "physics_hz")
    if bt is not None and bt.size:
        r.check(TM, abs(bt[0]) <= TIME_TOL, f"{where} obs/time: first frame at {bt[0]!r} s, expected 0")
    if ct is not None and ct.size:
        r.check(TM, abs(ct[0]) <= TIME_TOL, f"{where} cerebellum/time: starts at {ct[0]!r} s, expected 0")
    if ratio is not None:
        idx = np.arange(T) * ratio
        if r.check(TM, idx[-1] <= N - 1,
                   f"{where}: brain frame {T - 1} is at control step {idx[-1]} but there are only N = {N} "
                   f"control samples"):
            if bt is not None and ct is not None and bt.shape == (T,) and ct.shape == (N,):
                d = np.abs(bt - ct[idx])
                bad = first_bad(d > TIME_TOL)
                r.check(TM, bad is None, lambda: f"{where}: obs/time[{bad}] = {bt[bad]!r} but cerebellum/time"
                        f"[{bad}·{ratio}] = {ct[idx[bad]]!r}")
            r.check(TM, N - 1 <= T * ratio,
                    f"{where}: {N - 1} control steps but the last brain frame ({T - 1}) covers steps up to "
                    f"{T * ratio}: control steps without a brain frame")
            # The two streams carry the same proprioception at shared instants.
            for bname, cname, cols in [("obs/robot0_joint_pos", "cerebellum/q", None),
                                       ("obs/robot0_joint_vel", "cerebellum/qd", None),
                                       ("obs/robot0_eef_pos", "cerebellum/eef_pose", slice(0, 3)),
                                       ("obs/robot0_eef_quat", "cerebellum/eef_pose", slice(3, 7))]:
                b, c = arr(bname), arr(cname)
                if b is None or c is None or c.shape[0] != N or b.shape[0] != T:
                    continue
                c = c[idx] if cols is None else c[idx][:, cols]
                if b.shape != c.shape:
                    continue
                dev = np.abs(b - c).max(axis=tuple(range(1, b.ndim))) if b.size else np.zeros(T)
                bad = first_bad(~(dev <= 1e-9))
                r.check(TM, bad is None, lambda: f"{where}: {bname} frame {bad} differs from {cname} at control "
                        f"step {bad * ratio} by {dev[bad]:.3g} (the streams must be aligned)")
        bf = arr("cerebellum/brain_frame")
        if bf is not None and bf.shape == (N,):
            bad = first_bad(np.diff(bf.astype(np.int64)) < 0) if N > 1 else None
            r.check(TM, bad is None, lambda: f"{where} cerebellum/brain_frame: decreases at index {bad + 1}")
            want = np.minimum(np.arange(N) // ratio, T - 1)
            bad = first_bad(bf != want)
            r.check(TM, bad is None, lambda: f"{where} cerebellum/brain_frame[{bad}] = {bf[bad]}, expected "
                    f"{want[bad]} (control step {bad} of frame floor({bad}/{ratio}), last frame {T - 1})")
    if sub is not None and pt is not None and ct is not None and pt.shape == ((N - 1) * sub,) and N > 1:
        end = np.abs(pt[sub - 1::sub] - ct[1:]).max()     # physics step times = end of the step
        start = np.abs(pt[::sub] - ct[:-1]).max()         # ... or its start
        r.check(TM, min(end, start) <= TIME_TOL,
                f"{where} cerebellum/physics_time: not aligned with cerebellum/time (every {sub}th physics "
                f"time should equal a control time; off by {min(end, start):.3g} s)")
    dn = arr("dones")
    if dn is not None and dn.shape == (T,):
        want = np.zeros(T, dtype=np.int64)
        want[-1] = 1
        bad = first_bad(dn.astype(np.int64) != want)
        r.check(TM, bad is None, lambda: f"{where} dones[{bad}] = {dn[bad]}, expected a single 1 on the last "
                f"frame ({T - 1})")
    for name in ["rewards", "sparse_rewards"]:
        a = arr(name)
        if a is not None:
            bad = first_bad(~((a >= 0) & (a <= 1)))
            r.check(TM, bad is None, lambda a=a, bad=bad, name=name: f"{where} {name}[{bad}] = {a.ravel()[bad]!r}, "
                    f"outside [0, 1]")
    a = arr("actions")
    if a is not None and a.ndim == 2 and a.shape[1] == 7:
        bad = first_bad(~np.isfinite(a).all(axis=1))
        r.check(TM, bad is None, lambda: f"{where} actions frame {bad}: not finite {a[bad].tolist()}")
        bad = first_bad(~((a[:, 6] >= 0) & (a[:, 6] <= 1)))
        r.check(TM, bad is None,
                lambda: f"{where} actions frame {bad}: gripper {a[bad, 6]!r} outside [0 open, 1 closed]")
    quats = [("obs/robot0_eef_quat", lambda x: x), ("cerebellum/eef_pose", lambda x: x[..., 3:7]),
             ("obs/object_poses", lambda x: x[..., 3:7])]
    quats += [(f"obs/{cam}_pose", lambda x: x[..., 3:7]) for cam, _, _ in ctx.cameras]
    for name, pick in quats:
        x = arr(name)
        if x is None or x.shape[-1] < 4:
            continue
        q = pick(x)
        n = np.linalg.norm(q, axis=-1)
        bad = first_bad(~(np.abs(n - 1) <= QUAT_TOL))
        r.check(TM, bad is None, lambda q=q, n=n, bad=bad, name=name: f"{where} {name}: quaternion at "
                f"{np.unravel_index(bad, n.shape)} has norm {n.ravel()[bad]!r} (w, x, y, z must be unit)")
    for cam, w, h in ctx.cameras:
        k = arr(f"obs/{cam}_intrinsics")
        if k is None or k.shape != (T, 4):
            continue
        ok = (k[:, 0] > 0) & (k[:, 1] > 0) & (k[:, 2] > 0) & (k[:, 2] < w) & (k[:, 3] > 0) & (k[:, 3] < h)
        bad = first_bad(~ok)
        r.check(TM, bad is None, lambda: f"{where} obs/{cam}_intrinsics frame {bad}: {k[bad].tolist()} "
                f"(fx, fy > 0; cx in (0, {w}); cy in (0, {h}))")
    K = dims.get("K")
    if K:
        st, bo, nm, fo = (arr("cerebellum/contacts/" + x) for x in ["step", "bodies", "normal", "force"])
        if st is not None and st.shape == (K,):
            bad = first_bad((st < 0) | (st > N - 1))
            r.check(TM, bad is None, lambda: f"{where} cerebellum/contacts/step[{bad}] = {st[bad]}, outside "
                    f"[0, {N - 1}]")
            bad = first_bad(np.diff(st.astype(np.int64)) < 0)
            r.check(TM, bad is None, lambda: f"{where} cerebellum/contacts/step decreases at {bad + 1}")
        if bo is not None and bo.shape == (K, 2):
            bad = first_bad((bo < -1).any(axis=1))
            r.check(TM, bad is None, lambda: f"{where} cerebellum/contacts/bodies[{bad}] = {bo[bad].tolist()} "
                    f"(-1 = ground, else a body index)")
        if nm is not None and nm.shape == (K, 3):
            n = np.linalg.norm(nm, axis=1)
            bad = first_bad(~(np.abs(n - 1) <= 1e-6))
            r.check(TM, bad is None, lambda: f"{where} cerebellum/contacts/normal[{bad}] has norm {n[bad]!r}")
        if fo is not None and fo.shape == (K,):
            bad = first_bad(~(fo >= 0))
            r.check(TM, bad is None, lambda: f"{where} cerebellum/contacts/force[{bad}] = {fo[bad]!r} < 0")

    # --- labels (images) ----------------------------------------------------------------
    poses = arr("obs/object_poses")
    for cam, w, h in ctx.cameras:
        names_needed = [f"obs/{cam}_{k}" for k in ("image", "depth", "instance", "semantic", "intrinsics", "pose")]
        if not all(n in present for n in names_needed):
            continue
        if present[f"obs/{cam}_depth"].shape != (T, h, w) or present[f"obs/{cam}_instance"].shape != (T, h, w):
            continue
        collect_labels(ctx, path, where, demo.name.split("/")[-1], present, cam, w, h, T, poses)
    return info


def collect_labels(ctx, path, where, demo_name, present, cam, w, h, T, poses):
    """Reads the camera's images (every frame, or a sample with --quick): NaN, depth/instance
    and semantic consistency, and every movable object's label truth (ids from find_ids)."""
    r = ctx.r
    L, I = "labels", "integrity"
    kmat = present[f"obs/{cam}_intrinsics"][()]
    cpose = present[f"obs/{cam}_pose"][()]
    frames = sample_frames(T, ctx.quick)
    dsets = {k: present[f"obs/{cam}_{k}"] for k in ("image", "depth", "instance", "semantic")}
    for k in dsets:
        ctx.read_image_datasets.add(f"data/{demo_name}/obs/{cam}_{k}")
    if ctx.quick:
        batches = [[t] for t in frames]
    else:
        batches = [list(range(t0, min(T, t0 + 32))) for t0 in range(0, T, 32)]
    objs = [o for o in ctx.ids
            if poses is not None and poses.ndim == 3 and poses.shape[0] == T and o < poses.shape[1]]
    vv, uu = np.mgrid[0:h, 0:w]
    for batch in batches:
        sl = slice(batch[0], batch[-1] + 1)
        imgs = {}
        for k, ds in dsets.items():
            try:
                imgs[k] = ds[sl]
            except Exception as e:  # noqa: BLE001
                r.fail(I, f"{where} obs/{cam}_{k} frames {batch[0]}..{batch[-1]}: cannot read: {e}")
        if "depth" in imgs:
            fin = np.isfinite(imgs["depth"])
            bad = first_bad(~fin)
            r.check(I, bad is None, lambda: f"{where} obs/{cam}_depth frame "
                    f"{batch[0] + np.unravel_index(bad, fin.shape)[0]}: non-finite depth at pixel "
                    f"(row, col) {np.unravel_index(bad, fin.shape)[1:]}")
        if "depth" not in imgs or "instance" not in imgs:
            continue
        dep, ins = imgs["depth"], imgs["instance"]
        sem = imgs.get("semantic")
        for j, t in enumerate(batch):
            ctx.label_frames += 1
            d, i = dep[j], ins[j]
            bg = i == 0
            bad = first_bad(bg != (d == 0))
            r.check(L, bad is None, lambda: f"{where} obs/{cam}_depth frame {t} pixel (row, col) "
                    f"{np.unravel_index(bad, d.shape)}: depth {d.ravel()[bad]!r} with instance "
                    f"{i.ravel()[bad]} (depth must be 0 exactly where instance is 0)")
            bad = first_bad(~bg & ~(d > 0))
            r.check(L, bad is None, lambda: f"{where} obs/{cam}_depth frame {t} pixel (row, col) "
                    f"{np.unravel_index(bad, d.shape)}: depth {d.ravel()[bad]!r} ≤ 0 on instance {i.ravel()[bad]}")
            if sem is not None:
                s = sem[j]
                bad = first_bad(bg & (s != 0))
                r.check(L, bad is None, lambda: f"{where} obs/{cam}_semantic frame {t} pixel (row, col) "
                        f"{np.unravel_index(bad, s.shape)}: semantic {s.ravel()[bad]} on the background "
                        f"(instance 0)")
                if t == batch[0] or ctx.quick:
                    sb = sem[j:] if not ctx.quick else s
                    ib = ins[j:] if not ctx.quick else i
                    pairs = np.unique((ib.astype(np.uint64) << np.uint64(32)) | sb.astype(np.uint64))
                    for p in pairs.tolist():
                        ctx.inst_sem.setdefault(p >> 32, {}).setdefault(
                            p & 0xFFFFFFFF, (where, cam, str(t) if ctx.quick else f"{t}..{batch[-1]}"))
            if not objs:
                continue
            mx = int(i.max())
            present_ids = set(np.flatnonzero(np.bincount(i.ravel())).tolist()) if mx < (1 << 20) \
                else set(np.unique(i).tolist())
            fx, fy, cx, cy = kmat[t]
            r_wc, t_wc = quat_to_matrix(cpose[t, 3:7]), cpose[t, :3]
            for o in objs:
                oid = ctx.ids[o]
                st = ctx.label_stats[o]
                if oid not in present_ids:
                    st["absent"] += 1
                    continue
                key = (where, cam, o)
                rec = project(kmat[t], cpose[t], poses[t, o, :3])
                # Every pixel of the mask back-projects (z-depth, K, X_WC) near the origin.
                m = i == oid
                zs = d[m]
                p_c = np.stack([(uu[m] + 0.5 - cx) / fx * zs, (vv[m] + 0.5 - cy) / fy * zs, zs], axis=-1)
                dist = np.linalg.norm(p_c @ r_wc.T + t_wc - poses[t, o, :3], axis=-1)
                k = int(np.argmax(dist))
                if dist[k] < DEPTH_BOUND:
                    r.check(L, True, "")
                else:
                    ctx.label_fail(key, "backproject", where, T,
                                   f"{where} obs/{cam}_depth frame {t}: {label_of(ctx, o)} (id {oid}) mask pixel "
                                   f"(row {vv[m][k]}, col {uu[m][k]}) at depth {zs[k]:.4f} m back-projects "
                                   f"{dist[k]:.3f} m from the object's origin (≥ {DEPTH_BOUND} m)")
                if rec is None or not (0 <= math.floor(rec[0]) < w and 0 <= math.floor(rec[1]) < h):
                    st["out"] += 1
                    continue
                u, v, z = rec
                c, rr = math.floor(u), math.floor(v)
                win = []
                for y in range(max(rr - 1, 0), min(rr + 2, h)):
                    for x in range(max(c - 1, 0), min(c + 2, w)):
                        if i[y, x] == oid:
                            win.append((math.hypot(x + 0.5 - u, y + 0.5 - v), y, x))
                if win:
                    st["hit"] += 1
                    r.check(L, True, "")
                    _, y, x = min(win)
                    if abs(d[y, x] - z) < DEPTH_BOUND:
                        r.check(L, True, "")
                    else:
                        ctx.label_fail(key, "depth", where, T,
                                       f"{where} obs/{cam}_depth frame {t}: {label_of(ctx, o)} (id {oid}) depth "
                                       f"{d[y, x]:.4f} m at its mask pixel nearest the projection (row {y}, col "
                                       f"{x}) but its origin is at z = {z:.4f} m (|Δ| ≥ {DEPTH_BOUND} m)")
                    continue
                cid, cdep = int(i[rr, c]), float(d[rr, c])
                if cid != 0 and cdep < z:
                    st["occluded"] += 1          # something nearer the camera hides the origin
                    continue
                st["miss"] += 1
                ys, xs = np.nonzero(m)
                dm = np.hypot(xs + 0.5 - u, ys + 0.5 - v)
                n = int(np.argmin(dm))
                ctx.label_fail(key, "mask", where, T,
                               f"{where} obs/{cam}_instance frame {t}: {label_of(ctx, o)} (id {oid}) origin "
                               f"projects to (u, v) = ({u:.2f}, {v:.2f}), pixel (row {rr}, col {c}) = id {cid} at "
                               f"depth {cdep:.4f} m (origin z {z:.4f} m), not in its mask within 1 px; its mask "
                               f"({ys.size} px, centroid row {ys.mean():.1f} col {xs.mean():.1f}) is {dm[n]:.1f} "
                               f"px away at its nearest (row {ys[n]}, col {xs[n]})")


def label_of(ctx, o):
    names = ctx.object_names or []
    return names[o] if o < len(names) else f"object {o}"


def project(k, pose, p_w):
    """Origin p_W → (u, v, z_cam) with X_WC = pose (x y z qw qx qy qz) and K = (fx fy cx cy)."""
    r_wc = quat_to_matrix(pose[3:7])
    p_c = r_wc.T @ (np.asarray(p_w, dtype=np.float64) - pose[:3])
    if not p_c[2] > 1e-6:
        return None
    fx, fy, cx, cy = k
    return fx * p_c[0] / p_c[2] + cx, fy * p_c[1] / p_c[2] + cy, float(p_c[2])


def each_demo(ctx):
    """(path, demo group) of every readable demo; errors are reported by the other groups."""
    for _, path in ctx.hdf5_files:
        try:
            with h5py.File(path, "r") as f:
                if "data" not in f:
                    continue
                for name in sorted(f["data"]):
                    if re.fullmatch(r"demo_\d+", name) and isinstance(f["data"][name], h5py.Group):
                        yield path, f["data"][name]
        except Exception:  # noqa: BLE001
            continue


def find_movable(ctx):
    """Objects whose pose changes over some demo or between demos (furniture never moves)."""
    ref = moving = None
    for _, demo in each_demo(ctx):
        try:
            p = demo["obs/object_poses"][()]
        except Exception:  # noqa: BLE001
            continue
        if p.ndim != 3 or p.shape[0] == 0 or p.shape[2] != 7:
            continue
        if ref is None:
            ref, moving = p[0], np.zeros(p.shape[1], dtype=bool)
        if p.shape[1:] == ref.shape:
            moving |= (p != ref[None]).any(axis=(0, 2))
    return moving


def find_ids(ctx):
    """Each movable object's instance id: the id under its projected origin most often, over a
    sample of frames of every demo and camera."""
    r, L = ctx.r, "labels"
    ctx.ids, ctx.label_stats = {}, {}
    for _, path in ctx.hdf5_files:
        try:
            with h5py.File(path, "r") as f:
                names = json.loads(attr_value(f["data"].attrs["env_args"])).get("object_names")
            if isinstance(names, list) and all(isinstance(n, str) for n in names):
                ctx.object_names = names
                break
        except Exception:  # noqa: BLE001 - reported by the structure group
            continue
    moving = find_movable(ctx)
    ctx.movable = moving
    if moving is None:
        r.fail(L, "no readable obs/object_poses: label truth not checked")
        return
    movable = [o for o in range(len(moving)) if moving[o]]
    if not r.check(L, len(movable) > 0, "no movable objects (no object pose ever changes): label truth not checked"):
        return
    votes = {o: {} for o in movable}
    inside = {o: 0 for o in movable}
    for _, demo in each_demo(ctx):
        try:
            poses = demo["obs/object_poses"]
            T = poses.shape[0]
            frames = sample_frames(T, True)
            poses = poses[()]
            for cam, w, h in ctx.cameras:
                kmat = demo[f"obs/{cam}_intrinsics"][()]
                cpose = demo[f"obs/{cam}_pose"][()]
                inst = demo[f"obs/{cam}_instance"]
                for t in frames:
                    img = inst[t]
                    for o in movable:
                        rec = project(kmat[t], cpose[t], poses[t, o, :3])
                        if rec is None:
                            continue
                        c, rr = math.floor(rec[0]), math.floor(rec[1])
                        if 0 <= c < w and 0 <= rr < h:
                            inside[o] += 1
                            cid = int(img[rr, c])
                            if cid:
                                votes[o][cid] = votes[o].get(cid, 0) + 1
        except Exception:  # noqa: BLE001 - reported by the other groups
            continue
    for o in movable:
        v = votes[o]
        if not r.check(L, bool(v), f"{label_of(ctx, o)}: its origin never projects onto a labelled pixel "
                       f"({inside[o]} sampled in-view frames): no instance id found, labels not checked"):
            continue
        best = max(v, key=lambda k: (v[k], -k))
        if r.check(L, v[best] * 2 > inside[o],
                   f"{label_of(ctx, o)}: no consistent instance id: the id most often under its projected origin "
                   f"is {best}, in only {v[best]} of {inside[o]} sampled in-view frames "
                   f"(votes {dict(sorted(v.items()))})"):
            ctx.ids[o] = best
            ctx.label_stats[o] = {"hit": 0, "occluded": 0, "miss": 0, "out": 0, "absent": 0}
    by_id = {}
    for o, i in ctx.ids.items():
        by_id.setdefault(i, []).append(o)
    for i, os_ in by_id.items():
        if not r.check(L, len(os_) == 1, f"instance id {i} is the best match of several objects "
                       f"{[label_of(ctx, o) for o in os_]}: instance ids are not per object"):
            for o in os_:
                ctx.ids.pop(o, None)
                ctx.label_stats.pop(o, None)


def check_labels(ctx):
    """After the image pass: aggregated failures, semantic consistency, occlusion sanity, summary."""
    r, L = ctx.r, "labels"
    for (where, cam, o, kind), (msg, n, T) in ctx.label_failures.items():
        r.fail_many(L, n, f"{msg} [{kind} check fails in {n} of {T} frames of {where.split()[-1]}]")
    for i, sems in sorted(ctx.inst_sem.items()):
        if len(sems) > 1:
            w, cam, t = sems[sorted(sems)[1]]
        r.check(L, len(sems) == 1, lambda i=i, sems=sems: f"instance id {i} has several semantic ids "
                f"{sorted(sems)} (e.g. {w} obs/{cam}_semantic frames {t})")
    unclassed = sorted(i for i, sems in ctx.inst_sem.items() if i != 0 and 0 in sems)
    if unclassed:
        r.warn(L, f"instance ids {unclassed} have semantic id 0 (background) in the semantic images "
                  f"(things with no semantic class, e.g. the robot's links)")
    for o, st in ctx.label_stats.items():
        vis = st["hit"] + st["occluded"] + st["miss"]
        r.check(L, vis == 0 or st["occluded"] * 2 <= vis,
                f"{label_of(ctx, o)} (id {ctx.ids[o]}): origin hidden in {st['occluded']} of {vis} frames where "
                f"it is visible and in view (more than half: the projection or the labels are suspect)")
        r.check(L, vis > 0, f"{label_of(ctx, o)} (id {ctx.ids[o]}): never visible with its origin in view: "
                f"its labels were not checked")
    parts = [f"{label_of(ctx, o)}={ctx.ids[o]}: {st['hit']} in mask, {st['occluded']} occluded, "
             f"{st['miss']} missed" for o, st in ctx.label_stats.items()]
    moving = ctx.movable if ctx.movable is not None else []
    static = [label_of(ctx, o) for o in range(len(moving)) if not moving[o]]
    r.summary(L, f"{ctx.label_frames} frames; " + "; ".join(parts) +
              (f" (static, not projected: {', '.join(static)})" if static else ""))


def fallback_settings(ctx):
    """Without a usable manifest: cameras and rates from the first HDF5 file, so that the
    HDF5 checks still run (the manifest's failure is reported by its group)."""
    if ctx.cameras and len(ctx.rates) == 3:
        return
    for _, path in ctx.hdf5_files:
        try:
            with h5py.File(path, "r") as f:
                env = json.loads(attr_value(f["data"].attrs["env_args"]))
                kw = env.get("env_kwargs", {}) if isinstance(env, dict) else {}
                for key in ["physics_hz", "control_hz", "brain_hz"]:
                    v = kw.get(key, env.get(key))
                    if key not in ctx.rates and is_num(v) and v > 0:
                        ctx.rates[key] = float(v)
                        ctx.r.warn("manifest", f"rates.{key} taken from {ctx.rel(path)} env_args")
                if not ctx.cameras:
                    for demo in f["data"].values():
                        for key, ds in demo["obs"].items():
                            if key.endswith("_image") and isinstance(ds, h5py.Dataset) and ds.ndim == 4:
                                ctx.cameras.append((key[:-len("_image")], ds.shape[2], ds.shape[1]))
                        break
                    if ctx.cameras:
                        ctx.r.warn("manifest", f"cameras {[c[0] for c in ctx.cameras]} taken from "
                                               f"{ctx.rel(path)}")
            break
        except Exception:  # noqa: BLE001 - reported by the integrity group
            continue
    if len(ctx.rates) < 3 or integral_ratio(ctx.rates.get("physics_hz"), ctx.rates.get("control_hz")) is None:
        ctx.r.fail("structure", "physics steps per control step unknown (no usable rates in manifest.json "
                                "or env_args): M = (N-1)·substeps and physics_time spacing not checked")


def _crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


CRC32C_TABLE = _crc32c_table()


def masked_crc32c(data):
    """TFRecord's masked CRC-32C (Castagnoli) of `data`."""
    crc = 0xFFFFFFFF
    for b in data:
        crc = CRC32C_TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    crc ^= 0xFFFFFFFF
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def check_tfrecords(ctx):
    """Every RLDS TFRecord: framing and both CRCs of every record, one record per kept episode."""
    r = ctx.r
    shards_dir = os.path.join(ctx.root, "shards")
    if not os.path.isdir(shards_dir):
        return
    files = 0
    for name in sorted(os.listdir(shards_dir)):
        rlds = os.path.join(shards_dir, name, "rlds")
        if name.startswith(".") or not os.path.isdir(rlds):
            continue
        for fname in sorted(os.listdir(rlds)):
            if not fname.endswith(".tfrecord"):
                continue
            path = os.path.join(rlds, fname)
            rel = ctx.rel(path)
            files += 1
            with open(path, "rb") as f:
                data = f.read()
            at, records = 0, 0
            while at < len(data):
                if not r.check("integrity", at + 12 <= len(data), f"{rel}: truncated record header at byte {at}"):
                    break
                length = int.from_bytes(data[at:at + 8], "little")
                length_crc = int.from_bytes(data[at + 8:at + 12], "little")
                if not r.check("integrity", masked_crc32c(data[at:at + 8]) == length_crc,
                               f"{rel}: record {records} at byte {at}: length CRC mismatch"):
                    break
                end = at + 12 + length
                if not r.check("integrity", end + 4 <= len(data), f"{rel}: record {records} at byte {at}: truncated"):
                    break
                data_crc = int.from_bytes(data[end:end + 4], "little")
                r.check("integrity", masked_crc32c(data[at + 12:end]) == data_crc,
                        f"{rel}: record {records} at byte {at}: data CRC mismatch")
                at = end + 4
                records += 1
            sj, _ = load_json(os.path.join(shards_dir, name, "shard.json"))
            if isinstance(sj, dict) and is_int(sj.get("kept")):
                r.check("integrity", records == sj["kept"],
                        f"{rel}: {records} records, shard.json keeps {sj['kept']} episode(s)")
    ctx.tfrecord_files = files


# ----------------------------------------------------------------------------------------
# Labels, cross-check: the BOP and COCO files of a shard against its HDF5 file

BOP_T_TOL = 1e-3     # mm: cam_t_m2c against the HDF5 poses
BOP_R_TOL = 1e-6     # cam_R_m2c entries
BOP_K_TOL = 1e-9     # cam_K entries (pixels)


def coco_rle_decode(counts, h, w):
    """COCO's compressed RLE string → [h, w] bool mask. Runs alternate background and
    foreground starting with background, over the pixels in column-major order; each run is
    a variable-length number in 5-bit groups (character = group + 48; 0x20 = more follow;
    0x10 in the last group = negative), runs after the second stored as the difference
    from the run two before."""
    runs, p, data = [], 0, counts.encode("ascii") if isinstance(counts, str) else bytes(counts)
    while p < len(data):
        x, k, more = 0, 0, True
        while more:
            if p >= len(data):
                raise ValueError("truncated RLE string")
            c = data[p] - 48
            x |= (c & 0x1F) << (5 * k)
            more = bool(c & 0x20)
            p += 1
            k += 1
            if not more and (c & 0x10):
                x |= -1 << (5 * k)
        if len(runs) > 2:
            x += runs[-2]
        runs.append(x)
    flat = np.zeros(h * w, dtype=bool)
    at, value = 0, False
    for n in runs:
        if n < 0 or at + n > h * w:
            raise ValueError(f"run of {n} pixels at pixel {at} leaves the {h} x {w} image")
        flat[at:at + n] = value
        at += n
        value = not value
    if at != h * w:
        raise ValueError(f"runs cover {at} of {h * w} pixels")
    return flat.reshape((w, h)).T


def object_table(f):
    """[(name, instance ids, semantic class)] from env_args' objects table, or None."""
    try:
        table = json.loads(attr_value(f["data"].attrs["env_args"]))["objects"]
        return [(o["name"], [int(i) for i in o["instance_ids"]], int(o["semantic_class"])) for o in table]
    except Exception:  # noqa: BLE001 - the structure group reports a bad env_args
        return None


def read_png(path):
    import cv2  # python3-opencv; imported here so the HDF5 checks run without it
    img = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if img is not None and img.ndim == 3 and img.shape[2] == 3:
        img = img[:, :, ::-1]  # BGR → RGB
    return img


def check_cross(ctx):
    """Where a shard has BOP or COCO labels next to its HDF5 file: the same frames must carry
    the same truth. BOP: K, every object's pose (X_WC⁻¹ X_WO, mm), the RGB and depth images
    and every object's mask_visib (its instance ids' pixels); COCO: an image per frame, and
    an annotation exactly for the objects with visible pixels, with their class, area, box
    and RLE mask."""
    r, L = ctx.r, "labels"
    shards_with = 0
    for _, path in ctx.hdf5_files:
        shard_dir = os.path.dirname(path)
        bop_dir, coco_dir = os.path.join(shard_dir, "bop"), os.path.join(shard_dir, "coco")
        has_bop, has_coco = os.path.isdir(bop_dir), os.path.isdir(coco_dir)
        if not (has_bop or has_coco):
            continue
        try:
            import cv2  # noqa: F401
        except ImportError:
            r.fail(L, "cross-check of BOP/COCO against HDF5 needs python3-opencv (cv2) to read the PNGs")
            return
        shards_with += 1
        rel = ctx.rel(shard_dir)
        coco = {}
        if has_coco:
            for cam, _, _ in ctx.cameras:
                cp = os.path.join(coco_dir, f"{cam}.json")
                d, err = load_json(cp)
                if not r.check(L, isinstance(d, dict), f"{rel}/coco/{cam}.json: {err or 'not a JSON object'}"):
                    continue
                images = {im.get("id"): im for im in d.get("images", []) if isinstance(im, dict)}
                anns = {}
                for a in d.get("annotations", []):
                    if isinstance(a, dict):
                        anns.setdefault(a.get("image_id"), []).append(a)
                coco[cam] = (images, anns)
        try:
            f = h5py.File(path, "r")
        except Exception:  # noqa: BLE001 - reported by the integrity group
            continue
        with f:
            objects = object_table(f)
            if not r.check(L, objects is not None, f"{ctx.rel(path)}: env_args has no objects table: "
                           "BOP/COCO not cross-checked"):
                continue
            for name in sorted(f["data"]) if "data" in f else []:
                demo = f["data"][name]
                if not (re.fullmatch(r"demo_\d+", name) and isinstance(demo, h5py.Group)):
                    continue
                try:
                    episode = int(attr_value(demo.attrs["episode"]))
                    poses = demo["obs/object_poses"][()]
                except Exception:  # noqa: BLE001 - reported by the structure group
                    continue
                T = poses.shape[0]
                frames = sample_frames(T, ctx.quick)
                for cam, w, h in ctx.cameras:
                    try:
                        kmat = demo[f"obs/{cam}_intrinsics"][()]
                        cpose = demo[f"obs/{cam}_pose"][()]
                        inst, rgb, depth = (demo[f"obs/{cam}_{k}"] for k in ("instance", "image", "depth"))
                    except Exception:  # noqa: BLE001
                        continue
                    where = f"{rel} {name} camera {cam}"
                    if has_bop:
                        cross_bop(ctx, os.path.join(bop_dir, cam, f"{episode:06d}"), where, objects, frames,
                                  kmat, cpose, poses, inst, rgb, depth)
                    if cam in coco:
                        cross_coco(ctx, shard_dir, coco[cam], where, episode, objects, frames, inst, rgb, w, h)
    if shards_with:
        r.groups[L]["summary"] += f"; BOP/COCO labels of {shards_with} shard(s) cross-checked with the HDF5"


def cross_bop(ctx, scene, where, objects, frames, kmat, cpose, poses, inst, rgb, depth):
    r, L = ctx.r, "labels"
    gt, err1 = load_json(os.path.join(scene, "scene_gt.json"))
    cams, err2 = load_json(os.path.join(scene, "scene_camera.json"))
    if not r.check(L, isinstance(gt, dict) and isinstance(cams, dict),
                   f"{where}: BOP scene {ctx.rel(scene)}: scene_gt.json / scene_camera.json unreadable "
                   f"({err1 or err2 or 'not JSON objects'})"):
        return
    for t in frames:
        at = f"{where} frame {t}: BOP {ctx.rel(scene)}"
        try:
            frame_rgb, frame_depth, frame_inst = rgb[t], depth[t], inst[t]
        except Exception:  # noqa: BLE001 - unreadable HDF5 data: reported by the integrity group
            continue
        cam, gts = cams.get(str(t)), gt.get(str(t))
        if not r.check(L, isinstance(cam, dict) and isinstance(gts, list), f"{at}: no scene_camera/scene_gt entry"):
            continue
        fx, fy, cx, cy = (float(v) for v in kmat[t])
        want_k = np.array([fx, 0, cx - 0.5, 0, fy, cy - 0.5, 0, 0, 1])
        r.check(L, np.allclose(np.asarray(cam.get("cam_K", []), dtype=np.float64).reshape(-1)[:9] if
                               len(cam.get("cam_K", [])) == 9 else np.full(9, np.nan), want_k, rtol=0, atol=BOP_K_TOL),
                f"{at}: cam_K {cam.get('cam_K')} is not the HDF5 intrinsics' {want_k.tolist()}")
        depth_scale = float(cam.get("depth_scale", 0) or 0)
        r_wc = quat_to_matrix(cpose[t][3:7])
        p_wc = np.asarray(cpose[t][:3], dtype=np.float64)
        by_id = {e.get("obj_id"): e for e in gts if isinstance(e, dict)}
        r.check(L, sorted(by_id) == list(range(1, len(objects) + 1)),
                f"{at}: scene_gt lists obj_ids {sorted(by_id)}, the HDF5 has {len(objects)} objects")
        for o in range(len(objects)):
            e = by_id.get(o + 1)
            if e is None:
                continue
            r_co = r_wc.T @ quat_to_matrix(poses[t, o, 3:7])
            p_co = r_wc.T @ (np.asarray(poses[t, o, :3], dtype=np.float64) - p_wc) * 1000.0
            got_r = np.asarray(e.get("cam_R_m2c", []), dtype=np.float64).reshape(-1)
            got_t = np.asarray(e.get("cam_t_m2c", []), dtype=np.float64).reshape(-1)
            r.check(L, got_r.size == 9 and np.allclose(got_r, r_co.reshape(-1), rtol=0, atol=BOP_R_TOL),
                    f"{at}: {objects[o][0]} cam_R_m2c differs from the HDF5 poses (X_WC^-1 X_WO)")
            r.check(L, got_t.size == 3 and np.allclose(got_t, p_co, rtol=0, atol=BOP_T_TOL),
                    lambda got_t=got_t, p_co=p_co, o=o: f"{at}: {objects[o][0]} cam_t_m2c {got_t.tolist()} mm, the "
                    f"HDF5 poses give {np.round(p_co, 3).tolist()} mm")
        img = read_png(os.path.join(scene, "rgb", f"{t:06d}.png"))
        r.check(L, img is not None and img.shape == frame_rgb.shape and np.array_equal(img, frame_rgb),
                f"{at}: rgb/{t:06d}.png is not the HDF5 image")
        dpng = read_png(os.path.join(scene, "depth", f"{t:06d}.png"))
        if depth_scale > 0 and dpng is not None and dpng.shape == frame_depth.shape:
            units = frame_depth.astype(np.float64) * 1000.0 / depth_scale
            want = np.where(units > 0, np.minimum(np.floor(units + 0.5), 65535), 0)
            bad = np.abs(dpng.astype(np.float64) - want) > 1
            r.check(L, not bad.any(), lambda bad=bad: f"{at}: depth/{t:06d}.png differs from the HDF5 depth "
                    f"(x depth_scale) in {int(bad.sum())} pixels")
        else:
            r.fail(L, f"{at}: depth/{t:06d}.png unreadable, of the wrong size, or no depth_scale")
        for o, (oname, ids, _) in enumerate(objects):
            mp = os.path.join(scene, "mask_visib", f"{t:06d}_{o:06d}.png")
            m = read_png(mp)
            visible = np.isin(frame_inst, ids)
            if not r.check(L, m is not None and m.shape == visible.shape, f"{at}: {ctx.rel(mp)} unreadable"):
                continue
            bad = (m != 0) != visible
            r.check(L, not bad.any(), lambda bad=bad, oname=oname, mp=mp: f"{at}: {ctx.rel(mp)}: {oname}'s visible mask "
                    f"differs from the HDF5 instance image in {int(bad.sum())} pixels")


def cross_coco(ctx, shard_dir, coco, where, episode, objects, frames, inst, rgb, w, h):
    r, L = ctx.r, "labels"
    images, anns = coco
    for t in frames:
        image_id = episode * 100000 + t
        at = f"{where} frame {t}: COCO image {image_id}"
        im = images.get(image_id)
        if not r.check(L, isinstance(im, dict), f"{at}: not in the camera's COCO file"):
            continue
        try:
            frame_rgb, frame_inst = rgb[t], inst[t]
        except Exception:  # noqa: BLE001 - unreadable HDF5 data: reported by the integrity group
            continue
        fn = im.get("file_name", "")
        if not fn.startswith("bop/"):  # BOP's images are cross-checked with BOP
            img = read_png(os.path.join(shard_dir, fn))
            r.check(L, img is not None and img.shape == frame_rgb.shape and np.array_equal(img, frame_rgb),
                    f"{at}: {fn} is not the HDF5 image")
        by_object = {}
        for a in anns.get(image_id, []):
            by_object[a.get("id", -1) - image_id * 100] = a
        for o, (oname, ids, cls) in enumerate(objects):
            visible = np.isin(frame_inst, ids)
            n = int(visible.sum())
            a = by_object.pop(o, None)
            if n == 0:
                r.check(L, a is None, f"{at}: an annotation for {oname}, which has no visible pixel in the HDF5")
                continue
            if not r.check(L, a is not None, f"{at}: no annotation for {oname} ({n} visible pixels in the HDF5)"):
                continue
            ys, xs = np.nonzero(visible)
            want_box = [float(xs.min()), float(ys.min()), float(xs.max() - xs.min() + 1), float(ys.max() - ys.min() + 1)]
            r.check(L, a.get("category_id") == cls, f"{at}: {oname} category_id {a.get('category_id')}, expected {cls}")
            r.check(L, a.get("area") == n, f"{at}: {oname} area {a.get('area')}, the HDF5 has {n} visible pixels")
            r.check(L, [float(v) for v in a.get("bbox", [])] == want_box,
                    f"{at}: {oname} bbox {a.get('bbox')}, the HDF5 pixels span {want_box}")
            seg = a.get("segmentation") or {}
            try:
                mask = coco_rle_decode(seg.get("counts", ""), h, w)
                bad = int((mask != visible).sum())
            except ValueError as e:
                bad, mask = -1, str(e)
            r.check(L, bad == 0, lambda bad=bad, mask=mask, oname=oname: f"{at}: {oname} RLE mask " +
                    (f"differs from the HDF5 instance image in {bad} pixels" if bad > 0 else f"does not decode: {mask}"))
        r.check(L, not by_object, lambda by_object=by_object: f"{at}: annotations for no object of the HDF5: ids "
                f"{sorted(a.get('id') for a in by_object.values())}")


def main(argv=None):
    ap = argparse.ArgumentParser(description="Independent checker of a parafab dataset directory.")
    ap.add_argument("dir", help="dataset directory (holds manifest.json, run.json, shards/)")
    ap.add_argument("--quick", action="store_true", help="check a sample of frames per demo")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    root = os.path.abspath(args.dir)
    if not os.path.isdir(root):
        print(f"check_dataset: {args.dir}: no such directory", file=sys.stderr)
        return 2
    if not any(os.path.exists(os.path.join(root, n)) for n in ("manifest.json", "run.json", "shards")):
        print(f"check_dataset: {args.dir}: not a parafab dataset (no manifest.json, run.json or shards/)",
              file=sys.stderr)
        return 2

    report = Report()
    ctx = Context(root, args.quick, report)
    check_manifest(ctx)
    fallback_settings(ctx)
    find_ids(ctx)
    for shard, path in ctx.hdf5_files:
        ctx.read_image_datasets = set()
        check_hdf5_file(ctx, shard, path)
    check_labels(ctx)
    check_cross(ctx)
    check_counts(ctx)
    check_tfrecords(ctx)
    if not report.groups["structure"]["summary"]:
        report.summary("structure", f"{len(ctx.demo_info)} demo(s) in {len(ctx.hdf5_files)} HDF5 file(s)")
    if not report.groups["timing"]["summary"]:
        report.summary("timing", ", ".join(f"{k} {v:g}" for k, v in ctx.rates.items()))
    if not report.groups["integrity"]["summary"]:
        report.summary("integrity", f"{sum(1 for v in ctx.hdf5_ok.values() if v)} of {len(ctx.hdf5_files)} "
                                    f"HDF5 file(s) read back" + (" (sampled image frames)" if args.quick else "") +
                                    (f", {ctx.tfrecord_files} TFRecord file(s) CRC-checked"
                                     if getattr(ctx, "tfrecord_files", 0) else ""))

    passed, failed = report.totals()
    if args.json:
        out = {"dataset": root, "quick": args.quick, "ok": failed == 0, "passed": passed, "failed": failed,
               "groups": [{"name": g, **report.groups[g]} for g in GROUPS]}
        print(json.dumps(out, indent=1))
    else:
        for g in GROUPS:
            grp = report.groups[g]
            n = grp["passed"] + grp["failed"]
            status = "FAIL" if grp["failed"] else ("PASS" if n else "----")
            tail = f"{grp['failed']} of {n} checks failed" if grp["failed"] else f"{n} checks"
            print(f"{status} {g:<9} {tail}: {grp['summary']}")
            for m in grp["failures"][:MAX_SHOWN]:
                print(f"     {m}")
            if len(grp["failures"]) > MAX_SHOWN:
                print(f"     ... and {len(grp['failures']) - MAX_SHOWN} more (--json lists them)")
            for m in grp["warnings"]:
                print(f"     warning: {m}")
        print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
