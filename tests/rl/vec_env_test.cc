// pf::VecEnv: specs, Gymnasium auto-reset semantics, asynchronous Send/Recv, determinism
// across modes, thread counts and batch sizes, refused actions, no allocation per step.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <map>
#include <new>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "pf/core/hash.h"
#include "pf/rl/vec_env.h"

// Counts heap allocations (of every thread) while g_count_allocations is set. Not under
// AddressSanitizer, whose own operator new would mix with this one (alloc-dealloc-mismatch
// reports): the allocation test is left out there.
#if !defined(__SANITIZE_ADDRESS__)
#define PF_COUNT_ALLOCATIONS 1
namespace {
std::atomic<bool> g_count_allocations{false};
std::atomic<long> g_allocations{0};
}  // namespace

// GCC cannot see that these replace the global pair, and flags free() of new's memory.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t size) {
  if (g_count_allocations.load(std::memory_order_relaxed)) g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#endif

namespace pf::rl {
namespace {

std::unique_ptr<VecEnv> Make(const std::string& scenario, VecEnvConfig config) {
  auto env = VecEnv::Create(scenario, config);
  INFO((env ? std::string() : env.error().ToString()));
  REQUIRE(env.has_value());
  return std::move(*env);
}

const FieldSpec& Field(const TensorSpec& spec, const std::string& name) {
  for (const FieldSpec& f : spec.fields)
    if (f.name == name) return f;
  FAIL("no field " << name);
  return spec.fields.front();
}

// A proportional reach policy on the state: tool towards the goal, plus a deterministic
// perturbation that depends only on (env's episode, step), so rollouts can be compared.
void ReachPolicy(const VecEnv& env, std::span<const float> state, std::span<const std::uint64_t> episodes,
                 std::span<const std::int32_t> elapsed, double gain, std::vector<float>& actions) {
  const std::size_t S = static_cast<std::size_t>(env.state_dim()), A = static_cast<std::size_t>(env.action_dim());
  const FieldSpec& delta = Field(env.state_spec(), "goal_minus_ee");
  actions.assign(episodes.size() * A, 0.0f);
  for (std::size_t r = 0; r < episodes.size(); ++r) {
    for (int k = 0; k < 3; ++k) {
      const double wiggle = 0.3 * std::sin(0.7 * static_cast<double>(elapsed[r]) + static_cast<double>(episodes[r] * 3 + static_cast<std::uint64_t>(k)));
      const double v = gain * state[r * S + static_cast<std::size_t>(delta.offset + k)] + wiggle;
      actions[r * A + static_cast<std::size_t>(k)] = static_cast<float>(std::clamp(v, -1.0, 1.0));
    }
    actions[r * A + 6] = -1.0f;
  }
}

TEST_CASE("VecEnv specs: shapes, fields and bounds for each observation and action mode", "[rl]") {
  VecEnvConfig config;
  config.num_envs = 3;
  config.observation = ObservationMode::kBoth;
  auto env = Make("builtin://reach", config);
  const TensorSpec& state = env->state_spec();
  REQUIRE(state.dtype == DType::kFloat32);
  REQUIRE(state.shape.size() == 1);
  int total = 0;
  for (const FieldSpec& f : state.fields) {
    CHECK(f.offset == total);
    total += f.size;
  }
  CHECK(total == state.shape[0]);
  CHECK(static_cast<std::int64_t>(state.low.size()) == state.size());
  CHECK(Field(state, "ee_pose").size == 7);
  CHECK(Field(state, "goal_minus_ee").size == 3);
  // Reach does not move objects: the parts on the table are not observed.
  for (const FieldSpec& f : state.fields) CHECK(f.name != "object_poses");
  CHECK(state.size() == 2 * Field(state, "joint_positions").size + 7 + 3 + 3 + 1);
  CHECK(Field(state, "joint_positions").size == Field(state, "joint_velocities").size);
  // Joint position bounds are the joint limits.
  CHECK(state.low[0] < state.high[0]);
  CHECK(std::isfinite(state.low[0]));

  const TensorSpec& pixels = env->pixels_spec();
  CHECK(pixels.dtype == DType::kUInt8);
  CHECK(pixels.shape == std::vector<std::int64_t>{1, 128, 128, 3});

  const TensorSpec& action = env->action_spec();
  CHECK(action.shape == std::vector<std::int64_t>{7});
  CHECK(action.fields.back().name == "gripper");
  CHECK(action.low == std::vector<double>(7, -1.0));

  const StepResult r = env->Reset();
  CHECK(r.batch == 3);
  CHECK(r.state.size() == 3 * static_cast<std::size_t>(state.size()));
  CHECK(r.pixels.size() == 3 * static_cast<std::size_t>(pixels.size()));
  CHECK(std::vector<std::int32_t>(r.env_ids.begin(), r.env_ids.end()) == std::vector<std::int32_t>{0, 1, 2});
  CHECK(std::vector<std::uint64_t>(r.episode.begin(), r.episode.end()) == std::vector<std::uint64_t>{0, 1, 2});
  // The image shows something: not one uniform colour.
  const auto first = r.pixels.subspan(0, static_cast<std::size_t>(pixels.size()));
  CHECK(std::any_of(first.begin(), first.end(), [&](std::uint8_t v) { return v != first[0]; }));

  // Pick-and-place observes the part to pick and every movable object.
  auto pick = Make("builtin://default", VecEnvConfig{});
  CHECK(Field(pick->state_spec(), "task_object_pose").size == 7);
  CHECK(Field(pick->state_spec(), "object_poses").size % 7 == 0);
  CHECK(Field(pick->state_spec(), "object_poses").size >= 7);

  for (ActionMode mode : {ActionMode::kJointPosition, ActionMode::kJointVelocity}) {
    VecEnvConfig joint;
    joint.action = mode;
    auto e = Make("builtin://reach", joint);
    CHECK(e->action_dim() == static_cast<int>(e->action_spec().fields.size()));
    CHECK(e->action_dim() == 8);  // seven arm joints and the (mimicked) gripper
    CHECK(e->pixels_spec().size() == 1 * 128 * 128 * 3);
    CHECK(e->Reset().pixels.empty());
  }
}

TEST_CASE("VecEnv auto-reset: truncation at max_episode_steps keeps the final observation", "[rl]") {
  VecEnvConfig config;
  config.num_envs = 4;
  config.max_episode_steps = 5;
  config.action = ActionMode::kJointVelocity;
  auto env = Make("builtin://reach", config);
  const int S = env->state_dim();
  const FieldSpec& time = Field(env->state_spec(), "time_fraction");
  std::vector<float> zero(static_cast<std::size_t>(4 * env->action_dim()), 0.0f);
  env->Reset();
  for (int step = 1; step <= 5; ++step) {
    auto r = env->Step(zero);
    REQUIRE(r.has_value());
    for (int e = 0; e < 4; ++e) {
      const std::size_t E = static_cast<std::size_t>(e);
      CHECK(r->terminated[E] == 0);
      CHECK(r->truncated[E] == (step == 5 ? 1 : 0));
      if (step < 5) {
        CHECK(r->episode[E] == E);
        CHECK(r->elapsed_steps[E] == step);
        CHECK(r->state[E * static_cast<std::size_t>(S) + static_cast<std::size_t>(time.offset)] == Approx(step / 5.0));
      } else {
        // The new episode (env e's second: e + num_envs) and the old one's last observation.
        CHECK(r->episode[E] == E + 4);
        CHECK(r->elapsed_steps[E] == 0);
        CHECK(r->state[E * static_cast<std::size_t>(S) + static_cast<std::size_t>(time.offset)] == 0.0f);
        CHECK(r->final_state[E * static_cast<std::size_t>(S) + static_cast<std::size_t>(time.offset)] == 1.0f);
        CHECK(r->finished[E].episode == E);
        CHECK(r->finished[E].length == 5);
        CHECK(r->finished[E].truncated);
        CHECK_FALSE(r->finished[E].success);
        CHECK(env->last_episode(e).length == 5);
        // The new episode's goal differs from the old one's.
        const FieldSpec& goal = Field(env->state_spec(), "goal_position");
        const std::size_t g = E * static_cast<std::size_t>(S) + static_cast<std::size_t>(goal.offset);
        CHECK(r->state[g] != r->final_state[g]);
      }
    }
  }
  CHECK(env->episodes_finished() == 4);
}

TEST_CASE("VecEnv auto-reset: success terminates, with the final observation at the goal", "[rl]") {
  VecEnvConfig config;
  config.num_envs = 4;
  auto env = Make("builtin://reach", config);
  const std::size_t S = static_cast<std::size_t>(env->state_dim());
  const FieldSpec& delta = Field(env->state_spec(), "goal_minus_ee");
  StepResult r = env->Reset();
  std::vector<float> actions;
  std::vector<int> terminated(4, 0);
  for (int step = 0; step < env->max_episode_steps() && std::count(terminated.begin(), terminated.end(), 0) > 0; ++step) {
    actions.assign(4 * 7, 0.0f);
    for (std::size_t e = 0; e < 4; ++e)
      for (std::size_t j = 0; j < 3; ++j)
        actions[e * 7 + j] = std::clamp(25.0f * r.state[e * S + static_cast<std::size_t>(delta.offset) + j], -1.0f, 1.0f);
    auto next = env->Step(actions);
    REQUIRE(next.has_value());
    r = *next;
    for (std::size_t e = 0; e < 4; ++e) {
      if (!r.terminated[e]) continue;
      ++terminated[e];
      CHECK_FALSE(r.truncated[e]);
      CHECK(r.success[e]);
      CHECK(r.reward[e] == 0.0f);  // dense reward: a cost that reaches 0 at success
      CHECK(r.finished[e].success);
      CHECK(r.elapsed_steps[e] == 0);
      // Within the task's 2 cm of the goal in the final observation, not in the new one.
      double d_final = 0, d_new = 0;
      for (int j = 0; j < 3; ++j) {
        d_final += std::pow(r.final_state[e * S + static_cast<std::size_t>(delta.offset + j)], 2);
        d_new += std::pow(r.state[e * S + static_cast<std::size_t>(delta.offset + j)], 2);
      }
      CHECK(std::sqrt(d_final) < 0.02);
      CHECK(std::sqrt(d_new) > 0.02);
    }
  }
  CHECK(std::count(terminated.begin(), terminated.end(), 0) == 0);
}

TEST_CASE("VecEnv without auto-reset: an ended env is refused until ResetEnvs", "[rl]") {
  VecEnvConfig config;
  config.num_envs = 2;
  config.max_episode_steps = 2;
  config.auto_reset = false;
  config.action = ActionMode::kJointVelocity;
  auto env = Make("builtin://reach", config);
  std::vector<float> zero(static_cast<std::size_t>(2 * env->action_dim()), 0.0f);
  REQUIRE(env->Step(zero).has_value());
  auto r = env->Step(zero);
  REQUIRE(r.has_value());
  CHECK(r->truncated[0] == 1);
  CHECK(r->episode[0] == 0);  // still the old episode
  auto refused = env->Step(zero);
  REQUIRE_FALSE(refused.has_value());
  CHECK_THAT(refused.error().ToString(), Catch::Contains("ResetEnvs"));
  const std::vector<std::int32_t> ids{1, 0};
  auto reset = env->ResetEnvs(ids);
  REQUIRE(reset.has_value());
  CHECK(reset->env_ids[0] == 1);
  CHECK(reset->episode[0] == 3);  // env 1's second episode: 1 + 2
  CHECK(reset->episode[1] == 2);
  CHECK(env->Step(zero).has_value());
}

TEST_CASE("VecEnv refuses invalid actions with a clear error and steps nothing", "[rl]") {
  VecEnvConfig config;
  config.num_envs = 2;
  config.batch_size = 1;
  auto env = Make("builtin://reach", config);
  const std::size_t A = static_cast<std::size_t>(env->action_dim());
  std::vector<float> actions(2 * A, 0.0f);

  auto short_actions = env->Step(std::span<const float>(actions).first(2 * A - 1));
  REQUIRE_FALSE(short_actions.has_value());
  CHECK_THAT(short_actions.error().ToString(), Catch::Contains("13 values, want 2 envs x 7"));

  actions[A + 2] = std::nanf("");
  auto nan = env->Step(actions);
  REQUIRE_FALSE(nan.has_value());
  CHECK_THAT(nan.error().ToString(), Catch::Contains("env 1") && Catch::Contains("dz") && Catch::Contains("nan"));
  CHECK_THAT(nan.error().ToString(), Catch::Contains("actions[1][2]"));
  actions[A + 2] = INFINITY;
  CHECK_FALSE(env->Step(actions).has_value());
  actions[A + 2] = 0.0f;

  // Nothing was stepped by the refused calls.
  auto ok = env->Step(actions);
  REQUIRE(ok.has_value());
  CHECK(ok->elapsed_steps[0] == 1);

  const std::vector<std::int32_t> bad_id{5}, twice{0, 0}, one{0};
  CHECK_THAT(env->Send(std::span<const float>(actions).first(A), bad_id).error().ToString(), Catch::Contains("out of range"));
  CHECK_THAT(env->Send(actions, twice).error().ToString(), Catch::Contains("listed twice"));
  REQUIRE(env->Send(std::span<const float>(actions).first(A), one).has_value());
  CHECK_THAT(env->Send(std::span<const float>(actions).first(A), one).error().ToString(), Catch::Contains("in flight"));
  CHECK_THAT(env->Step(actions).error().ToString(), Catch::Contains("in flight"));
  REQUIRE(env->Recv().has_value());
  CHECK_THAT(env->Recv().error().ToString(), Catch::Contains("Send more"));
  VecEnvConfig no_envs;
  no_envs.num_envs = 0;
  CHECK_FALSE(VecEnv::Create("builtin://reach", no_envs).has_value());
  CHECK_FALSE(VecEnv::Create("builtin://no_such_scenario", VecEnvConfig{}).has_value());
}

TEST_CASE("VecEnv async: each Recv returns batch_size envs, each env once per Send", "[rl]") {
  VecEnvConfig config;
  config.num_envs = 8;
  config.batch_size = 3;
  config.threads = 2;
  config.max_episode_steps = 7;
  auto env = Make("builtin://reach", config);
  const std::size_t A = static_cast<std::size_t>(env->action_dim());
  std::vector<std::int32_t> all(8);
  std::iota(all.begin(), all.end(), 0);
  std::vector<float> actions(8 * A, 0.1f);
  REQUIRE(env->Send(actions, all).has_value());
  CHECK(env->in_flight() == 8);
  std::map<int, int> returned;
  std::vector<int> steps(8, 0);
  for (int round = 0; round < 40; ++round) {
    auto r = env->Recv();
    REQUIRE(r.has_value());
    REQUIRE(r->batch == 3);
    std::vector<std::int32_t> ids(r->env_ids.begin(), r->env_ids.end());
    for (std::int32_t id : ids) {
      ++returned[id];
      ++steps[static_cast<std::size_t>(id)];
      CHECK(returned[id] == 1);  // not returned again before it is sent again
    }
    for (std::int32_t id : ids) returned[id] = 0;
    REQUIRE(env->Send(std::span<const float>(actions).first(ids.size() * A), ids).has_value());
  }
  // Every env kept moving: none was starved.
  for (int s : steps) CHECK(s > 0);
  CHECK(std::accumulate(steps.begin(), steps.end(), 0) == 40 * 3);
  // Reset waits for the envs in flight and drops them.
  const StepResult reset = env->Reset();
  CHECK(reset.batch == 8);
  CHECK(env->in_flight() == 0);
}

// Per env: the hash of every observation, reward and flag of its first `steps` steps.
std::vector<std::uint64_t> Rollout(int envs, int threads, int batch, bool async, int steps) {
  VecEnvConfig config;
  config.num_envs = envs;
  config.threads = threads;
  config.batch_size = batch;
  config.seed = 11;
  config.max_episode_steps = 9;
  auto env = Make("builtin://reach", config);
  const std::size_t S = static_cast<std::size_t>(env->state_dim());
  std::vector<core::Hasher> hashers(static_cast<std::size_t>(envs));
  std::vector<int> count(static_cast<std::size_t>(envs), 0);
  std::vector<float> actions;
  StepResult r = env->Reset();
  auto record = [&](const StepResult& result) {
    for (int row = 0; row < result.batch; ++row) {
      const std::size_t R = static_cast<std::size_t>(row);
      const std::size_t e = static_cast<std::size_t>(result.env_ids[R]);
      if (count[e] > steps) continue;
      hashers[e].Span(std::span<const float>(result.state).subspan(R * S, S));
      if (result.terminated[R] || result.truncated[R])
        hashers[e].Span(std::span<const float>(result.final_state).subspan(R * S, S));
      hashers[e].F64(result.reward[R]);
      hashers[e].U64(result.terminated[R] * 2u + result.truncated[R]);
      hashers[e].U64(result.episode[R]);
      ++count[e];
    }
  };
  record(r);
  if (!async) {
    for (int t = 0; t < steps; ++t) {
      ReachPolicy(*env, r.state, r.episode, r.elapsed_steps, 10.0, actions);
      auto next = env->Step(actions);
      REQUIRE(next.has_value());
      r = *next;
      record(r);
    }
  } else {
    ReachPolicy(*env, r.state, r.episode, r.elapsed_steps, 10.0, actions);
    std::vector<std::int32_t> ids(r.env_ids.begin(), r.env_ids.end());
    REQUIRE(env->Send(actions, ids).has_value());
    while (*std::min_element(count.begin(), count.end()) <= steps) {
      auto next = env->Recv();
      REQUIRE(next.has_value());
      record(*next);
      ReachPolicy(*env, next->state, next->episode, next->elapsed_steps, 10.0, actions);
      ids.assign(next->env_ids.begin(), next->env_ids.end());
      REQUIRE(env->Send(actions, ids).has_value());
    }
  }
  std::vector<std::uint64_t> out;
  for (auto& h : hashers) out.push_back(h.Digest());
  return out;
}

TEST_CASE("VecEnv determinism: same seed, same rollouts in sync and async modes, any threads and batch", "[rl]") {
  const auto reference = Rollout(6, 1, 0, false, 20);
  CHECK(Rollout(6, 2, 0, false, 20) == reference);
  CHECK(Rollout(6, 2, 2, true, 20) == reference);
  CHECK(Rollout(6, 1, 6, true, 20) == reference);
  CHECK(Rollout(6, 2, 5, true, 20) == reference);
  // The envs' rollouts differ from each other (the check above is not comparing constants).
  CHECK(std::set<std::uint64_t>(reference.begin(), reference.end()).size() == reference.size());
}

TEST_CASE("VecEnv pixels: the same frames in sync and async use, and an ended episode's last frame kept", "[rl]") {
  // Per env: hashes of every pixel observation (and final frames of ended episodes).
  auto rollout = [](bool async) {
    VecEnvConfig config;
    config.num_envs = 3;
    config.threads = 2;
    config.batch_size = async ? 2 : 0;
    config.observation = ObservationMode::kPixels;
    config.action = ActionMode::kJointVelocity;
    config.max_episode_steps = 4;
    config.render_validation = true;
    auto env = Make("builtin://reach", config);
    CHECK(env->state_dim() == env->state_spec().size());
    const std::size_t P = static_cast<std::size_t>(env->pixels_spec().size()), A = static_cast<std::size_t>(env->action_dim());
    std::vector<core::Hasher> hashers(3);
    std::vector<int> count(3, 0);
    int ended_with_new_frame = 0;
    auto record = [&](const StepResult& r) {
      CHECK(r.state.empty());
      for (std::size_t row = 0; row < static_cast<std::size_t>(r.batch); ++row) {
        const std::size_t e = static_cast<std::size_t>(r.env_ids[row]);
        if (count[e]++ > 6) continue;
        const auto frame = r.pixels.subspan(row * P, P);
        hashers[e].Span(frame);
        if (r.truncated[row]) {
          const auto last = r.final_pixels.subspan(row * P, P);
          hashers[e].Span(last);
          // The new episode (new placements, camera jitter) looks different from the old one's end.
          if (!std::equal(frame.begin(), frame.end(), last.begin())) ++ended_with_new_frame;
        }
      }
    };
    StepResult r = env->Reset();
    record(r);
    std::vector<float> actions(3 * A, 0.3f);
    std::vector<std::int32_t> ids{0, 1, 2};
    if (!async) {
      for (int t = 0; t < 7; ++t) record(env->Step(actions).value());
    } else {
      REQUIRE(env->Send(actions, ids).has_value());
      while (*std::min_element(count.begin(), count.end()) <= 7) {
        const StepResult next = env->Recv().value();
        record(next);
        ids.assign(next.env_ids.begin(), next.env_ids.end());
        REQUIRE(env->Send(std::span<const float>(actions).first(ids.size() * A), ids).has_value());
      }
    }
    CHECK(ended_with_new_frame >= 3);
    CHECK(env->validation_messages() == 0);
    std::vector<std::uint64_t> out;
    for (auto& h : hashers) out.push_back(h.Digest());
    return out;
  };
  CHECK(rollout(false) == rollout(true));
}

#if defined(PF_COUNT_ALLOCATIONS)
TEST_CASE("VecEnv steps allocate nothing in steady state (joint position and end-effector actions)", "[rl]") {
  const ActionMode mode = GENERATE(ActionMode::kJointPosition, ActionMode::kEndEffectorDelta);
  VecEnvConfig config;
  config.num_envs = 4;
  config.threads = 2;
  config.action = mode;
  config.max_episode_steps = 1000;
  auto env = Make("builtin://reach", config);
  const std::size_t A = static_cast<std::size_t>(env->action_dim());
  const StepResult r = env->Reset();
  // Hold still: the initial joint positions (read from the observation), or no tool motion
  // with the gripper open.
  std::vector<float> actions(4 * A, 0.0f);
  const std::size_t S = static_cast<std::size_t>(env->state_dim());
  for (std::size_t e = 0; e < 4; ++e)
    for (std::size_t a = 0; a < A; ++a)
      actions[e * A + a] = mode == ActionMode::kJointPosition ? r.state[e * S + a] : (a == 6 ? -1.0f : 0.0f);
  // Warm-up: every worker thread's scratch (per-thread IK buffers) reaches its size.
  for (int t = 0; t < 10; ++t) REQUIRE(env->Step(actions).has_value());
  std::vector<std::int32_t> ids{0, 1, 2, 3};
  g_allocations = 0;
  g_count_allocations = true;
  for (int t = 0; t < 20; ++t) (void)env->Step(actions);
  for (int t = 0; t < 5; ++t) {
    (void)env->Send(actions, ids);
    (void)env->Recv();
  }
  g_count_allocations = false;
  CHECK(g_allocations.load() == 0);
}
#endif

}  // namespace
}  // namespace pf::rl
