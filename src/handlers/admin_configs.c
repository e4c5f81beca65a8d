/*
 * admin_configs.c: DescribeConfigs (key 32), AlterConfigs (33) and
 * IncrementalAlterConfigs (44) for TOPIC (2) and BROKER (4) resources.
 *
 * Layers, as Kafka reports them (ConfigSource): a topic override
 * (DYNAMIC_TOPIC_CONFIG), this node's dynamic broker config
 * (DYNAMIC_BROKER_CONFIG), the cluster-default dynamic broker config, set on
 * the broker resource with an empty name (DYNAMIC_DEFAULT_BROKER_CONFIG),
 * server.properties (STATIC_BROKER_CONFIG) and the built-in default
 * (DEFAULT_CONFIG). meta keeps the overrides and the dynamic broker keys in
 * its journal (so they survive a restart) and the layered result; this file
 * picks sources and synonyms, validates requests and pushes changes to the
 * running partitions and to struct broker's config, so they take effect at
 * once.
 *
 * Error codes, as Kafka 4.x answers: unknown topic 3; an unknown or invalid
 * topic config 40 with Kafka's message; on a broker resource, a key that is
 * not dynamic, an unknown key or a bad value 42 ("Cannot update these
 * configs dynamically: [k]"); a broker id that is not this node 42; an
 * unsupported resource type 42; a null value for SET/AlterConfigs 42;
 * APPEND/SUBTRACT on a non-list key 40. Fjord departs from Kafka in refusing
 * unknown broker keys (Kafka stores them). Documentation is always null.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/logging.h"
#include "handlers/errors.h"
#include "handlers/handler.h"
#include "proto/gen/kmsg.h"
#include "repl/partition.h"

enum { RES_TOPIC = 2, RES_BROKER = 4, RES_BROKER_LOGGER = 8 };
enum { OP_SET = 0, OP_DELETE = 1, OP_APPEND = 2, OP_SUBTRACT = 3 };

#define MSG_MAX 1024
#define VAL_MAX 4096

/* Kafka's broker keys whose lower-precedence siblings are its synonyms. */
static const char *const broker_families[][3] = {
    {"log.retention.ms", "log.retention.minutes", "log.retention.hours"},
    {"log.retention.minutes", "log.retention.hours", NULL},
    {"log.roll.ms", "log.roll.hours", NULL},
    {"log.roll.jitter.ms", "log.roll.jitter.hours", NULL},
    {"log.dirs", "log.dir", NULL},
};

static char *dup_kstr(struct arena *a, struct kstr s)
{
	return arena_strndup(a, s.ptr ? s.ptr : "", s.len > 0 ? (size_t)s.len : 0);
}

static const char *kv_get(const struct config_kv *kv, int n, const char *key)
{
	for (int i = 0; i < n; i++)
		if (kv[i].key && kv[i].value && strcmp(kv[i].key, key) == 0)
			return kv[i].value;
	return NULL;
}

/*
 * Which broker scope a BROKER resource name selects: "" is the cluster
 * default, this node's id is this node. Anything else is INVALID_REQUEST.
 */
static int16_t broker_scope(const struct broker *b, const char *name, enum meta_broker_scope *scope,
                            char *msg, size_t len)
{
	if (!*name) {
		*scope = META_BROKER_DEFAULT;
		return KERR_NONE;
	}
	char *end = NULL;
	errno = 0;
	long v = strtol(name, &end, 10);
	if (errno || end == name || *end || v < INT32_MIN || v > INT32_MAX) {
		snprintf(msg, len, "Broker id must be an integer, but it is: %s", name);
		return KERR_INVALID_REQUEST;
	}
	if (v != b->cfg.node_id) {
		snprintf(msg, len,
		         "Unexpected broker id, expected %d or empty string, but received %s",
		         b->cfg.node_id, name);
		return KERR_INVALID_REQUEST;
	}
	*scope = META_BROKER_NODE;
	return KERR_NONE;
}

/* ---- DescribeConfigs ------------------------------------------------------ */

typedef struct describe_configs_response_describe_configs_synonym synonym_t;
typedef struct describe_configs_response_describe_configs_resource_result entry_t;

struct syn_list {
	synonym_t v[24];
	int n;
};

static void syn_add(struct request *req, struct syn_list *l, const char *name, const char *value,
                    enum config_source src, bool sensitive)
{
	if (l->n >= (int)(sizeof(l->v) / sizeof(l->v[0])))
		return;
	synonym_t *s = &l->v[l->n++];
	describe_configs_response_describe_configs_synonym_init(s);
	s->name = kstr_c(name);
	s->value = sensitive || !value ? kstr_null()
	                               : kstr_c(arena_strndup(&req->arena, value, strlen(value)));
	s->source = (int8_t)src;
}

/*
 * The layers of broker key d that hold a value, highest precedence first.
 * with_node: include this node's dynamic layer (not for the default resource).
 */
static void broker_layers(struct request *req, struct syn_list *l, const struct config_def *d,
                          bool with_node)
{
	struct meta *m = req->broker->meta;
	bool sens = d->flags & CONFIG_F_SENSITIVE;
	int n;
	const struct config_kv *kv;
	if (with_node) {
		kv = meta_broker_dynamic(m, META_BROKER_NODE, &n);
		const char *v = kv_get(kv, n, d->name);
		if (v)
			syn_add(req, l, d->name, v, CONFIG_SOURCE_DYNAMIC_BROKER, sens);
	}
	kv = meta_broker_dynamic(m, META_BROKER_DEFAULT, &n);
	const char *v = kv_get(kv, n, d->name);
	if (v)
		syn_add(req, l, d->name, v, CONFIG_SOURCE_DYNAMIC_DEFAULT_BROKER, sens);
	const struct broker_config *st = meta_broker_static_config(m);
	if (broker_config_is_set(st, d)) {
		char buf[VAL_MAX];
		broker_config_get(st, d, buf, sizeof(buf), NULL);
		syn_add(req, l, d->name, buf, CONFIG_SOURCE_STATIC_BROKER, sens);
	}
	if (d->default_value)
		syn_add(req, l, d->name, d->default_value, CONFIG_SOURCE_DEFAULT, sens);
}

static bool wanted(const struct describe_configs_request_describe_configs_resource *res,
                   const char *name)
{
	if (res->n_configuration_keys < 0)
		return true;
	for (int32_t i = 0; i < res->n_configuration_keys; i++)
		if (kstr_eq(res->configuration_keys[i], name))
			return true;
	return false;
}

static void fill_entry(struct request *req, entry_t *e, const struct config_def *d,
                       const char *value, bool read_only, struct syn_list *l, bool include_synonyms)
{
	describe_configs_response_describe_configs_resource_result_init(e);
	e->name = kstr_c(d->name);
	bool sens = d->flags & CONFIG_F_SENSITIVE;
	e->value =
	    sens || !value ? kstr_null() : kstr_c(arena_strndup(&req->arena, value, strlen(value)));
	e->read_only = read_only;
	enum config_source src = CONFIG_SOURCE_DEFAULT;
	if (l->n > 0)
		src = (enum config_source)l->v[0].source;
	e->config_source = (int8_t)src;
	e->is_default = src == CONFIG_SOURCE_DEFAULT;
	e->is_sensitive = sens;
	e->config_type = (int8_t)d->type;
	e->documentation = kstr_null();
	e->n_synonyms = 0;
	if (include_synonyms && l->n > 0) {
		e->n_synonyms = l->n;
		e->synonyms = arena_alloc(&req->arena, sizeof(*e->synonyms) * (size_t)l->n);
		memcpy(e->synonyms, l->v, sizeof(*e->synonyms) * (size_t)l->n);
	}
}

static void describe_topic(struct request *req, struct topic *t,
                           const struct describe_configs_request_describe_configs_resource *res,
                           bool include_synonyms,
                           struct describe_configs_response_describe_configs_result *out)
{
	const struct broker_config *bc = meta_broker_config(req->broker->meta);
	int total = config_topic_def_count();
	out->configs = arena_alloc(&req->arena, sizeof(*out->configs) * (size_t)total);
	out->n_configs = 0;
	struct syn_list *l = arena_alloc(&req->arena, sizeof(*l));
	for (int i = 0; i < total; i++) {
		const struct config_def *d = config_topic_def(i);
		if (!wanted(res, d->name))
			continue;
		char buf[VAL_MAX];
		bool has = topic_config_get(bc, &t->cfg, t->overrides, t->noverrides, d, buf,
		                            sizeof(buf), NULL);
		l->n = 0;
		const char *ov = kv_get(t->overrides, t->noverrides, d->name);
		if (ov)
			syn_add(req, l, d->name, ov, CONFIG_SOURCE_TOPIC,
			        d->flags & CONFIG_F_SENSITIVE);
		for (int k = 0; k < 3 && d->synonyms[k]; k++) {
			const struct config_def *bd = config_broker_def_find(d->synonyms[k]);
			if (bd)
				broker_layers(req, l, bd, true);
		}
		/* Kafka names the top-level source after the first layer with a value. */
		fill_entry(req, &out->configs[out->n_configs++], d, has ? buf : NULL, false, l,
		           include_synonyms);
	}
}

static void describe_broker(struct request *req, enum meta_broker_scope scope,
                            const struct describe_configs_request_describe_configs_resource *res,
                            bool include_synonyms,
                            struct describe_configs_response_describe_configs_result *out)
{
	struct meta *m = req->broker->meta;
	const struct broker_config *eff = meta_broker_config(m);
	int total = config_broker_def_count();
	out->configs = arena_alloc(&req->arena, sizeof(*out->configs) * (size_t)total);
	out->n_configs = 0;
	int ndef;
	const struct config_kv *defs = meta_broker_dynamic(m, META_BROKER_DEFAULT, &ndef);
	struct syn_list *l = arena_alloc(&req->arena, sizeof(*l));
	for (int i = 0; i < total; i++) {
		const struct config_def *d = config_broker_def(i);
		if (!wanted(res, d->name))
			continue;
		/* The default resource lists only the cluster-default dynamic keys. */
		if (scope == META_BROKER_DEFAULT && !kv_get(defs, ndef, d->name))
			continue;
		bool node = scope == META_BROKER_NODE;
		l->n = 0;
		broker_layers(req, l, d, node);
		for (size_t f = 0; f < sizeof(broker_families) / sizeof(broker_families[0]); f++) {
			if (strcmp(broker_families[f][0], d->name) != 0)
				continue;
			for (int k = 1; k < 3 && broker_families[f][k]; k++) {
				const struct config_def *sd =
				    config_broker_def_find(broker_families[f][k]);
				if (sd)
					broker_layers(req, l, sd, node);
			}
		}
		char buf[VAL_MAX];
		const char *value;
		if (node) {
			value = broker_config_get(eff, d, buf, sizeof(buf), NULL) ? buf : NULL;
		} else {
			value = kv_get(defs, ndef, d->name);
		}
		fill_entry(req, &out->configs[out->n_configs++], d, value,
		           !config_broker_dynamic(d), l, include_synonyms);
	}
}

void handle_describe_configs(struct request *req)
{
	struct broker *b = req->broker;
	struct describe_configs_request in;
	describe_configs_request_init(&in);
	if (describe_configs_request_decode(&req->body, req->api_version, &in, &req->arena)) {
		request_close(req);
		return;
	}
	/* v0 has no flag and always answered without synonyms. */
	bool include_synonyms = req->api_version >= 1 && in.include_synonyms;
	struct describe_configs_response resp;
	describe_configs_response_init(&resp);
	int32_t n = in.n_resources > 0 ? in.n_resources : 0;
	resp.n_results = n;
	resp.results = arena_alloc(&req->arena, sizeof(*resp.results) * (size_t)(n ? n : 1));
	for (int32_t i = 0; i < n; i++) {
		const struct describe_configs_request_describe_configs_resource *res =
		    &in.resources[i];
		struct describe_configs_response_describe_configs_result *r = &resp.results[i];
		describe_configs_response_describe_configs_result_init(r);
		r->resource_type = res->resource_type;
		r->resource_name = res->resource_name;
		r->error_message = kstr_null();
		r->n_configs = 0;
		char *name = dup_kstr(&req->arena, res->resource_name);
		char *msg = arena_alloc(&req->arena, MSG_MAX);
		int16_t code = KERR_NONE;
		enum meta_broker_scope scope;
		if (res->resource_type == RES_TOPIC) {
			struct topic *t = meta_topic_find(b->meta, name, strlen(name));
			if (!t) {
				code = KERR_UNKNOWN_TOPIC_OR_PARTITION;
				snprintf(msg, MSG_MAX, "The topic '%s' does not exist.", name);
			} else {
				describe_topic(req, t, res, include_synonyms, r);
			}
		} else if (res->resource_type == RES_BROKER) {
			code = broker_scope(b, name, &scope, msg, MSG_MAX);
			if (!code)
				describe_broker(req, scope, res, include_synonyms, r);
		} else if (res->resource_type == RES_BROKER_LOGGER) {
			/* No log4j loggers here: an empty list for this node. */
			code = broker_scope(b, name, &scope, msg, MSG_MAX);
			if (!code && scope == META_BROKER_DEFAULT) {
				code = KERR_INVALID_REQUEST;
				snprintf(msg, MSG_MAX, "Broker id must not be empty");
			}
		} else {
			code = KERR_INVALID_REQUEST;
			snprintf(msg, MSG_MAX, "Unsupported resource type: %d", res->resource_type);
		}
		r->error_code = code;
		if (code) {
			r->error_message = kstr_c(msg);
			r->n_configs = 0;
		}
	}
	describe_configs_response_encode(&req->w, req->api_version, &resp);
	request_done(req);
}

/* ---- Applying changes ----------------------------------------------------- */

/* Push the layered broker config to struct broker and every topic's logs. */
static void broker_config_changed(struct broker *b)
{
	int lp = b->cfg.listen_port, ap = b->cfg.advertised_port;
	b->cfg = *meta_broker_config(b->meta);
	b->cfg.listen_port = lp; /* as bound (port 0 = any) */
	b->cfg.advertised_port = ap;
	int n = meta_topic_count(b->meta);
	for (int i = 0; i < n; i++)
		partitions_config_changed(b->parts, meta_topic_at(b->meta, i));
}

/* Set a topic's overrides to kv (the whole set), or check that it could be. */
static int16_t apply_topic(struct broker *b, struct topic *t, const struct config_kv *kv, int n,
                           bool validate_only, char *msg, size_t len)
{
	for (int i = 0; i < n; i++) {
		if (topic_config_validate(kv[i].key, kv[i].value, msg, len))
			return KERR_INVALID_CONFIG;
	}
	int err;
	if (validate_only) {
		struct topic_config cfg;
		err = topic_config_resolve(meta_broker_config(b->meta), kv, n, &cfg, msg, len);
	} else {
		err = meta_topic_set_configs(b->meta, t, kv, n, msg, len);
	}
	if (err == ERR_INVALID_CONFIG || err == ERR_INVALID)
		return KERR_INVALID_CONFIG;
	if (err)
		return err == ERR_STORAGE ? KERR_KAFKA_STORAGE_ERROR : kafka_error_from(err);
	if (!validate_only) {
		partitions_config_changed(b->parts, t);
		LOG_INFO("topic %s: config overrides changed (%d set)", t->name, t->noverrides);
	}
	return KERR_NONE;
}

/* Set a broker scope's dynamic keys to kv (the whole set), or check that. */
static int16_t apply_broker(struct broker *b, enum meta_broker_scope scope,
                            const struct config_kv *kv, int n, bool validate_only, char *msg,
                            size_t len)
{
	/* Read-only keys first, all named at once, as Kafka does. */
	size_t off = 0;
	int bad = 0;
	for (int i = 0; i < n; i++) {
		const struct config_def *d = config_broker_def_find(kv[i].key);
		if (!d) {
			snprintf(msg, len, "Unknown broker config name: %s", kv[i].key);
			return KERR_INVALID_REQUEST;
		}
		if (config_broker_dynamic(d))
			continue;
		if (bad++ == 0)
			off = (size_t)snprintf(msg, len,
			                       "Cannot update these configs dynamically: [");
		if (off < len)
			off += (size_t)snprintf(msg + off, len - off, "%s%s", bad > 1 ? ", " : "",
			                        d->name);
	}
	if (bad) {
		if (off < len)
			snprintf(msg + off, len - off, "]");
		return KERR_INVALID_REQUEST;
	}
	int err = meta_broker_set_dynamic(b->meta, scope, kv, n, validate_only, msg, len);
	if (err == ERR_INVALID_CONFIG || err == ERR_INVALID)
		return KERR_INVALID_REQUEST;
	if (err)
		return err == ERR_STORAGE ? KERR_KAFKA_STORAGE_ERROR : kafka_error_from(err);
	if (!validate_only) {
		broker_config_changed(b);
		LOG_INFO("dynamic broker configs (%s) changed: %d key(s) set",
		         scope == META_BROKER_NODE ? "this node" : "cluster default", n);
	}
	return KERR_NONE;
}

/* ---- AlterConfigs --------------------------------------------------------- */

void handle_alter_configs(struct request *req)
{
	struct broker *b = req->broker;
	struct alter_configs_request in;
	alter_configs_request_init(&in);
	if (alter_configs_request_decode(&req->body, req->api_version, &in, &req->arena)) {
		request_close(req);
		return;
	}
	struct alter_configs_response resp;
	alter_configs_response_init(&resp);
	int32_t n = in.n_resources > 0 ? in.n_resources : 0;
	resp.n_responses = n;
	resp.responses = arena_alloc(&req->arena, sizeof(*resp.responses) * (size_t)(n ? n : 1));
	for (int32_t i = 0; i < n; i++) {
		const struct alter_configs_request_alter_configs_resource *res = &in.resources[i];
		struct alter_configs_response_alter_configs_resource_response *r =
		    &resp.responses[i];
		alter_configs_response_alter_configs_resource_response_init(r);
		r->resource_type = res->resource_type;
		r->resource_name = res->resource_name;
		char *name = dup_kstr(&req->arena, res->resource_name);
		char *msg = arena_alloc(&req->arena, MSG_MAX);
		int nc = res->n_configs > 0 ? res->n_configs : 0;
		struct config_kv *kv =
		    arena_alloc(&req->arena, sizeof(*kv) * (size_t)(nc ? nc : 1));
		int16_t code = KERR_NONE;
		for (int k = 0; k < nc && !code; k++) {
			kv[k].key = dup_kstr(&req->arena, res->configs[k].name);
			if (res->configs[k].value.len < 0) {
				code = KERR_INVALID_REQUEST;
				snprintf(msg, MSG_MAX, "Null value not supported for : %s",
				         kv[k].key);
			}
			kv[k].value = dup_kstr(&req->arena, res->configs[k].value);
			for (int j = 0; j < k && !code; j++)
				if (strcmp(kv[j].key, kv[k].key) == 0) {
					code = KERR_INVALID_REQUEST;
					snprintf(msg, MSG_MAX,
					         "Error due to duplicate config keys");
				}
		}
		enum meta_broker_scope scope;
		if (code) {
			/* reported below */
		} else if (res->resource_type == RES_TOPIC) {
			struct topic *t = meta_topic_find(b->meta, name, strlen(name));
			if (!t) {
				code = KERR_UNKNOWN_TOPIC_OR_PARTITION;
				snprintf(msg, MSG_MAX, "The topic '%s' does not exist.", name);
			} else {
				code = apply_topic(b, t, kv, nc, in.validate_only, msg, MSG_MAX);
			}
		} else if (res->resource_type == RES_BROKER) {
			code = broker_scope(b, name, &scope, msg, MSG_MAX);
			if (!code)
				code =
				    apply_broker(b, scope, kv, nc, in.validate_only, msg, MSG_MAX);
		} else {
			code = KERR_INVALID_REQUEST;
			snprintf(
			    msg, MSG_MAX,
			    "AlterConfigs is only supported for topics and brokers, but resource "
			    "type is %d",
			    res->resource_type);
		}
		r->error_code = code;
		r->error_message = code ? kstr_c(msg) : kstr_null();
	}
	alter_configs_response_encode(&req->w, req->api_version, &resp);
	request_done(req);
}

/* ---- IncrementalAlterConfigs ---------------------------------------------- */

/* Append item (trimmed, non-empty) to list "a,b" in out unless present. */
static void list_append(char *out, size_t len, const char *item, size_t n)
{
	char tmp[VAL_MAX];
	if (n == 0 || n >= sizeof(tmp))
		return;
	memcpy(tmp, item, n);
	tmp[n] = 0;
	const char *p = out;
	while (*p) {
		const char *e = strchr(p, ',');
		size_t k = e ? (size_t)(e - p) : strlen(p);
		if (k == n && memcmp(p, tmp, n) == 0)
			return;
		if (!e)
			break;
		p = e + 1;
	}
	size_t cur = strlen(out);
	snprintf(out + cur, len - cur, "%s%s", cur ? "," : "", tmp);
}

/* Call fn on each trimmed item of a comma-separated list. */
static void list_each(const char *list, void (*fn)(void *arg, const char *item, size_t n),
                      void *arg)
{
	const char *p = list;
	while (p && *p) {
		const char *e = strchr(p, ',');
		const char *a = p, *z = e ? e : p + strlen(p);
		while (a < z && (unsigned char)*a <= ' ')
			a++;
		while (z > a && (unsigned char)z[-1] <= ' ')
			z--;
		fn(arg, a, (size_t)(z - a));
		if (!e)
			break;
		p = e + 1;
	}
}

struct list_op {
	char *out;
	size_t len;
	const char *remove; /* SUBTRACT: items to drop */
};

static void append_cb(void *arg, const char *item, size_t n)
{
	struct list_op *o = arg;
	list_append(o->out, o->len, item, n);
}

static void has_cb(void *arg, const char *item, size_t n)
{
	const char **probe = arg; /* probe[0]: item, probe[1]: non-NULL when found */
	if (strlen(probe[0]) == n && memcmp(probe[0], item, n) == 0)
		probe[1] = item;
}

static void subtract_cb(void *arg, const char *item, size_t n)
{
	struct list_op *o = arg;
	char tmp[VAL_MAX];
	if (n >= sizeof(tmp))
		return;
	memcpy(tmp, item, n);
	tmp[n] = 0;
	const char *probe[2] = {tmp, NULL};
	list_each(o->remove, has_cb, probe);
	if (!probe[1])
		list_append(o->out, o->len, item, n);
}

/*
 * Apply the operations of one resource to kv (the current set, *n entries,
 * room for cap). Returns a Kafka code with msg on error.
 */
static int16_t apply_ops(struct request *req, bool topic,
                         const struct incremental_alter_configs_request_alter_configs_resource *res,
                         struct config_kv *kv, int *n, char *msg, size_t len)
{
	for (int32_t i = 0; i < res->n_configs; i++) {
		const struct incremental_alter_configs_request_alterable_config *c =
		    &res->configs[i];
		char *key = dup_kstr(&req->arena, c->name);
		for (int32_t j = 0; j < i; j++)
			if (kstr_eq(res->configs[j].name, key)) {
				snprintf(msg, len, "Error due to duplicate config keys");
				return KERR_INVALID_REQUEST;
			}
		const struct config_def *d =
		    topic ? config_topic_def_find(key) : config_broker_def_find(key);
		if (!d) {
			snprintf(msg, len, "Unknown %s config name: %s", topic ? "topic" : "broker",
			         key);
			return topic ? KERR_INVALID_CONFIG : KERR_INVALID_REQUEST;
		}
		int at = -1;
		for (int k = 0; k < *n; k++)
			if (strcmp(kv[k].key, key) == 0)
				at = k;
		const char *value = c->value.len < 0 ? NULL : dup_kstr(&req->arena, c->value);
		char *nv = NULL;
		switch (c->config_operation) {
		case OP_SET:
			if (!value) {
				snprintf(msg, len, "Null value not supported for : SET:%s", key);
				return KERR_INVALID_REQUEST;
			}
			nv = (char *)value;
			break;
		case OP_DELETE:
			if (at >= 0) {
				kv[at] = kv[*n - 1];
				(*n)--;
			}
			continue;
		case OP_APPEND:
		case OP_SUBTRACT: {
			if (d->type != CONFIG_TYPE_LIST) {
				snprintf(
				    msg, len, "Config value %s is not allowed for config key: %s",
				    c->config_operation == OP_APPEND ? "append" : "subtract", key);
				return KERR_INVALID_CONFIG;
			}
			const char *cur = at >= 0 ? kv[at].value : d->default_value;
			nv = arena_alloc(&req->arena, VAL_MAX);
			struct list_op o = {nv, VAL_MAX, value ? value : ""};
			if (c->config_operation == OP_APPEND) {
				list_each(cur, append_cb, &o);
				list_each(value, append_cb, &o);
			} else {
				list_each(cur, subtract_cb, &o);
			}
			break;
		}
		default:
			snprintf(msg, len, "Unknown operations type %d", c->config_operation);
			return KERR_INVALID_REQUEST;
		}
		if (at >= 0) {
			kv[at].value = nv;
		} else {
			kv[*n].key = key;
			kv[*n].value = nv;
			(*n)++;
		}
	}
	return KERR_NONE;
}

void handle_incremental_alter_configs(struct request *req)
{
	struct broker *b = req->broker;
	struct incremental_alter_configs_request in;
	incremental_alter_configs_request_init(&in);
	if (incremental_alter_configs_request_decode(&req->body, req->api_version, &in,
	                                             &req->arena)) {
		request_close(req);
		return;
	}
	struct incremental_alter_configs_response resp;
	incremental_alter_configs_response_init(&resp);
	int32_t n = in.n_resources > 0 ? in.n_resources : 0;
	resp.n_responses = n;
	resp.responses = arena_alloc(&req->arena, sizeof(*resp.responses) * (size_t)(n ? n : 1));
	for (int32_t i = 0; i < n; i++) {
		const struct incremental_alter_configs_request_alter_configs_resource *res =
		    &in.resources[i];
		struct incremental_alter_configs_response_alter_configs_resource_response *r =
		    &resp.responses[i];
		incremental_alter_configs_response_alter_configs_resource_response_init(r);
		r->resource_type = res->resource_type;
		r->resource_name = res->resource_name;
		char *name = dup_kstr(&req->arena, res->resource_name);
		char *msg = arena_alloc(&req->arena, MSG_MAX);
		int16_t code = KERR_NONE;
		const struct config_kv *cur = NULL;
		int ncur = 0;
		struct topic *t = NULL;
		enum meta_broker_scope scope = META_BROKER_NODE;
		if (res->resource_type == RES_TOPIC) {
			t = meta_topic_find(b->meta, name, strlen(name));
			if (!t) {
				code = KERR_UNKNOWN_TOPIC_OR_PARTITION;
				snprintf(msg, MSG_MAX, "The topic '%s' does not exist.", name);
			} else {
				cur = t->overrides;
				ncur = t->noverrides;
			}
		} else if (res->resource_type == RES_BROKER) {
			code = broker_scope(b, name, &scope, msg, MSG_MAX);
			if (!code)
				cur = meta_broker_dynamic(b->meta, scope, &ncur);
		} else {
			code = KERR_INVALID_REQUEST;
			snprintf(msg, MSG_MAX, "Unsupported resource type: %d", res->resource_type);
		}
		if (!code) {
			int nops = res->n_configs > 0 ? res->n_configs : 0;
			int cap = ncur + nops + 1;
			struct config_kv *kv = arena_alloc(&req->arena, sizeof(*kv) * (size_t)cap);
			int nkv = 0;
			for (int k = 0; k < ncur; k++)
				kv[nkv++] = cur[k]; /* borrowed: meta copies before freeing */
			code = apply_ops(req, t != NULL, res, kv, &nkv, msg, MSG_MAX);
			if (!code && t)
				code = apply_topic(b, t, kv, nkv, in.validate_only, msg, MSG_MAX);
			else if (!code)
				code =
				    apply_broker(b, scope, kv, nkv, in.validate_only, msg, MSG_MAX);
		}
		r->error_code = code;
		r->error_message = code ? kstr_c(msg) : kstr_null();
	}
	incremental_alter_configs_response_encode(&req->w, req->api_version, &resp);
	request_done(req);
}
