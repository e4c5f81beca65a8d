/*
 * cli_topic.c: `fjord topic create|list|describe|alter-config|add-partitions|
 * delete|trim-prefix`, on librdkafka's admin API and metadata.
 *
 * Topic lists come from one all-topics Metadata request (naming a topic in a
 * Metadata request could auto-create it on a broker with
 * auto.create.topics.enable). Per-topic failures go to stderr as one line
 * each; the table (or JSON) on stdout has the topics that succeeded in text
 * mode, and every topic with its error in JSON mode. The exit code is 1 if
 * any topic failed.
 */
#include "cli/cli_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PARTS 100000

#define MAX_NAMES 1024

/* Positional arguments or repeated options, borrowed from argv. */
struct names {
	int n;
	const char *v[MAX_NAMES];
};

/* 0, or -1 when there are too many. */
static int names_add(struct names *ns, const char *s)
{
	if (ns->n == MAX_NAMES)
		return -1;
	ns->v[ns->n++] = s;
	return 0;
}

/* Prints per-topic results (create, delete, add-partitions); returns the exit code. */
static int report_topics(struct cli *c, const rd_kafka_topic_result_t **res, size_t n,
                         const char *status)
{
	struct cli_table *t = cli_table_new(2, (const char *[]){"TOPIC", "STATUS"});
	json_t *arr = json_array();
	int rc = CLI_EXIT_OK;
	for (size_t i = 0; i < n; i++) {
		const char *name = rd_kafka_topic_result_name(res[i]);
		rd_kafka_resp_err_t err = rd_kafka_topic_result_error(res[i]);
		char msg[1024];
		json_t *o = json_pack("{s:s}", "topic", name);
		if (err) {
			cli_topic_error(msg, sizeof(msg), name, err,
			                rd_kafka_topic_result_error_string(res[i]));
			rc = cli_fail(c, "%s", msg);
			json_object_set_new(o, "status", json_string("error"));
			json_object_set_new(o, "error", json_string(msg));
		} else {
			cli_table_cell(t, "%s", name);
			cli_table_cell(t, "%s", status);
			json_object_set_new(o, "status", json_string(status));
		}
		json_array_append_new(arr, o);
	}
	if (c->json) {
		cli_json_print(arr);
		cli_table_free(t);
	} else {
		json_decref(arr);
		if (cli_table_rows(t))
			cli_table_print(t, stdout);
		else
			cli_table_free(t);
	}
	return rc;
}

/* ---- create */

struct create_req {
	rd_kafka_NewTopic_t **v;
	size_t n;
};

static void call_create(rd_kafka_t *rk, const rd_kafka_AdminOptions_t *o, rd_kafka_queue_t *q,
                        void *arg)
{
	struct create_req *r = arg;
	rd_kafka_CreateTopics(rk, r->v, r->n, o, q);
}

static const char create_help[] =
    "usage: fjord topic create TOPIC... [-p PARTITIONS] [-r REPLICAS] [-c KEY=VALUE]...\n"
    "Creates topics.\n\n"
    "  -p, --partitions N      partitions per topic (default: the broker's num.partitions)\n"
    "  -r, --replicas N        replication factor (default: the broker's default)\n"
    "  -c, --config KEY=VALUE  a topic config (repeatable)\n"
    "      --dry-run           only validate the request\n";

static int topic_create(struct cli *c, int argc, char **argv)
{
	enum { O_P = 1, O_R, O_C, O_DRY };
	static const struct cli_opt opts[] = {
	    {'p', "partitions", true, O_P},
	    {'r', "replicas", true, O_R},
	    {'c', "config", true, O_C},
	    {0, "dry-run", false, O_DRY},
	    {0, NULL, false, 0},
	};
	struct cli_args a;
	struct names topics = {0}, cfgs = {0};
	int parts = -1, repl = -1, k, rc = CLI_EXIT_OK;
	bool dry = false;
	const char *v;
	cli_args_init(&a, c, argc, argv, opts, create_help);
	while ((k = cli_next(&a, &v)) != CLI_ARG_END) {
		if (k == CLI_ARG_EXIT)
			return a.exit_code;
		if (k == CLI_ARG_POS) {
			if (names_add(&topics, v))
				return cli_usage(c, "too many arguments (at most %d)", MAX_NAMES);
		} else if (k == O_P && cli_parse_int(v, 1, MAX_PARTS, &parts))
			return cli_usage(c, "invalid partition count '%s' (must be 1 to %d)", v,
			                 MAX_PARTS);
		else if (k == O_R && cli_parse_int(v, 1, 32767, &repl))
			return cli_usage(c, "invalid replication factor '%s' (must be >= 1)", v);
		else if (k == O_C) {
			if (!strchr(v, '=') || v[0] == '=')
				return cli_usage(c, "-c expects key=value, got '%s'", v);
			if (names_add(&cfgs, v))
				return cli_usage(c, "too many arguments (at most %d)", MAX_NAMES);
		} else if (k == O_DRY)
			dry = true;
	}
	if (!topics.n)
		return cli_usage(c, "name at least one topic");
	struct create_req req = {calloc((size_t)topics.n, sizeof(void *)), 0};
	for (int i = 0; i < topics.n; i++) {
		char err[512];
		rd_kafka_NewTopic_t *nt =
		    rd_kafka_NewTopic_new(topics.v[i], parts, repl, err, sizeof(err));
		if (!nt) {
			rc = cli_usage(c, "topic '%s': %s", topics.v[i], err);
			goto out;
		}
		req.v[req.n++] = nt;
		for (int j = 0; j < cfgs.n; j++) {
			char key[256];
			const char *val;
			if (cli_split_kv(cfgs.v[j], key, sizeof(key), &val)) {
				rc = cli_usage(c, "config key too long in '%s'", cfgs.v[j]);
				goto out;
			}
			rd_kafka_NewTopic_set_config(nt, key, val);
		}
	}
	rd_kafka_t *rk = cli_new_handle(c, RD_KAFKA_PRODUCER, NULL, NULL, NULL);
	if (!rk) {
		rc = CLI_EXIT_FAIL;
		goto out;
	}
	c->validate_only = dry;
	rd_kafka_event_t *ev = cli_admin_run(c, rk, RD_KAFKA_ADMIN_OP_CREATETOPICS,
	                                     "cannot create topics", call_create, &req);
	if (ev) {
		size_t n;
		const rd_kafka_topic_result_t **res =
		    rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
		rc = report_topics(c, res, n, dry ? "valid (dry run)" : "created");
		rd_kafka_event_destroy(ev);
	} else {
		rc = CLI_EXIT_FAIL;
	}
	rd_kafka_destroy(rk);
out:
	rd_kafka_NewTopic_destroy_array(req.v, req.n);
	free(req.v);
	return rc;
}

/* ---- list */

static int cmp_topic(const void *x, const void *y)
{
	const struct rd_kafka_metadata_topic *a = *(const struct rd_kafka_metadata_topic *const *)x;
	const struct rd_kafka_metadata_topic *b = *(const struct rd_kafka_metadata_topic *const *)y;
	return strcmp(a->topic, b->topic);
}

static const char list_help[] =
    "usage: fjord topic list [-i]\n"
    "Lists topics with their partition and replica counts.\n\n"
    "  -i, --internal  include internal topics (names starting with __)\n";

static int topic_list(struct cli *c, int argc, char **argv)
{
	static const struct cli_opt opts[] = {{'i', "internal", false, 1}, {0, NULL, false, 0}};
	struct cli_args a;
	bool internal = false;
	const char *v;
	int k;
	cli_args_init(&a, c, argc, argv, opts, list_help);
	while ((k = cli_next(&a, &v)) != CLI_ARG_END) {
		if (k == CLI_ARG_EXIT)
			return a.exit_code;
		if (k == CLI_ARG_POS)
			return cli_usage(c, "unexpected argument '%s'", v);
		internal = true;
	}
	rd_kafka_t *rk = cli_new_handle(c, RD_KAFKA_PRODUCER, NULL, NULL, NULL);
	if (!rk)
		return CLI_EXIT_FAIL;
	const struct rd_kafka_metadata *md = cli_metadata(c, rk);
	if (!md) {
		rd_kafka_destroy(rk);
		return CLI_EXIT_FAIL;
	}
	const struct rd_kafka_metadata_topic **ts = calloc((size_t)md->topic_cnt + 1, sizeof(*ts));
	int n = 0;
	for (int i = 0; i < md->topic_cnt; i++)
		if (internal || strncmp(md->topics[i].topic, "__", 2))
			ts[n++] = &md->topics[i];
	qsort(ts, (size_t)n, sizeof(*ts), cmp_topic);
	struct cli_table *t = cli_table_new(3, (const char *[]){"NAME", "PARTITIONS", "REPLICAS"});
	json_t *arr = json_array();
	for (int i = 0; i < n; i++) {
		int repl = ts[i]->partition_cnt ? ts[i]->partitions[0].replica_cnt : 0;
		cli_table_cell(t, "%s", ts[i]->topic);
		cli_table_cell(t, "%d", ts[i]->partition_cnt);
		cli_table_cell(t, "%d", repl);
		json_array_append_new(arr,
		                      json_pack("{s:s,s:i,s:i}", "name", ts[i]->topic, "partitions",
		                                ts[i]->partition_cnt, "replicas", repl));
	}
	if (c->json) {
		cli_json_print(arr);
		cli_table_free(t);
	} else {
		json_decref(arr);
		cli_table_print(t, stdout);
	}
	free(ts);
	rd_kafka_metadata_destroy(md);
	rd_kafka_destroy(rk);
	return CLI_EXIT_OK;
}

/* ---- describe */

static void id_list(char *buf, size_t n, const int32_t *ids, int cnt, json_t **json)
{
	size_t len = 0;
	buf[0] = 0;
	*json = json_array();
	for (int i = 0; i < cnt; i++) {
		json_array_append_new(*json, json_integer(ids[i]));
		if (len < n)
			len += (size_t)snprintf(buf + len, n - len, "%s%" PRId32, i ? "," : "",
			                        ids[i]);
	}
}

static const char describe_help[] =
    "usage: fjord topic describe TOPIC...\n"
    "Shows a topic's partitions (leader, replicas, ISR, low and high watermarks)\n"
    "and its configs with their source.\n\n"
    "  -a, --all-configs  also list configs at their default value\n";

static int describe_one(struct cli *c, rd_kafka_t *rk, const struct rd_kafka_metadata *md,
                        const char *name, bool all, json_t *out)
{
	const struct rd_kafka_metadata_topic *mt = cli_md_topic(md, name);
	if (!mt || mt->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
		return cli_fail(c, "topic '%s' does not exist", name);
	int np = mt->partition_cnt;
	rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(np ? np : 1);
	for (int i = 0; i < np; i++)
		rd_kafka_topic_partition_list_add(list, name, mt->partitions[i].id);
	int64_t *lows = calloc((size_t)np + 1, sizeof(int64_t));
	int64_t *highs = calloc((size_t)np + 1, sizeof(int64_t));
	int rc = CLI_EXIT_OK;
	rd_kafka_resp_err_t err = cli_watermarks(c, rk, list, lows, highs);
	if (err) {
		char buf[768];
		rc = cli_fail(c, "topic '%s': cannot read watermarks: %s", name,
		              err == RD_KAFKA_RESP_ERR__TIMED_OUT
		                  ? cli_timeout_reason(c, buf, sizeof(buf))
		                  : rd_kafka_err2str(err));
	}
	struct cli_configs cfg;
	if (cli_describe_configs(c, rk, RD_KAFKA_RESOURCE_TOPIC, name, &cfg))
		rc = CLI_EXIT_FAIL;

	json_t *jt = json_pack("{s:s,s:i,s:i}", "name", name, "partitions_count", np, "replicas",
	                       np ? mt->partitions[0].replica_cnt : 0);
	json_t *jcfg = json_array(), *jparts = json_array();
	struct cli_table *ct = cli_table_new(3, (const char *[]){"KEY", "VALUE", "SOURCE"});
	for (int i = 0; i < cfg.n; i++) {
		struct cli_config *e = &cfg.v[i];
		const char *val = e->sensitive ? "(sensitive)" : e->value ? e->value : "";
		json_array_append_new(
		    jcfg, json_pack("{s:s,s:o,s:s,s:b,s:b}", "name", e->name, "value",
		                    e->value && !e->sensitive ? json_string(e->value) : json_null(),
		                    "source", cli_config_source_name(e->source), "read_only",
		                    e->read_only, "sensitive", e->sensitive));
		if (!all && e->source == RD_KAFKA_CONFIG_SOURCE_DEFAULT_CONFIG)
			continue;
		cli_table_cell(ct, "%s", e->name);
		cli_table_cell(ct, "%s", val);
		cli_table_cell(ct, "%s", cli_config_source_name(e->source));
	}
	struct cli_table *pt =
	    cli_table_new(6, (const char *[]){"PARTITION", "LEADER", "REPLICAS", "ISR",
	                                      "LOW-WATERMARK", "HIGH-WATERMARK"});
	for (int i = 0; i < np; i++) {
		const struct rd_kafka_metadata_partition *p = &mt->partitions[i];
		char reps[512], isr[512];
		json_t *jr, *ji;
		id_list(reps, sizeof(reps), p->replicas, p->replica_cnt, &jr);
		id_list(isr, sizeof(isr), p->isrs, p->isr_cnt, &ji);
		cli_table_cell(pt, "%" PRId32, p->id);
		cli_table_cell(pt, "%" PRId32, p->leader);
		cli_table_cell(pt, "%s", reps);
		cli_table_cell(pt, "%s", isr);
		cli_table_cell(pt, "%" PRId64, lows[i]);
		cli_table_cell(pt, "%" PRId64, highs[i]);
		json_t *jp = json_pack("{s:i,s:i,s:o,s:o,s:I,s:I}", "partition", p->id, "leader",
		                       p->leader, "replicas", jr, "isr", ji, "low_watermark",
		                       (json_int_t)lows[i], "high_watermark", (json_int_t)highs[i]);
		if (p->err)
			json_object_set_new(jp, "error", json_string(rd_kafka_err2str(p->err)));
		json_array_append_new(jparts, jp);
	}
	json_object_set_new(jt, "partitions", jparts);
	json_object_set_new(jt, "configs", jcfg);
	if (c->json) {
		json_array_append_new(out, jt);
		cli_table_free(ct);
		cli_table_free(pt);
	} else {
		json_decref(jt);
		printf("NAME        %s\nPARTITIONS  %d\nREPLICAS    %d\n\nCONFIGS\n", name, np,
		       np ? mt->partitions[0].replica_cnt : 0);
		cli_table_print(ct, stdout);
		printf("\nPARTITIONS\n");
		cli_table_print(pt, stdout);
	}
	cli_configs_release(&cfg);
	free(lows);
	free(highs);
	rd_kafka_topic_partition_list_destroy(list);
	return rc;
}

static int topic_describe(struct cli *c, int argc, char **argv)
{
	static const struct cli_opt opts[] = {{'a', "all-configs", false, 1}, {0, NULL, false, 0}};
	struct cli_args a;
	struct names topics = {0};
	bool all = false;
	const char *v;
	int k, rc = CLI_EXIT_OK;
	cli_args_init(&a, c, argc, argv, opts, describe_help);
	while ((k = cli_next(&a, &v)) != CLI_ARG_END) {
		if (k == CLI_ARG_EXIT)
			return a.exit_code;
		if (k == CLI_ARG_POS) {
			if (names_add(&topics, v))
				return cli_usage(c, "too many arguments (at most %d)", MAX_NAMES);
		} else
			all = true;
	}
	if (!topics.n)
		return cli_usage(c, "name at least one topic");
	rd_kafka_t *rk = cli_new_handle(c, RD_KAFKA_PRODUCER, NULL, NULL, NULL);
	const struct rd_kafka_metadata *md = rk ? cli_metadata(c, rk) : NULL;
	if (!md) {
		if (rk)
			rd_kafka_destroy(rk);
		return CLI_EXIT_FAIL;
	}
	json_t *out = json_array();
	for (int i = 0; i < topics.n; i++) {
		if (i && !c->json)
			printf("\n");
		if (describe_one(c, rk, md, topics.v[i], all, out))
			rc = CLI_EXIT_FAIL;
	}
	if (c->json)
		cli_json_print(out);
	else
		json_decref(out);
	rd_kafka_metadata_destroy(md);
	rd_kafka_destroy(rk);
	return rc;
}

/* ---- alter-config */

static const char alter_help[] =
    "usage: fjord topic alter-config TOPIC [--set KEY=VALUE]... [--delete KEY]...\n"
    "Sets or removes topic configs (a removed key returns to the broker's default).\n"
    "librdkafka 2.0.2 has only AlterConfigs, which replaces a topic's whole dynamic\n"
    "config: fjord reads the current dynamic configs, applies the changes and writes\n"
    "the result, so other keys are kept; a concurrent writer's change can be lost.\n\n"
    "  -s, --set KEY=VALUE  set a config (repeatable)\n"
    "  -d, --delete KEY     remove a config (repeatable)\n"
    "      --dry-run        only validate the request\n";

static int topic_alter_config(struct cli *c, int argc, char **argv)
{
	enum { O_SET = 1, O_DEL, O_DRY };
	static const struct cli_opt opts[] = {
	    {'s', "set", true, O_SET},
	    {'d', "delete", true, O_DEL},
	    {0, "dry-run", false, O_DRY},
	    {0, NULL, false, 0},
	};
	struct cli_args a;
	struct names pos = {0}, sets = {0}, dels = {0};
	bool dry = false;
	const char *v;
	int k, rc;
	cli_args_init(&a, c, argc, argv, opts, alter_help);
	while ((k = cli_next(&a, &v)) != CLI_ARG_END) {
		if (k == CLI_ARG_EXIT) {
			rc = a.exit_code;
			goto out;
		}
		if (k == CLI_ARG_POS) {
			if (names_add(&pos, v))
				return cli_usage(c, "too many arguments (at most %d)", MAX_NAMES);
		} else if (k == O_SET) {
			if (!strchr(v, '=') || v[0] == '=') {
				rc = cli_usage(c, "--set expects key=value, got '%s'", v);
				goto out;
			}
			if (names_add(&sets, v))
				return cli_usage(c, "too many arguments (at most %d)", MAX_NAMES);
		} else if (k == O_DEL) {
			if (names_add(&dels, v))
				return cli_usage(c, "too many arguments (at most %d)", MAX_NAMES);
		} else
			dry = true;
	}
	if (pos.n != 1) {
		rc = cli_usage(c, "name exactly one topic");
		goto out;
	}
	if (!sets.n && !dels.n) {
		rc = cli_usage(c, "nothing to change: give --set KEY=VALUE or --delete KEY");
		goto out;
	}
	rd_kafka_t *rk = cli_new_handle(c, RD_KAFKA_PRODUCER, NULL, NULL, NULL);
	if (!rk) {
		rc = CLI_EXIT_FAIL;
		goto out;
	}
	rc = cli_alter_configs(c, rk, RD_KAFKA_RESOURCE_TOPIC, pos.v[0],
	                       RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG, sets.v, sets.n, dels.v,
	                       dels.n, dry);
	rd_kafka_destroy(rk);
	if (!rc) {
		const char *status = dry ? "valid (dry run)" : "updated";
		if (c->json) {
			cli_json_print(json_pack("{s:s,s:s}", "topic", pos.v[0], "status", status));
		} else {
			struct cli_table *t = cli_table_new(2, (const char *[]){"TOPIC", "STATUS"});
			cli_table_cell(t, "%s", pos.v[0]);
			cli_table_cell(t, "%s", status);
			cli_table_print(t, stdout);
		}
	}
out:
	return rc;
}

/* ---- add-partitions */

struct parts_req {
	rd_kafka_NewPartitions_t **v;
	size_t n;
};

static void call_partitions(rd_kafka_t *rk, const rd_kafka_AdminOptions_t *o, rd_kafka_queue_t *q,
                            void *arg)
{
	struct parts_req *r = arg;
	rd_kafka_CreatePartitions(rk, r->v, r->n, o, q);
}

static const char addp_help[] =
    "usage: fjord topic add-partitions TOPIC... (-n TOTAL | --num NEW)\n"
    "Adds partitions to topics.\n\n"
    "  -n, --total N  the new total partition count\n"
    "      --num N    how many partitions to add\n"
    "      --dry-run  only validate the request\n";

static int topic_add_partitions(struct cli *c, int argc, char **argv)
{
	enum { O_TOTAL = 1, O_NUM, O_DRY };
	static const struct cli_opt opts[] = {
	    {'n', "total", true, O_TOTAL},
	    {0, "num", true, O_NUM},
	    {0, "dry-run", false, O_DRY},
	    {0, NULL, false, 0},
	};
	struct cli_args a;
	struct names topics = {0};
	int total = -1, add = -1, k, rc = CLI_EXIT_OK;
	bool dry = false;
	const char *v;
	cli_args_init(&a, c, argc, argv, opts, addp_help);
	while ((k = cli_next(&a, &v)) != CLI_ARG_END) {
		if (k == CLI_ARG_EXIT)
			return a.exit_code;
		if (k == CLI_ARG_POS) {
			if (names_add(&topics, v))
				return cli_usage(c, "too many arguments (at most %d)", MAX_NAMES);
		} else if (k == O_TOTAL && cli_parse_int(v, 1, MAX_PARTS, &total))
			return cli_usage(c, "invalid partition count '%s' (must be 1 to %d)", v,
			                 MAX_PARTS);
		else if (k == O_NUM && cli_parse_int(v, 1, MAX_PARTS, &add))
			return cli_usage(
			    c, "invalid number of partitions to add '%s' (must be >= 1)", v);
		else if (k == O_DRY)
			dry = true;
	}
	if (!topics.n)
		return cli_usage(c, "name at least one topic");
	if ((total < 0) == (add < 0)) {
		return cli_usage(c, "give exactly one of -n TOTAL or --num NEW");
	}
	rd_kafka_t *rk = cli_new_handle(c, RD_KAFKA_PRODUCER, NULL, NULL, NULL);
	if (!rk) {
		return CLI_EXIT_FAIL;
	}
	const struct rd_kafka_metadata *md = NULL;
	if (add > 0 && !(md = cli_metadata(c, rk))) {
		rd_kafka_destroy(rk);
		return CLI_EXIT_FAIL;
	}
	struct parts_req req = {calloc((size_t)topics.n, sizeof(void *)), 0};
	for (int i = 0; i < topics.n; i++) {
		char err[512];
		int want = total;
		if (add > 0) {
			const struct rd_kafka_metadata_topic *mt = cli_md_topic(md, topics.v[i]);
			if (!mt || mt->err) {
				rc = cli_fail(c, "topic '%s' does not exist", topics.v[i]);
				continue;
			}
			want = mt->partition_cnt + add;
		}
		rd_kafka_NewPartitions_t *np =
		    rd_kafka_NewPartitions_new(topics.v[i], (size_t)want, err, sizeof(err));
		if (!np) {
			rc = cli_usage(c, "topic '%s': %s", topics.v[i], err);
			continue;
		}
		req.v[req.n++] = np;
	}
	if (req.n) {
		c->validate_only = dry;
		rd_kafka_event_t *ev =
		    cli_admin_run(c, rk, RD_KAFKA_ADMIN_OP_CREATEPARTITIONS,
		                  "cannot add partitions", call_partitions, &req);
		if (ev) {
			size_t n;
			const rd_kafka_topic_result_t **res =
			    rd_kafka_CreatePartitions_result_topics(
			        rd_kafka_event_CreatePartitions_result(ev), &n);
			if (report_topics(c, res, n, dry ? "valid (dry run)" : "partitions added"))
				rc = CLI_EXIT_FAIL;
			rd_kafka_event_destroy(ev);
		} else {
			rc = CLI_EXIT_FAIL;
		}
	}
	rd_kafka_NewPartitions_destroy_array(req.v, req.n);
	free(req.v);
	if (md)
		rd_kafka_metadata_destroy(md);
	rd_kafka_destroy(rk);
	return rc;
}

/* ---- delete */

struct delete_req {
	rd_kafka_DeleteTopic_t **v;
	size_t n;
};

static void call_delete(rd_kafka_t *rk, const rd_kafka_AdminOptions_t *o, rd_kafka_queue_t *q,
                        void *arg)
{
	struct delete_req *r = arg;
	rd_kafka_DeleteTopics(rk, r->v, r->n, o, q);
}

static const char delete_help[] = "usage: fjord topic delete TOPIC...\n"
                                  "Deletes topics and all their records.\n";

static int topic_delete(struct cli *c, int argc, char **argv)
{
	struct cli_args a;
	struct names topics = {0};
	const char *v;
	int k, rc = CLI_EXIT_OK;
	cli_args_init(&a, c, argc, argv, NULL, delete_help);
	while ((k = cli_next(&a, &v)) != CLI_ARG_END) {
		if (k == CLI_ARG_EXIT)
			return a.exit_code;
		if (names_add(&topics, v))
			return cli_usage(c, "too many arguments (at most %d)", MAX_NAMES);
	}
	if (!topics.n)
		return cli_usage(c, "name at least one topic");
	rd_kafka_t *rk = cli_new_handle(c, RD_KAFKA_PRODUCER, NULL, NULL, NULL);
	if (!rk) {
		return CLI_EXIT_FAIL;
	}
	struct delete_req req = {calloc((size_t)topics.n, sizeof(void *)), 0};
	for (int i = 0; i < topics.n; i++)
		req.v[req.n++] = rd_kafka_DeleteTopic_new(topics.v[i]);
	rd_kafka_event_t *ev = cli_admin_run(c, rk, RD_KAFKA_ADMIN_OP_DELETETOPICS,
	                                     "cannot delete topics", call_delete, &req);
	if (ev) {
		size_t n;
		const rd_kafka_topic_result_t **res =
		    rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev), &n);
		rc = report_topics(c, res, n, "deleted");
		rd_kafka_event_destroy(ev);
	} else {
		rc = CLI_EXIT_FAIL;
	}
	rd_kafka_DeleteTopic_destroy_array(req.v, req.n);
	free(req.v);
	rd_kafka_destroy(rk);
	return rc;
}

/* ---- trim-prefix */

static void call_delete_records(rd_kafka_t *rk, const rd_kafka_AdminOptions_t *o,
                                rd_kafka_queue_t *q, void *arg)
{
	rd_kafka_DeleteRecords(rk, (rd_kafka_DeleteRecords_t **)&arg, 1, o, q);
}

static const char trim_help[] =
    "usage: fjord topic trim-prefix TOPIC -o OFFSET [-p PARTITION[,PARTITION...]]\n"
    "Deletes the records before OFFSET (DeleteRecords): the partition's log start\n"
    "offset moves up to OFFSET. OFFSET 'end' (or -1) trims up to the high watermark.\n\n"
    "  -o, --offset OFFSET      the new first offset, or end\n"
    "  -p, --partitions LIST    partitions, comma-separated (default: all)\n";

static int topic_trim_prefix(struct cli *c, int argc, char **argv)
{
	enum { O_OFF = 1, O_PART };
	static const struct cli_opt opts[] = {
	    {'o', "offset", true, O_OFF},
	    {'p', "partitions", true, O_PART},
	    {0, NULL, false, 0},
	};
	struct cli_args a;
	const char *topic = NULL, *v;
	int64_t offset = -2;
	int32_t parts[1024];
	int nparts = 0, k, rc = CLI_EXIT_OK;
	cli_args_init(&a, c, argc, argv, opts, trim_help);
	while ((k = cli_next(&a, &v)) != CLI_ARG_END) {
		if (k == CLI_ARG_EXIT)
			return a.exit_code;
		if (k == CLI_ARG_POS) {
			if (topic)
				return cli_usage(c, "name exactly one topic");
			topic = v;
		} else if (k == O_OFF) {
			if (!strcmp(v, "end"))
				offset = -1;
			else if (cli_parse_i64(v, -1, INT64_MAX, &offset))
				return cli_usage(c, "invalid offset '%s' (a number >= 0, or end)",
				                 v);
		} else if ((nparts = cli_parse_int_list(v, parts, 1024)) < 0) {
			return cli_usage(c, "invalid partition list '%s'", v);
		}
	}
	if (!topic)
		return cli_usage(c, "name a topic");
	if (offset == -2)
		return cli_usage(c, "give the new start offset with -o OFFSET");
	rd_kafka_t *rk = cli_new_handle(c, RD_KAFKA_PRODUCER, NULL, NULL, NULL);
	const struct rd_kafka_metadata *md = rk ? cli_metadata(c, rk) : NULL;
	if (!md) {
		if (rk)
			rd_kafka_destroy(rk);
		return CLI_EXIT_FAIL;
	}
	const struct rd_kafka_metadata_topic *mt = cli_md_topic(md, topic);
	rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(16);
	if (!mt || mt->err) {
		rc = cli_fail(c, "topic '%s' does not exist", topic);
		goto out;
	}
	for (int i = 0; i < nparts; i++) {
		if (parts[i] >= mt->partition_cnt) {
			rc = cli_fail(c, "topic '%s' has no partition %d (it has %d)", topic,
			              (int)parts[i], mt->partition_cnt);
			goto out;
		}
		rd_kafka_topic_partition_list_add(list, topic, parts[i])->offset = offset;
	}
	for (int i = 0; !nparts && i < mt->partition_cnt; i++)
		rd_kafka_topic_partition_list_add(list, topic, mt->partitions[i].id)->offset =
		    offset;
	rd_kafka_DeleteRecords_t *dr = rd_kafka_DeleteRecords_new(list);
	rd_kafka_event_t *ev = cli_admin_run(c, rk, RD_KAFKA_ADMIN_OP_DELETERECORDS,
	                                     "cannot delete records", call_delete_records, dr);
	rd_kafka_DeleteRecords_destroy(dr);
	if (!ev) {
		rc = CLI_EXIT_FAIL;
		goto out;
	}
	const rd_kafka_topic_partition_list_t *res =
	    rd_kafka_DeleteRecords_result_offsets(rd_kafka_event_DeleteRecords_result(ev));
	struct cli_table *t =
	    cli_table_new(3, (const char *[]){"TOPIC", "PARTITION", "LOW-WATERMARK"});
	json_t *arr = json_array();
	for (int i = 0; res && i < res->cnt; i++) {
		const rd_kafka_topic_partition_t *p = &res->elems[i];
		json_t *o = json_pack("{s:s,s:i}", "topic", p->topic, "partition", p->partition);
		if (p->err) {
			char msg[1024];
			if (p->err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE)
				snprintf(msg, sizeof(msg),
				         "topic '%s' partition %d: offset %" PRId64
				         " is beyond the high watermark",
				         p->topic, (int)p->partition, offset);
			else
				snprintf(msg, sizeof(msg), "topic '%s' partition %d: %s", p->topic,
				         (int)p->partition, rd_kafka_err2str(p->err));
			rc = cli_fail(c, "%s", msg);
			json_object_set_new(o, "error", json_string(msg));
		} else {
			cli_table_cell(t, "%s", p->topic);
			cli_table_cell(t, "%d", (int)p->partition);
			cli_table_cell(t, "%" PRId64, p->offset);
			json_object_set_new(o, "low_watermark", json_integer(p->offset));
		}
		json_array_append_new(arr, o);
	}
	if (c->json) {
		cli_json_print(arr);
		cli_table_free(t);
	} else if (cli_table_rows(t)) {
		json_decref(arr);
		cli_table_print(t, stdout);
	} else {
		json_decref(arr);
		cli_table_free(t);
	}
	rd_kafka_event_destroy(ev);
out:
	rd_kafka_topic_partition_list_destroy(list);
	rd_kafka_metadata_destroy(md);
	rd_kafka_destroy(rk);
	return rc;
}

static const struct cli_verb topic_verbs[] = {
    {"create", topic_create, "create topics"},
    {"list", topic_list, "list topics"},
    {"describe", topic_describe, "partitions, watermarks and configs of topics"},
    {"alter-config", topic_alter_config, "set or remove topic configs"},
    {"add-partitions", topic_add_partitions, "add partitions to topics"},
    {"delete", topic_delete, "delete topics"},
    {"trim-prefix", topic_trim_prefix, "delete records before an offset"},
    {NULL, NULL, NULL},
};

int cli_topic_main(struct cli *c, int argc, char **argv)
{
	return cli_dispatch(c, argc, argv, topic_verbs);
}
