/*
 * coordinator.c: the group coordinator's frame — the table of groups, the
 * __consumer_offsets topic (created on first need), writing records to it
 * through the ordinary partition log (acknowledged once durable: group
 * commit), loading everything back at start, and offset retention.
 *
 * Placement: the group's partition is abs(Java hashCode(group id)) %
 * partitions of __consumer_offsets, with Kafka's Utils.abs (Integer.MIN_VALUE
 * maps to 0), so a log written by Kafka or Fjord agrees on where a group
 * lives. On one node this broker leads every partition, so it coordinates
 * every group; the cluster work makes NOT_COORDINATOR real.
 *
 * Loading (gc_load) replays every partition from its log start: offset
 * records upsert or (tombstone) delete an offset, group records replace the
 * group's generation and members (loaded members are Stable and must
 * heartbeat within their session timeout), a group tombstone removes the
 * group. Later records win, as compaction would decide.
 *
 * Retention (Kafka's offsets.retention.minutes): every
 * offsets.retention.check.interval.ms, offsets of groups that are Empty are
 * tombstoned once retention has passed since the group became Empty (or
 * since the commit, if later); an explicit per-commit expiry (OffsetCommit
 * v2-v4 retention time) is honoured in any state. An Empty group left with
 * no offsets is removed with a group tombstone.
 *
 * Left to others: membership.c (the rebalance state machine) and offsets.c
 * (commit, fetch, delete, admin views).
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/logging.h"
#include "group/group_int.h"
#include "proto/batch.h"

/* ---- memory and strings ---- */

void *gc__alloc(struct group_coordinator *gc, size_t n)
{
	void *p = calloc(1, n ? n : 1);
	if (!p) {
		LOG_ERROR("group coordinator: out of memory (%zu bytes)", n);
		abort();
	}
	gc->bytes += (int64_t)malloc_usable_size(p);
	return p;
}

void gc__free(struct group_coordinator *gc, void *p)
{
	if (!p)
		return;
	gc->bytes -= (int64_t)malloc_usable_size(p);
	free(p);
}

void gc__str_set(struct group_coordinator *gc, struct gc_kstr *dst, struct kstr src)
{
	gc__str_clear(gc, dst);
	if (src.len < 0) {
		dst->p = NULL;
		dst->len = -1;
		return;
	}
	dst->p = gc__alloc(gc, (size_t)src.len + 1);
	if (src.len)
		memcpy(dst->p, src.ptr, (size_t)src.len);
	dst->len = src.len;
}

void gc__str_clear(struct group_coordinator *gc, struct gc_kstr *s)
{
	gc__free(gc, s->p);
	s->p = NULL;
	s->len = -1;
}

bool gc__str_eq(const struct gc_kstr *a, struct kstr b)
{
	if (a->len < 0 || b.len < 0)
		return a->len < 0 && b.len < 0;
	return a->len == b.len && (b.len == 0 || memcmp(a->p, b.ptr, (size_t)b.len) == 0);
}

const char *gc__state_name(enum gstate s)
{
	switch (s) {
	case GS_EMPTY:
		return "Empty";
	case GS_PREPARING:
		return "PreparingRebalance";
	case GS_COMPLETING:
		return "CompletingRebalance";
	case GS_STABLE:
		return "Stable";
	default:
		return "Dead";
	}
}

/* ---- Kafka's placement ---- */

int32_t gc_java_string_hash(const char *s, size_t n)
{
	/* Decode UTF-8 to code points, then hash UTF-16 code units: h = 31*h + c. */
	uint32_t h = 0;
	const uint8_t *p = (const uint8_t *)s, *end = p + n;
	while (p < end) {
		uint32_t c = *p++;
		int more = 0;
		if (c >= 0xF0 && c < 0xF8) {
			c &= 0x07;
			more = 3;
		} else if (c >= 0xE0) {
			c &= 0x0F;
			more = 2;
		} else if (c >= 0xC0) {
			c &= 0x1F;
			more = 1;
		} else if (c >= 0x80) {
			c = 0xFFFD; /* a stray continuation byte: Java's decoder gives U+FFFD */
		}
		if (c >= 0xF8)
			c = 0xFFFD;
		for (int i = 0; i < more; i++) {
			if (p >= end || (*p & 0xC0) != 0x80) {
				c = 0xFFFD;
				break;
			}
			c = (c << 6) | (*p++ & 0x3F);
		}
		if (c >= 0x10000 && c <= 0x10FFFF) {
			c -= 0x10000;
			h = 31 * h + (0xD800 + (c >> 10));
			h = 31 * h + (0xDC00 + (c & 0x3FF));
		} else {
			h = 31 * h + (c > 0x10FFFF ? 0xFFFD : c);
		}
	}
	return (int32_t)h;
}

int32_t gc_partition_for(const char *group, size_t n, int32_t partitions)
{
	int32_t h = gc_java_string_hash(group, n);
	int32_t a = h == INT32_MIN ? 0 : (h < 0 ? -h : h);
	return partitions > 0 ? a % partitions : 0;
}

size_t gc_member_id_make(char *out, size_t cap, const char *prefix, size_t prefix_len)
{
	uint8_t r[16];
	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
		/* Never expected; fall back to the clock, ids need only be unique here. */
		int64_t t = clock_mono_ns();
		for (size_t i = 0; i < sizeof(r); i++)
			r[i] = (uint8_t)(t >> (8 * (i % 8))) ^ (uint8_t)(i * 37);
	}
	r[6] = (uint8_t)((r[6] & 0x0F) | 0x40);
	r[8] = (uint8_t)((r[8] & 0x3F) | 0x80);
	if (prefix_len > 200)
		prefix_len = 200;
	int n = snprintf(
	    out, cap, "%.*s-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
	    (int)prefix_len, prefix, r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9],
	    r[10], r[11], r[12], r[13], r[14], r[15]);
	if (n < 0)
		return 0;
	return (size_t)n < cap ? (size_t)n : cap - 1;
}

/* ---- the group table ---- */

static uint32_t hash_bytes(const char *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++) {
		h ^= (uint8_t)p[i];
		h *= 16777619u;
	}
	return h;
}

struct group *gc__group_find(struct group_coordinator *gc, struct kstr id)
{
	if (id.len < 0 || !gc->nbuckets)
		return NULL;
	uint32_t h = hash_bytes(id.ptr, (size_t)id.len) & (uint32_t)(gc->nbuckets - 1);
	for (struct group *g = gc->buckets[h]; g; g = g->hnext)
		if (gc__str_eq(&g->id, id))
			return g;
	return NULL;
}

static void table_grow(struct group_coordinator *gc)
{
	int32_t nb = gc->nbuckets ? gc->nbuckets * 2 : 64;
	struct group **b = gc__alloc(gc, sizeof(*b) * (size_t)nb);
	for (int32_t i = 0; i < gc->nbuckets; i++) {
		struct group *g = gc->buckets[i];
		while (g) {
			struct group *next = g->hnext;
			uint32_t h = hash_bytes(g->id.p, (size_t)g->id.len) & (uint32_t)(nb - 1);
			g->hnext = b[h];
			b[h] = g;
			g = next;
		}
	}
	gc__free(gc, gc->buckets);
	gc->buckets = b;
	gc->nbuckets = nb;
}

static void join_timer_fired(struct loop_timer *t);

struct group *gc__group_create(struct group_coordinator *gc, struct kstr id)
{
	if (gc->ngroups + 1 > gc->nbuckets)
		table_grow(gc);
	struct group *g = gc__alloc(gc, sizeof(*g));
	g->gc = gc;
	g->id.len = g->protocol_type.len = g->protocol.len = g->leader.len = -1;
	gc__str_set(gc, &g->id, id);
	struct topic *t = meta_topic_find(gc->meta, GC_OFFSETS_TOPIC, strlen(GC_OFFSETS_TOPIC));
	int32_t np = t ? t->partitions : gc->cfg->offsets_topic_num_partitions;
	g->partition = gc_partition_for(id.ptr, (size_t)id.len, np);
	g->state = GS_EMPTY;
	g->state_ts = clock_now_ms();
	loop_timer_init(&g->join_timer, join_timer_fired);
	uint32_t h = hash_bytes(id.ptr, (size_t)id.len) & (uint32_t)(gc->nbuckets - 1);
	g->hnext = gc->buckets[h];
	gc->buckets[h] = g;
	gc->ngroups++;
	return g;
}

static void group_free(struct group *g)
{
	struct group_coordinator *gc = g->gc;
	loop_timer_stop(gc->loop, &g->join_timer);
	gc__members_cancel_all(g);
	while (g->members) {
		struct gc_member *m = g->members;
		g->members = m->next;
		gc__member_free(g, m);
	}
	while (g->pending) {
		struct gc_pending *p = g->pending;
		g->pending = p->next;
		gc__str_clear(gc, &p->id);
		gc__free(gc, p);
	}
	gc__offsets_free(g);
	gc__str_clear(gc, &g->id);
	gc__str_clear(gc, &g->protocol_type);
	gc__str_clear(gc, &g->protocol);
	gc__str_clear(gc, &g->leader);
	gc__free(gc, g);
}

void gc__group_remove(struct group_coordinator *gc, struct group *g)
{
	if (g->removed)
		return;
	uint32_t h = hash_bytes(g->id.p, (size_t)g->id.len) & (uint32_t)(gc->nbuckets - 1);
	for (struct group **pp = &gc->buckets[h]; *pp; pp = &(*pp)->hnext) {
		if (*pp == g) {
			*pp = g->hnext;
			break;
		}
	}
	gc->ngroups--;
	g->removed = true;
	g->state = GS_DEAD;
	loop_timer_stop(gc->loop, &g->join_timer);
	gc__members_cancel_all(g);
	if (g->busy == 0)
		group_free(g);
}

void gc__group_unref(struct group *g)
{
	if (--g->busy == 0 && g->removed)
		group_free(g);
}

/* The join timer belongs to membership.c; it is armed there. */
void gc__join_timer_expired(struct group *g);
static void join_timer_fired(struct loop_timer *t)
{
	struct group *g = (struct group *)((char *)t - offsetof(struct group, join_timer));
	gc__join_timer_expired(g);
}

/* ---- the offsets topic ---- */

static struct topic *offsets_topic(struct group_coordinator *gc)
{
	return meta_topic_find(gc->meta, GC_OFFSETS_TOPIC, strlen(GC_OFFSETS_TOPIC));
}

int gc_ensure_topic(struct group_coordinator *gc)
{
	struct topic *t = offsets_topic(gc);
	if (t)
		return t->data ? 0 : ERR_NOT_FOUND;
	char seg[32];
	snprintf(seg, sizeof(seg), "%d", gc->cfg->offsets_topic_segment_bytes);
	struct config_kv kv[] = {
	    {"cleanup.policy", "compact"},
	    {"compression.type", "producer"},
	    {"segment.bytes", seg},
	};
	char err[256] = "";
	enum meta_fail fail = META_FAIL_NONE;
	int rc = meta_topic_create_ex(
	    gc->meta, GC_OFFSETS_TOPIC, gc->cfg->offsets_topic_num_partitions,
	    gc->cfg->offsets_topic_replication_factor, kv, 3, false, &t, &fail, err, sizeof(err));
	if (rc == ERR_EXISTS)
		return offsets_topic(gc) ? 0 : rc;
	if (rc) {
		LOG_WARN("cannot create %s: %s (%s)", GC_OFFSETS_TOPIC, err_str(rc), err);
		return rc;
	}
	rc = partitions_create(gc->parts, t, 0, t->partitions);
	if (rc) {
		LOG_WARN("cannot create the logs of %s: %s", GC_OFFSETS_TOPIC, err_str(rc));
		partitions_delete_topic(gc->parts, t);
		meta_topic_delete(gc->meta, t);
		return rc;
	}
	LOG_INFO("created %s with %d partitions", GC_OFFSETS_TOPIC, t->partitions);
	return 0;
}

int gc_group_status(struct group_coordinator *gc, struct kstr group_id)
{
	(void)group_id;
	if (!gc->loaded)
		return GC_ERR_LOADING;
	return 0;
}

struct partition *gc__partition(struct group_coordinator *gc, struct group *g)
{
	if (gc_ensure_topic(gc))
		return NULL;
	struct topic *t = offsets_topic(gc);
	if (!t || g->partition >= t->partitions)
		return NULL;
	return partitions_get(t, g->partition);
}

/* ---- writes ---- */

struct gc_op *gc__op_new(struct group_coordinator *gc, enum gc_op_kind kind, struct group *g)
{
	struct gc_op *op = gc__alloc(gc, sizeof(*op));
	op->kind = kind;
	op->gc = gc;
	op->g = g;
	if (g)
		g->busy++;
	return op;
}

void gc__op_free(struct gc_op *op)
{
	struct group_coordinator *gc = op->gc;
	if (op->parts) {
		for (int i = 0; i < op->nparts; i++) {
			gc__str_clear(gc, &op->parts[i].topic);
			gc__str_clear(gc, &op->parts[i].metadata);
		}
		gc__free(gc, op->parts);
	}
	struct group *g = op->g;
	gc__free(gc, op);
	if (g)
		gc__group_unref(g);
}

static void write_durable(struct pwaiter *w, int err)
{
	struct gc_op *op = (struct gc_op *)w;
	if (op->wprev) {
		op->wprev->wnext = op->wnext;
		op->wnext->wprev = op->wprev;
		op->wprev = op->wnext = NULL;
	}
	op->on_durable(op, err);
	gc__op_free(op);
}

void gc__write(struct group_coordinator *gc, struct group *g, struct gc_op *op,
               struct gcrec_batch *b)
{
	struct partition *p = gc__partition(gc, g);
	if (!p) {
		op->on_durable(op, ERR_NOT_FOUND);
		gc__op_free(op);
		return;
	}
	gcrec_batch_finish(b, clock_now_ms());
	struct plog_append_result res;
	int err = partition_append(p, b->out.data, b->out.len, clock_now_ms(), &res);
	if (err) {
		op->on_durable(op, err);
		gc__op_free(op);
		return;
	}
	op->w.cb = write_durable;
	op->w.prev = op->w.next = NULL;
	/* Link into the in-flight list (for gc_free) before waiting: the wait may complete at once.
	 */
	op->wnext = gc->writes.wnext;
	op->wprev = &gc->writes;
	gc->writes.wnext->wprev = op;
	gc->writes.wnext = op;
	if (partition_acked(p, res.last_offset + 1)) {
		write_durable(&op->w, 0);
		return;
	}
	partition_wait_durable(p, &op->w, res.last_offset + 1);
}

void gc__group_record(struct group *g, struct gcrec_batch *b)
{
	struct group_coordinator *gc = g->gc;
	struct buf kb = BUF_INIT, vb = BUF_INIT;
	struct wr w;
	wr_init(&w, &kb);
	gcrec_group_key_encode(&w, gc__k(&g->id));
	wr_release(&w);
	struct gcrec_group v;
	memset(&v, 0, sizeof(v));
	v.protocol_type = g->protocol_type.len >= 0 ? gc__k(&g->protocol_type) : kstr_c("");
	v.generation = g->generation;
	v.protocol = gc__k(&g->protocol);
	v.leader = gc__k(&g->leader);
	v.state_ts = g->state_ts;
	v.nmembers = g->nmembers;
	v.members = gc__alloc(gc, sizeof(*v.members) * (size_t)(g->nmembers ? g->nmembers : 1));
	int i = 0;
	for (struct gc_member *m = g->members; m; m = m->next, i++) {
		struct gcrec_member *rm = &v.members[i];
		rm->member_id = gc__k(&m->id);
		rm->instance_id = gc__k(&m->instance_id);
		rm->client_id = m->client_id.len >= 0 ? gc__k(&m->client_id) : kstr_c("");
		rm->client_host = m->client_host.len >= 0 ? gc__k(&m->client_host) : kstr_c("");
		rm->rebalance_timeout_ms = m->rebalance_timeout_ms;
		rm->session_timeout_ms = m->session_timeout_ms;
		rm->subscription.ptr = NULL;
		rm->subscription.len = 0;
		for (int k = 0; k < m->nprotocols; k++) {
			if (g->protocol.len >= 0 &&
			    gc__str_eq(&m->protocols[k].name, gc__k(&g->protocol))) {
				rm->subscription.ptr = m->protocols[k].meta;
				rm->subscription.len = m->protocols[k].meta_len;
			}
		}
		rm->assignment.ptr = m->assignment;
		rm->assignment.len = m->assignment ? m->assignment_len : 0;
	}
	wr_init(&w, &vb);
	gcrec_group_value_encode(&w, &v);
	wr_release(&w);
	gc__free(gc, v.members);
	gcrec_batch_add(b, kb.data, kb.len, vb.data, (int32_t)vb.len);
	buf_release(&kb);
	buf_release(&vb);
}

static void async_done(struct gc_op *op, int err)
{
	if (err)
		LOG_WARN("group %s: writing its metadata failed: %s", op->g->id.p, err_str(err));
}

void gc__group_store_async(struct group *g)
{
	struct gcrec_batch b;
	gcrec_batch_init(&b);
	gc__group_record(g, &b);
	struct gc_op *op = gc__op_new(g->gc, OP_WRITE, g);
	op->on_durable = async_done;
	gc__write(g->gc, g, op, &b);
	gcrec_batch_release(&b);
}

/* ---- loading ---- */

static void load_record(struct group_coordinator *gc, const struct batch_record *r, struct arena *a)
{
	struct gcrec_key k;
	if (r->key_len < 0 || gcrec_key_decode(r->key, (size_t)r->key_len, &k)) {
		LOG_WARN("%s: skipping a record with an unknown key at offset %lld",
		         GC_OFFSETS_TOPIC, (long long)r->offset);
		return;
	}
	struct group *g = gc__group_find(gc, k.group);
	if (k.version != GCREC_GROUP_KEY) {
		if (r->value_len < 0) {
			if (g)
				gc__offset_delete(g, k.topic, k.partition);
			return;
		}
		struct gcrec_offset v;
		if (gcrec_offset_value_decode(r->value, (size_t)r->value_len, &v)) {
			LOG_WARN("%s: skipping a bad offset record at offset %lld",
			         GC_OFFSETS_TOPIC, (long long)r->offset);
			return;
		}
		if (!g)
			g = gc__group_create(gc, k.group);
		struct gc_pending_offset po;
		memset(&po, 0, sizeof(po));
		po.topic.p = (char *)k.topic.ptr;
		po.topic.len = k.topic.len;
		po.partition = k.partition;
		po.offset = v.offset;
		po.leader_epoch = v.leader_epoch;
		po.metadata.p = (char *)v.metadata.ptr;
		po.metadata.len = v.metadata.len;
		po.commit_ts = v.commit_ts;
		po.expire_ts = v.expire_ts;
		gc__offset_put(g, &po);
		return;
	}
	if (r->value_len < 0) {
		/* A group tombstone: the group's membership is gone; offsets were tombstoned too.
		 */
		if (g) {
			while (g->members) {
				struct gc_member *m = g->members;
				g->members = m->next;
				gc__member_free(g, m);
			}
			g->nmembers = 0;
			if (g->noffsets == 0)
				gc__group_remove(gc, g);
		}
		return;
	}
	arena_reset(a);
	struct gcrec_group v;
	if (gcrec_group_value_decode(r->value, (size_t)r->value_len, &v, a)) {
		LOG_WARN("%s: skipping a bad group record at offset %lld", GC_OFFSETS_TOPIC,
		         (long long)r->offset);
		return;
	}
	if (!g)
		g = gc__group_create(gc, k.group);
	while (g->members) {
		struct gc_member *m = g->members;
		g->members = m->next;
		gc__member_free(g, m);
	}
	g->nmembers = 0;
	g->generation = v.generation;
	gc__str_set(gc, &g->protocol_type, v.protocol_type.len > 0 ? v.protocol_type : kstr_null());
	gc__str_set(gc, &g->protocol, v.protocol);
	gc__str_set(gc, &g->leader, v.leader);
	if (v.state_ts >= 0)
		g->state_ts = v.state_ts;
	for (int32_t i = 0; i < v.nmembers; i++)
		gc__member_load(g, &v.members[i], v.protocol);
	g->state = g->nmembers ? GS_STABLE : GS_EMPTY;
	if (!g->nmembers) {
		gc__str_clear(gc, &g->protocol);
		gc__str_clear(gc, &g->leader);
	}
}

static int load_partition(struct group_coordinator *gc, struct partition *p, struct arena *a,
                          int64_t *nrec)
{
	struct plog *l = p->log;
	int64_t off = plog_start_offset(l), end = plog_end_offset(l);
	struct buf data = BUF_INIT;
	int rc = 0;
	while (off < end) {
		struct plog_slice s;
		rc = plog_read(l, off, end, 4 << 20, &s);
		if (rc) {
			LOG_WARN("%s-%d: reading at offset %lld failed: %s; the rest is skipped",
			         GC_OFFSETS_TOPIC, p->index, (long long)off, err_str(rc));
			rc = rc == ERR_STORAGE ? rc : 0;
			break;
		}
		if (s.ref.len == 0) {
			if (s.ref.release)
				s.ref.release(s.ref.ctx);
			break;
		}
		buf_reset(&data);
		uint8_t *dst = buf_reserve(&data, (size_t)s.ref.len);
		ssize_t got = pread(s.ref.fd, dst, (size_t)s.ref.len, s.ref.off);
		int64_t next = s.next_offset;
		s.ref.release(s.ref.ctx);
		if (got != (ssize_t)s.ref.len) {
			rc = ERR_STORAGE;
			break;
		}
		size_t pos = 0, n = (size_t)got;
		while (pos + BATCH_HEADER_SIZE <= n) {
			int64_t bs = batch_total_size(dst + pos);
			if (bs < BATCH_HEADER_SIZE || pos + (size_t)bs > n)
				break;
			struct batch_header h;
			batch_header_parse(dst + pos, &h);
			if (!(h.attributes & BATCH_ATTR_CONTROL) &&
			    h.base_offset + h.last_offset_delta >= off) {
				struct batch_iter it;
				if (batch_iter_init(&it, dst + pos, (size_t)bs) == 0) {
					struct batch_record r;
					while (batch_iter_next(&it, &r) == 1) {
						if (r.offset < off)
							continue;
						load_record(gc, &r, a);
						(*nrec)++;
					}
				}
				batch_iter_release(&it);
			}
			pos += (size_t)bs;
		}
		if (next <= off)
			break;
		off = next;
	}
	buf_release(&data);
	return rc;
}

int gc_load(struct group_coordinator *gc)
{
	int64_t t0 = clock_mono_ms();
	struct topic *t = offsets_topic(gc);
	int64_t nrec = 0;
	int rc = 0;
	if (t) {
		struct arena a;
		arena_init(&a);
		for (int32_t i = 0; i < t->partitions && !rc; i++) {
			struct partition *p = partitions_get(t, i);
			if (p)
				rc = load_partition(gc, p, &a, &nrec);
		}
		arena_release(&a);
	}
	gc->loaded = true;
	if (rc)
		LOG_WARN("loading %s stopped early: %s", GC_OFFSETS_TOPIC, err_str(rc));
	if (t)
		LOG_INFO("loaded %d group(s), %lld offset(s) from %lld record(s) of %s in %lld ms",
		         gc->ngroups, (long long)gc->noffsets_total, (long long)nrec,
		         GC_OFFSETS_TOPIC, (long long)(clock_mono_ms() - t0));
	return rc;
}

/* ---- retention ---- */

struct expired {
	struct gc_kstr topic;
	int32_t partition;
};

int gc_expire_offsets(struct group_coordinator *gc, int64_t now)
{
	int64_t retention = gc->cfg->offsets_retention_minutes * 60000;
	int total = 0;
	for (int32_t bi = 0; bi < gc->nbuckets; bi++) {
		struct group *g = gc->buckets[bi];
		while (g) {
			struct group *next = g->hnext;
			bool empty = g->state == GS_EMPTY;
			struct gcrec_batch b;
			gcrec_batch_init(&b);
			for (int32_t k = 0; k < g->nobuckets; k++) {
				struct gc_offset **pp = &g->obuckets[k];
				while (*pp) {
					struct gc_offset *o = *pp;
					bool dead;
					if (o->expire_ts >= 0)
						dead = now >= o->expire_ts;
					else {
						int64_t base = o->commit_ts > g->state_ts
						                   ? o->commit_ts
						                   : g->state_ts;
						dead = empty && now >= base + retention;
					}
					if (!dead) {
						pp = &o->next;
						continue;
					}
					struct buf kb = BUF_INIT;
					struct wr w;
					wr_init(&w, &kb);
					gcrec_offset_key_encode(&w, gc__k(&g->id), gc__k(&o->topic),
					                        o->partition);
					wr_release(&w);
					gcrec_batch_add(&b, kb.data, kb.len, NULL, -1);
					buf_release(&kb);
					*pp = o->next;
					gc__str_clear(gc, &o->topic);
					gc__str_clear(gc, &o->metadata);
					gc__free(gc, o);
					g->noffsets--;
					gc->noffsets_total--;
					total++;
				}
			}
			bool drop = empty && g->noffsets == 0 && g->nmembers == 0 && !g->busy;
			if (drop) {
				struct buf kb = BUF_INIT;
				struct wr w;
				wr_init(&w, &kb);
				gcrec_group_key_encode(&w, gc__k(&g->id));
				wr_release(&w);
				gcrec_batch_add(&b, kb.data, kb.len, NULL, -1);
				buf_release(&kb);
			}
			if (b.count) {
				struct gc_op *op = gc__op_new(gc, OP_WRITE, g);
				op->on_durable = async_done;
				gc__write(gc, g, op, &b);
			}
			gcrec_batch_release(&b);
			if (drop) {
				LOG_INFO("group %s expired (empty, no offsets left)", g->id.p);
				gc__group_remove(gc, g);
			}
			g = next;
		}
	}
	if (total)
		LOG_INFO("expired %d committed offset(s)", total);
	return total;
}

static void retention_fired(struct loop_timer *t)
{
	struct group_coordinator *gc =
	    (struct group_coordinator *)((char *)t -
	                                 offsetof(struct group_coordinator, retention_timer));
	if (gc->loaded)
		gc_expire_offsets(gc, clock_now_ms());
	loop_timer_start(gc->loop, &gc->retention_timer,
	                 gc->cfg->offsets_retention_check_interval_ms);
}

/* ---- life cycle ---- */

int gc_new(struct loop *loop, struct meta *meta, struct partitions *parts,
           const struct broker_config *cfg, struct group_coordinator **out)
{
	struct group_coordinator *gc = calloc(1, sizeof(*gc));
	if (!gc)
		return ERR_NOMEM;
	gc->loop = loop;
	gc->meta = meta;
	gc->parts = parts;
	gc->cfg = cfg;
	gc->writes.wnext = gc->writes.wprev = &gc->writes;
	table_grow(gc);
	loop_timer_init(&gc->retention_timer, retention_fired);
	loop_timer_start(loop, &gc->retention_timer, cfg->offsets_retention_check_interval_ms);
	*out = gc;
	return 0;
}

void gc_free(struct group_coordinator *gc)
{
	if (!gc)
		return;
	loop_timer_stop(gc->loop, &gc->retention_timer);
	/* Writes in flight: stop waiting, tell nobody (their requests are gone). */
	while (gc->writes.wnext != &gc->writes) {
		struct gc_op *op = gc->writes.wnext;
		op->wnext->wprev = op->wprev;
		op->wprev->wnext = op->wnext;
		op->wprev = op->wnext = NULL;
		pwaiter_cancel(&op->w);
		gc__op_free(op);
	}
	for (int32_t i = 0; i < gc->nbuckets; i++) {
		while (gc->buckets[i])
			gc__group_remove(gc, gc->buckets[i]);
	}
	gc__free(gc, gc->buckets);
	free(gc);
}

void gc_stats(const struct group_coordinator *gc, struct gc_stats *out)
{
	out->groups = gc->ngroups;
	out->members = gc->nmembers_total;
	out->offsets = gc->noffsets_total;
	out->bytes = gc->bytes;
}
