/*
 * unit.h: a tiny unit-test harness. Each test runs in its own forked process
 * with a timeout, so a crash or hang fails that test only.
 *
 *   TEST(name) { CHECK(1 + 1 == 2); CHECK_EQ_INT(x, 3); }
 *   int main(int argc, char **argv) { return unit_main(argc, argv); }
 *
 * Every test binary prints "PASS name" / "FAIL name" lines and ends with
 * "N passed, N failed". A test may use unit_tmpdir() for a fresh directory.
 */
#ifndef FJORD_TESTS_UNIT_H
#define FJORD_TESTS_UNIT_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void (*unit_fn)(void);
void unit_register(const char *name, unit_fn fn);
int unit_main(int argc, char **argv);
/* A new empty directory under $TMPDIR, removed after the test. */
const char *unit_tmpdir(void);
void unit_fail(const char *file, int line, const char *msg);

#define TEST(name)                                                                                 \
	static void test_##name(void);                                                             \
	__attribute__((constructor)) static void reg_##name(void)                                  \
	{                                                                                          \
		unit_register(#name, test_##name);                                                 \
	}                                                                                          \
	static void test_##name(void)

#define CHECK(e)                                                                                   \
	do {                                                                                       \
		if (!(e))                                                                          \
			unit_fail(__FILE__, __LINE__, #e);                                         \
	} while (0)
#define CHECK_EQ_INT(a, b)                                                                         \
	do {                                                                                       \
		long long _a = (long long)(a), _b = (long long)(b);                                \
		if (_a != _b) {                                                                    \
			char _m[256];                                                              \
			snprintf(_m, sizeof(_m), "%s == %s (%lld != %lld)", #a, #b, _a, _b);       \
			unit_fail(__FILE__, __LINE__, _m);                                         \
		}                                                                                  \
	} while (0)

#endif
