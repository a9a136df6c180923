// hello_vecenv: a training-style loop over pf::VecEnv using only its C++ API.
//
//   hello_vecenv [SCENARIO] [--envs N] [--steps T] [--async]
//
// Runs N envs of a scenario's task (default builtin://reach) for T steps with a simple
// hand-written policy: move the tool along the observation's goal_minus_ee field, plus a
// little exploration noise, gripper open. Prints the observation and action specs, then one
// line per finished episode and a summary (episodes, success rate, env-steps/s). With
// --async it steps half the envs at a time through Send/Recv, the way an actor-learner
// loop overlaps policy inference with simulation.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "pf/rl/vec_env.h"

namespace {

int Usage(const char* message) {
  std::fprintf(stderr, "hello_vecenv: %s\nusage: hello_vecenv [SCENARIO] [--envs N] [--steps T] [--async]\n", message);
  return 2;
}

// Offset of a named field in the state vector, or -1.
int FieldOffset(const pf::TensorSpec& spec, const std::string& name) {
  for (const auto& field : spec.fields)
    if (field.name == name) return field.offset;
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string scenario = "builtin://reach";
  pf::VecEnvConfig config;
  config.num_envs = 16;
  config.threads = 2;
  config.seed = 1;
  int steps = 400;
  bool async = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto next_int = [&](int* out) {
      if (i + 1 >= argc) return false;
      char* end = nullptr;
      const long v = std::strtol(argv[++i], &end, 10);
      if (*end != '\0' || v < 1 || v > 1 << 20) return false;
      *out = static_cast<int>(v);
      return true;
    };
    if (arg == "--envs") {
      if (!next_int(&config.num_envs)) return Usage("--envs wants a positive integer");
    } else if (arg == "--steps") {
      if (!next_int(&steps)) return Usage("--steps wants a positive integer");
    } else if (arg == "--async") {
      async = true;
    } else if (!arg.empty() && arg[0] == '-') {
      return Usage(("unknown option " + arg).c_str());
    } else {
      scenario = arg;
    }
  }
  config.action = pf::ActionMode::kEndEffectorDelta;
  config.batch_size = async ? std::max(1, config.num_envs / 2) : 0;

  auto created = pf::VecEnv::Create(scenario, config);
  if (!created) {
    std::fprintf(stderr, "hello_vecenv: %s\n", created.error().ToString().c_str());
    return 1;
  }
  pf::VecEnv& env = **created;
  std::printf("task %s, %d envs, control at %.0f Hz, episodes of at most %d steps\n", env.task_name().c_str(),
              env.num_envs(), 1.0 / env.control_dt(), env.max_episode_steps());
  std::printf("state [%d]:", env.state_dim());
  for (const auto& f : env.state_spec().fields) std::printf(" %s[%d]", f.name.c_str(), f.size);
  std::printf("\naction [%d]:", env.action_dim());
  for (const auto& f : env.action_spec().fields) std::printf(" %s", f.name.c_str());
  std::printf("\nenv 0: \"%s\"\n", env.instruction(0).c_str());

  const int delta = FieldOffset(env.state_spec(), "goal_minus_ee");
  if (delta < 0) return Usage("the state has no goal_minus_ee field");
  const std::size_t S = static_cast<std::size_t>(env.state_dim()), A = static_cast<std::size_t>(env.action_dim());
  std::mt19937 rng(7);
  std::normal_distribution<float> noise(0.0f, 0.2f);
  std::vector<float> actions;
  std::vector<std::int32_t> ids;
  auto policy = [&](const pf::StepResult& r) {
    actions.assign(static_cast<std::size_t>(r.batch) * A, 0.0f);
    for (std::size_t row = 0; row < static_cast<std::size_t>(r.batch); ++row) {
      for (std::size_t k = 0; k < 3; ++k) {
        const float v = 20.0f * r.state[row * S + static_cast<std::size_t>(delta) + k] + noise(rng);
        actions[row * A + k] = std::fmax(-1.0f, std::fmin(1.0f, v));
      }
      actions[row * A + 6] = -1.0f;  // gripper open
    }
    ids.assign(r.env_ids.begin(), r.env_ids.end());
  };
  int episodes = 0, successes = 0;
  long env_steps = 0;
  auto report = [&](const pf::StepResult& r) {
    env_steps += r.batch;
    for (std::size_t row = 0; row < static_cast<std::size_t>(r.batch); ++row) {
      if (!r.terminated[row] && !r.truncated[row]) continue;
      const pf::EpisodeStats& s = r.finished[row];
      ++episodes;
      successes += s.success ? 1 : 0;
      std::printf("env %d episode %llu: %s after %d steps, return %.2f\n", r.env_ids[row],
                  static_cast<unsigned long long>(s.episode), s.success ? "success" : "truncated", s.length,
                  s.total_reward);
    }
  };

  const auto start = std::chrono::steady_clock::now();
  pf::StepResult r = env.Reset();
  if (!async) {
    for (int t = 0; t < steps; ++t) {
      policy(r);
      auto next = env.Step(actions);
      if (!next) {
        std::fprintf(stderr, "hello_vecenv: %s\n", next.error().ToString().c_str());
        return 1;
      }
      r = *next;
      report(r);
    }
  } else {
    policy(r);
    if (auto sent = env.Send(actions, ids); !sent) return Usage(sent.error().ToString().c_str());
    const long target = static_cast<long>(steps) * env.num_envs();
    while (env_steps < target) {
      auto next = env.Recv();
      if (!next) {
        std::fprintf(stderr, "hello_vecenv: %s\n", next.error().ToString().c_str());
        return 1;
      }
      report(*next);
      policy(*next);
      if (auto sent = env.Send(actions, ids); !sent) return Usage(sent.error().ToString().c_str());
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("summary: %d episodes, %d successes (%.0f%%), %ld env-steps in %.2f s (%.0f env-steps/s)\n", episodes,
              successes, episodes > 0 ? 100.0 * successes / episodes : 0.0, env_steps, seconds, env_steps / seconds);
  return 0;
}
