// Progress of long work on stderr: a redrawn bar on a terminal, a plain line every few
// seconds otherwise (logs, Slurm).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace pf::apps {

class Progress {
 public:
  Progress(std::string label, std::uint64_t total, std::string unit);
  void Update(std::uint64_t done);
  void Finish();

 private:
  using Clock = std::chrono::steady_clock;
  std::string label_, unit_;
  std::uint64_t total_;
  bool terminal_;
  Clock::time_point start_, last_;
  bool shown_ = false;
};

}  // namespace pf::apps
