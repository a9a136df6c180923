#include "progress.h"

#include <unistd.h>

#include <cstdio>

namespace pf::apps {

Progress::Progress(std::string label, std::uint64_t total, std::string unit)
    : label_(std::move(label)), unit_(std::move(unit)), total_(total), terminal_(isatty(STDERR_FILENO) == 1),
      start_(Clock::now()), last_(start_) {}

void Progress::Update(std::uint64_t done) {
  const auto now = Clock::now();
  const double since_last = std::chrono::duration<double>(now - last_).count();
  if (since_last < (terminal_ ? 0.2 : 5.0) && (done < total_ || !shown_)) return;
  last_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0;
  const double eta = rate > 0 ? static_cast<double>(total_ - done) / rate : 0.0;
  const double fraction = total_ > 0 ? static_cast<double>(done) / static_cast<double>(total_) : 1.0;
  if (terminal_) {
    constexpr int kWidth = 30;
    const int filled = static_cast<int>(fraction * kWidth);
    std::fprintf(stderr, "\r%s [%.*s%*s] %3.0f%% %.0f %s/s ETA %.0fs ", label_.c_str(), filled,
                 "##############################", kWidth - filled, "", 100.0 * fraction, rate, unit_.c_str(), eta);
  } else {
    std::fprintf(stderr, "%s: %llu/%llu %s (%.0f%%), %.0f %s/s, ETA %.0f s\n", label_.c_str(),
                 static_cast<unsigned long long>(done), static_cast<unsigned long long>(total_), unit_.c_str(),
                 100.0 * fraction, rate, unit_.c_str(), eta);
  }
  std::fflush(stderr);
  shown_ = true;
}

void Progress::Finish() {
  if (shown_ && terminal_) std::fprintf(stderr, "\n");
}

}  // namespace pf::apps
