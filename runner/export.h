/*
 * Symbols handlers may call are built with default visibility; everything
 * else in lunard is hidden (-fvisibility=hidden).  runner/exports.list is
 * the dynamic list the daemon is linked with; tests/compat checks both
 * agree with include/.
 */
#ifndef LUNAR_EXPORT_H
#define LUNAR_EXPORT_H

#define LUNAR_EXPORT __attribute__((visibility("default")))

#endif
