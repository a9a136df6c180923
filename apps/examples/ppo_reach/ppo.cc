#include "ppo.h"

#include <algorithm>
#include <cmath>
#include <mutex>
#include <numbers>
#include <stdexcept>
#include <system_error>

#include <ATen/CPUGeneratorImpl.h>

namespace pf::examples {

std::uint64_t MixSeed(std::uint64_t a, std::uint64_t b) {
  std::uint64_t z = a + 0x9E3779B97F4A7C15ull * (b + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// ---------------------------------------------------------------------------------------
// ObsNormalizer

ObsNormalizer::ObsNormalizer(int dim)
    : mean_(static_cast<std::size_t>(dim), 0.0), var_(static_cast<std::size_t>(dim), 1.0) {}

void ObsNormalizer::Update(std::span<const float> rows) {
  const std::size_t D = mean_.size();
  if (D == 0 || rows.empty()) return;
  const std::size_t n = rows.size() / D;
  const double nb = static_cast<double>(n);
  const double total = count_ + nb;
  for (std::size_t d = 0; d < D; ++d) {
    double sum = 0.0;
    for (std::size_t r = 0; r < n; ++r) sum += rows[r * D + d];
    const double batch_mean = sum / nb;
    double sq = 0.0;
    for (std::size_t r = 0; r < n; ++r) {
      const double x = rows[r * D + d] - batch_mean;
      sq += x * x;
    }
    const double batch_var = sq / nb;
    const double delta = batch_mean - mean_[d];
    const double m2 = var_[d] * count_ + batch_var * nb + delta * delta * count_ * nb / total;
    mean_[d] += delta * nb / total;
    var_[d] = m2 / total;
  }
  count_ = total;
}

void ObsNormalizer::Normalize(std::span<const float> in, std::span<float> out, double clip) const {
  const std::size_t D = mean_.size();
  const std::size_t n = D == 0 ? 0 : in.size() / D;
  for (std::size_t r = 0; r < n; ++r)
    for (std::size_t d = 0; d < D; ++d) {
      const double z = (in[r * D + d] - mean_[d]) / std::sqrt(var_[d] + 1e-8);
      out[r * D + d] = static_cast<float>(std::clamp(z, -clip, clip));
    }
}

void ObsNormalizer::Save(torch::serialize::OutputArchive& archive) const {
  const std::int64_t D = static_cast<std::int64_t>(mean_.size());
  archive.write("mean", torch::from_blob(const_cast<double*>(mean_.data()), {D}, torch::kFloat64).clone());
  archive.write("var", torch::from_blob(const_cast<double*>(var_.data()), {D}, torch::kFloat64).clone());
  archive.write("count", torch::tensor(count_, torch::kFloat64));
}

void ObsNormalizer::Load(torch::serialize::InputArchive& archive) {
  torch::Tensor mean, var, count;
  archive.read("mean", mean);
  archive.read("var", var);
  archive.read("count", count);
  if (mean.numel() != static_cast<std::int64_t>(mean_.size()) || var.numel() != mean.numel())
    throw std::runtime_error("the checkpoint's observation normalizer has " + std::to_string(mean.numel()) +
                             " elements, the environment's observations " + std::to_string(mean_.size()));
  mean = mean.to(torch::kFloat64).contiguous();
  var = var.to(torch::kFloat64).contiguous();
  std::copy_n(mean.data_ptr<double>(), mean_.size(), mean_.begin());
  std::copy_n(var.data_ptr<double>(), var_.size(), var_.begin());
  count_ = count.item<double>();
}

// ---------------------------------------------------------------------------------------
// ActorCritic

namespace {

torch::nn::Sequential Mlp(int in, int out, const PpoConfig& config, double out_gain) {
  torch::nn::Sequential net;
  auto init = [](torch::nn::Linear& layer, double gain) {
    torch::NoGradGuard no_grad;
    torch::nn::init::orthogonal_(layer->weight, gain);
    torch::nn::init::zeros_(layer->bias);
  };
  int width = in;
  for (int l = 0; l < config.layers; ++l) {
    torch::nn::Linear layer(width, config.hidden);
    init(layer, std::sqrt(2.0));
    net->push_back(layer);
    net->push_back(torch::nn::Tanh());
    width = config.hidden;
  }
  torch::nn::Linear head(width, out);
  init(head, out_gain);
  net->push_back(head);
  return net;
}

}  // namespace

ActorCriticImpl::ActorCriticImpl(int obs_dim, int act_dim, const PpoConfig& config) {
  actor = register_module("actor", Mlp(obs_dim, act_dim, config, 0.01));
  critic = register_module("critic", Mlp(obs_dim, 1, config, 1.0));
  log_std = register_parameter("log_std", torch::full({act_dim}, config.init_log_std, torch::kFloat32));
}

torch::Tensor ActorCriticImpl::Mean(const torch::Tensor& obs) { return actor->forward(obs); }

torch::Tensor ActorCriticImpl::Value(const torch::Tensor& obs) { return critic->forward(obs).squeeze(-1); }

torch::Tensor ActorCriticImpl::LogProb(const torch::Tensor& mean, const torch::Tensor& actions) {
  const torch::Tensor z = (actions - mean) * torch::exp(-log_std);
  const double half_log_2pi = 0.5 * std::log(2.0 * std::numbers::pi);
  return (-0.5 * z.pow(2) - log_std - half_log_2pi).sum(-1);
}

torch::Tensor ActorCriticImpl::Entropy() {
  const double c = 0.5 + 0.5 * std::log(2.0 * std::numbers::pi);
  return (log_std + c).sum();
}

std::vector<torch::Tensor> ActorCriticImpl::ActorParameters() {
  std::vector<torch::Tensor> p = actor->parameters();
  p.push_back(log_std);
  return p;
}

std::vector<torch::Tensor> ActorCriticImpl::CriticParameters() { return critic->parameters(); }

// ---------------------------------------------------------------------------------------
// PpoTrainer

PpoTrainer::PpoTrainer(rl::VecEnv& env, std::vector<int> obs_fields, std::vector<int> action_fields,
                       const PpoConfig& config, std::uint64_t seed)
    : env_(env), obs_fields_(std::move(obs_fields)), action_fields_(std::move(action_fields)), config_(config) {
  num_envs_ = env_.num_envs();
  env_obs_dim_ = env_.state_dim();
  obs_dim_ = static_cast<int>(obs_fields_.size());
  for (int f : obs_fields_)
    if (f < 0 || f >= env_obs_dim_) throw std::runtime_error("observation element index out of range");
  env_act_dim_ = env_.action_dim();
  act_dim_ = static_cast<int>(action_fields_.size());
  if (obs_dim_ <= 0) throw std::runtime_error("the environment has no state observations");
  if (act_dim_ <= 0) throw std::runtime_error("the policy controls no action elements");
  for (int f : action_fields_)
    if (f < 0 || f >= env_act_dim_) throw std::runtime_error("action field index out of range");
  if (config_.rollout_steps < 1 || config_.epochs < 1 || config_.minibatches < 1 ||
      config_.minibatches > config_.rollout_steps * num_envs_)
    throw std::runtime_error("rollout_steps, epochs and minibatches must be positive, minibatches at most rollout_steps x envs");
  torch::manual_seed(seed);
  model_ = ActorCritic(obs_dim_, act_dim_, config_);
  optimizer_ = std::make_unique<torch::optim::Adam>(
      model_->parameters(), torch::optim::AdamOptions(config_.learning_rate).eps(config_.adam_eps));
  normalizer_ = ObsNormalizer(obs_dim_);
  const std::int64_t T = config_.rollout_steps, N = num_envs_;
  obs_ = torch::zeros({T, N, obs_dim_});
  actions_ = torch::zeros({T, N, act_dim_});
  log_probs_ = torch::zeros({T, N});
  values_ = torch::zeros({T, N});
  rewards_ = torch::zeros({T, N});
  dones_ = torch::zeros({T, N});
  RestartEnv(env_.config().seed);
}

void PpoTrainer::RestartEnv(std::uint64_t seed) {
  const rl::StepResult r = env_.Reset(seed);
  Select(r.state, next_obs_raw_);
}

void PpoTrainer::Select(std::span<const float> states, std::vector<float>& out) const {
  const std::size_t S = static_cast<std::size_t>(env_obs_dim_), D = obs_fields_.size();
  const std::size_t rows = states.size() / S;
  out.resize(rows * D);
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t k = 0; k < D; ++k) out[r * D + k] = states[r * S + static_cast<std::size_t>(obs_fields_[k])];
}

void PpoTrainer::Observe(std::span<const float> raw, bool update_normalizer, std::vector<float>& normalized) {
  if (update_normalizer) normalizer_.Update(raw);
  normalized.resize(raw.size());
  normalizer_.Normalize(raw, normalized, config_.obs_clip);
}

void PpoTrainer::ToEnvActions(const torch::Tensor& policy_actions, std::vector<float>& env_actions) const {
  const torch::Tensor a = policy_actions.contiguous();
  const float* p = a.data_ptr<float>();
  const std::int64_t rows = a.size(0);
  const rl::TensorSpec& spec = env_.action_spec();
  env_actions.assign(static_cast<std::size_t>(rows * env_act_dim_), 0.0f);
  for (std::int64_t r = 0; r < rows; ++r)
    for (int k = 0; k < act_dim_; ++k) {
      const std::size_t f = static_cast<std::size_t>(action_fields_[static_cast<std::size_t>(k)]);
      const double v = std::clamp(static_cast<double>(p[r * act_dim_ + k]), spec.low[f], spec.high[f]);
      env_actions[static_cast<std::size_t>(r) * static_cast<std::size_t>(env_act_dim_) + f] = static_cast<float>(v);
    }
}

IterationStats PpoTrainer::Iterate() {
  const int T = config_.rollout_steps, N = num_envs_;
  const std::size_t S = static_cast<std::size_t>(env_obs_dim_);
  IterationStats stats;
  double return_sum = 0.0, length_sum = 0.0;
  int successes = 0;

  // Rollout.
  {
    torch::NoGradGuard no_grad;
    model_->eval();
    std::vector<float> rewards(static_cast<std::size_t>(N)), dones(static_cast<std::size_t>(N));
    std::vector<std::int64_t> bootstrap_rows;
    for (int t = 0; t < T; ++t) {
      Observe(next_obs_raw_, true, scratch_obs_);
      const torch::Tensor obs = torch::from_blob(scratch_obs_.data(), {N, obs_dim_}, torch::kFloat32).clone();
      const torch::Tensor mean = model_->Mean(obs);
      const torch::Tensor value = model_->Value(obs);
      const torch::Tensor action = mean + torch::exp(model_->log_std) * torch::randn_like(mean);
      const torch::Tensor log_prob = model_->LogProb(mean, action);
      obs_[t].copy_(obs);
      actions_[t].copy_(action);
      log_probs_[t].copy_(log_prob);
      values_[t].copy_(value);
      ToEnvActions(action, env_actions_);
      auto stepped = env_.Step(env_actions_);
      if (!stepped) throw std::runtime_error("VecEnv::Step: " + stepped.error().ToString());
      const rl::StepResult& r = *stepped;
      bootstrap_rows.clear();
      for (int e = 0; e < N; ++e) {
        const std::size_t E = static_cast<std::size_t>(e);
        rewards[E] = static_cast<float>(config_.reward_scale * r.reward[E]);
        const bool ended = r.terminated[E] || r.truncated[E];
        dones[E] = ended ? 1.0f : 0.0f;
        // A truncated episode did not reach a terminal state: its return continues past
        // the cut, estimated by the value of its last observation.
        if (r.truncated[E] && !r.terminated[E]) bootstrap_rows.push_back(e);
        if (ended) {
          const rl::EpisodeStats& done = r.finished[E];
          ++stats.episodes;
          return_sum += done.total_reward;
          length_sum += done.length;
          successes += done.success ? 1 : 0;
        }
      }
      if (!bootstrap_rows.empty()) {
        scratch_rows_.resize(bootstrap_rows.size() * S);
        for (std::size_t k = 0; k < bootstrap_rows.size(); ++k)
          std::copy_n(r.final_state.data() + static_cast<std::size_t>(bootstrap_rows[k]) * S, S, scratch_rows_.data() + k * S);
        Select(scratch_rows_, scratch_final_);
        std::vector<float> normalized(scratch_final_.size());
        normalizer_.Normalize(scratch_final_, normalized, config_.obs_clip);
        const torch::Tensor final_obs =
            torch::from_blob(normalized.data(), {static_cast<std::int64_t>(bootstrap_rows.size()), obs_dim_}, torch::kFloat32);
        const torch::Tensor final_value = model_->Value(final_obs).contiguous();
        const float* v = final_value.data_ptr<float>();
        for (std::size_t k = 0; k < bootstrap_rows.size(); ++k)
          rewards[static_cast<std::size_t>(bootstrap_rows[k])] += static_cast<float>(config_.gamma) * v[k];
      }
      rewards_[t].copy_(torch::from_blob(rewards.data(), {N}, torch::kFloat32));
      dones_[t].copy_(torch::from_blob(dones.data(), {N}, torch::kFloat32));
      Select(r.state, next_obs_raw_);
      env_steps_ += N;
    }
  }

  // GAE(λ): advantages and value targets, with the bootstrap of the observation after the rollout.
  torch::Tensor advantages = torch::zeros({T, N});
  {
    torch::NoGradGuard no_grad;
    std::vector<float> normalized(next_obs_raw_.size());
    normalizer_.Normalize(next_obs_raw_, normalized, config_.obs_clip);
    const torch::Tensor last_value =
        model_->Value(torch::from_blob(normalized.data(), {N, obs_dim_}, torch::kFloat32)).contiguous();
    const float* last = last_value.data_ptr<float>();
    const auto value = values_.accessor<float, 2>();
    const auto reward = rewards_.accessor<float, 2>();
    const auto done = dones_.accessor<float, 2>();
    auto adv = advantages.accessor<float, 2>();
    const double gamma = config_.gamma, lambda = config_.gae_lambda;
    for (int e = 0; e < N; ++e) {
      double gae = 0.0;
      for (int t = T - 1; t >= 0; --t) {
        const double next_value = t == T - 1 ? last[e] : value[t + 1][e];
        const double not_done = 1.0 - done[t][e];
        const double delta = reward[t][e] + gamma * next_value * not_done - value[t][e];
        gae = delta + gamma * lambda * not_done * gae;
        adv[t][e] = static_cast<float>(gae);
      }
    }
  }
  const std::int64_t B = static_cast<std::int64_t>(T) * N;
  const torch::Tensor b_obs = obs_.reshape({B, obs_dim_});
  const torch::Tensor b_actions = actions_.reshape({B, act_dim_});
  const torch::Tensor b_log_probs = log_probs_.reshape({B});
  const torch::Tensor b_returns = (advantages + values_).reshape({B});
  torch::Tensor b_adv = advantages.reshape({B});
  b_adv = (b_adv - b_adv.mean()) / (b_adv.std() + 1e-8);

  // Update: epochs of shuffled minibatches.
  model_->train();
  const std::vector<torch::Tensor> actor_params = model_->ActorParameters();
  const std::vector<torch::Tensor> critic_params = model_->CriticParameters();
  double policy_loss_sum = 0.0, value_loss_sum = 0.0, kl_sum = 0.0, clip_sum = 0.0;
  int updates = 0;
  for (int epoch = 0; epoch < config_.epochs; ++epoch) {
    const torch::Tensor perm = torch::randperm(B, torch::kLong);
    for (int m = 0; m < config_.minibatches; ++m) {
      const std::int64_t begin = B * m / config_.minibatches, end = B * (m + 1) / config_.minibatches;
      const torch::Tensor idx = perm.slice(0, begin, end);
      const torch::Tensor obs = b_obs.index_select(0, idx);
      const torch::Tensor mean = model_->Mean(obs);
      const torch::Tensor log_prob = model_->LogProb(mean, b_actions.index_select(0, idx));
      const torch::Tensor log_ratio = log_prob - b_log_probs.index_select(0, idx);
      const torch::Tensor ratio = torch::exp(log_ratio);
      const torch::Tensor adv = b_adv.index_select(0, idx);
      const torch::Tensor policy_loss =
          -torch::min(ratio * adv, torch::clamp(ratio, 1.0 - config_.clip, 1.0 + config_.clip) * adv).mean();
      const torch::Tensor value_loss = 0.5 * (model_->Value(obs) - b_returns.index_select(0, idx)).pow(2).mean();
      const torch::Tensor entropy = model_->Entropy();
      const torch::Tensor loss = policy_loss + config_.value_coef * value_loss - config_.entropy_coef * entropy;
      optimizer_->zero_grad();
      loss.backward();
      torch::nn::utils::clip_grad_norm_(actor_params, config_.max_grad_norm);
      torch::nn::utils::clip_grad_norm_(critic_params, config_.max_grad_norm);
      optimizer_->step();
      {
        torch::NoGradGuard no_grad;
        kl_sum += ((ratio - 1.0) - log_ratio).mean().item<double>();
        clip_sum += ((ratio - 1.0).abs() > config_.clip).to(torch::kFloat32).mean().item<double>();
      }
      policy_loss_sum += policy_loss.item<double>();
      value_loss_sum += value_loss.item<double>();
      ++updates;
    }
  }

  ++iteration_;
  stats.iteration = iteration_;
  stats.env_steps = env_steps_;
  if (stats.episodes > 0) {
    stats.mean_return = return_sum / stats.episodes;
    stats.mean_length = length_sum / stats.episodes;
    stats.success_rate = static_cast<double>(successes) / stats.episodes;
  }
  stats.policy_loss = policy_loss_sum / updates;
  stats.value_loss = value_loss_sum / updates;
  stats.approx_kl = kl_sum / updates;
  stats.clip_fraction = clip_sum / updates;
  {
    torch::NoGradGuard no_grad;
    stats.entropy = model_->Entropy().item<double>();
    stats.mean_std = torch::exp(model_->log_std).mean().item<double>();
  }
  return stats;
}

EvalStats PpoTrainer::Evaluate(rl::VecEnv& env, int episodes) {
  EvalStats stats;
  if (episodes <= 0) return stats;
  if (env.state_dim() != env_obs_dim_ || env.action_dim() != env_act_dim_)
    throw std::runtime_error("the evaluation env's observation or action size differs from the training env's");
  torch::NoGradGuard no_grad;
  model_->eval();
  const int N = env.num_envs();
  rl::StepResult r = env.Reset();
  std::vector<float> selected, normalized, actions;
  double return_sum = 0.0, length_sum = 0.0;
  int successes = 0;
  // Env i runs episodes i, i + N, ...: every episode below `episodes` is run exactly once.
  const std::int64_t max_steps = static_cast<std::int64_t>((episodes + N - 1) / N + 1) * env.max_episode_steps();
  for (std::int64_t step = 0; stats.episodes < episodes; ++step) {
    if (step > max_steps) throw std::runtime_error("evaluation did not finish its episodes");
    Select(r.state, selected);
    normalized.resize(selected.size());
    normalizer_.Normalize(selected, normalized, config_.obs_clip);
    const torch::Tensor mean = model_->Mean(torch::from_blob(normalized.data(), {N, obs_dim_}, torch::kFloat32));
    ToEnvActions(mean, actions);
    auto stepped = env.Step(actions);
    if (!stepped) throw std::runtime_error("VecEnv::Step: " + stepped.error().ToString());
    r = *stepped;
    for (int e = 0; e < N; ++e) {
      const std::size_t E = static_cast<std::size_t>(e);
      if (!r.terminated[E] && !r.truncated[E]) continue;
      const rl::EpisodeStats& done = r.finished[E];
      if (done.episode >= static_cast<std::uint64_t>(episodes)) continue;
      ++stats.episodes;
      return_sum += done.total_reward;
      length_sum += done.length;
      successes += done.success ? 1 : 0;
    }
  }
  stats.success_rate = static_cast<double>(successes) / stats.episodes;
  stats.mean_return = return_sum / stats.episodes;
  stats.mean_length = length_sum / stats.episodes;
  return stats;
}

// ---------------------------------------------------------------------------------------
// Checkpoints

namespace {
constexpr std::int64_t kCheckpointFormat = 1;

std::int64_t ReadInt(torch::serialize::InputArchive& archive, const char* key) {
  torch::Tensor t;
  archive.read(key, t);
  return t.item<std::int64_t>();
}
}  // namespace

core::Status PpoTrainer::Save(const std::filesystem::path& path) const {
  const std::filesystem::path temp = path.string() + ".tmp";
  try {
    torch::serialize::OutputArchive archive;
    archive.write("format", torch::tensor(kCheckpointFormat));
    archive.write("obs_dim", torch::tensor(static_cast<std::int64_t>(obs_dim_)));
    archive.write("act_dim", torch::tensor(static_cast<std::int64_t>(act_dim_)));
    archive.write("env_steps", torch::tensor(env_steps_));
    archive.write("iteration", torch::tensor(iteration_));
    torch::serialize::OutputArchive model_archive, optimizer_archive, normalizer_archive;
    model_->save(model_archive);
    optimizer_->save(optimizer_archive);
    normalizer_.Save(normalizer_archive);
    archive.write("model", model_archive);
    archive.write("optimizer", optimizer_archive);
    archive.write("obs_normalizer", normalizer_archive);
    {
      at::Generator generator = at::detail::getDefaultCPUGenerator();
      std::lock_guard<std::mutex> lock(generator.mutex());
      archive.write("torch_rng", generator.get_state());
    }
    archive.save_to(temp.string());
  } catch (const std::exception& e) {
    return core::Fail(std::string("writing the checkpoint: ") + e.what(), {temp.string(), 0, 0, ""});
  }
  std::error_code ec;
  std::filesystem::rename(temp, path, ec);
  if (ec) return core::Fail("renaming the checkpoint into place: " + ec.message(), {path.string(), 0, 0, ""});
  return core::Ok();
}

core::Status PpoTrainer::Load(const std::filesystem::path& path) {
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path.string());
    if (ReadInt(archive, "format") != kCheckpointFormat) return core::Fail("unknown checkpoint format", {path.string(), 0, 0, ""});
    const std::int64_t obs_dim = ReadInt(archive, "obs_dim"), act_dim = ReadInt(archive, "act_dim");
    if (obs_dim != obs_dim_ || act_dim != act_dim_)
      return core::Fail("the checkpoint is for " + std::to_string(obs_dim) + " observations and " + std::to_string(act_dim) +
                            " actions, this run has " + std::to_string(obs_dim_) + " and " + std::to_string(act_dim_),
                        {path.string(), 0, 0, ""});
    torch::serialize::InputArchive model_archive, optimizer_archive, normalizer_archive;
    archive.read("model", model_archive);
    archive.read("optimizer", optimizer_archive);
    archive.read("obs_normalizer", normalizer_archive);
    model_->load(model_archive);
    optimizer_->load(optimizer_archive);
    normalizer_.Load(normalizer_archive);
    env_steps_ = ReadInt(archive, "env_steps");
    iteration_ = ReadInt(archive, "iteration");
    torch::Tensor rng;
    archive.read("torch_rng", rng);
    at::Generator generator = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(generator.mutex());
    generator.set_state(rng);
  } catch (const std::exception& e) {
    return core::Fail(std::string("reading the checkpoint: ") + e.what(), {path.string(), 0, 0, ""});
  }
  return core::Ok();
}

}  // namespace pf::examples
