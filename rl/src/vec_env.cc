#include "pf/rl/vec_env.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <limits>
#include <mutex>
#include <numeric>
#include <thread>

#include "pf/assets/library.h"
#include "pf/core/check.h"
#include "pf/core/snapshot.h"
#include "pf/core/str.h"
#include "pf/render/batch_renderer.h"
#include "pf/scenarios/expert.h"
#include "pf/scenarios/scenario.h"
#include "pf/scenarios/task.h"
#include "pf/sim/batch_sim.h"
#include "pf/sim/controllers.h"

namespace pf::rl {

using core::StrCat;

const char* ObservationModeName(ObservationMode mode) {
  switch (mode) {
    case ObservationMode::kState: return "state";
    case ObservationMode::kPixels: return "pixels";
    case ObservationMode::kBoth: return "both";
  }
  return "unknown";
}

const char* ActionModeName(ActionMode mode) {
  switch (mode) {
    case ActionMode::kJointPosition: return "joint_position";
    case ActionMode::kJointVelocity: return "joint_velocity";
    case ActionMode::kEndEffectorDelta: return "ee_delta";
  }
  return "unknown";
}

const char* DTypeName(DType dtype) { return dtype == DType::kFloat32 ? "float32" : "uint8"; }

std::int64_t TensorSpec::size() const {
  std::int64_t n = 1;
  for (std::int64_t d : shape) n *= d;
  return n;
}

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Output rows of one Reset/Step/Recv.
struct Rows {
  int capacity = 0;
  std::size_t state_dim = 0, pixel_dim = 0;
  std::vector<std::int32_t> env_ids;
  std::vector<float> state, final_state, reward;
  std::vector<std::uint8_t> pixels, final_pixels, terminated, truncated, success;
  std::vector<std::uint64_t> episode;
  std::vector<std::int32_t> elapsed;
  std::vector<EpisodeStats> finished;

  void Allocate(int rows, std::size_t state_size, std::size_t pixel_size) {
    capacity = rows;
    state_dim = state_size;
    pixel_dim = pixel_size;
    const std::size_t n = static_cast<std::size_t>(rows);
    env_ids.assign(n, 0);
    state.assign(n * state_dim, 0.0f);
    final_state.assign(n * state_dim, 0.0f);
    reward.assign(n, 0.0f);
    pixels.assign(n * pixel_dim, 0);
    final_pixels.assign(n * pixel_dim, 0);
    terminated.assign(n, 0);
    truncated.assign(n, 0);
    success.assign(n, 0);
    episode.assign(n, 0);
    elapsed.assign(n, 0);
    finished.assign(n, EpisodeStats{});
  }
  float* state_row(int r) { return state.data() + static_cast<std::size_t>(r) * state_dim; }
  float* final_state_row(int r) { return final_state.data() + static_cast<std::size_t>(r) * state_dim; }

  StepResult View(int count) const {
    const std::size_t n = static_cast<std::size_t>(count);
    StepResult v;
    v.batch = count;
    v.env_ids = std::span(env_ids).first(n);
    v.state = std::span(state).first(n * state_dim);
    v.pixels = std::span(pixels).first(n * pixel_dim);
    v.reward = std::span(reward).first(n);
    v.terminated = std::span(terminated).first(n);
    v.truncated = std::span(truncated).first(n);
    v.success = std::span(success).first(n);
    v.final_state = std::span(final_state).first(n * state_dim);
    v.final_pixels = std::span(final_pixels).first(n * pixel_dim);
    v.episode = std::span(episode).first(n);
    v.elapsed_steps = std::span(elapsed).first(n);
    v.finished = std::span(finished).first(n);
    return v;
  }
};

// One env's episode bookkeeping.
struct Slot {
  scenarios::EpisodeSetup setup;
  std::uint64_t episode = 0;         // index of the current episode's draw
  std::uint64_t episodes_started = 0;  // since the last Reset
  int steps = 0;                     // control steps into the episode
  double total_reward = 0.0;
  EpisodeStats last;
  bool ended = false;          // the episode ended and was not reset (auto_reset off)
  bool pending_reset = false;  // ended; reset after its final frame is rendered (pixels)
  bool in_flight = false;      // sent, not yet returned by Recv
};

}  // namespace

struct VecEnv::Impl {
  VecEnvConfig config;
  int N = 0, B = 0;
  std::unique_ptr<scenarios::Scenario> scenario;
  std::shared_ptr<const sim::Model> model;
  std::unique_ptr<scenarios::TaskContext> context;
  std::unique_ptr<sim::BatchSim> sim;
  std::unique_ptr<render::BatchRenderer> renderer;
  TensorSpec state_spec, pixels_spec, action_spec;
  bool want_state = false, want_pixels = false;
  int robot = 0;
  int max_steps = 0;
  std::size_t A = 0, S = 0, P = 0;     // action, state and pixel elements per env
  std::size_t D = 0, NA = 0;           // dofs, actuated joints
  bool object_fields = false;          // task_object_pose and object_poses in the state
  std::vector<int> movable;            // object indices of objects with mass (when object_fields)
  std::vector<sim::GripperJoint> grippers;
  std::vector<double> posture;         // [num_actuated] initial joint positions (IK posture)
  std::vector<double> action_low, action_high;  // [A]
  double gripper_squeeze = scenarios::ExpertConfig{}.grip_squeeze;

  std::vector<Slot> slots;
  std::vector<float> staged;           // [N × A] the actions of the pending step
  Rows sync_rows;                      // Reset, ResetEnvs, Step
  std::vector<Rows> ring;              // Recv batches
  std::uint64_t next_slot = 0;         // completion counter (async)
  std::uint64_t recv_batch = 0;        // batches returned by Recv
  std::vector<int> ready;              // [ring] rows written per ring buffer
  int in_flight = 0;
  std::atomic<std::uint64_t> episodes_finished{0};

  // Render scratch.
  core::RenderSnapshot snapshot;
  std::vector<int> render_envs;
  std::vector<const scenarios::EpisodeSetup*> render_setups;
  std::vector<std::int32_t> scratch_ids;

  // Workers.
  std::vector<std::thread> workers;
  std::mutex mutex;
  std::condition_variable work_cv, done_cv;
  std::vector<std::pair<int, int>> queue;  // (env, sync row or -1), ring of capacity N
  std::size_t queue_head = 0, queue_size = 0;
  int sync_pending = 0;
  int running = 0;  // queued or being stepped
  bool stop = false;

  ~Impl() {
    {
      std::lock_guard lock(mutex);
      stop = true;
    }
    work_cv.notify_all();
    for (std::thread& t : workers) t.join();
  }

  void WorkerLoop() {
    std::unique_lock lock(mutex);
    while (true) {
      work_cv.wait(lock, [&] { return stop || queue_size > 0; });
      if (stop) return;
      const auto [env, row] = queue[queue_head];
      queue_head = (queue_head + 1) % queue.size();
      --queue_size;
      lock.unlock();
      StepOne(env, row);
      lock.lock();
    }
  }

  void Enqueue(int env, int row) {  // with the mutex held
    queue[(queue_head + queue_size) % queue.size()] = {env, row};
    ++queue_size;
    ++running;
  }

  // Starts env's next episode: its draw, physics and bookkeeping (no observation).
  void StartEpisode(int e) {
    Slot& slot = slots[static_cast<std::size_t>(e)];
    slot.episode = static_cast<std::uint64_t>(e) + slot.episodes_started * static_cast<std::uint64_t>(N);
    ++slot.episodes_started;
    auto setup = context->DrawEpisode(config.seed, slot.episode);
    // Create drew episode 0 of the scenario: a draw fails only for impossible placements,
    // which every episode shares.
    PF_CHECK(setup.has_value(), "episode ", slot.episode, ": ", setup ? "" : setup.error().ToString());
    slot.setup = std::move(*setup);
    context->ApplyEpisode(*sim, e, slot.setup);
    slot.steps = 0;
    slot.total_reward = 0.0;
    slot.ended = false;
    slot.pending_reset = false;
  }

  void WriteState(int e, float* out) const {
    const Slot& slot = slots[static_cast<std::size_t>(e)];
    const std::size_t E = static_cast<std::size_t>(e);
    float* o = out;
    const double* q = sim->joint_positions().data() + E * D;
    const double* qd = sim->joint_velocities().data() + E * D;
    for (std::size_t d = 0; d < D; ++d) *o++ = static_cast<float>(q[d]);
    for (std::size_t d = 0; d < D; ++d) *o++ = static_cast<float>(qd[d]);
    const std::size_t nb = static_cast<std::size_t>(model->num_bodies());
    const double* poses = sim->body_poses().data() + E * nb * 7;
    const double* ee = poses + 7 * static_cast<std::size_t>(model->end_effector_body(robot));
    for (int k = 0; k < 7; ++k) *o++ = static_cast<float>(ee[k]);
    const core::Vec3& goal = slot.setup.goal;
    for (int k = 0; k < 3; ++k) *o++ = static_cast<float>(goal[k]);
    for (int k = 0; k < 3; ++k) *o++ = static_cast<float>(goal[k] - ee[k]);
    if (object_fields) {
      int task_object = slot.setup.object;  // pick_place
      if (context->task().kind == scenarios::TaskKind::kStack) task_object = slot.setup.stack.size() > 1 ? slot.setup.stack[1] : -1;
      if (task_object >= 0) {
        const double* p = poses + 7 * static_cast<std::size_t>(model->object_body(task_object));
        for (int k = 0; k < 7; ++k) *o++ = static_cast<float>(p[k]);
      } else {
        for (int k = 0; k < 7; ++k) *o++ = k == 3 ? 1.0f : 0.0f;
      }
    }
    for (int object : movable) {
      const double* p = poses + 7 * static_cast<std::size_t>(model->object_body(object));
      for (int k = 0; k < 7; ++k) *o++ = static_cast<float>(p[k]);
    }
    *o++ = static_cast<float>(slot.steps) / static_cast<float>(max_steps);
    PF_CHECK(static_cast<std::size_t>(o - out) == S, "state layout");
  }

  // Turns env e's staged action row into joint targets in the sim's actions.
  void ApplyAction(int e) {
    const float* a = staged.data() + static_cast<std::size_t>(e) * A;
    std::span<double> targets = sim->actions().subspan(static_cast<std::size_t>(e) * NA, NA);
    const auto clamp = [&](std::size_t k, double v) { return std::clamp(v, action_low[k], action_high[k]); };
    switch (config.action) {
      case ActionMode::kJointPosition:
        for (std::size_t k = 0; k < NA; ++k) targets[k] = clamp(k, a[k]);
        break;
      case ActionMode::kJointVelocity: {
        const double dt = context->control_dt();
        const double* q = sim->joint_positions().data() + static_cast<std::size_t>(e) * D;
        for (std::size_t k = 0; k < NA; ++k) {
          const sim::DofInfo& dof = model->dofs()[static_cast<std::size_t>(model->actuated()[k])];
          const double measured = q[static_cast<std::size_t>(model->actuated()[k])];
          // Integrated into the target, which stays within a few steps' travel of the joint
          // (no wind-up against an obstacle) and inside the limits.
          const double lead = 4.0 * action_high[k] * dt;
          double target = std::clamp(targets[k] + clamp(k, a[k]) * dt, measured - lead, measured + lead);
          if (dof.has_limits) target = std::clamp(target, dof.lower, dof.upper);
          targets[k] = target;
        }
        break;
      }
      case ActionMode::kEndEffectorDelta: {
        const core::Pose X_cmd = sim::CommandedEndEffectorPose(*model, robot, targets);
        const core::Pose X_meas = sim::EndEffectorPose(*sim, e, robot);
        core::Vec3 p = X_cmd.translation();
        for (int k = 0; k < 3; ++k) p[k] += config.max_translation * clamp(static_cast<std::size_t>(k), a[k]);
        const core::Vec3 lead = p - X_meas.translation();
        if (lead.norm() > config.max_lead) p = X_meas.translation() + lead * (config.max_lead / lead.norm());
        const core::Vec3 w(clamp(3, a[3]), clamp(4, a[4]), clamp(5, a[5]));
        core::Pose X_target = core::Pose::Identity();
        X_target.translation() = p;
        const double angle = w.norm() * config.max_rotation;
        const core::Mat3 R_cmd = X_cmd.rotation();
        X_target.linear() = angle > 0.0 ? core::Mat3(core::AngleAxis(angle, w.normalized()).toRotationMatrix() * R_cmd) : R_cmd;
        sim::IkConfig ik;
        ik.posture = posture;
        sim::JointTargetsTowardsPose(*model, robot, X_target, targets, ik);
        const double grip = 0.5 * (clamp(6, a[6]) + 1.0);  // 0 open .. 1 closed
        for (const sim::GripperJoint& g : grippers)
          targets[static_cast<std::size_t>(g.action)] = g.open + grip * (g.closed - gripper_squeeze - g.open);
        break;
      }
    }
  }

  // One control step of env e; results into the sync rows (row >= 0) or the next async row.
  void StepOne(int e, int sync_row) {
    Slot& slot = slots[static_cast<std::size_t>(e)];
    ApplyAction(e);
    sim->StepEnv(e);
    ++slot.steps;
    const scenarios::TaskStatus status = scenarios::EvaluateTask(*context, *sim, e, slot.setup, slot.steps);
    const bool faulted = sim->faulted()[static_cast<std::size_t>(e)] != 0;
    const bool terminated = status.success && !faulted;
    const bool truncated = !terminated && (faulted || slot.steps >= max_steps);
    const double reward = config.reward == RewardMode::kDense ? (status.success ? 0.0 : status.dense_reward - 1.0)
                                                              : status.sparse_reward;
    slot.total_reward += reward;

    Rows* rows = &sync_rows;
    int row = sync_row;
    std::size_t ring_index = 0;
    if (sync_row < 0) {
      std::lock_guard lock(mutex);
      const std::uint64_t k = next_slot++;
      ring_index = static_cast<std::size_t>((k / static_cast<std::uint64_t>(B)) % ring.size());
      rows = &ring[ring_index];
      row = static_cast<int>(k % static_cast<std::uint64_t>(B));
    }
    Rows& out = *rows;
    const std::size_t r = static_cast<std::size_t>(row);
    out.env_ids[r] = e;
    out.reward[r] = static_cast<float>(reward);
    out.terminated[r] = terminated ? 1 : 0;
    out.truncated[r] = truncated ? 1 : 0;
    out.success[r] = status.success ? 1 : 0;
    if (terminated || truncated) {
      slot.last = {slot.episode, slot.total_reward, slot.steps, status.success, truncated};
      out.finished[r] = slot.last;
      episodes_finished.fetch_add(1, std::memory_order_relaxed);
      if (want_state) WriteState(e, out.final_state_row(row));
      if (!config.auto_reset) slot.ended = true;
      else if (want_pixels) slot.pending_reset = true;  // after its final frame is drawn
      else StartEpisode(e);
    }
    if (want_state) WriteState(e, out.state_row(row));
    out.episode[r] = slot.episode;
    out.elapsed[r] = slot.steps;
    bool wake = false;  // only when a waiter's condition may now hold
    {
      std::lock_guard lock(mutex);
      if (sync_row >= 0) wake = --sync_pending == 0;
      else wake = ++ready[ring_index] == B;
      wake = --running == 0 || wake;
    }
    if (wake) done_cv.notify_all();
  }

  // Draws the listed envs' cameras into `pixels` rows [count × P]. The views drawn are
  // padded to `views` envs (repeating the last) so that the renderer keeps its targets.
  void RenderInto(std::span<const std::int32_t> envs, std::uint8_t* pixels, std::size_t views) {
    render_envs.assign(envs.begin(), envs.end());
    const std::size_t count = envs.size();
    while (render_envs.size() < views) render_envs.push_back(render_envs.back());
    render_setups.resize(render_envs.size());
    for (std::size_t r = 0; r < render_envs.size(); ++r)
      render_setups[r] = &slots[static_cast<std::size_t>(render_envs[r])].setup;
    sim->WriteSnapshot(render_envs, &snapshot);
    context->WriteCameras(*sim, render_envs, render_setups, &snapshot);
    const core::Status status = renderer->Render(snapshot);
    PF_CHECK(status.has_value(), "render: ", status ? "" : status.error().ToString());
    const std::size_t C = scenario->cameras.size();
    const std::size_t pixels_per_view = P / C / 3;
    for (std::size_t r = 0; r < count; ++r)
      for (std::size_t c = 0; c < C; ++c) {
        const std::uint8_t* rgba = renderer->colour(static_cast<std::uint32_t>(r * C + c)).data();
        std::uint8_t* rgb = pixels + r * P + c * pixels_per_view * 3;
        for (std::size_t i = 0; i < pixels_per_view; ++i) {
          rgb[3 * i] = rgba[4 * i];
          rgb[3 * i + 1] = rgba[4 * i + 1];
          rgb[3 * i + 2] = rgba[4 * i + 2];
        }
      }
  }

  // After the rows' steps: pixels, and the deferred resets of ended envs (pixels mode).
  void FinishRows(Rows& rows, int count) {
    if (!want_pixels) return;
    const std::span<const std::int32_t> ids = std::span(rows.env_ids).first(static_cast<std::size_t>(count));
    RenderInto(ids, rows.pixels.data(), ids.size());
    scratch_ids.clear();
    for (int r = 0; r < count; ++r) {
      Slot& slot = slots[static_cast<std::size_t>(ids[static_cast<std::size_t>(r)])];
      const std::size_t R = static_cast<std::size_t>(r);
      if (!rows.terminated[R] && !rows.truncated[R]) continue;
      std::memcpy(rows.final_pixels.data() + R * P, rows.pixels.data() + R * P, P);
      if (!slot.pending_reset) continue;
      StartEpisode(ids[R]);
      if (want_state) WriteState(ids[R], rows.state_row(r));
      rows.episode[R] = slot.episode;
      rows.elapsed[R] = 0;
      scratch_ids.push_back(ids[R]);
    }
    if (scratch_ids.empty()) return;
    // The new episodes' first frames, drawn together, then put into their rows.
    RenderInto(scratch_ids, rows.final_pixels.data() + static_cast<std::size_t>(count) * P, ids.size());
    std::size_t k = 0;
    for (int r = 0; r < count && k < scratch_ids.size(); ++r) {
      const std::size_t R = static_cast<std::size_t>(r);
      if (rows.env_ids[R] != scratch_ids[k]) continue;
      std::memcpy(rows.pixels.data() + R * P, rows.final_pixels.data() + (static_cast<std::size_t>(count) + k) * P, P);
      ++k;
    }
  }

  core::Status CheckActions(std::span<const float> actions, std::span<const std::int32_t> env_ids) const {
    if (actions.size() != env_ids.size() * A)
      return core::Fail(StrCat("actions have ", actions.size(), " values, want ", env_ids.size(), " envs x ", A,
                               " (", ActionModeName(config.action), ")"),
                        {"", 0, 0, "actions"});
    for (std::size_t i = 0; i < env_ids.size(); ++i) {
      const int e = env_ids[i];
      if (e < 0 || e >= N) return core::Fail(StrCat("env id ", e, " is out of range [0, ", N, ")"), {"", 0, 0, "env_ids"});
      const Slot& slot = slots[static_cast<std::size_t>(e)];
      if (slot.in_flight) return core::Fail(StrCat("env ", e, " is already in flight (sent, not yet received)"), {"", 0, 0, "env_ids"});
      if (slot.ended)
        return core::Fail(StrCat("env ", e, "'s episode has ended: ResetEnvs it first (auto_reset is off)"), {"", 0, 0, "env_ids"});
      for (std::size_t k = 0; k < A; ++k) {
        const float v = actions[i * A + k];
        if (!std::isfinite(v))
          return core::Fail(StrCat("action of env ", e, " (row ", i, "), element ", k, " (", action_spec.fields[k].name,
                                   ") is ", v, ": actions must be finite"),
                            {"", 0, 0, StrCat("actions[", i, "][", k, "]")});
      }
    }
    for (std::size_t i = 0; i < env_ids.size(); ++i)
      for (std::size_t j = 0; j < i; ++j)
        if (env_ids[i] == env_ids[j]) return core::Fail(StrCat("env id ", env_ids[i], " is listed twice"), {"", 0, 0, "env_ids"});
    return core::Ok();
  }

  void BuildSpecs() {
    const sim::Model& m = *model;
    D = static_cast<std::size_t>(m.num_dofs());
    NA = static_cast<std::size_t>(m.num_actuated());
    // State.
    state_spec = TensorSpec{};
    state_spec.name = "state";
    state_spec.dtype = DType::kFloat32;
    int offset = 0;
    auto field = [&](std::string name, int size, double low, double high) {
      state_spec.fields.push_back({std::move(name), offset, size});
      offset += size;
      for (int k = 0; k < size; ++k) {
        state_spec.low.push_back(low);
        state_spec.high.push_back(high);
      }
    };
    field("joint_positions", static_cast<int>(D), -kInf, kInf);
    for (std::size_t d = 0; d < D; ++d)
      if (m.dofs()[d].has_limits) {
        state_spec.low[d] = m.dofs()[d].lower;
        state_spec.high[d] = m.dofs()[d].upper;
      }
    field("joint_velocities", static_cast<int>(D), -kInf, kInf);
    field("ee_pose", 7, -kInf, kInf);  // x y z qw qx qy qz, world
    field("goal_position", 3, -kInf, kInf);
    field("goal_minus_ee", 3, -kInf, kInf);
    // Objects matter to the tasks that move them; for reach they are only scenery.
    object_fields = context->task().kind != scenarios::TaskKind::kReach;
    if (object_fields) {
      field("task_object_pose", 7, -kInf, kInf);
      for (int o = 0; o < m.num_objects(); ++o)
        if (scenario->model.objects[static_cast<std::size_t>(o)].mass > 0.0) movable.push_back(o);
      field("object_poses", 7 * static_cast<int>(movable.size()), -kInf, kInf);
    }
    field("time_fraction", 1, 0.0, 1.0);
    state_spec.shape = {offset};
    S = static_cast<std::size_t>(offset);
    // Pixels.
    pixels_spec = TensorSpec{};
    pixels_spec.name = "pixels";
    pixels_spec.dtype = DType::kUInt8;
    if (!scenario->cameras.empty()) {
      const auto& k = scenario->cameras.front().intrinsics;
      pixels_spec.shape = {static_cast<std::int64_t>(scenario->cameras.size()), k.height, k.width, 3};
      for (const auto& camera : scenario->cameras) pixels_spec.fields.push_back({camera.name, 0, 0});
    }
    // Actions.
    action_spec = TensorSpec{};
    action_spec.name = "action";
    action_spec.dtype = DType::kFloat32;
    if (config.action == ActionMode::kEndEffectorDelta) {
      int k = 0;
      for (const char* name : {"dx", "dy", "dz", "rx", "ry", "rz", "gripper"}) {
        action_spec.fields.push_back({name, k++, 1});
        action_low.push_back(-1.0);
        action_high.push_back(1.0);
      }
    } else {
      for (std::size_t a = 0; a < NA; ++a) {
        const sim::DofInfo& dof = m.dofs()[static_cast<std::size_t>(m.actuated()[a])];
        action_spec.fields.push_back({dof.name, static_cast<int>(a), 1});
        if (config.action == ActionMode::kJointPosition) {
          action_low.push_back(dof.has_limits ? dof.lower : -kInf);
          action_high.push_back(dof.has_limits ? dof.upper : kInf);
        } else {
          const double v = dof.max_velocity > 0.0 ? std::min(dof.max_velocity, config.max_joint_velocity)
                                                  : config.max_joint_velocity;
          action_low.push_back(-v);
          action_high.push_back(v);
        }
      }
    }
    action_spec.low = action_low;
    action_spec.high = action_high;
    A = action_low.size();
    action_spec.shape = {static_cast<std::int64_t>(A)};
  }

  // Resets the listed envs into sync rows 0.. (the caller checked they are not in flight).
  StepResult ResetRows(std::span<const std::int32_t> env_ids) {
    for (std::size_t r = 0; r < env_ids.size(); ++r) {
      const int e = env_ids[r];
      StartEpisode(e);
      Rows& out = sync_rows;
      out.env_ids[r] = e;
      out.reward[r] = 0.0f;
      out.terminated[r] = out.truncated[r] = out.success[r] = 0;
      out.episode[r] = slots[static_cast<std::size_t>(e)].episode;
      out.elapsed[r] = 0;
      out.finished[r] = EpisodeStats{};
      if (want_state) {
        WriteState(e, out.state_row(static_cast<int>(r)));
        std::memcpy(out.final_state_row(static_cast<int>(r)), out.state_row(static_cast<int>(r)), S * sizeof(float));
      }
    }
    const int count = static_cast<int>(env_ids.size());
    if (want_pixels) {
      RenderInto(std::span(sync_rows.env_ids).first(env_ids.size()), sync_rows.pixels.data(), env_ids.size());
      std::memcpy(sync_rows.final_pixels.data(), sync_rows.pixels.data(), env_ids.size() * P);
    }
    return sync_rows.View(count);
  }
};

VecEnv::VecEnv(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
VecEnv::~VecEnv() = default;

core::Result<std::unique_ptr<VecEnv>> VecEnv::Create(const std::string& scenario_path, const VecEnvConfig& config) {
  auto fail = [](std::string message, std::string field) { return core::Fail(std::move(message), {"", 0, 0, std::move(field)}); };
  if (config.num_envs < 1) return fail(StrCat("num_envs must be at least 1, got ", config.num_envs), "num_envs");
  if (config.threads < 0) return fail(StrCat("threads must not be negative, got ", config.threads), "threads");
  if (config.max_episode_steps < 0) return fail("max_episode_steps must not be negative", "max_episode_steps");
  if (config.batch_size < 0 || config.batch_size > config.num_envs)
    return fail(StrCat("batch_size must be in [0, num_envs = ", config.num_envs, "], got ", config.batch_size), "batch_size");
  if (!(config.max_translation > 0.0) || !(config.max_rotation > 0.0) || !(config.max_lead > 0.0) ||
      !(config.max_joint_velocity > 0.0))
    return fail("max_translation, max_rotation, max_lead and max_joint_velocity must be positive", "max_translation");

  auto impl = std::make_unique<Impl>();
  impl->config = config;
  impl->N = config.num_envs;
  impl->B = config.batch_size == 0 ? config.num_envs : config.batch_size;
  assets::AssetResolver resolver = assets::AssetResolver::FromEnvironment();
  for (const std::string& root : config.asset_roots) resolver.AddRoot(root);
  assets::AssetLibrary library(std::move(resolver));
  PF_ASSIGN_OR_RETURN(scenarios::Scenario scenario, scenarios::LoadScenario(scenario_path, library));
  impl->scenario = std::make_unique<scenarios::Scenario>(std::move(scenario));
  const scenarios::Scenario& sc = *impl->scenario;
  if (!sc.task) return core::Fail("the scenario has no task: a VecEnv needs one (a task { ... } block)", {sc.source.string(), 0, 0, "task"});
  impl->want_state = config.observation != ObservationMode::kPixels;
  impl->want_pixels = config.observation != ObservationMode::kState;
  if (impl->want_pixels) {
    if (sc.cameras.empty())
      return core::Fail("pixel observations need a camera (cameras { ... })", {sc.source.string(), 0, 0, "cameras"});
    for (const auto& camera : sc.cameras)
      if (camera.intrinsics.width != sc.cameras[0].intrinsics.width || camera.intrinsics.height != sc.cameras[0].intrinsics.height)
        return core::Fail(StrCat("pixel observations need cameras of one size: '", camera.name, "' differs from '",
                                 sc.cameras[0].name, "'"),
                          {sc.source.string(), 0, 0, StrCat("cameras[", camera.name, "]")});
  }
  PF_ASSIGN_OR_RETURN(impl->model, scenarios::CompileModel(sc));
  PF_ASSIGN_OR_RETURN(scenarios::TaskContext context, scenarios::TaskContext::Create(sc, impl->model));
  impl->context = std::make_unique<scenarios::TaskContext>(std::move(context));
  PF_TRY(impl->context->DrawEpisode(config.seed, 0));  // impossible placements fail here
  impl->robot = impl->context->task().robot;
  impl->max_steps = config.max_episode_steps > 0 ? config.max_episode_steps : impl->context->task().max_steps;
  // The sim's own thread pool is not used: the VecEnv's workers step envs one by one.
  PF_ASSIGN_OR_RETURN(impl->sim, sim::BatchSim::Create(impl->model, {impl->N, 1, 64}));
  impl->BuildSpecs();
  impl->grippers = sim::GripperJoints(*impl->model, impl->robot);
  for (int a = 0; a < impl->model->num_actuated(); ++a)
    impl->posture.push_back(impl->model->dofs()[static_cast<std::size_t>(impl->model->actuated()[static_cast<std::size_t>(a)])].initial_position);
  impl->P = impl->want_pixels ? static_cast<std::size_t>(impl->pixels_spec.size()) : 0;
  if (!impl->want_state) impl->S = 0;
  if (impl->want_pixels) {
    std::vector<render::RenderMeshInput> meshes;
    for (const auto& mesh : impl->model->render_meshes()) meshes.emplace_back(*mesh.mesh, mesh.colour, mesh.texture, mesh.specular);
    render::RenderConfig render_config;
    render_config.device_name = config.render_device;
    render_config.validation = config.render_validation;
    PF_ASSIGN_OR_RETURN(impl->renderer, render::BatchRenderer::Create(render_config, meshes));
    impl->snapshot.num_cameras = static_cast<std::uint32_t>(sc.cameras.size());
  }
  const std::size_t N = static_cast<std::size_t>(impl->N);
  impl->slots.resize(N);
  impl->staged.assign(N * impl->A, 0.0f);
  // Sync rows hold N rows, plus N more of pixel scratch for re-rendered resets.
  impl->sync_rows.Allocate(impl->N, impl->S, impl->P);
  impl->sync_rows.final_pixels.resize(2 * N * impl->P);
  const int ring_size = (impl->N + impl->B - 1) / impl->B + 1;
  impl->ring.resize(static_cast<std::size_t>(ring_size));
  for (Rows& rows : impl->ring) {
    rows.Allocate(impl->B, impl->S, impl->P);
    rows.final_pixels.resize(2 * static_cast<std::size_t>(impl->B) * impl->P);
  }
  impl->ready.assign(static_cast<std::size_t>(ring_size), 0);
  impl->queue.assign(N, {0, 0});
  const int threads = config.threads == 0 ? static_cast<int>(std::max(1u, std::thread::hardware_concurrency())) : config.threads;
  Impl* raw = impl.get();
  for (int t = 0; t < threads; ++t) impl->workers.emplace_back([raw] { raw->WorkerLoop(); });
  std::unique_ptr<VecEnv> env(new VecEnv(std::move(impl)));
  env->Reset();
  return env;
}

const VecEnvConfig& VecEnv::config() const { return impl_->config; }
int VecEnv::num_envs() const { return impl_->N; }
int VecEnv::batch_size() const { return impl_->B; }
const TensorSpec& VecEnv::state_spec() const { return impl_->state_spec; }
const TensorSpec& VecEnv::pixels_spec() const { return impl_->pixels_spec; }
const TensorSpec& VecEnv::action_spec() const { return impl_->action_spec; }
int VecEnv::state_dim() const { return static_cast<int>(impl_->state_spec.size()); }
int VecEnv::action_dim() const { return static_cast<int>(impl_->A); }
double VecEnv::control_dt() const { return impl_->context->control_dt(); }
int VecEnv::max_episode_steps() const { return impl_->max_steps; }
std::string VecEnv::task_name() const { return scenarios::TaskKindName(impl_->context->task().kind); }
const std::string& VecEnv::instruction(int env) const {
  PF_CHECK(env >= 0 && env < impl_->N, "env ", env, " out of range");
  return impl_->slots[static_cast<std::size_t>(env)].setup.instruction;
}
const EpisodeStats& VecEnv::last_episode(int env) const {
  PF_CHECK(env >= 0 && env < impl_->N, "env ", env, " out of range");
  return impl_->slots[static_cast<std::size_t>(env)].last;
}
std::uint64_t VecEnv::episodes_finished() const { return impl_->episodes_finished.load(); }
std::uint64_t VecEnv::faults() const { return impl_->sim->fault_count(); }
int VecEnv::in_flight() const { return impl_->in_flight; }
std::int64_t VecEnv::validation_messages() const {
  if (!impl_->renderer || !impl_->renderer->context().validation_enabled()) return -1;
  const render::VulkanContext& context = impl_->renderer->context();
  return static_cast<std::int64_t>(context.validation_warnings() + context.validation_errors());
}

StepResult VecEnv::Reset() { return Reset(impl_->config.seed); }

StepResult VecEnv::Reset(std::uint64_t seed) {
  Impl& m = *impl_;
  // Envs still stepping finish first; their results are dropped.
  {
    std::unique_lock lock(m.mutex);
    m.done_cv.wait(lock, [&] { return m.running == 0; });
  }
  m.config.seed = seed;
  m.in_flight = 0;
  m.next_slot = 0;
  m.recv_batch = 0;
  std::fill(m.ready.begin(), m.ready.end(), 0);
  m.episodes_finished = 0;
  for (Slot& slot : m.slots) {
    slot.episodes_started = 0;
    slot.in_flight = false;
    slot.last = EpisodeStats{};
  }
  m.scratch_ids.resize(static_cast<std::size_t>(m.N));
  std::iota(m.scratch_ids.begin(), m.scratch_ids.end(), 0);
  return m.ResetRows(m.scratch_ids);
}

core::Result<StepResult> VecEnv::ResetEnvs(std::span<const std::int32_t> env_ids) {
  Impl& m = *impl_;
  for (std::size_t i = 0; i < env_ids.size(); ++i) {
    const int e = env_ids[i];
    if (e < 0 || e >= m.N) return core::Fail(StrCat("env id ", e, " is out of range [0, ", m.N, ")"), {"", 0, 0, "env_ids"});
    if (m.slots[static_cast<std::size_t>(e)].in_flight)
      return core::Fail(StrCat("env ", e, " is in flight: Recv it before resetting it"), {"", 0, 0, "env_ids"});
    for (std::size_t j = 0; j < i; ++j)
      if (env_ids[j] == e) return core::Fail(StrCat("env id ", e, " is listed twice"), {"", 0, 0, "env_ids"});
  }
  return m.ResetRows(env_ids);
}

core::Result<StepResult> VecEnv::Step(std::span<const float> actions) {
  Impl& m = *impl_;
  if (m.in_flight > 0)
    return core::Fail(StrCat(m.in_flight, " envs are in flight from Send: Recv them before a synchronous Step"), {"", 0, 0, "Step"});
  m.scratch_ids.resize(static_cast<std::size_t>(m.N));
  std::iota(m.scratch_ids.begin(), m.scratch_ids.end(), 0);
  PF_TRY(m.CheckActions(actions, m.scratch_ids));
  std::copy(actions.begin(), actions.end(), m.staged.begin());
  {
    std::lock_guard lock(m.mutex);
    m.sync_pending = m.N;
    for (int e = 0; e < m.N; ++e) m.Enqueue(e, e);
  }
  m.work_cv.notify_all();
  {
    std::unique_lock lock(m.mutex);
    m.done_cv.wait(lock, [&] { return m.sync_pending == 0; });
  }
  m.FinishRows(m.sync_rows, m.N);
  return m.sync_rows.View(m.N);
}

core::Status VecEnv::Send(std::span<const float> actions, std::span<const std::int32_t> env_ids) {
  Impl& m = *impl_;
  PF_TRY(m.CheckActions(actions, env_ids));
  for (std::size_t i = 0; i < env_ids.size(); ++i) {
    const std::size_t e = static_cast<std::size_t>(env_ids[i]);
    std::copy_n(actions.data() + i * m.A, m.A, m.staged.data() + e * m.A);
    m.slots[e].in_flight = true;
  }
  {
    std::lock_guard lock(m.mutex);
    for (std::int32_t e : env_ids) m.Enqueue(e, -1);
  }
  m.in_flight += static_cast<int>(env_ids.size());
  m.work_cv.notify_all();
  return core::Ok();
}

core::Result<StepResult> VecEnv::Recv() {
  Impl& m = *impl_;
  if (m.in_flight < m.B)
    return core::Fail(StrCat("Recv needs batch_size = ", m.B, " envs in flight, there are ", m.in_flight,
                             ": Send more first"),
                      {"", 0, 0, "Recv"});
  const std::size_t index = static_cast<std::size_t>(m.recv_batch % m.ring.size());
  {
    std::unique_lock lock(m.mutex);
    m.done_cv.wait(lock, [&] { return m.ready[index] == m.B; });
    m.ready[index] = 0;
  }
  ++m.recv_batch;
  m.in_flight -= m.B;
  Rows& rows = m.ring[index];
  for (int r = 0; r < m.B; ++r) m.slots[static_cast<std::size_t>(rows.env_ids[static_cast<std::size_t>(r)])].in_flight = false;
  m.FinishRows(rows, m.B);
  return rows.View(m.B);
}

}  // namespace pf::rl
