#!/usr/bin/env bash
# Installs parafab from the build tree into a private prefix, then configures, builds and
# runs the hello_vecenv example as an outside project with find_package(parafab): the
# installed package must be complete on its own (headers, library, CMake config).
#   find_package_test.sh BUILD_DIR SOURCE_DIR WORK_DIR [CXX_FLAGS]
# CXX_FLAGS (e.g. -fsanitize=address,undefined in a sanitizer build) go to the outside
# project's compile and link.
set -euo pipefail
build=$1 source=$2 work=$3 flags=${4:-}
rm -rf "$work"
mkdir -p "$work"
cmake --install "$build" --prefix "$work/prefix" > "$work/install.log"
for f in lib/libparafab.so include/pf/rl/vec_env.h include/pf/core/result.h \
         lib/cmake/parafab/parafabConfig.cmake lib/cmake/parafab/parafabConfigVersion.cmake bin/parafab; do
  [[ -e "$work/prefix/$f" ]] || { echo "not installed: $f"; exit 1; }
done
# Only the two public headers: nothing from the other modules or third parties.
headers=$(cd "$work/prefix/include" && find . -type f | sort | tr '\n' ' ')
[[ "$headers" == "./pf/core/result.h ./pf/rl/vec_env.h " ]] || { echo "unexpected headers: $headers"; exit 1; }
# A fresh project that knows nothing of the source tree.
cp -r "$source/apps/examples/hello_vecenv" "$work/hello_src"
cmake -S "$work/hello_src" -B "$work/hello" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" \
      -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$flags" > "$work/configure.log"
cmake --build "$work/hello" > "$work/build.log"
# A package version the install does not satisfy is refused.
mkdir -p "$work/too_new"
cat > "$work/too_new/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.25)
project(too_new LANGUAGES CXX)
find_package(parafab 99.0 REQUIRED)
CMAKE
if cmake -S "$work/too_new" -B "$work/too_new/build" -DCMAKE_PREFIX_PATH="$work/prefix" > "$work/too_new.log" 2>&1; then
  echo "find_package(parafab 99.0) should fail"; exit 1
fi
"$work/hello/hello_vecenv" --envs 4 --steps 150 | tee "$work/run.log"
grep -q '^summary: ' "$work/run.log"
grep -q ' successes' "$work/run.log"
# The policy reaches some goals within 150 steps: at least one success.
grep -q 'success after' "$work/run.log"
echo "find_package(parafab) OK"
