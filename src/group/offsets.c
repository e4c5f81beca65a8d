/*
 * offsets.c: committed offsets (OffsetCommit, OffsetFetch, OffsetDelete)
 * and the admin views of groups (ListGroups, DescribeGroups, DeleteGroups).
 *
 * A commit is validated against the group (generation, member, state, as
 * Kafka does), written as one batch of OffsetCommit records to the group's
 * __consumer_offsets partition, and applied to the in-memory table only once
 * that batch is durable; the client hears OK after that. Commits with
 * generation -1 come from outside group management (admin tools, manual
 * assignment) and are accepted while the group has no members; they create
 * the group (state Empty, no protocol type) when it does not exist.
 *
 * Per group, offsets sit in a chained hash table keyed by (topic,
 * partition), doubling as it fills.
 *
 * Deletion (DeleteGroups, OffsetDelete) writes tombstones, then applies.
 * Left to others: membership.c (whether a member and generation are valid
 * is decided here from its structures), coordinator.c (writes, loading).
 */
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/logging.h"
#include "group/group_int.h"
#include "proto/gen/kmsg.h"

/* ---- the per-group offset table ---- */

static uint32_t okey_hash(struct kstr topic, int32_t partition)
{
	uint32_t h = 2166136261u;
	for (int32_t i = 0; i < topic.len; i++) {
		h ^= (uint8_t)topic.ptr[i];
		h *= 16777619u;
	}
	h ^= (uint32_t)partition * 2654435761u;
	return h;
}

struct gc_offset *gc__offset_find(struct group *g, struct kstr topic, int32_t partition)
{
	if (!g->nobuckets)
		return NULL;
	uint32_t h = okey_hash(topic, partition) & (uint32_t)(g->nobuckets - 1);
	for (struct gc_offset *o = g->obuckets[h]; o; o = o->next)
		if (o->partition == partition && gc__str_eq(&o->topic, topic))
			return o;
	return NULL;
}

static void otable_grow(struct group *g)
{
	struct group_coordinator *gc = g->gc;
	int32_t nb = g->nobuckets ? g->nobuckets * 2 : 4;
	struct gc_offset **b = gc__alloc(gc, sizeof(*b) * (size_t)nb);
	for (int32_t i = 0; i < g->nobuckets; i++) {
		struct gc_offset *o = g->obuckets[i];
		while (o) {
			struct gc_offset *next = o->next;
			uint32_t h = okey_hash(gc__k(&o->topic), o->partition) & (uint32_t)(nb - 1);
			o->next = b[h];
			b[h] = o;
			o = next;
		}
	}
	gc__free(gc, g->obuckets);
	g->obuckets = b;
	g->nobuckets = nb;
}

void gc__offset_put(struct group *g, const struct gc_pending_offset *po)
{
	struct group_coordinator *gc = g->gc;
	struct kstr topic = gc__k(&po->topic);
	struct gc_offset *o = gc__offset_find(g, topic, po->partition);
	if (!o) {
		if (g->noffsets + 1 > g->nobuckets)
			otable_grow(g);
		o = gc__alloc(gc, sizeof(*o));
		o->topic.len = o->metadata.len = -1;
		gc__str_set(gc, &o->topic, topic);
		o->partition = po->partition;
		uint32_t h = okey_hash(topic, po->partition) & (uint32_t)(g->nobuckets - 1);
		o->next = g->obuckets[h];
		g->obuckets[h] = o;
		g->noffsets++;
		gc->noffsets_total++;
	}
	o->offset = po->offset;
	o->leader_epoch = po->leader_epoch;
	o->commit_ts = po->commit_ts;
	o->expire_ts = po->expire_ts;
	struct kstr md = gc__k(&po->metadata);
	if (md.len < 0)
		md = kstr_c("");
	if (!gc__str_eq(&o->metadata, md))
		gc__str_set(gc, &o->metadata, md);
}

static void offset_unlink_free(struct group *g, struct gc_offset **pp)
{
	struct gc_offset *o = *pp;
	*pp = o->next;
	gc__str_clear(g->gc, &o->topic);
	gc__str_clear(g->gc, &o->metadata);
	gc__free(g->gc, o);
	g->noffsets--;
	g->gc->noffsets_total--;
}

void gc__offset_delete(struct group *g, struct kstr topic, int32_t partition)
{
	if (!g->nobuckets)
		return;
	uint32_t h = okey_hash(topic, partition) & (uint32_t)(g->nobuckets - 1);
	for (struct gc_offset **pp = &g->obuckets[h]; *pp; pp = &(*pp)->next) {
		if ((*pp)->partition == partition && gc__str_eq(&(*pp)->topic, topic)) {
			offset_unlink_free(g, pp);
			return;
		}
	}
}

void gc__offsets_free(struct group *g)
{
	for (int32_t i = 0; i < g->nobuckets; i++)
		while (g->obuckets[i])
			offset_unlink_free(g, &g->obuckets[i]);
	gc__free(g->gc, g->obuckets);
	g->obuckets = NULL;
	g->nobuckets = 0;
}

/* ---- OffsetCommit ---- */

static void commit_durable(struct gc_op *op, int err)
{
	struct group *g = op->g;
	if (!err && !g->removed) {
		for (int i = 0; i < op->nparts; i++) {
			if (op->parts[i].tombstone)
				gc__offset_delete(g, gc__k(&op->parts[i].topic),
				                  op->parts[i].partition);
			else
				gc__offset_put(g, &op->parts[i]);
		}
	}
	if (!op->cancelled && op->cb.done)
		op->cb.done(op->ctx, err ? GC_ERR_STORAGE : GC_OK);
}

static int commit_check(struct group_coordinator *gc, const struct gc_commit_args *a,
                        struct group **gp)
{
	if (a->group_id.len <= 0)
		return GC_ERR_INVALID_GROUP_ID;
	if (!gc->loaded)
		return GC_ERR_LOADING;
	if (gc_ensure_topic(gc))
		return GC_ERR_NOT_AVAILABLE;
	struct group *g = gc__group_find(gc, a->group_id);
	if (!g) {
		if (a->generation_id >= 0)
			return GC_ERR_ILLEGAL_GENERATION;
		*gp = gc__group_create(gc, a->group_id);
		return 0;
	}
	*gp = g;
	if (a->generation_id < 0 && g->state == GS_EMPTY)
		return 0; /* a commit from outside group management */
	struct gc_member *m = gc__member_find(g, a->member_id);
	if (a->instance_id.len >= 0) {
		struct gc_member *si = NULL;
		for (struct gc_member *x = g->members; x; x = x->next)
			if (x->instance_id.len >= 0 && gc__str_eq(&x->instance_id, a->instance_id))
				si = x;
		if (si && si != m)
			return GC_ERR_FENCED_INSTANCE_ID;
	}
	if (g->state == GS_COMPLETING && m)
		return GC_ERR_REBALANCE_IN_PROGRESS;
	if (!m)
		return GC_ERR_UNKNOWN_MEMBER;
	if (a->generation_id != g->generation)
		return GC_ERR_ILLEGAL_GENERATION;
	return 0;
}

void gc_commit(struct group_coordinator *gc, const struct gc_commit_args *a, gc_done_cb cb,
               void *ctx, struct gc_op **handle)
{
	struct group *g = NULL;
	int err = commit_check(gc, a, &g);
	if (err) {
		cb(ctx, err);
		return;
	}
	int64_t now = clock_now_ms();
	struct gc_op *op = gc__op_new(gc, OP_WRITE, g);
	op->cb.done = cb;
	op->ctx = ctx;
	op->on_durable = commit_durable;
	op->parts = gc__alloc(gc, sizeof(*op->parts) * (size_t)(a->nparts ? a->nparts : 1));
	struct gcrec_batch b;
	gcrec_batch_init(&b);
	struct buf kb = BUF_INIT, vb = BUF_INIT;
	for (int i = 0; i < a->nparts; i++) {
		struct gc_commit_part *p = &a->parts[i];
		if (p->err)
			continue;
		if (p->metadata.len > GC_MAX_OFFSET_METADATA) {
			p->err = GC_ERR_OFFSET_METADATA_TOO_LARGE;
			continue;
		}
		struct gc_pending_offset *po = &op->parts[op->nparts++];
		po->topic.len = po->metadata.len = -1;
		gc__str_set(gc, &po->topic, p->topic);
		gc__str_set(gc, &po->metadata, p->metadata.len >= 0 ? p->metadata : kstr_c(""));
		po->partition = p->partition;
		po->offset = p->offset;
		po->leader_epoch = p->leader_epoch;
		po->commit_ts = now;
		po->expire_ts = a->retention_ms >= 0 ? now + a->retention_ms : -1;
		struct gcrec_offset v = {0,
		                         po->offset,
		                         po->leader_epoch,
		                         gc__k(&po->metadata),
		                         po->commit_ts,
		                         po->expire_ts};
		buf_reset(&kb);
		buf_reset(&vb);
		struct wr w;
		wr_init(&w, &kb);
		gcrec_offset_key_encode(&w, a->group_id, p->topic, p->partition);
		wr_release(&w);
		wr_init(&w, &vb);
		gcrec_offset_value_encode(&w, &v);
		wr_release(&w);
		gcrec_batch_add(&b, kb.data, kb.len, vb.data, (int32_t)vb.len);
	}
	buf_release(&kb);
	buf_release(&vb);
	if (b.count == 0) {
		gcrec_batch_release(&b);
		gc__op_free(op);
		cb(ctx, GC_OK);
		return;
	}
	if (handle)
		*handle = op;
	gc__write(gc, g, op, &b);
	gcrec_batch_release(&b);
}

/* ---- OffsetFetch ---- */

int gc_offset_get(struct group_coordinator *gc, struct kstr group_id, struct kstr topic,
                  int32_t partition, struct gc_offset_info *out)
{
	struct group *g = gc__group_find(gc, group_id);
	struct gc_offset *o = g ? gc__offset_find(g, topic, partition) : NULL;
	if (!o)
		return ERR_NOT_FOUND;
	out->topic = gc__k(&o->topic);
	out->partition = o->partition;
	out->offset = o->offset;
	out->leader_epoch = o->leader_epoch;
	out->metadata = gc__k(&o->metadata);
	return 0;
}

static int info_cmp(const void *a, const void *b)
{
	const struct gc_offset_info *x = a, *y = b;
	int32_t n = x->topic.len < y->topic.len ? x->topic.len : y->topic.len;
	int c = memcmp(x->topic.ptr, y->topic.ptr, (size_t)n);
	if (c)
		return c;
	if (x->topic.len != y->topic.len)
		return x->topic.len < y->topic.len ? -1 : 1;
	return x->partition < y->partition ? -1 : x->partition > y->partition;
}

int gc_offsets_all(struct group_coordinator *gc, struct kstr group_id, struct arena *a,
                   struct gc_offset_info **out)
{
	struct group *g = gc__group_find(gc, group_id);
	*out = NULL;
	if (!g || !g->noffsets)
		return 0;
	struct gc_offset_info *v = arena_alloc(a, sizeof(*v) * (size_t)g->noffsets);
	if (!v)
		return 0;
	int n = 0;
	for (int32_t i = 0; i < g->nobuckets; i++) {
		for (struct gc_offset *o = g->obuckets[i]; o; o = o->next, n++) {
			v[n].topic = gc__k(&o->topic);
			v[n].partition = o->partition;
			v[n].offset = o->offset;
			v[n].leader_epoch = o->leader_epoch;
			v[n].metadata = gc__k(&o->metadata);
		}
	}
	qsort(v, (size_t)n, sizeof(*v), info_cmp);
	*out = v;
	return n;
}

/* ---- OffsetDelete and DeleteGroups ---- */

static void tombstones_durable(struct gc_op *op, int err)
{
	struct group *g = op->g;
	if (!err && !g->removed) {
		for (int i = 0; i < op->nparts; i++)
			gc__offset_delete(g, gc__k(&op->parts[i].topic), op->parts[i].partition);
		if (op->generation == -2) /* the whole group */
			gc__group_remove(g->gc, g);
	}
	if (!op->cancelled && op->cb.done)
		op->cb.done(op->ctx, err ? GC_ERR_STORAGE : GC_OK);
}

static void add_offset_tombstone(struct gc_op *op, struct gcrec_batch *b, struct group *g,
                                 struct kstr topic, int32_t partition)
{
	struct gc_pending_offset *po = &op->parts[op->nparts++];
	po->topic.len = po->metadata.len = -1;
	gc__str_set(g->gc, &po->topic, topic);
	po->partition = partition;
	po->tombstone = true;
	struct buf kb = BUF_INIT;
	struct wr w;
	wr_init(&w, &kb);
	gcrec_offset_key_encode(&w, gc__k(&g->id), topic, partition);
	wr_release(&w);
	gcrec_batch_add(b, kb.data, kb.len, NULL, -1);
	buf_release(&kb);
}

/* Whether a member of a consumer group subscribes to topic (from its ConsumerProtocolSubscription).
 */
static bool group_subscribes(struct group *g, struct kstr topic)
{
	if (!gc__str_eq(&g->protocol_type, kstr_c("consumer")) || g->protocol.len < 0)
		return false;
	struct arena a;
	arena_init(&a);
	bool found = false;
	for (struct gc_member *m = g->members; m && !found; m = m->next) {
		for (int k = 0; k < m->nprotocols && !found; k++) {
			if (!gc__str_eq(&m->protocols[k].name, gc__k(&g->protocol)))
				continue;
			struct rd r;
			rd_init(&r, m->protocols[k].meta, (size_t)m->protocols[k].meta_len);
			int16_t v = rd_i16(&r);
			struct consumer_protocol_subscription s;
			consumer_protocol_subscription_init(&s);
			if (r.err || v < 0 ||
			    consumer_protocol_subscription_decode(&r, v > 3 ? 3 : v, &s, &a))
				continue;
			for (int32_t i = 0; i < s.n_topics && !found; i++)
				found = s.topics[i].len == topic.len &&
				        !memcmp(s.topics[i].ptr, topic.ptr, (size_t)topic.len);
		}
	}
	arena_release(&a);
	return found;
}

void gc_offset_delete(struct group_coordinator *gc, struct kstr group_id,
                      struct gc_offset_delete_part *parts, int nparts, gc_done_cb cb, void *ctx,
                      struct gc_op **handle)
{
	if (group_id.len <= 0) {
		cb(ctx, GC_ERR_INVALID_GROUP_ID);
		return;
	}
	if (!gc->loaded) {
		cb(ctx, GC_ERR_LOADING);
		return;
	}
	struct group *g = gc__group_find(gc, group_id);
	if (!g) {
		cb(ctx, GC_ERR_GROUP_ID_NOT_FOUND);
		return;
	}
	bool consumer = gc__str_eq(&g->protocol_type, kstr_c("consumer"));
	if (g->state != GS_EMPTY && !consumer) {
		cb(ctx, GC_ERR_NON_EMPTY_GROUP);
		return;
	}
	struct gc_op *op = gc__op_new(gc, OP_WRITE, g);
	op->cb.done = cb;
	op->ctx = ctx;
	op->on_durable = tombstones_durable;
	op->parts = gc__alloc(gc, sizeof(*op->parts) * (size_t)(nparts ? nparts : 1));
	struct gcrec_batch b;
	gcrec_batch_init(&b);
	for (int i = 0; i < nparts; i++) {
		parts[i].err = 0;
		if (g->state != GS_EMPTY && group_subscribes(g, parts[i].topic)) {
			parts[i].err = GC_ERR_SUBSCRIBED_TO_TOPIC;
			continue;
		}
		if (gc__offset_find(g, parts[i].topic, parts[i].partition))
			add_offset_tombstone(op, &b, g, parts[i].topic, parts[i].partition);
	}
	if (b.count == 0) {
		gcrec_batch_release(&b);
		gc__op_free(op);
		cb(ctx, GC_OK);
		return;
	}
	if (handle)
		*handle = op;
	gc__write(gc, g, op, &b);
	gcrec_batch_release(&b);
}

void gc_delete_group(struct group_coordinator *gc, struct kstr group_id, gc_done_cb cb, void *ctx,
                     struct gc_op **handle)
{
	if (group_id.len <= 0) {
		cb(ctx, GC_ERR_INVALID_GROUP_ID);
		return;
	}
	if (!gc->loaded) {
		cb(ctx, GC_ERR_LOADING);
		return;
	}
	if (gc_ensure_topic(gc)) {
		cb(ctx, GC_ERR_NOT_AVAILABLE);
		return;
	}
	struct group *g = gc__group_find(gc, group_id);
	if (!g) {
		cb(ctx, GC_ERR_GROUP_ID_NOT_FOUND);
		return;
	}
	if (g->state != GS_EMPTY || g->nmembers) {
		cb(ctx, GC_ERR_NON_EMPTY_GROUP);
		return;
	}
	struct gc_op *op = gc__op_new(gc, OP_WRITE, g);
	op->cb.done = cb;
	op->ctx = ctx;
	op->on_durable = tombstones_durable;
	op->generation = -2;
	op->parts = gc__alloc(gc, sizeof(*op->parts) * (size_t)(g->noffsets ? g->noffsets : 1));
	struct gcrec_batch b;
	gcrec_batch_init(&b);
	for (int32_t i = 0; i < g->nobuckets; i++)
		for (struct gc_offset *o = g->obuckets[i]; o; o = o->next)
			add_offset_tombstone(op, &b, g, gc__k(&o->topic), o->partition);
	struct buf kb = BUF_INIT;
	struct wr w;
	wr_init(&w, &kb);
	gcrec_group_key_encode(&w, gc__k(&g->id));
	wr_release(&w);
	gcrec_batch_add(&b, kb.data, kb.len, NULL, -1);
	buf_release(&kb);
	if (handle)
		*handle = op;
	LOG_INFO("deleting group %s (%d offset(s))", g->id.p, g->noffsets);
	gc__write(gc, g, op, &b);
	gcrec_batch_release(&b);
}

/* ---- ListGroups, DescribeGroups ---- */

void gc_groups_foreach(struct group_coordinator *gc,
                       void (*fn)(void *ctx, const struct gc_group_info *g), void *ctx)
{
	for (int32_t i = 0; i < gc->nbuckets; i++) {
		for (struct group *g = gc->buckets[i]; g; g = g->hnext) {
			struct gc_group_info info;
			info.group_id = gc__k(&g->id);
			info.protocol_type =
			    g->protocol_type.len >= 0 ? gc__k(&g->protocol_type) : kstr_c("");
			info.state = gc__state_name(g->state);
			fn(ctx, &info);
		}
	}
}

int gc_describe(struct group_coordinator *gc, struct kstr group_id, struct arena *a,
                struct gc_group_desc *out)
{
	memset(out, 0, sizeof(*out));
	out->group_id = group_id;
	out->state = "Dead";
	out->protocol_type = kstr_c("");
	out->protocol = kstr_c("");
	if (group_id.len < 0)
		return GC_ERR_INVALID_GROUP_ID;
	if (!gc->loaded)
		return GC_ERR_LOADING;
	struct group *g = gc__group_find(gc, group_id);
	if (!g)
		return GC_OK;
	bool stable = g->state == GS_STABLE;
	out->state = gc__state_name(g->state);
	if (g->protocol_type.len >= 0)
		out->protocol_type = gc__k(&g->protocol_type);
	if (stable && g->protocol.len >= 0)
		out->protocol = gc__k(&g->protocol);
	out->members =
	    arena_alloc(a, sizeof(*out->members) * (size_t)(g->nmembers ? g->nmembers : 1));
	if (!out->members)
		return GC_ERR_INVALID_REQUEST;
	int i = 0;
	for (struct gc_member *m = g->members; m; m = m->next, i++) {
		struct gc_member_desc *d = &out->members[i];
		d->member_id = gc__k(&m->id);
		d->instance_id = gc__k(&m->instance_id);
		d->client_id = gc__k(&m->client_id);
		d->client_host = gc__k(&m->client_host);
		d->metadata.ptr = NULL;
		d->metadata.len = 0;
		d->assignment.ptr = NULL;
		d->assignment.len = 0;
		if (stable) {
			for (int k = 0; k < m->nprotocols; k++) {
				if (gc__str_eq(&m->protocols[k].name, gc__k(&g->protocol))) {
					d->metadata.ptr = m->protocols[k].meta;
					d->metadata.len = m->protocols[k].meta_len;
				}
			}
			d->assignment.ptr = m->assignment;
			d->assignment.len = m->assignment_len;
		}
	}
	out->nmembers = i;
	return GC_OK;
}
