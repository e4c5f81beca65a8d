/*
 * cli_cluster.c: `fjord cluster info|config get|config set`.
 *
 * info comes from Metadata (cluster id, controller id, brokers); librdkafka
 * 2.0.2 has no DescribeCluster. Broker configs go through DescribeConfigs and
 * AlterConfigs on a BROKER resource named by the broker id (default: the
 * controller). librdkafka 2.0.2 has no IncrementalAlterConfigs, so `config
 * set` reads the broker's dynamic configs, applies the change and writes the
 * whole set back (cli_alter_configs): earlier dynamic keys survive, but two
 * concurrent writers can lose one another's change.
 */
#include "cli/cli_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_broker(const void *x, const void *y)
{
	const struct rd_kafka_metadata_broker *a = x, *b = y;
	return (a->id > b->id) - (a->id < b->id);
}

static const char info_help[] = "usage: fjord cluster info\n"
                                "Shows the cluster id, the controller and the brokers.\n";

static int cluster_info(struct cli *c, int argc, char **argv)
{
	struct cli_args a;
	const char *v;
	int k;
	cli_args_init(&a, c, argc, argv, NULL, info_help);
	while ((k = cli_next(&a, &v)) != CLI_ARG_END) {
		if (k == CLI_ARG_EXIT)
			return a.exit_code;
		return cli_usage(c, "unexpected argument '%s'", v);
	}
	rd_kafka_t *rk = cli_new_handle(c, RD_KAFKA_PRODUCER, NULL, NULL, NULL);
	const struct rd_kafka_metadata *md = rk ? cli_metadata(c, rk) : NULL;
	if (!md) {
		if (rk)
			rd_kafka_destroy(rk);
		return CLI_EXIT_FAIL;
	}
	char *id = rd_kafka_clusterid(rk, c->timeout_ms);
	int32_t controller = rd_kafka_controllerid(rk, c->timeout_ms);
	struct rd_kafka_metadata_broker *bs = calloc((size_t)md->broker_cnt + 1, sizeof(*bs));
	memcpy(bs, md->brokers, (size_t)md->broker_cnt * sizeof(*bs));
	qsort(bs, (size_t)md->broker_cnt, sizeof(*bs), cmp_broker);
	struct cli_table *t = cli_table_new(4, (const char *[]){"ID", "HOST", "PORT", "ROLE"});
	json_t *jb = json_array();
	for (int i = 0; i < md->broker_cnt; i++) {
		bool ctl = bs[i].id == controller;
		cli_table_cell(t, "%" PRId32, bs[i].id);
		cli_table_cell(t, "%s", bs[i].host);
		cli_table_cell(t, "%d", bs[i].port);
		cli_table_cell(t, "%s", ctl ? "controller" : "broker");
		json_array_append_new(jb,
		                      json_pack("{s:i,s:s,s:i,s:b}", "id", bs[i].id, "host",
		                                bs[i].host, "port", bs[i].port, "controller", ctl));
	}
	if (c->json) {
		cli_json_print(json_pack(
		    "{s:o,s:o,s:o}", "cluster_id", id ? json_string(id) : json_null(), "controller",
		    controller >= 0 ? json_integer(controller) : json_null(), "brokers", jb));
		cli_table_free(t);
	} else {
		json_decref(jb);
		printf("CLUSTER     %s\n", id ? id : "-");
		if (controller >= 0)
			printf("CONTROLLER  %" PRId32 "\n", controller);
		else
			printf("CONTROLLER  -\n");
		printf("\nBROKERS\n");
		cli_table_print(t, stdout);
	}
	if (id)
		rd_kafka_mem_free(rk, id);
	free(bs);
	rd_kafka_metadata_destroy(md);
	rd_kafka_destroy(rk);
	return CLI_EXIT_OK;
}

/* The broker to address: --broker, else the controller, else the lowest id. */
static int pick_broker(struct cli *c, rd_kafka_t *rk, const char *opt, char *out, size_t n)
{
	int id;
	if (opt) {
		if (cli_parse_int(opt, 0, INT32_MAX, &id))
			return cli_usage(c, "invalid broker id '%s'", opt);
		snprintf(out, n, "%d", id);
		return 0;
	}
	const struct rd_kafka_metadata *md = cli_metadata(c, rk);
	if (!md)
		return CLI_EXIT_FAIL;
	id = rd_kafka_controllerid(rk, c->timeout_ms);
	for (int i = 0; id < 0 && i < md->broker_cnt; i++)
		if (id < 0 || md->brokers[i].id < id)
			id = md->brokers[i].id;
	rd_kafka_metadata_destroy(md);
	if (id < 0)
		return cli_fail(c, "the cluster reported no brokers");
	snprintf(out, n, "%d", id);
	return 0;
}

static const char get_help[] =
    "usage: fjord cluster config get [KEY] [--broker ID]\n"
    "Shows a broker's configs with their source (default: the controller).\n"
    "With KEY, only that config.\n\n"
    "      --broker ID  the broker to ask\n";

static int config_get(struct cli *c, int argc, char **argv)
{
	static const struct cli_opt opts[] = {{0, "broker", true, 1}, {0, NULL, false, 0}};
	struct cli_args a;
	const char *key = NULL, *broker = NULL, *v;
	char id[32];
	int k, rc;
	cli_args_init(&a, c, argc, argv, opts, get_help);
	while ((k = cli_next(&a, &v)) != CLI_ARG_END) {
		if (k == CLI_ARG_EXIT)
			return a.exit_code;
		if (k == CLI_ARG_POS) {
			if (key)
				return cli_usage(c, "name at most one config key");
			key = v;
		} else {
			broker = v;
		}
	}
	rd_kafka_t *rk = cli_new_handle(c, RD_KAFKA_PRODUCER, NULL, NULL, NULL);
	if (!rk)
		return CLI_EXIT_FAIL;
	struct cli_configs cfg = {0};
	if ((rc = pick_broker(c, rk, broker, id, sizeof(id))) ||
	    (rc = cli_describe_configs(c, rk, RD_KAFKA_RESOURCE_BROKER, id, &cfg))) {
		rd_kafka_destroy(rk);
		return rc;
	}
	struct cli_table *t = cli_table_new(3, (const char *[]){"KEY", "VALUE", "SOURCE"});
	json_t *arr = json_array(), *one = NULL;
	for (int i = 0; i < cfg.n; i++) {
		struct cli_config *e = &cfg.v[i];
		if (key && strcmp(key, e->name))
			continue;
		const char *shown = e->sensitive ? "(sensitive)" : e->value ? e->value : "";
		cli_table_cell(t, "%s", e->name);
		cli_table_cell(t, "%s", shown);
		cli_table_cell(t, "%s", cli_config_source_name(e->source));
		one = json_pack("{s:s,s:o,s:s,s:b,s:b}", "name", e->name, "value",
		                e->value && !e->sensitive ? json_string(e->value) : json_null(),
		                "source", cli_config_source_name(e->source), "read_only",
		                e->read_only, "sensitive", e->sensitive);
		json_array_append_new(arr, one);
	}
	if (key && !one) {
		rc = cli_fail(c, "broker %s has no config '%s'", id, key);
		cli_table_free(t);
	} else if (c->json) {
		if (key) {
			json_incref(one);
			cli_json_print(one);
		} else {
			json_incref(arr);
			cli_json_print(arr);
		}
		cli_table_free(t);
	} else {
		cli_table_print(t, stdout);
	}
	json_decref(arr);
	cli_configs_release(&cfg);
	rd_kafka_destroy(rk);
	return rc;
}

static const char set_help[] =
    "usage: fjord cluster config set KEY=VALUE... [--delete KEY]... [--broker ID]\n"
    "Sets (or with --delete removes) dynamic broker configs (default: the controller).\n"
    "librdkafka 2.0.2 has only AlterConfigs, which replaces a broker's whole dynamic\n"
    "config: fjord reads the current dynamic configs, applies the changes and writes\n"
    "the result, so other dynamic keys are kept; a concurrent change can be lost.\n\n"
    "  -d, --delete KEY  remove a dynamic config (repeatable)\n"
    "      --broker ID   the broker to change\n"
    "      --dry-run     only validate the request\n";

static int config_set(struct cli *c, int argc, char **argv)
{
	enum { O_DEL = 1, O_BROKER, O_DRY };
	static const struct cli_opt opts[] = {
	    {'d', "delete", true, O_DEL},
	    {0, "broker", true, O_BROKER},
	    {0, "dry-run", false, O_DRY},
	    {0, NULL, false, 0},
	};
	struct cli_args a;
	const char *broker = NULL, *v;
	const char **sets = calloc((size_t)argc, sizeof(char *));
	const char **dels = calloc((size_t)argc, sizeof(char *));
	int nsets = 0, ndels = 0, k, rc = CLI_EXIT_OK;
	bool dry = false;
	char id[32];
	cli_args_init(&a, c, argc, argv, opts, set_help);
	while ((k = cli_next(&a, &v)) != CLI_ARG_END) {
		if (k == CLI_ARG_EXIT) {
			rc = a.exit_code;
			goto out;
		}
		if (k == CLI_ARG_POS) {
			if (!strchr(v, '=') || v[0] == '=') {
				rc = cli_usage(c, "expected KEY=VALUE, got '%s'", v);
				goto out;
			}
			sets[nsets++] = v;
		} else if (k == O_DEL) {
			dels[ndels++] = v;
		} else if (k == O_BROKER) {
			broker = v;
		} else {
			dry = true;
		}
	}
	if (!nsets && !ndels) {
		rc = cli_usage(c, "nothing to change: give KEY=VALUE or --delete KEY");
		goto out;
	}
	rd_kafka_t *rk = cli_new_handle(c, RD_KAFKA_PRODUCER, NULL, NULL, NULL);
	if (!rk) {
		rc = CLI_EXIT_FAIL;
		goto out;
	}
	if (!(rc = pick_broker(c, rk, broker, id, sizeof(id))))
		rc = cli_alter_configs(c, rk, RD_KAFKA_RESOURCE_BROKER, id,
		                       RD_KAFKA_CONFIG_SOURCE_DYNAMIC_BROKER_CONFIG, sets, nsets,
		                       dels, ndels, dry);
	rd_kafka_destroy(rk);
	if (rc)
		goto out;
	const char *status = dry ? "valid (dry run)" : "updated";
	struct cli_table *t = cli_table_new(3, (const char *[]){"BROKER", "KEY", "STATUS"});
	json_t *arr = json_array();
	for (int i = 0; i < nsets + ndels; i++) {
		char key[256];
		const char *val = NULL;
		if (i < nsets)
			cli_split_kv(sets[i], key, sizeof(key), &val);
		else
			snprintf(key, sizeof(key), "%s", dels[i - nsets]);
		cli_table_cell(t, "%s", id);
		cli_table_cell(t, "%s", key);
		cli_table_cell(t, "%s", i < nsets ? status : dry ? status : "deleted");
		json_array_append_new(arr,
		                      json_pack("{s:s,s:s,s:o,s:s}", "broker", id, "key", key,
		                                "value", val ? json_string(val) : json_null(),
		                                "status", i < nsets || dry ? status : "deleted"));
	}
	if (c->json) {
		cli_json_print(arr);
		cli_table_free(t);
	} else {
		json_decref(arr);
		cli_table_print(t, stdout);
	}
out:
	free(sets);
	free(dels);
	return rc;
}

static const struct cli_verb config_verbs[] = {
    {"get", config_get, "show broker configs"},
    {"set", config_set, "set or remove dynamic broker configs"},
    {NULL, NULL, NULL},
};

static int cluster_config(struct cli *c, int argc, char **argv)
{
	return cli_dispatch(c, argc, argv, config_verbs);
}

static const struct cli_verb cluster_verbs[] = {
    {"info", cluster_info, "cluster id, controller and brokers"},
    {"config", cluster_config, "get or set broker configs"},
    {NULL, NULL, NULL},
};

int cli_cluster_main(struct cli *c, int argc, char **argv)
{
	return cli_dispatch(c, argc, argv, cluster_verbs);
}
