/*
 * logging.h: structured log lines with log4j-style levels.
 *
 * One line per event to stderr: "2026-11-22T02:25:26.123Z INFO [file.c:12] message".
 * Thread-safe (one write(2) per line).
 */
#ifndef FJORD_BASE_LOGGING_H
#define FJORD_BASE_LOGGING_H

enum log_level {
	LOG_LEVEL_TRACE,
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_INFO,
	LOG_LEVEL_WARN,
	LOG_LEVEL_ERROR,
	LOG_LEVEL_OFF
};

extern enum log_level logging_level;

/* Parse "TRACE".."ERROR","OFF" (case-insensitive). Returns 0 or ERR_INVALID. */
int logging_parse_level(const char *s, enum log_level *out);
void logging_write(enum log_level lvl, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define LOG_AT(lvl, ...)                                                                           \
	do {                                                                                       \
		if ((lvl) >= logging_level)                                                        \
			logging_write((lvl), __FILE__, __LINE__, __VA_ARGS__);                     \
	} while (0)
#define LOG_TRACE(...) LOG_AT(LOG_LEVEL_TRACE, __VA_ARGS__)
#define LOG_DEBUG(...) LOG_AT(LOG_LEVEL_DEBUG, __VA_ARGS__)
#define LOG_INFO(...)  LOG_AT(LOG_LEVEL_INFO, __VA_ARGS__)
#define LOG_WARN(...)  LOG_AT(LOG_LEVEL_WARN, __VA_ARGS__)
#define LOG_ERROR(...) LOG_AT(LOG_LEVEL_ERROR, __VA_ARGS__)

#endif
