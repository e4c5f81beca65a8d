/*
 * config_int.h: private to src/meta/config*.c — how a definition's value is
 * parsed, validated, stored and printed. Nothing outside src/meta includes it.
 */
#ifndef FJORD_META_CONFIG_INT_H
#define FJORD_META_CONFIG_INT_H

#include <stddef.h>

#include "meta/config.h"

/* How a value is stored at config_def.offset. */
enum config_storage {
	CONFIG_ST_NONE, /* validated only */
	CONFIG_ST_BOOL,
	CONFIG_ST_I16,
	CONFIG_ST_I32,
	CONFIG_ST_I64,
	CONFIG_ST_DBL,
	CONFIG_ST_STR, /* char[size], the normalized text (lists: "a,b") */
};

/* Longest value text accepted for any key. */
#define CONFIG_VALUE_MAX 4096

/*
 * Parse value by d's type, validate it and, if base is not NULL and d has
 * storage, store it in base + d->offset. Nothing is stored on error
 * (ERR_INVALID_CONFIG, Kafka's message in err).
 */
int config__apply(const struct config_def *d, const char *value, void *base, char *err,
                  size_t errlen);
/* Print the stored value of d (base + d->offset) as Kafka would. */
void config__render(const struct config_def *d, const void *base, char *buf, size_t len);
/* Index of a broker definition in the table (for broker_config.set_at_). */
int config__broker_index(const struct config_def *d);
/* Copy s (trimmed of Java whitespace, chars <= ' ') into out; false if it does not fit. */
bool config__trim(const char *s, char *out, size_t outlen);
/* Whether item is an element of the comma-separated list (items trimmed). */
bool config__list_has(const char *list, const char *item, bool ignore_case);

#endif
