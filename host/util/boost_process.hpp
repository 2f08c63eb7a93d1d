// Boost.Process v1 (child, args, environment, io redirection, extend hooks, posix::fd), the API
// pyhost uses, wherever this Boost keeps it: Boost 1.88 moved it to boost/process/v1/ and the
// namespace boost::process::v1, and <boost/process.hpp> became v2 (another API). `bpv1` names v1
// with either (Debian 12: Boost 1.74; Debian sid: 1.90+).
#pragma once

#if __has_include(<boost/process/v1.hpp>)
#include <boost/process/v1.hpp>
#include <boost/process/v1/extend.hpp>
#include <boost/process/v1/posix.hpp>
namespace bpv1 = boost::process::v1;
#else
#include <boost/process.hpp>
#include <boost/process/extend.hpp>
#include <boost/process/posix.hpp>
namespace bpv1 = boost::process;
#endif
