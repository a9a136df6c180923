// libparafab.so: the installed shared library (rl/CMakeLists.txt). Its code is pf_rl and
// what pf_rl uses, linked in whole; this file only gives the library its version.
#include "pf/rl/vec_env.h"

namespace pf::rl {

// The parafab version the library was built from ("0.1.0").
extern "C" const char* parafab_version() { return PF_VERSION; }

}  // namespace pf::rl
