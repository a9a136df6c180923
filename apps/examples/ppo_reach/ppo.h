// PPO (proximal policy optimization with the clipped surrogate objective and GAE(λ)) on a
// pf::VecEnv's state observations, written against LibTorch's C++ API. Only the public
// VecEnv API is used.
//
// The policy is a diagonal Gaussian over the controlled action elements: its mean is an MLP
// of the normalized observation, its log standard deviation a learned vector that does not
// depend on the state. Samples are drawn unbounded and their log-probabilities are those of
// the unbounded Gaussian; the environment receives them clipped to the action bounds
// (clipping is part of the environment's transition, so the likelihood ratio stays exact).
// The deterministic policy is the mean, clipped.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "pf/core/result.h"
#include "pf/rl/vec_env.h"

namespace pf::examples {

struct PpoConfig {
  int rollout_steps = 32;          // control steps per env collected per iteration
  int epochs = 10;                 // passes over each rollout
  int minibatches = 4;             // minibatches per epoch (rollout_steps × num_envs rows split evenly)
  double gamma = 0.95;             // discount per control step
  double gae_lambda = 0.95;        // GAE(λ) trace decay
  double clip = 0.2;               // PPO ratio clip ε
  double learning_rate = 3e-4;     // Adam step size (constant)
  double adam_eps = 1e-5;          // Adam ε
  double value_coef = 0.5;         // weight of the value loss
  double entropy_coef = 0.0;       // weight of the entropy bonus
  double max_grad_norm = 0.5;      // gradient norm clip, applied to the actor and the critic separately
  double reward_scale = 0.1;       // rewards are multiplied by this for learning (reported returns are not)
  double init_log_std = -1.0;      // initial log standard deviation of every action element
  int hidden = 64;                 // units per hidden layer (tanh)
  int layers = 2;                  // hidden layers of the actor and of the critic
  double obs_clip = 10.0;          // normalized observations are clipped to ±obs_clip
};

// Running mean and variance of observations (per element, in double precision), merged
// batch by batch with Chan et al.'s parallel formula; normalizes to zero mean, unit variance.
class ObsNormalizer {
 public:
  explicit ObsNormalizer(int dim = 0);
  int dim() const { return static_cast<int>(mean_.size()); }
  // rows: [num_rows × dim].
  void Update(std::span<const float> rows);
  // in: [num_rows × dim] raw; out: [num_rows × dim] normalized and clipped to ±clip.
  void Normalize(std::span<const float> in, std::span<float> out, double clip) const;
  void Save(torch::serialize::OutputArchive& archive) const;
  void Load(torch::serialize::InputArchive& archive);

 private:
  std::vector<double> mean_, var_;  // [dim]
  double count_ = 0.0;
};

// Actor (mean of the Gaussian) and critic (state value): two separate tanh MLPs.
struct ActorCriticImpl : torch::nn::Module {
  ActorCriticImpl(int obs_dim, int act_dim, const PpoConfig& config);
  torch::Tensor Mean(const torch::Tensor& obs);   // [B × act_dim]
  torch::Tensor Value(const torch::Tensor& obs);  // [B]
  // Sum over action elements of the Gaussian log density of `actions` ([B × act_dim]).
  torch::Tensor LogProb(const torch::Tensor& mean, const torch::Tensor& actions);
  torch::Tensor Entropy();  // scalar, per sample
  std::vector<torch::Tensor> ActorParameters();
  std::vector<torch::Tensor> CriticParameters();

  torch::nn::Sequential actor{nullptr}, critic{nullptr};
  torch::Tensor log_std;  // [act_dim]
};
TORCH_MODULE(ActorCritic);

// Statistics of one training iteration (rollout + update).
struct IterationStats {
  std::int64_t iteration = 0;
  std::int64_t env_steps = 0;     // total control steps of all envs since training began
  int episodes = 0;               // episodes that ended during this rollout
  double mean_return = 0.0;       // their mean undiscounted, unscaled return
  double success_rate = 0.0;      // fraction of them that ended in success
  double mean_length = 0.0;       // their mean length (control steps)
  double policy_loss = 0.0, value_loss = 0.0, entropy = 0.0, approx_kl = 0.0, clip_fraction = 0.0;
  double mean_std = 0.0;          // mean standard deviation of the policy
};

// Statistics of an evaluation of the deterministic policy.
struct EvalStats {
  int episodes = 0;
  double success_rate = 0.0;
  double mean_return = 0.0;
  double mean_length = 0.0;
};

class PpoTrainer {
 public:
  // obs_fields: indices into the env's state vector that the policy and the value function
  // see. action_fields: indices into the env's action vector that the policy controls; the
  // other elements are sent as 0. Seeds torch's generator with `seed` and builds the networks.
  PpoTrainer(rl::VecEnv& env, std::vector<int> obs_fields, std::vector<int> action_fields, const PpoConfig& config,
             std::uint64_t seed);

  // One iteration: collects rollout_steps steps of every env, then updates the policy.
  IterationStats Iterate();
  // Runs the deterministic policy (the clipped mean) on episodes 0 .. episodes-1 of `env`
  // (which is Reset first; every env must be built like the training env apart from its seed
  // and env count). The observation normalizer is not updated.
  EvalStats Evaluate(rl::VecEnv& env, int episodes);

  std::int64_t env_steps() const { return env_steps_; }
  std::int64_t iteration() const { return iteration_; }

  // Checkpoint: networks, optimizer, observation normalizer, counters and torch's generator,
  // written to a temporary file beside `path` and renamed over it.
  core::Status Save(const std::filesystem::path& path) const;
  // Restores a checkpoint written by Save for the same observation and action sizes. The
  // environment is not part of it: call RestartEnv afterwards.
  core::Status Load(const std::filesystem::path& path);
  // Resets the training env with `seed` (its first observations start the next rollout).
  void RestartEnv(std::uint64_t seed);

 private:
  // The observed elements of state rows ([rows × state_dim] → [rows × obs_dim]).
  void Select(std::span<const float> states, std::vector<float>& out) const;
  void Observe(std::span<const float> raw, bool update_normalizer, std::vector<float>& normalized);
  void ToEnvActions(const torch::Tensor& policy_actions, std::vector<float>& env_actions) const;

  rl::VecEnv& env_;
  std::vector<int> obs_fields_, action_fields_;
  PpoConfig config_;
  int num_envs_ = 0, env_obs_dim_ = 0, obs_dim_ = 0, act_dim_ = 0, env_act_dim_ = 0;
  ActorCritic model_{nullptr};
  std::unique_ptr<torch::optim::Adam> optimizer_;
  ObsNormalizer normalizer_;
  std::int64_t env_steps_ = 0, iteration_ = 0;

  std::vector<float> next_obs_raw_;  // [num_envs × obs_dim] the observation the next rollout starts from
  // Rollout storage, [rollout_steps × num_envs × ...].
  torch::Tensor obs_, actions_, log_probs_, values_, rewards_, dones_;
  std::vector<float> scratch_obs_, scratch_rows_, scratch_final_, env_actions_;
};

// Deterministic 64-bit mixing (SplitMix64's finalizer) for deriving seeds.
std::uint64_t MixSeed(std::uint64_t a, std::uint64_t b);

}  // namespace pf::examples
