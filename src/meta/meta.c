/*
 * meta.c: the single-node metadata store — topics (name, id, partition
 * count, replication factor, config overrides) kept in memory and made
 * durable as a journal of JSON records, one per line.
 *
 * Journal format (dir/journal.jsonl), one compact JSON object per line:
 *   {"type":"topic","name":"t","id":"<uuid>","partitions":3,"rf":1,"configs":{"k":"v"}}
 *   {"type":"remove_topic","id":"<uuid>"}
 *   {"type":"partitions","id":"<uuid>","partitions":6}
 *   {"type":"configs","id":"<uuid>","configs":{"k":"v"}}   (replaces all overrides)
 *   {"type":"broker_configs","scope":"node","node":1,"configs":{"k":"v"}}
 *                     (dynamic broker configs of one scope, see meta.h; "default" has no node)
 * where <uuid> is Kafka's text form (URL-safe base64, no padding).
 *
 * Invariants:
 *  - A change is validated, then its record is written and fdatasynced, then
 *    applied in memory. A call returns only after the record is durable.
 *  - A failed write is truncated away and reported; a failed fsync leaves the
 *    journal's durable state unknown, so meta enters a failed state and
 *    refuses changes until reopened (replay then decides what survived).
 *  - Replay drops a torn last line (no newline, or not JSON) with a warning
 *    and truncates it; any other bad record is corruption (ERR_CORRUPT).
 *  - Topics live in one heap object each (pointers stay valid until the topic
 *    is deleted), indexed by a sorted array (names) and a hash table (ids).
 *
 * Left to others: removing partition logs (the broker), Kafka error codes
 * (handlers), the replicated metadata log (later: this journal's records
 * become Raft entries). All file I/O goes through io/file.h so tests can
 * inject faults. Threads: loop thread only.
 */
#include "meta/meta.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "base/assert.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/logging.h"
#include "io/file.h"

#define JOURNAL_NAME      "journal.jsonl"
#define JOURNAL_MAX_BYTES ((size_t)1 << 30)
/* Rewrite at open when superseded records outnumber live ones by this much. */
#define COMPACT_MIN_RECORDS 64

struct meta {
	char *dir;
	char *path;
	int fd;
	int64_t journal_size; /* bytes of whole records in the file */
	int64_t records;      /* records in the file */
	bool failed;
	struct broker_config bc;
	struct topic **topics; /* sorted by name */
	int ntopics, cap;
	struct topic **ids; /* open addressing on the id; NULL = empty */
	size_t idcap;       /* power of two, > 2 * ntopics */
	/* Dynamic broker configs: bc = static_bc + dyn[DEFAULT] + dyn[NODE]. */
	struct broker_config static_bc;
	struct config_kv *dyn[2]; /* owned, sorted (copy_overrides) */
	int ndyn[2];
};

/* ---- UUIDs -------------------------------------------------------------- */

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void meta_uuid_format(struct kuuid id, char out[23])
{
	int o = 0;
	for (int i = 0; i < 16; i += 3) {
		uint32_t v = (uint32_t)id.b[i] << 16;
		if (i + 1 < 16)
			v |= (uint32_t)id.b[i + 1] << 8;
		if (i + 2 < 16)
			v |= id.b[i + 2];
		out[o++] = b64url[(v >> 18) & 63];
		out[o++] = b64url[(v >> 12) & 63];
		if (i + 1 < 16)
			out[o++] = b64url[(v >> 6) & 63];
		if (i + 2 < 16)
			out[o++] = b64url[v & 63];
	}
	out[o] = '\0';
}

int meta_uuid_parse(const char *s, struct kuuid *out)
{
	if (!s || strlen(s) != 22)
		return ERR_INVALID;
	uint8_t six[22];
	for (int i = 0; i < 22; i++) {
		const char *p = memchr(b64url, s[i], 64);
		if (!p || !s[i])
			return ERR_INVALID;
		six[i] = (uint8_t)(p - b64url);
	}
	if (six[21] & 15) /* the last char carries 2 bits; the rest must be 0 */
		return ERR_INVALID;
	int o = 0;
	for (int i = 0; i < 22; i += 4) {
		uint32_t v = (uint32_t)six[i] << 18 | (uint32_t)six[i + 1] << 12;
		if (i + 2 < 22)
			v |= (uint32_t)six[i + 2] << 6;
		if (i + 3 < 22)
			v |= six[i + 3];
		out->b[o++] = (uint8_t)(v >> 16);
		if (o < 16)
			out->b[o++] = (uint8_t)(v >> 8);
		if (o < 16 && i + 3 < 22)
			out->b[o++] = (uint8_t)v;
	}
	return 0;
}

static bool uuid_zero(struct kuuid id)
{
	for (int i = 0; i < 16; i++)
		if (id.b[i])
			return false;
	return true;
}

static bool uuid_eq(struct kuuid a, struct kuuid b)
{
	return memcmp(a.b, b.b, 16) == 0;
}

static size_t uuid_hash(struct kuuid id)
{
	uint64_t a, b;
	memcpy(&a, id.b, 8);
	memcpy(&b, id.b + 8, 8);
	uint64_t h = (a ^ (b * 0x9E3779B97F4A7C15ull)) * 0xBF58476D1CE4E5B9ull;
	return (size_t)(h ^ (h >> 31));
}

/* ---- Indexes ------------------------------------------------------------ */

static int name_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);
	if (c)
		return c;
	return alen < blen ? -1 : alen > blen;
}

/* Index of name in the sorted array, or -(insertion point) - 1. */
static int name_search(const struct meta *m, const char *name, size_t len)
{
	int lo = 0, hi = m->ntopics;
	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;
		const char *n = m->topics[mid]->name;
		int c = name_cmp(name, len, n, strlen(n));
		if (c == 0)
			return mid;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -lo - 1;
}

static void id_insert(struct meta *m, struct topic *t)
{
	size_t mask = m->idcap - 1;
	size_t i = uuid_hash(t->id) & mask;
	while (m->ids[i])
		i = (i + 1) & mask;
	m->ids[i] = t;
}

static void id_rebuild(struct meta *m, size_t cap)
{
	free(m->ids);
	m->idcap = cap;
	m->ids = calloc(cap, sizeof(*m->ids));
	ASSERT(m->ids);
	for (int i = 0; i < m->ntopics; i++)
		id_insert(m, m->topics[i]);
}

struct topic *meta_topic_find(struct meta *m, const char *name, size_t len)
{
	int i = name_search(m, name, len);
	return i >= 0 ? m->topics[i] : NULL;
}

struct topic *meta_topic_find_id(struct meta *m, struct kuuid id)
{
	size_t mask = m->idcap - 1;
	for (size_t i = uuid_hash(id) & mask; m->ids[i]; i = (i + 1) & mask)
		if (uuid_eq(m->ids[i]->id, id))
			return m->ids[i];
	return NULL;
}

int meta_topic_count(struct meta *m)
{
	return m->ntopics;
}

struct topic *meta_topic_at(struct meta *m, int i)
{
	ASSERT(i >= 0 && i < m->ntopics);
	return m->topics[i];
}

const struct broker_config *meta_broker_config(const struct meta *m)
{
	return &m->bc;
}
bool meta_failed(const struct meta *m)
{
	return m->failed;
}
int64_t meta_journal_records(const struct meta *m)
{
	return m->records;
}

/* ---- Topics in memory --------------------------------------------------- */

static void free_overrides(struct config_kv *kv, int n)
{
	for (int i = 0; i < n; i++) {
		free((char *)kv[i].key);
		free((char *)kv[i].value);
	}
	free(kv);
}

static void topic_free(struct topic *t)
{
	free_overrides(t->overrides, t->noverrides);
	free(t);
}

static int kv_cmp(const void *a, const void *b)
{
	return strcmp(((const struct config_kv *)a)->key, ((const struct config_kv *)b)->key);
}

/* Owned, sorted, de-duplicated (last wins) copy of the non-NULL overrides. */
static struct config_kv *copy_overrides(const struct config_kv *kv, int n, int *nout)
{
	struct config_kv *c = calloc((size_t)(n > 0 ? n : 1), sizeof(*c));
	ASSERT(c);
	int k = 0;
	for (int i = 0; i < n; i++) {
		if (!kv[i].key || !kv[i].value)
			continue;
		int j;
		for (j = 0; j < k; j++)
			if (strcmp(c[j].key, kv[i].key) == 0)
				break;
		char *v = strdup(kv[i].value);
		ASSERT(v);
		if (j < k) {
			free((char *)c[j].value);
			c[j].value = v;
		} else {
			c[k].key = strdup(kv[i].key);
			ASSERT(c[k].key);
			c[k].value = v;
			k++;
		}
	}
	qsort(c, (size_t)k, sizeof(*c), kv_cmp);
	*nout = k;
	return c;
}

static bool is_internal(const char *name)
{
	return strcmp(name, "__consumer_offsets") == 0 ||
	       strcmp(name, "__transaction_state") == 0 || strcmp(name, "__share_group_state") == 0;
}

/*
 * Resolve overrides for a topic being loaded from the journal: an override
 * this version rejects is ignored for the effective config (with a warning)
 * but kept, so it is not lost.
 */
static void resolve_lenient(const struct broker_config *bc, struct topic *t)
{
	char err[256];
	if (topic_config_resolve(bc, t->overrides, t->noverrides, &t->cfg, err, sizeof(err)) == 0)
		return;
	LOG_WARN("topic %s: %s; ignoring that override", t->name, err);
	struct config_kv *ok = calloc((size_t)t->noverrides + 1, sizeof(*ok));
	ASSERT(ok);
	int n = 0;
	for (int i = 0; i < t->noverrides; i++)
		if (topic_config_validate(t->overrides[i].key, t->overrides[i].value, err,
		                          sizeof(err)) == 0)
			ok[n++] = t->overrides[i];
	if (topic_config_resolve(bc, ok, n, &t->cfg, err, sizeof(err)) != 0)
		topic_config_resolve(bc, NULL, 0, &t->cfg, err, sizeof(err));
	free(ok);
}

static void apply_add(struct meta *m, struct topic *t)
{
	int i = name_search(m, t->name, strlen(t->name));
	ASSERT(i < 0);
	i = -i - 1;
	if (m->ntopics == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 16;
		m->topics = realloc(m->topics, (size_t)m->cap * sizeof(*m->topics));
		ASSERT(m->topics);
	}
	memmove(m->topics + i + 1, m->topics + i, (size_t)(m->ntopics - i) * sizeof(*m->topics));
	m->topics[i] = t;
	m->ntopics++;
	if ((size_t)m->ntopics * 2 >= m->idcap)
		id_rebuild(m, m->idcap * 2);
	else
		id_insert(m, t);
}

static void apply_remove(struct meta *m, struct topic *t)
{
	int i = name_search(m, t->name, strlen(t->name));
	ASSERT(i >= 0 && m->topics[i] == t);
	memmove(m->topics + i, m->topics + i + 1,
	        (size_t)(m->ntopics - i - 1) * sizeof(*m->topics));
	m->ntopics--;
	id_rebuild(m, m->idcap);
	topic_free(t);
}

static struct topic *topic_new(const char *name, struct kuuid id, int32_t partitions, int16_t rf,
                               const struct config_kv *kv, int nkv)
{
	struct topic *t = calloc(1, sizeof(*t));
	ASSERT(t);
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->id = id;
	t->partitions = partitions;
	t->replication_factor = rf;
	t->overrides = copy_overrides(kv, nkv, &t->noverrides);
	t->internal = is_internal(name);
	return t;
}

/* ---- Journal records ---------------------------------------------------- */

static json_t *configs_json(const struct config_kv *kv, int n)
{
	json_t *o = json_object();
	for (int i = 0; i < n; i++)
		if (kv[i].key && kv[i].value)
			json_object_set_new(o, kv[i].key, json_string(kv[i].value));
	return o;
}

static json_t *record_topic(const struct topic *t)
{
	char id[23];
	meta_uuid_format(t->id, id);
	return json_pack("{s:s, s:s, s:s, s:I, s:I, s:o}", "type", "topic", "name", t->name, "id",
	                 id, "partitions", (json_int_t)t->partitions, "rf",
	                 (json_int_t)t->replication_factor, "configs",
	                 configs_json(t->overrides, t->noverrides));
}

/* ---- Dynamic broker configs (layering) -------------------------------- */

static int parse_configs(json_t *o, struct config_kv **kv, int *n);

static const char *scope_name(enum meta_broker_scope s)
{
	return s == META_BROKER_DEFAULT ? "default" : "node";
}

static json_t *record_broker(const struct meta *m, enum meta_broker_scope scope,
                             const struct config_kv *kv, int n)
{
	json_t *r = json_pack("{s:s, s:s}", "type", "broker_configs", "scope", scope_name(scope));
	if (scope == META_BROKER_NODE)
		json_object_set_new(r, "node", json_integer(m->static_bc.node_id));
	json_object_set_new(r, "configs", configs_json(kv, n));
	return r;
}

/*
 * The layered broker config: static, then the cluster default, then this
 * node's keys. Strict: the first bad key fails (message in err). Lenient
 * (replay): a key this version rejects is skipped with a warning.
 */
static int build_layered(const struct broker_config *stat, struct config_kv *const dyn[2],
                         const int ndyn[2], bool lenient, struct broker_config *out, char *err,
                         size_t errlen)
{
	static const enum meta_broker_scope order[] = {META_BROKER_DEFAULT, META_BROKER_NODE};
	*out = *stat;
	for (size_t s = 0; s < ARRAY_SIZE(order); s++) {
		const struct config_kv *kv = dyn[order[s]];
		for (int i = 0; i < ndyn[order[s]]; i++) {
			int rc = broker_config_set(out, kv[i].key, kv[i].value, err, errlen);
			if (rc && !lenient)
				return rc == ERR_NOT_FOUND ? ERR_INVALID_CONFIG : rc;
			if (rc)
				LOG_WARN("dynamic broker config %s (%s): %s; ignoring it",
				         kv[i].key, scope_name(order[s]), err);
		}
	}
	int rc = broker_config_finish(out, err, errlen);
	if (rc && lenient) {
		LOG_WARN("dynamic broker configs: %s; using the static config", err);
		*out = *stat;
		return 0;
	}
	return rc;
}

static void resolve_all_topics(struct meta *m)
{
	for (int i = 0; i < m->ntopics; i++)
		resolve_lenient(&m->bc, m->topics[i]);
}

/* A replayed broker_configs record: replace the scope's keys (not yet applied). */
static int replay_broker(struct meta *m, json_t *r)
{
	const char *scope = json_string_value(json_object_get(r, "scope"));
	enum meta_broker_scope s;
	if (scope && strcmp(scope, "default") == 0) {
		s = META_BROKER_DEFAULT;
	} else if (scope && strcmp(scope, "node") == 0) {
		s = META_BROKER_NODE;
		json_t *node = json_object_get(r, "node");
		if (!json_is_integer(node))
			return ERR_CORRUPT;
		if (json_integer_value(node) != m->static_bc.node_id) {
			LOG_WARN("metadata journal: ignoring dynamic configs of node %lld (this is "
			         "node %d)",
			         (long long)json_integer_value(node), m->static_bc.node_id);
			return 0;
		}
	} else {
		return ERR_CORRUPT;
	}
	struct config_kv *kv;
	int n;
	int rc = parse_configs(json_object_get(r, "configs"), &kv, &n);
	if (rc == 0) {
		free_overrides(m->dyn[s], m->ndyn[s]);
		m->dyn[s] = copy_overrides(kv, n, &m->ndyn[s]);
	}
	free(kv);
	return rc;
}

/* After replay: layer the dynamic keys and re-resolve the topics. */
static void apply_replayed_dynamic(struct meta *m)
{
	if (m->ndyn[0] == 0 && m->ndyn[1] == 0)
		return;
	char err[512];
	build_layered(&m->static_bc, m->dyn, m->ndyn, true, &m->bc, err, sizeof(err));
	resolve_all_topics(m);
	LOG_INFO("applied %d dynamic broker config(s) and %d cluster default(s) from the "
	         "metadata journal",
	         m->ndyn[META_BROKER_NODE], m->ndyn[META_BROKER_DEFAULT]);
}

/* Serialize r (consumed) as one line appended to b. */
static void record_line(struct buf *b, json_t *r)
{
	ASSERT(r);
	char *s = json_dumps(r, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(r);
	ASSERT(s);
	buf_append(b, s, strlen(s));
	buf_append(b, "\n", 1);
	free(s);
}

/* Append one record (consumed) durably. */
static int journal_append(struct meta *m, json_t *r)
{
	struct buf b = BUF_INIT;
	record_line(&b, r);
	int rc = file_pwrite(m->fd, b.data, b.len, m->journal_size);
	if (rc == 0) {
		rc = file_fdatasync(m->fd);
		if (rc) {
			LOG_ERROR("metadata journal %s: fsync failed: %s; refusing changes until "
			          "restart",
			          m->path, err_str(rc));
			m->failed = true;
		}
	} else {
		LOG_ERROR("metadata journal %s: write failed: %s", m->path, err_str(rc));
		if (file_truncate(m->fd, m->journal_size) != 0)
			m->failed = true;
	}
	if (rc == 0) {
		m->journal_size += (int64_t)b.len;
		m->records++;
	}
	buf_release(&b);
	return rc ? ERR_STORAGE : 0;
}

static int parse_configs(json_t *o, struct config_kv **kv, int *n)
{
	*kv = NULL;
	*n = 0;
	if (!o)
		return 0;
	if (!json_is_object(o))
		return ERR_CORRUPT;
	size_t cnt = json_object_size(o);
	*kv = calloc(cnt + 1, sizeof(**kv));
	ASSERT(*kv);
	const char *k;
	json_t *v;
	json_object_foreach(o, k, v)
	{
		if (!json_is_string(v))
			return ERR_CORRUPT;
		(*kv)[*n].key = k;
		(*kv)[*n].value = json_string_value(v);
		(*n)++;
	}
	return 0;
}

static struct topic *id_field(struct meta *m, json_t *r)
{
	struct kuuid id;
	const char *s = json_string_value(json_object_get(r, "id"));
	if (meta_uuid_parse(s, &id))
		return NULL;
	return meta_topic_find_id(m, id);
}

/* Apply one replayed record; ERR_CORRUPT if it does not fit the state. */
static int replay_record(struct meta *m, json_t *r)
{
	const char *type = json_string_value(json_object_get(r, "type"));
	if (!type)
		return ERR_CORRUPT;
	if (strcmp(type, "topic") == 0) {
		const char *name = json_string_value(json_object_get(r, "name"));
		const char *ids = json_string_value(json_object_get(r, "id"));
		json_t *p = json_object_get(r, "partitions"), *rf = json_object_get(r, "rf");
		struct kuuid id;
		char err[256];
		if (!name || meta_topic_name_valid(name, strlen(name), err, sizeof(err)) ||
		    meta_uuid_parse(ids, &id) || uuid_zero(id) || !json_is_integer(p) ||
		    json_integer_value(p) < 1 || json_integer_value(p) > META_MAX_PARTITIONS ||
		    !json_is_integer(rf) || json_integer_value(rf) < 1 ||
		    json_integer_value(rf) > INT16_MAX)
			return ERR_CORRUPT;
		if (meta_topic_find(m, name, strlen(name)) || meta_topic_find_id(m, id))
			return ERR_CORRUPT;
		struct config_kv *kv;
		int n;
		int rc = parse_configs(json_object_get(r, "configs"), &kv, &n);
		if (rc == 0) {
			struct topic *t = topic_new(name, id, (int32_t)json_integer_value(p),
			                            (int16_t)json_integer_value(rf), kv, n);
			resolve_lenient(&m->bc, t);
			apply_add(m, t);
		}
		free(kv);
		return rc;
	}
	if (strcmp(type, "broker_configs") == 0)
		return replay_broker(m, r);
	struct topic *t = id_field(m, r);
	if (!t)
		return ERR_CORRUPT;
	if (strcmp(type, "remove_topic") == 0) {
		apply_remove(m, t);
		return 0;
	}
	if (strcmp(type, "partitions") == 0) {
		json_t *p = json_object_get(r, "partitions");
		if (!json_is_integer(p) || json_integer_value(p) < t->partitions ||
		    json_integer_value(p) > META_MAX_PARTITIONS)
			return ERR_CORRUPT;
		t->partitions = (int32_t)json_integer_value(p);
		return 0;
	}
	if (strcmp(type, "configs") == 0) {
		struct config_kv *kv;
		int n;
		int rc = parse_configs(json_object_get(r, "configs"), &kv, &n);
		if (rc == 0) {
			free_overrides(t->overrides, t->noverrides);
			t->overrides = copy_overrides(kv, n, &t->noverrides);
			resolve_lenient(&m->bc, t);
		}
		free(kv);
		return rc;
	}
	return ERR_CORRUPT;
}

/*
 * Replay text[0..len). Sets *good_len to the end of the last good record
 * (shorter than len when a torn tail was dropped).
 */
static int replay(struct meta *m, const char *text, size_t len, size_t *good_len)
{
	size_t pos = 0;
	int lineno = 0;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		lineno++;
		if (!nl) {
			LOG_WARN("metadata journal %s: dropping a torn last record (line %d, %zu "
			         "bytes without a newline)",
			         m->path, lineno, len - pos);
			break;
		}
		size_t end = (size_t)(nl - text) + 1;
		json_error_t jerr;
		json_t *r = json_loadb(text + pos, end - pos, JSON_REJECT_DUPLICATES, &jerr);
		if (!r || !json_is_object(r)) {
			json_decref(r);
			if (end == len) {
				LOG_WARN(
				    "metadata journal %s: dropping a torn last record (line %d: "
				    "%s)",
				    m->path, lineno, r ? "not an object" : jerr.text);
				break;
			}
			LOG_ERROR("metadata journal %s: line %d is not valid JSON (%s)", m->path,
			          lineno, jerr.text);
			return ERR_CORRUPT;
		}
		int rc = replay_record(m, r);
		json_decref(r);
		if (rc) {
			LOG_ERROR("metadata journal %s: line %d does not apply to the state "
			          "before it",
			          m->path, lineno);
			return rc;
		}
		m->records++;
		pos = end;
	}
	*good_len = pos;
	return 0;
}

/* Write the live state as a fresh journal (atomically replacing the old one). */
static int compact(struct meta *m)
{
	struct buf b = BUF_INIT;
	int live = m->ntopics;
	for (int i = 0; i < m->ntopics; i++)
		record_line(&b, record_topic(m->topics[i]));
	for (int s = 0; s < 2; s++)
		if (m->ndyn[s]) {
			record_line(
			    &b, record_broker(m, (enum meta_broker_scope)s, m->dyn[s], m->ndyn[s]));
			live++;
		}
	int rc = file_write_atomic(m->path, b.data, b.len, true);
	if (rc == 0) {
		LOG_INFO("metadata journal %s: compacted %lld records into %d", m->path,
		         (long long)m->records, live);
		m->records = live;
		m->journal_size = (int64_t)b.len;
	}
	buf_release(&b);
	return rc;
}

static int mkdir_parents(const char *dir)
{
	char *p = strdup(dir);
	ASSERT(p);
	int rc = 0;
	for (char *s = p + 1; *s && rc == 0; s++)
		if (*s == '/') {
			*s = '\0';
			rc = file_mkdir(p, 0755);
			*s = '/';
		}
	if (rc == 0)
		rc = file_mkdir(p, 0755);
	free(p);
	return rc;
}

void meta_close(struct meta *m)
{
	if (!m)
		return;
	for (int i = 0; i < m->ntopics; i++)
		topic_free(m->topics[i]);
	free(m->topics);
	free(m->ids);
	for (int s = 0; s < 2; s++)
		free_overrides(m->dyn[s], m->ndyn[s]);
	if (m->fd >= 0)
		file_close(m->fd);
	free(m->dir);
	free(m->path);
	free(m);
}

int meta_open(const char *dir, const struct broker_config *bc, struct meta **out)
{
	struct meta *m = calloc(1, sizeof(*m));
	ASSERT(m);
	m->fd = -1;
	m->bc = *bc;
	m->static_bc = *bc;
	m->dir = strdup(dir);
	size_t plen = strlen(dir) + sizeof(JOURNAL_NAME) + 1;
	m->path = malloc(plen);
	ASSERT(m->dir && m->path);
	snprintf(m->path, plen, "%s/%s", dir, JOURNAL_NAME);
	id_rebuild(m, 64);

	char *text = NULL;
	size_t good = 0;
	int rc = mkdir_parents(dir);
	if (rc) {
		LOG_ERROR("cannot create metadata directory %s: %s", dir, err_str(rc));
		goto fail;
	}
	ssize_t n = file_read_all(m->path, JOURNAL_MAX_BYTES, &text);
	if (n == -ENOENT) {
		n = 0;
		rc = file_open(m->path, O_RDWR | O_CREAT, 0644);
		if (rc >= 0) {
			m->fd = rc;
			rc = file_sync_dir(dir);
		}
		if (rc < 0) {
			LOG_ERROR("cannot create %s: %s", m->path, err_str(rc));
			goto fail;
		}
	} else if (n < 0) {
		rc = (int)n;
		LOG_ERROR("cannot read %s: %s", m->path, err_str(rc));
		goto fail;
	} else {
		rc = replay(m, text, (size_t)n, &good);
		if (rc)
			goto fail;
		apply_replayed_dynamic(m);
	}
	m->journal_size = (int64_t)good;
	if (m->records >= COMPACT_MIN_RECORDS && m->records > 2 * (int64_t)m->ntopics) {
		rc = compact(m);
		if (rc) {
			LOG_ERROR("cannot compact %s: %s", m->path, err_str(rc));
			goto fail;
		}
		good = (size_t)m->journal_size;
		n = (ssize_t)good;
	}
	if (m->fd < 0) {
		rc = file_open(m->path, O_RDWR, 0);
		if (rc < 0) {
			LOG_ERROR("cannot open %s: %s", m->path, err_str(rc));
			goto fail;
		}
		m->fd = rc;
	}
	if ((size_t)n != good) {
		/* Cut the torn tail so the next record starts on a fresh line. */
		rc = file_truncate(m->fd, (int64_t)good);
		if (rc == 0)
			rc = file_fsync(m->fd);
		if (rc) {
			LOG_ERROR("cannot truncate %s: %s", m->path, err_str(rc));
			goto fail;
		}
	}
	free(text);
	*out = m;
	return 0;
fail:
	free(text);
	meta_close(m);
	return rc;
}

/* ---- Changes ------------------------------------------------------------ */

int meta_topic_name_valid(const char *name, size_t len, char *err, size_t errlen)
{
	if (len == 0) {
		snprintf(err, errlen, "Topic name is illegal, it can't be empty");
		return ERR_INVALID;
	}
	if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.')) {
		snprintf(err, errlen, "Topic name cannot be \".\" or \"..\"");
		return ERR_INVALID;
	}
	if (len > 249) {
		snprintf(err, errlen,
		         "Topic name is illegal, it can't be longer than 249 characters, topic "
		         "name: %.*s",
		         (int)len, name);
		return ERR_INVALID;
	}
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-')) {
			snprintf(err, errlen,
			         "Topic name \"%.*s\" is illegal, it contains a character other "
			         "than ASCII alphanumerics, '.', '_' and '-'",
			         (int)len, name);
			return ERR_INVALID;
		}
	}
	return 0;
}

/* Kafka refuses names that differ only in '.' versus '_' (metric names clash). */
static struct topic *colliding(struct meta *m, const char *name)
{
	size_t len = strlen(name);
	if (!strpbrk(name, "._"))
		return NULL;
	for (int i = 0; i < m->ntopics; i++) {
		const char *o = m->topics[i]->name;
		if (strlen(o) != len)
			continue;
		size_t k = 0;
		for (; k < len; k++) {
			char a = name[k] == '.' ? '_' : name[k];
			char b = o[k] == '.' ? '_' : o[k];
			if (a != b)
				break;
		}
		if (k == len)
			return m->topics[i];
	}
	return NULL;
}

static int random_id(struct meta *m, struct kuuid *id)
{
	for (;;) {
		ssize_t r = getrandom(id->b, sizeof(id->b), 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r != (ssize_t)sizeof(id->b))
			return r < 0 ? -errno : ERR_STORAGE;
		id->b[6] = (uint8_t)((id->b[6] & 0x0F) | 0x40); /* version 4 */
		id->b[8] = (uint8_t)((id->b[8] & 0x3F) | 0x80); /* IETF variant */
		char s[23];
		meta_uuid_format(*id, s);
		/* Like Kafka: never zero or reserved, never starting with '-' (CLI). */
		if (!uuid_zero(*id) && s[0] != '-' && !meta_topic_find_id(m, *id))
			return 0;
	}
}

#define FAIL(kind, code, ...)                                                                      \
	do {                                                                                       \
		if (fail)                                                                          \
			*fail = (kind);                                                            \
		snprintf(err, errlen, __VA_ARGS__);                                                \
		return (code);                                                                     \
	} while (0)

int meta_topic_create_ex(struct meta *m, const char *name, int32_t partitions, int16_t rf,
                         const struct config_kv *configs, int nconfigs, bool validate_only,
                         struct topic **out, enum meta_fail *fail, char *err, size_t errlen)
{
	if (fail)
		*fail = META_FAIL_NONE;
	if (out)
		*out = NULL;
	int rc = meta_topic_name_valid(name, strlen(name), err, errlen);
	if (rc) {
		if (fail)
			*fail = META_FAIL_NAME;
		return rc;
	}
	if (meta_topic_find(m, name, strlen(name)))
		FAIL(META_FAIL_EXISTS, ERR_EXISTS, "Topic '%s' already exists.", name);
	struct topic *c = colliding(m, name);
	if (c)
		FAIL(META_FAIL_NAME, ERR_INVALID, "Topic '%s' collides with existing topic: %s",
		     name, c->name);

	if (partitions == -1)
		partitions = m->bc.num_partitions;
	if (partitions <= 0)
		FAIL(META_FAIL_PARTITIONS, ERR_INVALID,
		     "Number of partitions must be larger than 0.");
	if (partitions > META_MAX_PARTITIONS)
		FAIL(META_FAIL_PARTITIONS, ERR_INVALID,
		     "Number of partitions %d is larger than the maximum of %d.", partitions,
		     META_MAX_PARTITIONS);
	if (rf == -1)
		rf = m->bc.default_replication_factor;
	if (rf <= 0)
		FAIL(META_FAIL_REPLICATION, ERR_INVALID,
		     "Replication factor must be larger than 0, or -1 to use the default value.");
	if (rf > 1)
		FAIL(META_FAIL_REPLICATION, ERR_INVALID,
		     "Replication factor: %d larger than available brokers: 1.", rf);

	for (int i = 0; i < nconfigs; i++)
		if (configs[i].key && !configs[i].value)
			FAIL(META_FAIL_CONFIG, ERR_INVALID_CONFIG,
			     "Null value not supported for topic configs: %s", configs[i].key);
	struct topic_config cfg;
	rc = topic_config_resolve(&m->bc, configs, nconfigs, &cfg, err, errlen);
	if (rc) {
		if (fail)
			*fail = META_FAIL_CONFIG;
		return rc;
	}
	if (validate_only)
		return 0;
	if (m->failed)
		FAIL(META_FAIL_STORAGE, ERR_STORAGE, "The metadata journal failed; restart needed");

	struct kuuid id;
	rc = random_id(m, &id);
	if (rc)
		FAIL(META_FAIL_STORAGE, rc, "Cannot draw a random topic id");
	struct topic *t = topic_new(name, id, partitions, rf, configs, nconfigs);
	t->cfg = cfg;
	rc = journal_append(m, record_topic(t));
	if (rc) {
		topic_free(t);
		FAIL(META_FAIL_STORAGE, rc, "Cannot write the metadata journal");
	}
	apply_add(m, t);
	if (out)
		*out = t;
	return 0;
}

int meta_topic_create(struct meta *m, const char *name, int32_t partitions, int16_t rf,
                      const struct config_kv *configs, int nconfigs, bool validate_only,
                      struct topic **out, char *err, size_t errlen)
{
	return meta_topic_create_ex(m, name, partitions, rf, configs, nconfigs, validate_only, out,
	                            NULL, err, errlen);
}

static json_t *record_id(const char *type, const struct topic *t)
{
	char id[23];
	meta_uuid_format(t->id, id);
	return json_pack("{s:s, s:s}", "type", type, "id", id);
}

int meta_topic_delete(struct meta *m, struct topic *t)
{
	if (m->failed)
		return ERR_STORAGE;
	int rc = journal_append(m, record_id("remove_topic", t));
	if (rc)
		return rc;
	apply_remove(m, t);
	return 0;
}

int meta_topic_set_partitions(struct meta *m, struct topic *t, int32_t partitions)
{
	if (partitions <= t->partitions || partitions > META_MAX_PARTITIONS)
		return ERR_INVALID;
	if (m->failed)
		return ERR_STORAGE;
	json_t *r = record_id("partitions", t);
	json_object_set_new(r, "partitions", json_integer(partitions));
	int rc = journal_append(m, r);
	if (rc)
		return rc;
	t->partitions = partitions;
	return 0;
}

int meta_topic_set_configs(struct meta *m, struct topic *t, const struct config_kv *kv, int n,
                           char *err, size_t errlen)
{
	struct topic_config cfg;
	int rc = topic_config_resolve(&m->bc, kv, n, &cfg, err, errlen);
	if (rc)
		return rc;
	if (m->failed) {
		snprintf(err, errlen, "The metadata journal failed; restart needed");
		return ERR_STORAGE;
	}
	int nc;
	struct config_kv *c = copy_overrides(kv, n, &nc);
	json_t *r = record_id("configs", t);
	json_object_set_new(r, "configs", configs_json(c, nc));
	rc = journal_append(m, r);
	if (rc) {
		free_overrides(c, nc);
		snprintf(err, errlen, "Cannot write the metadata journal");
		return rc;
	}
	free_overrides(t->overrides, t->noverrides);
	t->overrides = c;
	t->noverrides = nc;
	t->cfg = cfg;
	return 0;
}

/* ---- Dynamic broker configs --------------------------------------------- */

const struct broker_config *meta_broker_static_config(const struct meta *m)
{
	return &m->static_bc;
}

const struct config_kv *meta_broker_dynamic(const struct meta *m, enum meta_broker_scope scope,
                                            int *n)
{
	*n = m->ndyn[scope];
	return m->dyn[scope];
}

int meta_broker_set_dynamic(struct meta *m, enum meta_broker_scope scope,
                            const struct config_kv *kv, int n, bool validate_only, char *err,
                            size_t errlen)
{
	struct config_kv *dyn[2] = {m->dyn[0], m->dyn[1]};
	int ndyn[2] = {m->ndyn[0], m->ndyn[1]};
	int nc;
	struct config_kv *c = copy_overrides(kv, n, &nc);
	dyn[scope] = c;
	ndyn[scope] = nc;
	struct broker_config *next = malloc(sizeof(*next));
	ASSERT(next);
	int rc = build_layered(&m->static_bc, dyn, ndyn, false, next, err, errlen);
	if (rc == 0 && !validate_only && m->failed) {
		snprintf(err, errlen, "The metadata journal failed; restart needed");
		rc = ERR_STORAGE;
	}
	if (rc == 0 && !validate_only) {
		rc = journal_append(m, record_broker(m, scope, c, nc));
		if (rc)
			snprintf(err, errlen, "Cannot write the metadata journal");
	}
	if (rc || validate_only) {
		free_overrides(c, nc);
		free(next);
		return rc;
	}
	free_overrides(m->dyn[scope], m->ndyn[scope]);
	m->dyn[scope] = c;
	m->ndyn[scope] = nc;
	m->bc = *next;
	free(next);
	resolve_all_topics(m);
	return 0;
}
