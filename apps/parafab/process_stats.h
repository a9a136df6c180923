// Process figures the benchmarks report.
#pragma once

#include <cstdint>

namespace pf::apps {

std::uint64_t PeakRssBytes();     // high-water mark of resident memory
std::uint64_t CurrentRssBytes();  // resident memory now

}  // namespace pf::apps
