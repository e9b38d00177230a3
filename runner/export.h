/*
 * Symbols handlers may call are built with default visibility; everything
 * else in lunard is hidden (-fvisibility=hidden), and executables are
 * linked with --export-dynamic, so the dynamic symbol table holds exactly
 * the LUNAR_EXPORT functions.  tests/compat/check-exports.sh checks that
 * they are the functions include/ declares and all that Debian's 1.5.4
 * handlers need.
 */
#ifndef LUNAR_EXPORT_H
#define LUNAR_EXPORT_H

#define LUNAR_EXPORT __attribute__((visibility("default")))

#endif
