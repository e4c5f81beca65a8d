/*
 * cli_produce.c: `fjord produce TOPIC`: one record per line of stdin.
 *
 * A line is the value, byte for byte, without its '\n'; with -k SEP the bytes
 * before the first SEP are the key and the rest the value (a line without SEP
 * has no key). -H headers go on every record. Records are sent as they are
 * read (librdkafka batches them); each delivery report is counted, a failed
 * record is reported on stderr with its line number, and the run ends with a
 * flush bounded by the timeout. The exit code is 1 if any record failed.
 *
 * Idempotence stays off (librdkafka's default): it needs InitProducerId, and
 * --acks other than all would forbid it anyway.
 */
#include "cli/cli_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_HEADERS      64
#define MAX_ERRORS_SHOWN 20

struct produce {
	struct cli *c;
	const char *topic;
	long delivered;
	long failed;
	bool json;
};

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct cli *c = opaque;
	struct produce *p = c->user;
	long line = (long)(intptr_t)m->_private;
	(void)rk;
	if (m->err) {
		char msg[1024];
		if (m->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC ||
		    m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
			snprintf(msg, sizeof(msg), "topic '%s' does not exist", p->topic);
		else if (m->err == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION)
			snprintf(msg, sizeof(msg), "topic '%s' has no partition %d", p->topic,
			         (int)m->partition);
		else if (m->err == RD_KAFKA_RESP_ERR__MSG_TIMED_OUT)
			cli_timeout_reason(p->c, msg, sizeof(msg));
		else
			snprintf(msg, sizeof(msg), "%s", rd_kafka_err2str(m->err));
		if (p->failed < MAX_ERRORS_SHOWN)
			fprintf(stderr, "fjord: record from line %ld failed: %s\n", line, msg);
		else if (p->failed == MAX_ERRORS_SHOWN)
			fprintf(stderr, "fjord: (further record errors not shown)\n");
		p->failed++;
		if (p->json) {
			json_t *o = json_pack("{s:i,s:s}", "line", (json_int_t)line, "error", msg);
			json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
			fputc('\n', stdout);
			json_decref(o);
		}
		return;
	}
	p->delivered++;
	if (p->json) {
		json_t *o =
		    json_pack("{s:I,s:s,s:i,s:I}", "line", (json_int_t)line, "topic", p->topic,
		              "partition", (int)m->partition, "offset", (json_int_t)m->offset);
		json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
		json_decref(o);
	} else if (p->c->verbose) {
		fprintf(stderr, "line %ld: partition %d offset %" PRId64 "\n", line,
		        (int)m->partition, m->offset);
	}
}

static void setup(rd_kafka_conf_t *conf, void *arg)
{
	(void)arg;
	rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
}

static const char produce_help[] =
    "usage: fjord produce TOPIC [options] < lines\n"
    "Produces one record per line of stdin (the line without its newline is the value).\n"
    "Prints a summary on stderr; exits 1 if any record failed.\n"
    "With --format json, prints one JSON object per record: line, partition, offset.\n\n"
    "  -k, --key-separator SEP   split each line at the first SEP into key and value\n"
    "  -H, --header KEY=VALUE    a header on every record (repeatable)\n"
    "  -p, --partition N         produce to partition N (default: the partitioner)\n"
    "  -z, --compression CODEC   none, gzip, snappy, lz4 or zstd\n"
    "      --acks all|1|0        acknowledgements to wait for (default all)\n"
    "      --linger DURATION     batching delay (librdkafka linger.ms), e.g. 5ms\n";

int cli_produce_main(struct cli *c, int argc, char **argv)
{
	enum { O_KEY = 1, O_HDR, O_PART, O_Z, O_ACKS, O_LINGER };
	static const struct cli_opt opts[] = {
	    {'k', "key-separator", true, O_KEY},
	    {'H', "header", true, O_HDR},
	    {'p', "partition", true, O_PART},
	    {'z', "compression", true, O_Z},
	    {0, "acks", true, O_ACKS},
	    {0, "linger", true, O_LINGER},
	    {0, NULL, false, 0},
	};
	struct cli_args a;
	struct produce p = {.c = c};
	const char *sep = NULL, *codec = "none", *acks = "all", *linger = "5", *v;
	const char *hdrs[MAX_HEADERS];
	char lbuf[24];
	int nhdrs = 0, partition = RD_KAFKA_PARTITION_UA, k;
	cli_args_init(&a, c, argc, argv, opts, produce_help);
	while ((k = cli_next(&a, &v)) != CLI_ARG_END) {
		switch (k) {
		case CLI_ARG_EXIT:
			return a.exit_code;
		case CLI_ARG_POS:
			if (p.topic)
				return cli_usage(c, "name exactly one topic");
			p.topic = v;
			break;
		case O_KEY:
			if (!*v)
				return cli_usage(c, "the key separator is empty");
			sep = v;
			break;
		case O_HDR:
			if (nhdrs == MAX_HEADERS || !strchr(v, '=') || v[0] == '=')
				return cli_usage(c, "-H expects key=value (at most %d)",
				                 MAX_HEADERS);
			hdrs[nhdrs++] = v;
			break;
		case O_PART:
			if (cli_parse_int(v, 0, INT32_MAX, &partition))
				return cli_usage(c, "invalid partition '%s'", v);
			break;
		case O_Z:
			if (strcmp(v, "none") && strcmp(v, "gzip") && strcmp(v, "snappy") &&
			    strcmp(v, "lz4") && strcmp(v, "zstd"))
				return cli_usage(c, "unknown compression '%s'", v);
			codec = v;
			break;
		case O_ACKS:
			if (!strcmp(v, "all") || !strcmp(v, "-1"))
				acks = "all";
			else if (!strcmp(v, "0") || !strcmp(v, "1"))
				acks = v;
			else
				return cli_usage(c, "invalid --acks '%s' (all, 1 or 0)", v);
			break;
		case O_LINGER: {
			char *end;
			long long l = strtoll(v, &end, 10);
			if (end == v || l < 0 || l > 60000 || (strcmp(end, "ms") && *end))
				return cli_usage(c, "invalid --linger '%s' (e.g. 5ms)", v);
			snprintf(lbuf, sizeof(lbuf), "%lld", l);
			linger = lbuf;
			break;
		}
		}
	}
	if (!p.topic)
		return cli_usage(c, "name a topic");
	p.json = c->json;
	char tmo[32], prop[32];
	snprintf(tmo, sizeof(tmo), "%d", c->timeout_ms);
	/* How long a missing topic may take to appear before its records fail. */
	snprintf(prop, sizeof(prop), "%d", c->timeout_ms < 2000 ? c->timeout_ms : 2000);
	const char *kv[] = {"acks",
	                    acks,
	                    "compression.codec",
	                    codec,
	                    "linger.ms",
	                    linger,
	                    "message.timeout.ms",
	                    tmo,
	                    "topic.metadata.propagation.max.ms",
	                    prop,
	                    NULL};
	c->user = &p; /* for on_delivery, which gets c as the handle's opaque */
	rd_kafka_t *rk = cli_new_handle(c, RD_KAFKA_PRODUCER, kv, setup, NULL);
	if (!rk)
		return CLI_EXIT_FAIL;

	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	long lineno = 0, sent = 0;
	size_t seplen = sep ? strlen(sep) : 0;
	while ((len = getline(&line, &cap, stdin)) >= 0) {
		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			len--;
		const char *key = NULL, *val = line;
		size_t klen = 0, vlen = (size_t)len;
		if (sep) {
			const char *s = memmem(line, (size_t)len, sep, seplen);
			if (s) {
				key = line;
				klen = (size_t)(s - line);
				val = s + seplen;
				vlen = (size_t)len - klen - seplen;
			}
		}
		rd_kafka_headers_t *h = nhdrs ? rd_kafka_headers_new((size_t)nhdrs) : NULL;
		for (int i = 0; i < nhdrs; i++) {
			const char *eq = strchr(hdrs[i], '=');
			rd_kafka_header_add(h, hdrs[i], eq - hdrs[i], eq + 1, -1);
		}
		rd_kafka_resp_err_t err;
		for (;;) {
			err = rd_kafka_producev(
			    rk, RD_KAFKA_V_TOPIC(p.topic), RD_KAFKA_V_PARTITION(partition),
			    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key, klen),
			    RD_KAFKA_V_VALUE((void *)val, vlen), RD_KAFKA_V_HEADERS(h),
			    RD_KAFKA_V_OPAQUE((void *)(intptr_t)lineno), RD_KAFKA_V_END);
			if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
				break;
			rd_kafka_poll(rk, 100);
		}
		if (err) {
			if (h)
				rd_kafka_headers_destroy(h);
			if (p.failed < MAX_ERRORS_SHOWN)
				fprintf(stderr, "fjord: record from line %ld failed: %s\n", lineno,
				        rd_kafka_err2str(err));
			p.failed++;
		} else {
			sent++;
		}
		rd_kafka_poll(rk, 0);
	}
	free(line);
	rd_kafka_flush(rk, c->timeout_ms + 1000);
	int left = rd_kafka_outq_len(rk);
	if (left > 0) {
		char buf[768];
		fprintf(stderr, "fjord: %d records not delivered: %s\n", left,
		        cli_timeout_reason(c, buf, sizeof(buf)));
		p.failed += left;
	}
	rd_kafka_destroy(rk);
	fflush(stdout);
	fprintf(stderr, "produced %ld record%s to topic '%s'", p.delivered,
	        p.delivered == 1 ? "" : "s", p.topic);
	if (p.failed)
		fprintf(stderr, ", %ld failed\n", p.failed);
	else
		fputc('\n', stderr);
	return p.failed ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}
