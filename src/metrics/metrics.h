/*
 * metrics.h: counters and histograms, and their Prometheus text exposition.
 *
 * Values are plain integers owned by the loop thread (no atomics): whoever
 * renders them must do so on that thread (the HTTP server posts a render
 * job to the loop and waits for the text). Names and label sets are given at
 * render time; this file only keeps numbers and formats them.
 */
#ifndef FJORD_METRICS_METRICS_H
#define FJORD_METRICS_METRICS_H

#include <stdint.h>

#include "base/buf.h"

/* Latency buckets in seconds, 50 us .. 10 s (Prometheus "le" bounds). */
#define HISTOGRAM_BUCKETS 16

struct histogram {
	uint64_t counts[HISTOGRAM_BUCKETS + 1]; /* last: +Inf */
	uint64_t count;
	double sum;
};

extern const double histogram_bounds[HISTOGRAM_BUCKETS];

void histogram_observe(struct histogram *h, double seconds);

/* "# HELP name help\n# TYPE name type\n" */
void metrics_header(struct buf *out, const char *name, const char *type, const char *help);
/* name{labels} value — labels may be "" (no braces are written then). */
void metrics_sample(struct buf *out, const char *name, const char *labels, double value);
void metrics_sample_i(struct buf *out, const char *name, const char *labels, int64_t value);
/* The _bucket/_sum/_count lines of one histogram. */
void metrics_histogram(struct buf *out, const char *name, const char *labels,
                       const struct histogram *h);
/* Escape a label value (backslash, quote, newline) into dst. */
void metrics_label_escape(char *dst, size_t dstlen, const char *src, size_t srclen);

#endif
