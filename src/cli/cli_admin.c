/*
 * cli_admin.c: running librdkafka admin requests with a bounded wait, turning
 * Kafka errors into one-line sentences, and the config read/modify/write that
 * topic alter-config and cluster config set share.
 *
 * librdkafka 2.0.2 has no IncrementalAlterConfigs. AlterConfigs replaces the
 * whole dynamic config set of a resource, so cli_alter_configs first reads
 * the entries whose source is the resource's dynamic layer, applies the
 * requested sets and deletes, and sends the full result: keys set earlier
 * survive. Two writers racing can still lose one another's change; that is
 * AlterConfigs' contract, and the help text says so.
 */
#include "cli/cli_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool cli_is_unsupported(rd_kafka_resp_err_t err)
{
	return err == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE ||
	       err == RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION ||
	       err == RD_KAFKA_RESP_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT;
}

static bool has_msg(rd_kafka_resp_err_t err, const char *msg)
{
	return msg && *msg && strcmp(msg, rd_kafka_err2str(err));
}

/* "Broker: Invalid config" or the broker's own message when it sent one. */
static const char *explain(rd_kafka_resp_err_t err, const char *msg)
{
	return has_msg(err, msg) ? msg : rd_kafka_err2str(err);
}

void cli_topic_error(char *buf, size_t n, const char *topic, rd_kafka_resp_err_t err,
                     const char *msg)
{
	switch (err) {
	case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
	case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
		snprintf(buf, n, "topic '%s' does not exist", topic);
		break;
	case RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS:
		snprintf(buf, n, "topic '%s' already exists", topic);
		break;
	case RD_KAFKA_RESP_ERR_INVALID_PARTITIONS:
		snprintf(buf, n, "topic '%s': invalid partition count: %s", topic,
		         explain(err, msg));
		break;
	case RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR:
		snprintf(buf, n, "topic '%s': invalid replication factor: %s", topic,
		         explain(err, msg));
		break;
	case RD_KAFKA_RESP_ERR_INVALID_CONFIG:
		snprintf(buf, n, "topic '%s': invalid config: %s", topic, explain(err, msg));
		break;
	case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
		snprintf(buf, n, "invalid topic name '%s': %s", topic, explain(err, msg));
		break;
	default:
		if (cli_is_unsupported(err))
			snprintf(buf, n,
			         "topic '%s': the broker does not support this request (%s)", topic,
			         explain(err, msg));
		else
			snprintf(buf, n, "topic '%s': %s", topic, explain(err, msg));
	}
}

void cli_group_error(char *buf, size_t n, const char *group, rd_kafka_resp_err_t err,
                     const char *msg)
{
	switch (err) {
	case RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND:
		snprintf(buf, n, "group '%s' does not exist", group);
		break;
	case RD_KAFKA_RESP_ERR_NON_EMPTY_GROUP:
		snprintf(buf, n, "group '%s' is not empty (stop its consumers first)", group);
		break;
	case RD_KAFKA_RESP_ERR_INVALID_GROUP_ID:
		snprintf(buf, n, "invalid group id '%s'", group);
		break;
	default:
		if (cli_is_unsupported(err))
			snprintf(buf, n,
			         "group '%s': the broker does not support this request (%s)", group,
			         explain(err, msg));
		else
			snprintf(buf, n, "group '%s': %s", group, explain(err, msg));
	}
}

static bool has_operation_timeout(rd_kafka_admin_op_t op)
{
	return op == RD_KAFKA_ADMIN_OP_CREATETOPICS || op == RD_KAFKA_ADMIN_OP_DELETETOPICS ||
	       op == RD_KAFKA_ADMIN_OP_CREATEPARTITIONS || op == RD_KAFKA_ADMIN_OP_DELETERECORDS;
}

rd_kafka_event_t *cli_admin_run(struct cli *c, rd_kafka_t *rk, rd_kafka_admin_op_t op,
                                const char *what,
                                void (*call)(rd_kafka_t *, const rd_kafka_AdminOptions_t *,
                                             rd_kafka_queue_t *, void *),
                                void *arg)
{
	char err[512];
	rd_kafka_AdminOptions_t *o = rd_kafka_AdminOptions_new(rk, op);
	rd_kafka_AdminOptions_set_request_timeout(o, c->timeout_ms, err, sizeof(err));
	if (has_operation_timeout(op))
		rd_kafka_AdminOptions_set_operation_timeout(o, c->timeout_ms, err, sizeof(err));
	if (c->validate_only)
		rd_kafka_AdminOptions_set_validate_only(o, 1, err, sizeof(err));
	c->validate_only = false;
	rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
	call(rk, o, q, arg);
	/* librdkafka enforces the request timeout; the margin covers its bookkeeping. */
	rd_kafka_event_t *ev = rd_kafka_queue_poll(q, c->timeout_ms + 5000);
	rd_kafka_AdminOptions_destroy(o);
	rd_kafka_queue_destroy(q);
	if (!ev) {
		cli_fail(c, "%s: %s", what, cli_timeout_reason(c, err, sizeof(err)));
		return NULL;
	}
	rd_kafka_resp_err_t e = rd_kafka_event_error(ev);
	if (!e)
		return ev;
	const char *msg = rd_kafka_event_error_string(ev);
	if (cli_is_unsupported(e))
		cli_fail(c, "%s: the broker does not support this request (%s)", what,
		         explain(e, msg));
	else if (e == RD_KAFKA_RESP_ERR__TIMED_OUT || e == RD_KAFKA_RESP_ERR__TRANSPORT)
		cli_fail(c, "%s: %s", what, cli_timeout_reason(c, err, sizeof(err)));
	else
		cli_fail(c, "%s: %s", what, explain(e, msg));
	rd_kafka_event_destroy(ev);
	return NULL;
}

/* ---- configs */

const char *cli_config_source_name(int source)
{
	switch (source) {
	case RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG:
		return "dynamic-topic";
	case RD_KAFKA_CONFIG_SOURCE_DYNAMIC_BROKER_CONFIG:
		return "dynamic-broker";
	case RD_KAFKA_CONFIG_SOURCE_DYNAMIC_DEFAULT_BROKER_CONFIG:
		return "dynamic-default-broker";
	case RD_KAFKA_CONFIG_SOURCE_STATIC_BROKER_CONFIG:
		return "static-broker";
	case RD_KAFKA_CONFIG_SOURCE_DEFAULT_CONFIG:
		return "default";
	default:
		return "unknown";
	}
}

static const char *restype_name(int restype)
{
	return restype == RD_KAFKA_RESOURCE_TOPIC ? "topic" : "broker";
}

static void resource_error(char *buf, size_t n, int restype, const char *name,
                           rd_kafka_resp_err_t err, const char *msg)
{
	if (restype == RD_KAFKA_RESOURCE_TOPIC)
		cli_topic_error(buf, n, name, err, msg);
	else if (err == RD_KAFKA_RESP_ERR_INVALID_CONFIG)
		snprintf(buf, n, "broker %s: invalid config: %s", name, explain(err, msg));
	else
		snprintf(buf, n, "broker %s: %s", name, explain(err, msg));
}

static void call_describe(rd_kafka_t *rk, const rd_kafka_AdminOptions_t *o, rd_kafka_queue_t *q,
                          void *arg)
{
	rd_kafka_DescribeConfigs(rk, (rd_kafka_ConfigResource_t **)&arg, 1, o, q);
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

int cli_describe_configs(struct cli *c, rd_kafka_t *rk, int restype, const char *name,
                         struct cli_configs *out)
{
	char buf[1024];
	rd_kafka_ConfigResource_t *res = rd_kafka_ConfigResource_new(restype, name);
	snprintf(buf, sizeof(buf), "cannot describe configs of %s '%s'", restype_name(restype),
	         name);
	rd_kafka_event_t *ev =
	    cli_admin_run(c, rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, buf, call_describe, res);
	rd_kafka_ConfigResource_destroy(res);
	memset(out, 0, sizeof(*out));
	if (!ev)
		return CLI_EXIT_FAIL;
	size_t cnt = 0;
	const rd_kafka_ConfigResource_t **rs = rd_kafka_DescribeConfigs_result_resources(
	    rd_kafka_event_DescribeConfigs_result(ev), &cnt);
	int rc = CLI_EXIT_OK;
	if (cnt != 1) {
		rc = cli_fail(c, "%s: the broker sent %zu resources", buf, cnt);
	} else if (rd_kafka_ConfigResource_error(rs[0])) {
		resource_error(buf, sizeof(buf), restype, name,
		               rd_kafka_ConfigResource_error(rs[0]),
		               rd_kafka_ConfigResource_error_string(rs[0]));
		rc = cli_fail(c, "%s", buf);
	} else {
		size_t n = 0;
		const rd_kafka_ConfigEntry_t **es = rd_kafka_ConfigResource_configs(rs[0], &n);
		out->v = calloc(n ? n : 1, sizeof(*out->v));
		for (size_t i = 0; i < n && out->v; i++) {
			struct cli_config *e = &out->v[out->n++];
			e->name = strdup(rd_kafka_ConfigEntry_name(es[i]));
			e->value = dup_or_null(rd_kafka_ConfigEntry_value(es[i]));
			e->source = rd_kafka_ConfigEntry_source(es[i]);
			e->read_only = rd_kafka_ConfigEntry_is_read_only(es[i]);
			e->sensitive = rd_kafka_ConfigEntry_is_sensitive(es[i]);
			e->is_default = rd_kafka_ConfigEntry_is_default(es[i]);
		}
	}
	rd_kafka_event_destroy(ev);
	return rc;
}

void cli_configs_release(struct cli_configs *cfg)
{
	for (int i = 0; i < cfg->n; i++) {
		free(cfg->v[i].name);
		free(cfg->v[i].value);
	}
	free(cfg->v);
	memset(cfg, 0, sizeof(*cfg));
}

/* The new dynamic set, as parallel name/value arrays owned by the caller. */
struct kvset {
	int n, cap;
	char **k, **v;
};

static void kvset_put(struct kvset *s, const char *k, const char *v)
{
	for (int i = 0; i < s->n; i++) {
		if (!strcmp(s->k[i], k)) {
			free(s->v[i]);
			s->v[i] = strdup(v);
			return;
		}
	}
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 16;
		s->k = realloc(s->k, (size_t)s->cap * sizeof(char *));
		s->v = realloc(s->v, (size_t)s->cap * sizeof(char *));
		if (!s->k || !s->v) {
			fputs("fjord: out of memory\n", stderr);
			exit(CLI_EXIT_FAIL);
		}
	}
	s->k[s->n] = strdup(k);
	s->v[s->n++] = strdup(v);
}

static bool kvset_del(struct kvset *s, const char *k)
{
	for (int i = 0; i < s->n; i++) {
		if (strcmp(s->k[i], k))
			continue;
		free(s->k[i]);
		free(s->v[i]);
		s->k[i] = s->k[s->n - 1];
		s->v[i] = s->v[s->n - 1];
		s->n--;
		return true;
	}
	return false;
}

static void kvset_release(struct kvset *s)
{
	for (int i = 0; i < s->n; i++) {
		free(s->k[i]);
		free(s->v[i]);
	}
	free(s->k);
	free(s->v);
}

static void call_alter(rd_kafka_t *rk, const rd_kafka_AdminOptions_t *o, rd_kafka_queue_t *q,
                       void *arg)
{
	rd_kafka_AlterConfigs(rk, (rd_kafka_ConfigResource_t **)&arg, 1, o, q);
}

int cli_alter_configs(struct cli *c, rd_kafka_t *rk, int restype, const char *name, int dyn_source,
                      const char **sets, int nsets, const char **dels, int ndels, bool dry_run)
{
	struct cli_configs cur;
	struct kvset want = {0};
	char buf[1024];
	int rc = cli_describe_configs(c, rk, restype, name, &cur);
	if (rc)
		return rc;
	for (int i = 0; i < cur.n; i++) {
		struct cli_config *e = &cur.v[i];
		if (e->source != dyn_source || e->read_only)
			continue;
		if (!e->value) {
			rc = cli_fail(
			    c,
			    "%s '%s': config '%s' is sensitive and AlterConfigs would drop "
			    "it; set it again in the same command",
			    restype_name(restype), name, e->name);
			for (int j = 0; j < nsets; j++)
				if (!strncmp(sets[j], e->name, strlen(e->name)) &&
				    sets[j][strlen(e->name)] == '=')
					rc = CLI_EXIT_OK;
			if (rc)
				goto out;
			continue;
		}
		kvset_put(&want, e->name, e->value);
	}
	for (int i = 0; i < ndels; i++)
		kvset_del(&want, dels[i]);
	for (int i = 0; i < nsets; i++) {
		char key[256];
		const char *val;
		if (cli_split_kv(sets[i], key, sizeof(key), &val)) {
			rc = cli_usage(c, "--set expects key=value, got '%s'", sets[i]);
			goto out;
		}
		kvset_put(&want, key, val);
	}
	rd_kafka_ConfigResource_t *res = rd_kafka_ConfigResource_new(restype, name);
	for (int i = 0; i < want.n; i++)
		rd_kafka_ConfigResource_set_config(res, want.k[i], want.v[i]);
	snprintf(buf, sizeof(buf), "cannot alter configs of %s '%s'", restype_name(restype), name);
	c->validate_only = dry_run;
	rd_kafka_event_t *ev =
	    cli_admin_run(c, rk, RD_KAFKA_ADMIN_OP_ALTERCONFIGS, buf, call_alter, res);
	rd_kafka_ConfigResource_destroy(res);
	if (!ev) {
		rc = CLI_EXIT_FAIL;
		goto out;
	}
	size_t cnt = 0;
	const rd_kafka_ConfigResource_t **rs =
	    rd_kafka_AlterConfigs_result_resources(rd_kafka_event_AlterConfigs_result(ev), &cnt);
	if (cnt == 1 && rd_kafka_ConfigResource_error(rs[0])) {
		resource_error(buf, sizeof(buf), restype, name,
		               rd_kafka_ConfigResource_error(rs[0]),
		               rd_kafka_ConfigResource_error_string(rs[0]));
		rc = cli_fail(c, "%s", buf);
	}
	rd_kafka_event_destroy(ev);
out:
	kvset_release(&want);
	cli_configs_release(&cur);
	return rc;
}
