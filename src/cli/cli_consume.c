/*
 * cli_consume.c: `fjord consume TOPIC`: records to stdout, raw through a
 * format template or as one JSON object per line.
 *
 * Without -g the consumer assigns the partitions itself (all of them, or -p)
 * at the -o start offset and commits nothing. With -g it subscribes as a
 * member of the group, starts from the committed offsets (auto.offset.reset
 * follows -o beginning|end when there is none), and commits as it goes and on
 * exit; an absolute -o or -o @timestamp overrides the committed offsets of
 * the partitions it is assigned.
 *
 * -e stops once every assigned partition has reached its high watermark
 * (librdkafka's partition EOF events; a record arriving afterwards clears
 * that partition's mark). SIGINT and SIGTERM stop cleanly: the consumer is
 * closed, which commits in group mode.
 *
 * Template: %k key, %v value, %h headers (k=v,k=v), %p partition, %o offset,
 * %t timestamp (ms), %T topic, %% a percent sign; \n \t \r \\ escapes. Keys,
 * values and headers are written as raw bytes, so a round trip through
 * produce and consume is exact. In JSON, bytes that are not valid UTF-8 are
 * given in base64 with "<field>_encoding": "base64".
 */
#include "cli/cli_int.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PARTS 4096

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

struct consume {
	struct cli *c;
	const char *topic;
	const char *group;
	char *fmt;     /* unescaped template, NULL for JSON */
	int64_t start; /* RD_KAFKA_OFFSET_* or an absolute offset */
	int64_t at_ts; /* -o @ts, else -1 */
	bool exit_at_end;
	int64_t limit; /* -n, or -1 */
	int64_t count;
	int nparts;
	bool *assigned; /* by partition id */
	bool *at_eof;
	int rc;
};

/* ---- output */

static void put_headers(const rd_kafka_message_t *m)
{
	rd_kafka_headers_t *h = NULL;
	const char *name;
	const void *val;
	size_t size;
	if (rd_kafka_message_headers(m, &h))
		return;
	for (size_t i = 0; !rd_kafka_header_get_all(h, i, &name, &val, &size); i++) {
		if (i)
			fputc(',', stdout);
		fputs(name, stdout);
		fputc('=', stdout);
		if (val)
			fwrite(val, 1, size, stdout);
	}
}

static void print_template(struct consume *s, const rd_kafka_message_t *m)
{
	rd_kafka_timestamp_type_t tt;
	for (const char *f = s->fmt; *f; f++) {
		if (*f != '%' || !f[1]) {
			fputc(*f, stdout);
			continue;
		}
		switch (*++f) {
		case 'k':
			if (m->key)
				fwrite(m->key, 1, m->key_len, stdout);
			break;
		case 'v':
			if (m->payload)
				fwrite(m->payload, 1, m->len, stdout);
			break;
		case 'h':
			put_headers(m);
			break;
		case 'p':
			printf("%d", (int)m->partition);
			break;
		case 'o':
			printf("%" PRId64, m->offset);
			break;
		case 't':
			printf("%" PRId64, rd_kafka_message_timestamp(m, &tt));
			break;
		case 'T':
			fputs(rd_kafka_topic_name(m->rkt), stdout);
			break;
		case '%':
			fputc('%', stdout);
			break;
		default:
			fputc('%', stdout);
			fputc(*f, stdout);
		}
	}
}

/* Sets obj[field] to the bytes, in base64 with field_encoding when not UTF-8. */
static void json_set_bytes(json_t *obj, const char *field, const void *p, size_t n)
{
	json_t *v = cli_json_bytes(p, n);
	if (v) {
		json_object_set_new(obj, field, v);
		return;
	}
	char enc[64];
	snprintf(enc, sizeof(enc), "%s_encoding", field);
	json_object_set_new(obj, field, cli_json_base64(p, n));
	json_object_set_new(obj, enc, json_string("base64"));
}

static void print_json(const rd_kafka_message_t *m)
{
	rd_kafka_timestamp_type_t tt;
	rd_kafka_headers_t *h = NULL;
	json_t *o = json_object();
	json_object_set_new(o, "topic", json_string(rd_kafka_topic_name(m->rkt)));
	json_object_set_new(o, "partition", json_integer(m->partition));
	json_object_set_new(o, "offset", json_integer(m->offset));
	json_object_set_new(o, "timestamp", json_integer(rd_kafka_message_timestamp(m, &tt)));
	json_set_bytes(o, "key", m->key, m->key_len);
	json_set_bytes(o, "value", m->payload, m->len);
	json_t *hs = json_array();
	if (!rd_kafka_message_headers(m, &h)) {
		const char *name;
		const void *val;
		size_t size;
		for (size_t i = 0; !rd_kafka_header_get_all(h, i, &name, &val, &size); i++) {
			json_t *ho = json_object();
			json_object_set_new(ho, "key", json_string(name));
			json_set_bytes(ho, "value", val, size);
			json_array_append_new(hs, ho);
		}
	}
	json_object_set_new(o, "headers", hs);
	json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(o);
}

/* Resolves \n \t \r \\ once, up front. */
static char *unescape(const char *in)
{
	size_t n = strlen(in);
	char *out = malloc(n + 1), *o = out;
	if (!out)
		return NULL;
	for (const char *p = in; *p; p++) {
		if (*p != '\\' || !p[1]) {
			*o++ = *p;
			continue;
		}
		switch (*++p) {
		case 'n':
			*o++ = '\n';
			break;
		case 't':
			*o++ = '\t';
			break;
		case 'r':
			*o++ = '\r';
			break;
		case '\\':
			*o++ = '\\';
			break;
		default:
			*o++ = '\\';
			*o++ = *p;
		}
	}
	*o = 0;
	return out;
}

/* ---- offsets and assignment */

static int parse_offset(struct consume *s, const char *v)
{
	if (!strcmp(v, "beginning") || !strcmp(v, "oldest") || !strcmp(v, "start") ||
	    !strcmp(v, "-2"))
		s->start = RD_KAFKA_OFFSET_BEGINNING;
	else if (!strcmp(v, "end") || !strcmp(v, "newest") || !strcmp(v, "latest") ||
	         !strcmp(v, "-1"))
		s->start = RD_KAFKA_OFFSET_END;
	else if (!strcmp(v, "stored") || !strcmp(v, "committed"))
		s->start = RD_KAFKA_OFFSET_STORED;
	else if (v[0] == '@') {
		if (cli_parse_i64(v + 1, 0, INT64_MAX, &s->at_ts))
			return -1;
		s->start = RD_KAFKA_OFFSET_INVALID;
	} else if (cli_parse_i64(v, 0, INT64_MAX, &s->start))
		return -1;
	return 0;
}

/* Sets every partition's start offset in list, resolving @timestamp. */
static rd_kafka_resp_err_t set_start(struct consume *s, rd_kafka_t *rk,
                                     rd_kafka_topic_partition_list_t *list)
{
	for (int i = 0; i < list->cnt; i++)
		list->elems[i].offset = s->at_ts >= 0 ? s->at_ts : s->start;
	if (s->at_ts < 0)
		return RD_KAFKA_RESP_ERR_NO_ERROR;
	rd_kafka_resp_err_t err = rd_kafka_offsets_for_times(rk, list, s->c->timeout_ms);
	for (int i = 0; i < list->cnt; i++) /* no record at or after ts: start at the end */
		if (list->elems[i].offset < 0)
			list->elems[i].offset = RD_KAFKA_OFFSET_END;
	return err;
}

static void mark_assignment(struct consume *s, const rd_kafka_topic_partition_list_t *l, bool on)
{
	for (int i = 0; i < l->cnt; i++) {
		int p = l->elems[i].partition;
		if (p >= 0 && p < s->nparts && !strcmp(l->elems[i].topic, s->topic)) {
			s->assigned[p] = on;
			s->at_eof[p] = false;
		}
	}
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
	struct cli *c = opaque;
	struct consume *s = c->user;
	if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
		if (s->at_ts >= 0 || s->start >= 0)
			set_start(s, rk, parts);
		mark_assignment(s, parts, true);
		rd_kafka_assign(rk, parts);
	} else {
		mark_assignment(s, parts, false);
		rd_kafka_assign(rk, NULL);
	}
}

static void setup(rd_kafka_conf_t *conf, void *arg)
{
	struct consume *s = arg;
	if (s->group)
		rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
}

static bool all_at_eof(const struct consume *s)
{
	bool any = false;
	for (int p = 0; p < s->nparts; p++) {
		if (!s->assigned[p])
			continue;
		if (!s->at_eof[p])
			return false;
		any = true;
	}
	return any;
}

/* ---- the loop */

static void consume_loop(struct consume *s, rd_kafka_t *rk)
{
	while (!stop_requested && (s->limit < 0 || s->count < s->limit)) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
		if (!m) {
			fflush(stdout);
			continue;
		}
		int p = m->partition;
		bool ours = p >= 0 && p < s->nparts;
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			if (ours)
				s->at_eof[p] = true;
			rd_kafka_message_destroy(m);
			if (s->exit_at_end && all_at_eof(s))
				break;
			continue;
		}
		if (m->err) {
			char buf[768];
			if (m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
			    m->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC) {
				s->rc = cli_fail(s->c, "topic '%s' does not exist", s->topic);
				rd_kafka_message_destroy(m);
				break;
			}
			if (rd_kafka_fatal_error(rk, buf, sizeof(buf))) {
				s->rc = cli_fail(s->c, "consume: %s", buf);
				rd_kafka_message_destroy(m);
				break;
			}
			if (s->c->verbose)
				fprintf(stderr, "fjord: consume: %s\n", rd_kafka_message_errstr(m));
			rd_kafka_message_destroy(m);
			continue;
		}
		if (ours)
			s->at_eof[p] = false;
		if (s->fmt)
			print_template(s, m);
		else
			print_json(m);
		s->count++;
		rd_kafka_message_destroy(m);
	}
	fflush(stdout);
}

static const char consume_help[] =
    "usage: fjord consume TOPIC [options]\n"
    "Consumes records to stdout until interrupted, -n records, or -e.\n\n"
    "  -o, --offset WHERE      beginning (-2), end (-1), an offset, or @TIMESTAMP_MS\n"
    "                          (default: beginning; with -g: the committed offsets)\n"
    "  -n, --num N             exit after N records\n"
    "  -e, --exit              exit when every partition reaches its end\n"
    "  -g, --group GROUP       consume as a member of GROUP (subscribe, commit)\n"
    "  -p, --partitions LIST   only these partitions, comma-separated (without -g)\n"
    "  -f, --format FMT        a template, or json for one JSON object per line\n"
    "                          %k key, %v value, %h headers, %p partition, %o offset,\n"
    "                          %t timestamp, %T topic, %% percent; \\n \\t escapes\n"
    "                          (default: '%v\\n')\n";

int cli_consume_main(struct cli *c, int argc, char **argv)
{
	enum { O_OFF = 1, O_NUM, O_EXIT, O_GROUP, O_PART, O_FMT };
	static const struct cli_opt opts[] = {
	    {'o', "offset", true, O_OFF},
	    {'n', "num", true, O_NUM},
	    {'e', "exit", false, O_EXIT},
	    {'g', "group", true, O_GROUP},
	    {'p', "partitions", true, O_PART},
	    {'f', "format", true, O_FMT},
	    {0, NULL, false, 0},
	};
	struct cli_args a;
	struct consume s = {.c = c, .start = RD_KAFKA_OFFSET_INVALID, .at_ts = -1, .limit = -1};
	const char *fmt = "%v\\n", *v;
	int32_t parts[MAX_PARTS];
	int nparts = 0, k;
	cli_args_init(&a, c, argc, argv, opts, consume_help);
	while ((k = cli_next(&a, &v)) != CLI_ARG_END) {
		switch (k) {
		case CLI_ARG_EXIT:
			return a.exit_code;
		case CLI_ARG_POS:
			if (s.topic)
				return cli_usage(c, "name exactly one topic");
			s.topic = v;
			break;
		case O_OFF:
			if (parse_offset(&s, v))
				return cli_usage(c, "invalid offset '%s'", v);
			break;
		case O_NUM:
			if (cli_parse_i64(v, 1, INT64_MAX, &s.limit))
				return cli_usage(c, "invalid count '%s'", v);
			break;
		case O_EXIT:
			s.exit_at_end = true;
			break;
		case O_GROUP:
			s.group = v;
			break;
		case O_PART:
			if ((nparts = cli_parse_int_list(v, parts, MAX_PARTS)) < 0)
				return cli_usage(c, "invalid partition list '%s'", v);
			break;
		case O_FMT:
			fmt = v;
			break;
		}
	}
	if (!s.topic)
		return cli_usage(c, "name a topic");
	if (s.group && nparts)
		return cli_usage(c, "-p cannot be combined with -g (the group assigns partitions)");
	if (!s.group && s.start == RD_KAFKA_OFFSET_STORED)
		return cli_usage(c, "-o stored needs a group (-g)");
	if (!strcmp(fmt, "json"))
		c->json = true;
	else if (strcmp(fmt, "text"))
		c->json = false;
	if (!c->json && !(s.fmt = unescape(strcmp(fmt, "text") ? fmt : "%v\\n")))
		return cli_fail(c, "out of memory");
	if (s.start == RD_KAFKA_OFFSET_INVALID && s.at_ts < 0)
		s.start = s.group ? RD_KAFKA_OFFSET_STORED : RD_KAFKA_OFFSET_BEGINNING;

	const char *reset = s.start == RD_KAFKA_OFFSET_END ? "latest" : "earliest";
	/* assign() needs a group id too; without -g nothing is ever committed to it. */
	const char *kv[] = {"enable.partition.eof",
	                    s.exit_at_end ? "true" : "false",
	                    "auto.offset.reset",
	                    reset,
	                    "enable.auto.commit",
	                    s.group ? "true" : "false",
	                    "group.id",
	                    s.group ? s.group : "fjord-consume",
	                    NULL};
	c->user = &s;
	rd_kafka_t *rk = cli_new_handle(c, RD_KAFKA_CONSUMER, kv, setup, &s);
	if (!rk) {
		free(s.fmt);
		return CLI_EXIT_FAIL;
	}
	rd_kafka_poll_set_consumer(rk);
	int rc = CLI_EXIT_OK;
	rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(16);
	const struct rd_kafka_metadata *md = cli_metadata(c, rk);
	const struct rd_kafka_metadata_topic *mt = md ? cli_md_topic(md, s.topic) : NULL;
	if (!md) {
		rc = CLI_EXIT_FAIL;
		goto out;
	}
	if (!mt || mt->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
		rc = cli_fail(c, "topic '%s' does not exist", s.topic);
		goto out;
	}
	s.nparts = mt->partition_cnt;
	s.assigned = calloc((size_t)s.nparts + 1, sizeof(bool));
	s.at_eof = calloc((size_t)s.nparts + 1, sizeof(bool));
	for (int i = 0; i < nparts; i++) {
		if (parts[i] >= s.nparts) {
			rc = cli_fail(c, "topic '%s' has no partition %d (it has %d)", s.topic,
			              (int)parts[i], s.nparts);
			goto out;
		}
		rd_kafka_topic_partition_list_add(list, s.topic, parts[i]);
	}
	for (int i = 0; !nparts && i < s.nparts; i++)
		rd_kafka_topic_partition_list_add(list, s.topic, mt->partitions[i].id);

	struct sigaction sa = {0};
	sa.sa_handler = on_stop_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	rd_kafka_resp_err_t err;
	if (s.group) {
		rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
		rd_kafka_topic_partition_list_add(sub, s.topic, RD_KAFKA_PARTITION_UA);
		err = rd_kafka_subscribe(rk, sub);
		rd_kafka_topic_partition_list_destroy(sub);
	} else {
		err = set_start(&s, rk, list);
		if (!err) {
			mark_assignment(&s, list, true);
			err = rd_kafka_assign(rk, list);
		}
	}
	if (err) {
		rc = cli_fail(c, "cannot start consuming '%s': %s", s.topic, rd_kafka_err2str(err));
		goto out;
	}
	consume_loop(&s, rk);
	if (s.rc)
		rc = s.rc;
	if (s.group)
		rd_kafka_consumer_close(rk);
out:
	rd_kafka_topic_partition_list_destroy(list);
	if (md)
		rd_kafka_metadata_destroy(md);
	rd_kafka_destroy(rk);
	free(s.assigned);
	free(s.at_eof);
	free(s.fmt);
	return rc;
}
