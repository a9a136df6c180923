// Learning through pf::VecEnv: the cross-entropy method (CEM) trains a linear policy for the
// reach task from the state observation. Deterministic (fixed seeds, counted steps, not
// seconds): success of the mean policy goes from ~0 to >= 80 % within a fixed budget.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include <catch2/catch.hpp>

#include "pf/core/rng.h"
#include "pf/rl/vec_env.h"

namespace pf::rl {
namespace {

constexpr int kParams = 12;  // a = clip(10 · W · (goal - ee) + b): W 3x3, b 3

int FieldOffset(const TensorSpec& spec, const std::string& name) {
  for (const FieldSpec& f : spec.fields)
    if (f.name == name) return f.offset;
  FAIL("no field " << name);
  return -1;
}

struct Evaluation {
  std::vector<double> score;      // per candidate: mean episode return
  std::vector<double> success;    // per candidate: success rate
  long env_steps = 0;
};

// Runs every env until its next episode ends: env i plays candidate i / episodes_each.
Evaluation Evaluate(VecEnv& env, const std::vector<std::vector<double>>& candidates, int episodes_each) {
  const int N = env.num_envs();
  REQUIRE(static_cast<int>(candidates.size()) * episodes_each == N);
  const std::size_t S = static_cast<std::size_t>(env.state_dim()), A = static_cast<std::size_t>(env.action_dim());
  const std::size_t delta = static_cast<std::size_t>(FieldOffset(env.state_spec(), "goal_minus_ee"));
  Evaluation out;
  out.score.assign(candidates.size(), 0.0);
  out.success.assign(candidates.size(), 0.0);
  std::vector<std::uint8_t> done(static_cast<std::size_t>(N), 0);
  int remaining = N;
  std::vector<std::int32_t> all(static_cast<std::size_t>(N));
  std::iota(all.begin(), all.end(), 0);
  StepResult r = env.ResetEnvs(all).value();  // every env starts a fresh episode
  std::vector<float> actions(static_cast<std::size_t>(N) * A, 0.0f);
  while (remaining > 0) {
    for (std::size_t e = 0; e < static_cast<std::size_t>(N); ++e) {
      const std::vector<double>& p = candidates[e / static_cast<std::size_t>(episodes_each)];
      const float* d = r.state.data() + e * S + delta;
      for (std::size_t k = 0; k < 3; ++k) {
        double v = p[9 + k];
        for (std::size_t j = 0; j < 3; ++j) v += 10.0 * p[3 * k + j] * d[j];
        actions[e * A + k] = static_cast<float>(std::clamp(v, -1.0, 1.0));
      }
      actions[e * A + 6] = -1.0f;
    }
    r = env.Step(actions).value();
    out.env_steps += N;
    for (std::size_t e = 0; e < static_cast<std::size_t>(N); ++e) {
      if (done[e] || (!r.terminated[e] && !r.truncated[e])) continue;
      done[e] = 1;
      --remaining;
      const std::size_t c = e / static_cast<std::size_t>(episodes_each);
      out.score[c] += r.finished[e].total_reward / episodes_each;
      out.success[c] += (r.finished[e].success ? 1.0 : 0.0) / episodes_each;
    }
  }
  return out;
}

TEST_CASE("CEM through VecEnv learns reach: success from ~0 to >= 80 % in a fixed step budget", "[rl][learning]") {
  constexpr int kPopulation = 16, kElites = 4, kEpisodes = 3, kIterations = 6;
  VecEnvConfig config;
  config.num_envs = kPopulation * kEpisodes;
  config.threads = 2;
  config.seed = 3;
  config.max_episode_steps = 100;  // 1.7 s at 60 Hz
  auto created = VecEnv::Create("builtin://reach", config);
  REQUIRE(created.has_value());
  VecEnv& env = **created;

  std::vector<double> mean(kParams, 0.0), stddev(kParams, 1.0);
  // The untrained mean policy (all zero: it does not move) fails.
  const Evaluation before = Evaluate(env, std::vector<std::vector<double>>(kPopulation, mean), kEpisodes);
  const double success_before = std::accumulate(before.success.begin(), before.success.end(), 0.0) / kPopulation;
  CHECK(success_before <= 0.1);

  long budget = 0;  // env-steps of training
  core::CounterRng rng({0, 3, 0, core::RngStream::kTest, 0});
  for (int it = 0; it < kIterations; ++it) {
    std::vector<std::vector<double>> candidates(kPopulation, std::vector<double>(kParams));
    for (auto& c : candidates)
      for (int k = 0; k < kParams; ++k) c[static_cast<std::size_t>(k)] = rng.Normal(mean[static_cast<std::size_t>(k)], stddev[static_cast<std::size_t>(k)]);
    const Evaluation eval = Evaluate(env, candidates, kEpisodes);
    budget += eval.env_steps;
    std::vector<int> order(kPopulation);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return eval.score[static_cast<std::size_t>(a)] > eval.score[static_cast<std::size_t>(b)]; });
    for (int k = 0; k < kParams; ++k) {
      double m = 0.0, v = 0.0;
      for (int i = 0; i < kElites; ++i) m += candidates[static_cast<std::size_t>(order[static_cast<std::size_t>(i)])][static_cast<std::size_t>(k)] / kElites;
      for (int i = 0; i < kElites; ++i) v += std::pow(candidates[static_cast<std::size_t>(order[static_cast<std::size_t>(i)])][static_cast<std::size_t>(k)] - m, 2) / kElites;
      mean[static_cast<std::size_t>(k)] = m;
      stddev[static_cast<std::size_t>(k)] = std::sqrt(v) + 0.05;  // a little extra noise
    }
    UNSCOPED_INFO("iteration " << it << ": best return " << eval.score[static_cast<std::size_t>(order[0])]
                               << ", best success " << eval.success[static_cast<std::size_t>(order[0])]);
  }
  // The trained mean policy on fresh episodes.
  const Evaluation after = Evaluate(env, std::vector<std::vector<double>>(kPopulation, mean), kEpisodes);
  const double success_after = std::accumulate(after.success.begin(), after.success.end(), 0.0) / kPopulation;
  INFO("success " << success_before << " -> " << success_after << " in " << budget << " env-steps of training");
  CHECK(success_after >= 0.8);
  // The fixed budget: one episode of every env per iteration.
  CHECK(budget <= static_cast<long>(kIterations) * config.num_envs * config.max_episode_steps);
}

}  // namespace
}  // namespace pf::rl
