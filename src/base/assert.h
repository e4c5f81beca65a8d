/*
 * assert.h: ASSERT stays on in every build; DEBUG_ASSERT only with -DDEBUG.
 * Never use either on anything that came from the network or the disk: those
 * get an error, not an abort.
 */
#ifndef FJORD_BASE_ASSERT_H
#define FJORD_BASE_ASSERT_H

void assert_fail(const char *expr, const char *file, int line) __attribute__((noreturn));

#define ASSERT(e) ((e) ? (void)0 : assert_fail(#e, __FILE__, __LINE__))
#ifdef DEBUG
#define DEBUG_ASSERT(e) ASSERT(e)
#else
#define DEBUG_ASSERT(e) ((void)0)
#endif

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b)     ((a) < (b) ? (a) : (b))
#define MAX(a, b)     ((a) > (b) ? (a) : (b))
#define UNUSED(x)     ((void)(x))

#endif
