/* assert.c: the failure path of ASSERT: log the expression and abort. */
#include "base/assert.h"

#include <stdio.h>
#include <stdlib.h>

void assert_fail(const char *expr, const char *file, int line)
{
	fprintf(stderr, "FATAL assertion failed: %s (%s:%d)\n", expr, file, line);
	fflush(stderr);
	abort();
}
