/* err.c: descriptions of ERR_* codes and -errno values. */
#include "base/err.h"

#include <string.h>

const char *err_str(int err)
{
	switch (err) {
	case 0:
		return "success";
	case ERR_CORRUPT:
		return "corrupt data";
	case ERR_TOO_LARGE:
		return "too large";
	case ERR_NOT_FOUND:
		return "not found";
	case ERR_EXISTS:
		return "already exists";
	case ERR_INVALID:
		return "invalid argument or request";
	case ERR_OUT_OF_RANGE:
		return "offset out of range";
	case ERR_STORAGE:
		return "storage error";
	case ERR_UNSUPPORTED:
		return "unsupported";
	case ERR_NOMEM:
		return "out of memory";
	case ERR_INVALID_CONFIG:
		return "invalid configuration";
	case ERR_INVALID_RECORD:
		return "invalid record";
	case ERR_INVALID_TIMESTAMP:
		return "invalid timestamp";
	case ERR_SHUTDOWN:
		return "shutting down";
	default:
		if (err < 0 && err > ERR_BASE)
			return strerror(-err);
		return "unknown error";
	}
}
