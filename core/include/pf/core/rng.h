// Counter-based random numbers (Philox4x32-10, Salmon et al., SC'11).
//
// A draw is a pure function of (key, counter): there is no hidden state that depends
// on time, addresses, threads or the order in which envs run. Every random number in
// parafab comes from a `CounterRng` built from an `RngKey`:
//
//   key     = mix(scenario_hash, seed)                 -> the two Philox key words
//   counter = [draw index (64 bit) | mix(episode, stream, substream) (64 bit)]
//
// so env i's episode e draws the same numbers whether it runs alone, in a batch of 4096,
// on 1 or 16 threads, or on shard 7 of 64. Streams separate independent uses; the
// substream is the index of the thing drawn for (object index, joint index, ...).
#pragma once

#include <array>
#include <cstdint>

namespace pf::core {

// The documented random streams. A new use of randomness gets a new stream value;
// existing values never change (that would change every dataset).
enum class RngStream : std::uint32_t {
  kActions = 1,         // pseudo-random action stream of `parafab run` and `bench`
  kInitialState = 2,    // initial joint and object state noise
  kPlacement = 3,       // object placement in regions
  kPhysicsParams = 4,   // mass, friction, restitution, gains, damping randomization
  kVisual = 5,          // material colours, textures, light direction/colour/intensity
  kCamera = 6,          // camera pose jitter and field of view
  kDistractors = 7,     // distractor object choice and placement
  kProcedural = 8,      // procedural part dimensions and deformation
  kExpert = 9,          // scripted expert noise
  kTask = 10,           // task choices: target object, language phrasing
  kTest = 1000,         // tests only
};

struct RngKey {
  std::uint64_t scenario_hash = 0;  // hash of the compiled scenario
  std::uint64_t seed = 0;           // user seed
  std::uint64_t episode = 0;        // episode index
  RngStream stream = RngStream::kTest;
  std::uint64_t substream = 0;      // e.g. object or env index inside the stream
};

// Philox4x32-10 block function: 4 output words for a 4-word counter and 2-word key.
std::array<std::uint32_t, 4> Philox4x32(std::array<std::uint32_t, 4> counter,
                                        std::array<std::uint32_t, 2> key);

// SplitMix64 finalizer: a bijective 64-bit mixer.
std::uint64_t Mix64(std::uint64_t x);

class CounterRng {
 public:
  explicit CounterRng(const RngKey& key);

  // Raw 32-bit words; consecutive calls walk the counter, 4 words per Philox block.
  std::uint32_t NextU32();
  std::uint64_t NextU64();
  // Uniform in [0, 1) with 53 random bits.
  double Uniform01();
  // Uniform in [lo, hi).
  double Uniform(double lo, double hi);
  // Uniform integer in [0, n), unbiased (rejection); n > 0.
  std::uint64_t UniformInt(std::uint64_t n);
  // Standard normal (Box-Muller on two uniforms; uses no cached spare).
  double Normal();
  double Normal(double mean, double stddev) { return mean + stddev * Normal(); }

  // Position in the stream (number of 32-bit words drawn); Seek restores it.
  std::uint64_t Position() const { return block_ * 4 + word_ % 4; }
  void Seek(std::uint64_t position);

 private:
  void Refill();

  std::array<std::uint32_t, 2> key_{};
  std::uint64_t stream_word_ = 0;  // high 64 bits of the counter
  std::uint64_t block_ = 0;        // low 64 bits of the counter
  std::array<std::uint32_t, 4> buffer_{};
  std::uint32_t word_ = 4;         // next word in buffer_ (4 = empty)
};

}  // namespace pf::core
