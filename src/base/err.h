/*
 * err.h: the one error space of Fjord.
 *
 * Functions return int: 0 is success, a negative value is either -errno (a
 * system error) or one of the ERR_* codes below, which sit far below any errno
 * so the two never collide. Kafka error codes never appear here: handlers map
 * these to Kafka codes in one place (handlers/errors.c).
 */
#ifndef FJORD_BASE_ERR_H
#define FJORD_BASE_ERR_H

enum {
	ERR_BASE = -10000,
	ERR_CORRUPT,        /* bad CRC, bad magic, bad sizes in stored or sent data */
	ERR_TOO_LARGE,      /* over a configured size limit */
	ERR_NOT_FOUND,      /* no such topic, partition, file, key */
	ERR_EXISTS,         /* already exists */
	ERR_INVALID,        /* malformed argument or request */
	ERR_OUT_OF_RANGE,   /* offset outside [log start, log end] */
	ERR_STORAGE,        /* a write or fsync failed: partition refuses writes */
	ERR_UNSUPPORTED,    /* version or feature not supported */
	ERR_NOMEM,          /* allocation failed */
	ERR_INVALID_CONFIG, /* config key unknown or value malformed */
	ERR_INVALID_RECORD, /* a record breaks a topic rule (e.g. no key on compacted) */
	ERR_INVALID_TIMESTAMP,
	ERR_SHUTDOWN, /* the broker is shutting down */
	ERR_LAST
};

/* A static, human-readable description of err (ERR_* or -errno). */
const char *err_str(int err);

#endif
