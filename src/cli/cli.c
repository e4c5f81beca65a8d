/*
 * cli.c: the client side of the fjord binary: the router for the client
 * subcommands (topic, produce, consume, group, cluster), argument parsing with
 * the common options, and the librdkafka plumbing they share (handles with a
 * quiet log callback, metadata, watermarks).
 *
 * It also holds the output helpers: an aligned table printer and JSON
 * printing. Table cells are formatted into their own strings as they are
 * added; widths are computed at print time in characters (UTF-8 code points),
 * columns are two spaces apart, the last column is never padded, and no tab
 * is written, so output lines up whatever the terminal's tab stops. Keys and
 * values from Kafka are bytes: valid UTF-8 becomes a JSON string, anything
 * else is given in base64 by the caller (cli_json_bytes returns NULL for it).
 *
 * librdkafka logs from its own threads; our log callback prints only under -v
 * and otherwise keeps the last warning, so that a timeout can say why
 * ("Connect to ipv4#127.0.0.1:9092 failed: Connection refused") in one line.
 */
#include "cli/cli.h"
#include "cli/cli_int.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

const char cli_common_help[] =
    "\nCommon options:\n"
    "  -b, --brokers HOST:PORT[,...]  bootstrap brokers (default $FJORD_BROKERS, else "
    "localhost:9092)\n"
    "      --timeout DURATION         bound on each request: 10s (default), 500ms, 2m\n"
    "      --format text|json         output format (json: one document, for scripts)\n"
    "  -X, --property KEY=VALUE       a librdkafka property (repeatable)\n"
    "  -v, --verbose                  show librdkafka's log\n"
    "  -h, --help                     this help\n";

enum {
	COMMON_BROKERS = 1000,
	COMMON_TIMEOUT,
	COMMON_VERBOSE,
	COMMON_FORMAT,
	COMMON_PROP,
	COMMON_HELP,
};

static const struct cli_opt common_opts[] = {
    {'b', "brokers", true, COMMON_BROKERS},
    {0, "timeout", true, COMMON_TIMEOUT},
    {'v', "verbose", false, COMMON_VERBOSE},
    {0, "format", true, COMMON_FORMAT},
    {'X', "property", true, COMMON_PROP},
    {'h', "help", false, COMMON_HELP},
    {0, NULL, false, 0},
};

static const char top_help[] =
    "usage: fjord <command> [options]\n\n"
    "Client commands (Kafka clients on librdkafka):\n"
    "  topic     create, list, describe, alter-config, add-partitions, delete, trim-prefix\n"
    "  produce   produce lines from stdin to a topic\n"
    "  consume   consume a topic to stdout\n"
    "  group     list, describe, lag, reset-offsets, delete consumer groups\n"
    "  cluster   info, config get, config set\n\n"
    "Run 'fjord <command> --help' for a command's options.\n";

/* ---- messages */

int cli_usage(struct cli *c, const char *fmt, ...)
{
	va_list ap;
	fputs("fjord: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see 'fjord %s --help')\n", c->cmd ? c->cmd : "");
	return CLI_EXIT_USAGE;
}

int cli_fail(struct cli *c, const char *fmt, ...)
{
	va_list ap;
	(void)c;
	fputs("fjord: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CLI_EXIT_FAIL;
}

/* ---- numbers */

int cli_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char *end;
	if (!s || !*s)
		return -1;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int cli_parse_int(const char *s, int min, int max, int *out)
{
	int64_t v;
	if (cli_parse_i64(s, min, max, &v))
		return -1;
	*out = (int)v;
	return 0;
}

int cli_parse_int_list(const char *s, int32_t *out, int max)
{
	int n = 0;
	const char *p = s;
	while (*p) {
		char num[32];
		size_t len = strcspn(p, ",");
		int v;
		if (len == 0 || len >= sizeof(num) || n >= max)
			return -1;
		memcpy(num, p, len);
		num[len] = 0;
		if (cli_parse_int(num, 0, INT32_MAX, &v))
			return -1;
		out[n++] = v;
		p += len;
		if (*p == ',')
			p++;
	}
	return n > 0 ? n : -1;
}

int cli_split_kv(const char *s, char *kbuf, size_t kn, const char **value)
{
	const char *eq = strchr(s, '=');
	if (!eq || eq == s || (size_t)(eq - s) >= kn)
		return -1;
	memcpy(kbuf, s, (size_t)(eq - s));
	kbuf[eq - s] = 0;
	*value = eq + 1;
	return 0;
}

/* "10s", "500ms", "2m", or a bare number of seconds. */
static int parse_duration_ms(const char *s, int *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	long long mul;
	if (errno || end == s || v < 0)
		return -1;
	if (!strcmp(end, "ms"))
		mul = 1;
	else if (!strcmp(end, "s") || !*end)
		mul = 1000;
	else if (!strcmp(end, "m"))
		mul = 60000;
	else
		return -1;
	if (v > INT32_MAX / mul || v * mul == 0)
		return -1;
	*out = (int)(v * mul);
	return 0;
}

/* ---- arguments */

void cli_args_init(struct cli_args *a, struct cli *c, int argc, char **argv,
                   const struct cli_opt *opts, const char *usage)
{
	memset(a, 0, sizeof(*a));
	a->c = c;
	a->argc = argc;
	a->argv = argv;
	a->i = 1;
	a->opts = opts;
	a->usage = usage;
}

static const struct cli_opt *find_opt(const struct cli_opt *opts, char s, const char *l,
                                      size_t llen)
{
	for (; opts && opts->id; opts++) {
		if (s && opts->short_name == s)
			return opts;
		if (l && opts->long_name && strlen(opts->long_name) == llen &&
		    !memcmp(opts->long_name, l, llen))
			return opts;
	}
	return NULL;
}

static bool is_negative_number(const char *s)
{
	if (s[0] != '-' || !s[1])
		return false;
	for (s++; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

static int common_option(struct cli_args *a, int id, const char *val)
{
	struct cli *c = a->c;
	switch (id) {
	case COMMON_BROKERS:
		c->brokers = val;
		return 0;
	case COMMON_TIMEOUT:
		if (parse_duration_ms(val, &c->timeout_ms))
			return cli_usage(c, "invalid --timeout '%s' (try 10s or 500ms)", val);
		return 0;
	case COMMON_VERBOSE:
		c->verbose = true;
		return 0;
	case COMMON_FORMAT:
		if (!strcmp(val, "json"))
			c->json = true;
		else if (!strcmp(val, "text"))
			c->json = false;
		else
			return cli_usage(c, "unknown --format '%s' (text or json)", val);
		return 0;
	case COMMON_PROP:
		if (c->nprops >= CLI_MAX_PROPS || !strchr(val, '='))
			return cli_usage(c, "-X expects key=value (at most %d)", CLI_MAX_PROPS);
		c->props[c->nprops++] = val;
		return 0;
	case COMMON_HELP:
		fputs(a->usage, stdout);
		fputs(cli_common_help, stdout);
		return -1;
	}
	return 0;
}

int cli_next(struct cli_args *a, const char **val)
{
	while (a->i < a->argc) {
		char *arg = a->argv[a->i++];
		const struct cli_opt *o;
		const char *inl = NULL;
		bool common = false;
		*val = NULL;
		if (a->only_pos || arg[0] != '-' || !arg[1] || is_negative_number(arg)) {
			*val = arg;
			return CLI_ARG_POS;
		}
		if (!strcmp(arg, "--")) {
			a->only_pos = true;
			continue;
		}
		if (arg[1] == '-') {
			const char *name = arg + 2;
			const char *eq = strchr(name, '=');
			size_t len = eq ? (size_t)(eq - name) : strlen(name);
			if (eq)
				inl = eq + 1;
			o = find_opt(a->opts, 0, name, len);
			if (!o && (o = find_opt(common_opts, 0, name, len)))
				common = true;
		} else {
			o = find_opt(a->opts, arg[1], NULL, 0);
			if (!o && (o = find_opt(common_opts, arg[1], NULL, 0)))
				common = true;
			if (arg[2])
				inl = arg + 2;
		}
		if (!o) {
			a->exit_code = cli_usage(a->c, "unknown option '%s'", arg);
			return CLI_ARG_EXIT;
		}
		if (o->has_arg) {
			if (inl) {
				*val = inl;
			} else if (a->i < a->argc) {
				*val = a->argv[a->i++];
			} else {
				a->exit_code = cli_usage(a->c, "option '%s' needs a value", arg);
				return CLI_ARG_EXIT;
			}
		} else if (inl) {
			a->exit_code = cli_usage(a->c, "option '%s' takes no value", arg);
			return CLI_ARG_EXIT;
		}
		if (!common)
			return o->id;
		int rc = common_option(a, o->id, *val);
		if (rc) {
			a->exit_code = rc < 0 ? CLI_EXIT_OK : rc;
			return CLI_ARG_EXIT;
		}
	}
	return CLI_ARG_END;
}

/* ---- librdkafka handles */

static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	struct cli *c = rd_kafka_opaque(rk);
	if (c->verbose)
		fprintf(stderr, "librdkafka: %s: %s\n", fac, buf);
	if (level <= 4) {
		/* Drop librdkafka's "[thrd:...]: " prefix: it says nothing to a user. */
		const char *body = buf[0] == '[' ? strstr(buf, "]: ") : NULL;
		pthread_mutex_lock(&log_lock);
		snprintf(c->last_log, sizeof(c->last_log), "%s", body ? body + 3 : buf);
		pthread_mutex_unlock(&log_lock);
	}
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	struct cli *c = opaque;
	(void)rk;
	if (c->verbose)
		fprintf(stderr, "librdkafka: error: %s: %s\n", rd_kafka_err2name(err), reason);
	pthread_mutex_lock(&log_lock);
	snprintf(c->last_log, sizeof(c->last_log), "%s", reason);
	pthread_mutex_unlock(&log_lock);
}

const char *cli_timeout_reason(struct cli *c, char *buf, size_t n)
{
	char last[sizeof(c->last_log)];
	pthread_mutex_lock(&log_lock);
	memcpy(last, c->last_log, sizeof(last));
	pthread_mutex_unlock(&log_lock);
	if (c->timeout_ms % 1000 == 0)
		snprintf(buf, n, "timed out after %d s talking to %s", c->timeout_ms / 1000,
		         c->brokers);
	else
		snprintf(buf, n, "timed out after %d ms talking to %s", c->timeout_ms, c->brokers);
	if (last[0]) {
		size_t len = strlen(buf);
		snprintf(buf + len, n - len, " (%s)", last);
	}
	return buf;
}

static int conf_set(struct cli *c, rd_kafka_conf_t *conf, const char *k, const char *v)
{
	char err[256];
	if (rd_kafka_conf_set(conf, k, v, err, sizeof(err)) != RD_KAFKA_CONF_OK) {
		cli_usage(c, "librdkafka property %s=%s: %s", k, v, err);
		return -1;
	}
	return 0;
}

rd_kafka_t *cli_new_handle(struct cli *c, rd_kafka_type_t type, const char *const *kv,
                           void (*setup)(rd_kafka_conf_t *, void *), void *arg)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char tmo[32], err[512];
	snprintf(tmo, sizeof(tmo), "%d", c->timeout_ms);
	rd_kafka_conf_set_opaque(conf, c);
	rd_kafka_conf_set_log_cb(conf, on_log);
	rd_kafka_conf_set_error_cb(conf, on_error);
	if (conf_set(c, conf, "bootstrap.servers", c->brokers) ||
	    conf_set(c, conf, "client.id", "fjord") ||
	    conf_set(c, conf, "log.connection.close", "false") ||
	    conf_set(c, conf, "socket.timeout.ms", tmo))
		goto fail;
	for (; kv && kv[0]; kv += 2)
		if (conf_set(c, conf, kv[0], kv[1]))
			goto fail;
	for (int i = 0; i < c->nprops; i++) {
		char key[256];
		const char *val;
		if (cli_split_kv(c->props[i], key, sizeof(key), &val) ||
		    conf_set(c, conf, key, val))
			goto fail;
	}
	if (setup)
		setup(conf, arg);
	rd_kafka_t *rk = rd_kafka_new(type, conf, err, sizeof(err));
	if (!rk) {
		cli_fail(c, "cannot create a Kafka client: %s", err);
		return NULL; /* rd_kafka_new frees conf only on success */
	}
	return rk;
fail:
	rd_kafka_conf_destroy(conf);
	return NULL;
}

const struct rd_kafka_metadata *cli_metadata(struct cli *c, rd_kafka_t *rk)
{
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, NULL, &md, c->timeout_ms);
	if (err) {
		char buf[768];
		if (err == RD_KAFKA_RESP_ERR__TIMED_OUT || err == RD_KAFKA_RESP_ERR__TRANSPORT)
			cli_fail(c, "cannot fetch metadata: %s",
			         cli_timeout_reason(c, buf, sizeof(buf)));
		else
			cli_fail(c, "cannot fetch metadata: %s", rd_kafka_err2str(err));
		return NULL;
	}
	return md;
}

const struct rd_kafka_metadata_topic *cli_md_topic(const struct rd_kafka_metadata *md,
                                                   const char *topic)
{
	for (int i = 0; i < md->topic_cnt; i++)
		if (!strcmp(md->topics[i].topic, topic))
			return &md->topics[i];
	return NULL;
}

static rd_kafka_resp_err_t list_offsets_at(struct cli *c, rd_kafka_t *rk,
                                           const rd_kafka_topic_partition_list_t *list,
                                           int64_t special, int64_t *out)
{
	rd_kafka_topic_partition_list_t *q = rd_kafka_topic_partition_list_copy(list);
	for (int i = 0; i < q->cnt; i++)
		q->elems[i].offset = special;
	rd_kafka_resp_err_t err = rd_kafka_offsets_for_times(rk, q, c->timeout_ms);
	for (int i = 0; i < q->cnt; i++)
		out[i] = err || q->elems[i].err ? -1 : q->elems[i].offset;
	rd_kafka_topic_partition_list_destroy(q);
	return err;
}

rd_kafka_resp_err_t cli_watermarks(struct cli *c, rd_kafka_t *rk,
                                   const rd_kafka_topic_partition_list_t *list, int64_t *lows,
                                   int64_t *highs)
{
	if (list->cnt == 0)
		return RD_KAFKA_RESP_ERR_NO_ERROR;
	rd_kafka_resp_err_t err = list_offsets_at(c, rk, list, RD_KAFKA_OFFSET_BEGINNING, lows);
	if (!err)
		err = list_offsets_at(c, rk, list, RD_KAFKA_OFFSET_END, highs);
	return err;
}

/* ---- output */

struct cli_table {
	int ncols;
	int ncells; /* cells added so far, headers excluded */
	int len;    /* cells stored, headers included */
	int cap;
	char **cells; /* row-major; the first ncols are the headers */
};

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n);
	if (!q) {
		fputs("fjord: out of memory\n", stderr);
		exit(CLI_EXIT_FAIL);
	}
	return q;
}

static char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = xrealloc(NULL, n);
	memcpy(d, s, n);
	return d;
}

static void table_push(struct cli_table *t, char *cell)
{
	if (t->len == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->cells = xrealloc(t->cells, (size_t)t->cap * sizeof(char *));
	}
	t->cells[t->len++] = cell;
}

struct cli_table *cli_table_new(int ncols, const char *const *headers)
{
	struct cli_table *t = xrealloc(NULL, sizeof(*t));
	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
	for (int i = 0; i < ncols; i++)
		table_push(t, xstrdup(headers[i]));
	return t;
}

void cli_table_cell(struct cli_table *t, const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		fputs("fjord: out of memory\n", stderr);
		exit(CLI_EXIT_FAIL);
	}
	/* Control characters would break the alignment (and the terminal). */
	for (char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	table_push(t, s);
	t->ncells++;
}

int cli_table_rows(const struct cli_table *t)
{
	return t->ncells / t->ncols;
}

/* Display width: code points, not bytes. */
static int text_width(const char *s)
{
	int w = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

void cli_table_print(struct cli_table *t, FILE *f)
{
	int rows = cli_table_rows(t) + 1; /* with the header */
	int *w = xrealloc(NULL, (size_t)t->ncols * sizeof(int));
	for (int c = 0; c < t->ncols; c++) {
		w[c] = 0;
		for (int r = 0; r < rows; r++) {
			int cw = text_width(t->cells[r * t->ncols + c]);
			if (cw > w[c])
				w[c] = cw;
		}
	}
	for (int r = 0; r < rows; r++) {
		for (int c = 0; c < t->ncols; c++) {
			const char *cell = t->cells[r * t->ncols + c];
			fputs(cell, f);
			if (c + 1 < t->ncols)
				fprintf(f, "%*s", w[c] - text_width(cell) + 2, "");
		}
		fputc('\n', f);
	}
	free(w);
	cli_table_free(t);
}

void cli_table_free(struct cli_table *t)
{
	if (!t)
		return;
	for (int i = 0; i < t->len; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}

void cli_json_print(json_t *v)
{
	if (!v) {
		fputs("fjord: cannot build JSON output\n", stderr);
		return;
	}
	json_dumpf(v, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(v);
}

json_t *cli_json_bytes(const void *p, size_t n)
{
	if (!p)
		return json_null();
	return json_stringn((const char *)p, n); /* NULL unless valid UTF-8 */
}

json_t *cli_json_base64(const void *p, size_t n)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *s = p;
	size_t outn = (n + 2) / 3 * 4;
	char *out = xrealloc(NULL, outn + 1);
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)s[i + 1] << 8;
		if (i + 2 < n)
			v |= s[i + 2];
		out[o++] = tab[(v >> 18) & 63];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? tab[v & 63] : '=';
	}
	out[o] = 0;
	json_t *j = json_stringn(out, o);
	free(out);
	return j;
}

/* ---- router */

int cli_dispatch(struct cli *c, int argc, char **argv, const struct cli_verb *verbs)
{
	const char *verb = argc > 1 ? argv[1] : NULL;
	if (verb && strcmp(verb, "--help") && strcmp(verb, "-h") && strcmp(verb, "help")) {
		for (const struct cli_verb *v = verbs; v->name; v++) {
			if (strcmp(v->name, verb))
				continue;
			char buf[sizeof(c->cmdbuf)];
			snprintf(buf, sizeof(buf), "%s %s", c->cmd, verb);
			memcpy(c->cmdbuf, buf, sizeof(buf));
			c->cmd = c->cmdbuf;
			return v->fn(c, argc - 1, argv + 1);
		}
		return cli_usage(c, "unknown subcommand '%s %s'", c->cmd, verb);
	}
	FILE *f = verb ? stdout : stderr;
	fprintf(f, "usage: fjord %s <subcommand> [options]\n\nSubcommands:\n", c->cmd);
	int w = 0;
	for (const struct cli_verb *v = verbs; v->name; v++)
		if ((int)strlen(v->name) > w)
			w = (int)strlen(v->name);
	for (const struct cli_verb *v = verbs; v->name; v++)
		fprintf(f, "  %-*s  %s\n", w, v->name, v->summary);
	fprintf(f, "\nRun 'fjord %s <subcommand> --help' for its options.\n", c->cmd);
	return verb ? CLI_EXIT_OK : CLI_EXIT_USAGE;
}

int cli_main(int argc, char **argv)
{
	struct cli c;
	const char *env = getenv("FJORD_BROKERS");
	memset(&c, 0, sizeof(c));
	c.brokers = env && *env ? env : CLI_DEFAULT_BROKERS;
	c.timeout_ms = CLI_DEFAULT_TIMEOUT;
	c.cmd = argv[0];
	if (!strcmp(argv[0], "topic") || !strcmp(argv[0], "topics"))
		return cli_topic_main(&c, argc, argv);
	if (!strcmp(argv[0], "produce"))
		return cli_produce_main(&c, argc, argv);
	if (!strcmp(argv[0], "consume"))
		return cli_consume_main(&c, argc, argv);
	if (!strcmp(argv[0], "group") || !strcmp(argv[0], "groups"))
		return cli_group_main(&c, argc, argv);
	if (!strcmp(argv[0], "cluster"))
		return cli_cluster_main(&c, argc, argv);
	if (!strcmp(argv[0], "commands")) {
		fputs(top_help, stdout);
		return 0;
	}
	return CLI_UNKNOWN_COMMAND;
}
