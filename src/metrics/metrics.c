/*
 * metrics.c: histogram buckets and the Prometheus text format (version
 * 0.0.4): HELP/TYPE headers, samples, cumulative buckets with le labels.
 */
#include "metrics/metrics.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const double histogram_bounds[HISTOGRAM_BUCKETS] = {
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
    0.025,   0.05,   0.1,     0.25,   0.5,   1.0,    2.5,   10.0,
};

void histogram_observe(struct histogram *h, double seconds)
{
	int i = 0;
	while (i < HISTOGRAM_BUCKETS && seconds > histogram_bounds[i])
		i++;
	h->counts[i]++;
	h->count++;
	h->sum += seconds;
}

static void appendf(struct buf *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void appendf(struct buf *out, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(tmp))
		n = (int)sizeof(tmp) - 1;
	buf_append(out, tmp, (size_t)n);
}

void metrics_header(struct buf *out, const char *name, const char *type, const char *help)
{
	appendf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void value_text(char *s, size_t n, double v)
{
	if (isinf(v))
		snprintf(s, n, v > 0 ? "+Inf" : "-Inf");
	else if (v == (double)(int64_t)v && fabs(v) < 9e15)
		snprintf(s, n, "%lld", (long long)v);
	else
		snprintf(s, n, "%.9g", v);
}

void metrics_sample(struct buf *out, const char *name, const char *labels, double value)
{
	char v[64];
	value_text(v, sizeof(v), value);
	if (labels && labels[0])
		appendf(out, "%s{%s} %s\n", name, labels, v);
	else
		appendf(out, "%s %s\n", name, v);
}

void metrics_sample_i(struct buf *out, const char *name, const char *labels, int64_t value)
{
	if (labels && labels[0])
		appendf(out, "%s{%s} %lld\n", name, labels, (long long)value);
	else
		appendf(out, "%s %lld\n", name, (long long)value);
}

void metrics_histogram(struct buf *out, const char *name, const char *labels,
                       const struct histogram *h)
{
	const char *sep = labels && labels[0] ? "," : "";
	const char *l = labels ? labels : "";
	uint64_t cum = 0;
	for (int i = 0; i < HISTOGRAM_BUCKETS; i++) {
		cum += h->counts[i];
		char b[32];
		value_text(b, sizeof(b), histogram_bounds[i]);
		if (histogram_bounds[i] < 1 ||
		    histogram_bounds[i] != (double)(int64_t)histogram_bounds[i])
			snprintf(b, sizeof(b), "%g", histogram_bounds[i]);
		appendf(out, "%s_bucket{%s%sle=\"%s\"} %llu\n", name, l, sep, b,
		        (unsigned long long)cum);
	}
	cum += h->counts[HISTOGRAM_BUCKETS];
	appendf(out, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, l, sep, (unsigned long long)cum);
	char s[64];
	value_text(s, sizeof(s), h->sum);
	if (l[0]) {
		appendf(out, "%s_sum{%s} %s\n", name, l, s);
		appendf(out, "%s_count{%s} %llu\n", name, l, (unsigned long long)h->count);
	} else {
		appendf(out, "%s_sum %s\n", name, s);
		appendf(out, "%s_count %llu\n", name, (unsigned long long)h->count);
	}
}

void metrics_label_escape(char *dst, size_t dstlen, const char *src, size_t srclen)
{
	size_t o = 0;
	for (size_t i = 0; i < srclen && o + 3 < dstlen; i++) {
		char c = src[i];
		if (c == '\\' || c == '"') {
			dst[o++] = '\\';
			dst[o++] = c;
		} else if (c == '\n') {
			dst[o++] = '\\';
			dst[o++] = 'n';
		} else {
			dst[o++] = c;
		}
	}
	if (dstlen)
		dst[o < dstlen ? o : dstlen - 1] = 0;
}
