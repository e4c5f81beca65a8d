/*
 * membership.c: the classic group protocol — JoinGroup, SyncGroup,
 * Heartbeat, LeaveGroup — as a state machine per group. The coordinator
 * only relays protocol metadata and assignments as opaque bytes: eager and
 * cooperative assignors are alike to it.
 *
 * States (Kafka's names, shown by DescribeGroups and ListGroups):
 *
 *   Empty --join--> PreparingRebalance
 *   PreparingRebalance --all members rejoined, or rebalance timeout, or
 *       (new group) initial delay over--> CompletingRebalance
 *       (generation + 1, protocol chosen, leader chosen, every parked join
 *       answered; the leader gets the members and their metadata)
 *   PreparingRebalance --no member left--> Empty (generation + 1)
 *   CompletingRebalance --leader's SyncGroup durable--> Stable (every parked
 *       sync answered with its member's assignment)
 *   CompletingRebalance / Stable --new member, member left or expired,
 *       leader rejoined, metadata changed--> PreparingRebalance (parked
 *       syncs get REBALANCE_IN_PROGRESS; heartbeats now answer it too)
 *   any --DeleteGroups or retention with no members--> Dead (gone)
 *
 * Timers: one session timer per member (reset by every join, sync and
 * heartbeat; a member awaiting a join or sync response is kept alive, as in
 * Kafka); one join timer per group (the rebalance timeout, the largest of the
 * members'; for a new group, group.initial.rebalance.delay.ms, extended by
 * the same delay for each new member up to the rebalance timeout). Members
 * that have not rejoined when the join timer fires are removed.
 *
 * New members: JoinGroup v4+ without a member id gets MEMBER_ID_REQUIRED and
 * an id, kept as pending for a session timeout; older versions get the id in
 * their (delayed) join response. Static members (group.instance.id) skip
 * that step; a join with a known instance id and no member id replaces the
 * old member (whose parked requests get FENCED_INSTANCE_ID) and, in Stable
 * with unchanged metadata, gets the current generation back without a
 * rebalance — it then syncs and gets its old assignment back. A restarting
 * static leader also gets the member list (as Kafka before KIP-814 does); the
 * assignment it computes is ignored, since SyncGroup in Stable returns what
 * is stored.
 *
 * Left to others: persistence and placement (coordinator.c), offsets and
 * admin views (offsets.c). Member lookups are linear in the group size.
 */
#include <string.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/logging.h"
#include "group/group_int.h"

static void member_session_expired(struct loop_timer *t);
static void prepare_rebalance(struct group *g, const char *why);
static void try_complete_join(struct group *g);

static int64_t mono(struct group_coordinator *gc)
{
	return loop_now_ms(gc->loop);
}

/* ---- protocol selection ---- */

static bool kstr_same(struct kstr a, struct kstr b)
{
	return a.len == b.len && (a.len <= 0 || memcmp(a.ptr, b.ptr, (size_t)a.len) == 0);
}

static int find_name(const struct kstr *list, int n, struct kstr name)
{
	for (int i = 0; i < n; i++)
		if (kstr_same(list[i], name))
			return i;
	return -1;
}

int gc__select_protocol(int nmembers, const struct kstr *const *names, const int *counts)
{
	if (nmembers <= 0)
		return -1;
	int best = -1, best_votes = -1;
	for (int c = 0; c < counts[0]; c++) {
		struct kstr cand = names[0][c];
		bool everywhere = true;
		for (int i = 1; i < nmembers && everywhere; i++)
			everywhere = find_name(names[i], counts[i], cand) >= 0;
		if (!everywhere || find_name(names[0], c, cand) >= 0)
			continue;
		/* Votes: members whose first common protocol is cand. */
		int votes = 0;
		for (int i = 0; i < nmembers; i++) {
			for (int k = 0; k < counts[i]; k++) {
				struct kstr p = names[i][k];
				bool common = true;
				for (int j = 0; j < nmembers && common; j++)
					common = find_name(names[j], counts[j], p) >= 0;
				if (!common)
					continue;
				if (kstr_same(p, cand))
					votes++;
				break;
			}
		}
		if (votes > best_votes) {
			best = c;
			best_votes = votes;
		}
	}
	return best;
}

/* ---- members ---- */

struct gc_member *gc__member_find(struct group *g, struct kstr id)
{
	for (struct gc_member *m = g->members; m; m = m->next)
		if (gc__str_eq(&m->id, id))
			return m;
	return NULL;
}

static struct gc_member *member_by_instance(struct group *g, struct kstr instance)
{
	if (instance.len < 0)
		return NULL;
	for (struct gc_member *m = g->members; m; m = m->next)
		if (m->instance_id.len >= 0 && gc__str_eq(&m->instance_id, instance))
			return m;
	return NULL;
}

static void protocols_clear(struct group_coordinator *gc, struct gc_member *m)
{
	for (int i = 0; i < m->nprotocols; i++) {
		gc__str_clear(gc, &m->protocols[i].name);
		gc__free(gc, m->protocols[i].meta);
	}
	gc__free(gc, m->protocols);
	m->protocols = NULL;
	m->nprotocols = 0;
}

static void protocols_set(struct group_coordinator *gc, struct gc_member *m,
                          const struct gc_protocol *p, int n)
{
	protocols_clear(gc, m);
	m->protocols = gc__alloc(gc, sizeof(*m->protocols) * (size_t)(n ? n : 1));
	for (int i = 0; i < n; i++) {
		m->protocols[i].name.len = -1;
		gc__str_set(gc, &m->protocols[i].name, p[i].name);
		int32_t len = p[i].metadata.len > 0 ? p[i].metadata.len : 0;
		m->protocols[i].meta = gc__alloc(gc, (size_t)len);
		if (len)
			memcpy(m->protocols[i].meta, p[i].metadata.ptr, (size_t)len);
		m->protocols[i].meta_len = len;
	}
	m->nprotocols = n;
}

static bool protocols_equal(const struct gc_member *m, const struct gc_protocol *p, int n)
{
	if (m->nprotocols != n)
		return false;
	for (int i = 0; i < n; i++) {
		int32_t len = p[i].metadata.len > 0 ? p[i].metadata.len : 0;
		if (!gc__str_eq(&m->protocols[i].name, p[i].name) ||
		    m->protocols[i].meta_len != len ||
		    (len && memcmp(m->protocols[i].meta, p[i].metadata.ptr, (size_t)len)))
			return false;
	}
	return true;
}

static void assignment_set(struct group_coordinator *gc, struct gc_member *m, struct kbytes a)
{
	gc__free(gc, m->assignment);
	m->assignment = NULL;
	m->assignment_len = 0;
	if (a.len > 0) {
		m->assignment = gc__alloc(gc, (size_t)a.len);
		memcpy(m->assignment, a.ptr, (size_t)a.len);
		m->assignment_len = a.len;
	}
}

static struct gc_member *member_new(struct group *g, struct kstr id, struct kstr instance_id,
                                    struct kstr client_id, struct kstr client_host,
                                    int32_t session_ms, int32_t rebalance_ms)
{
	struct group_coordinator *gc = g->gc;
	struct gc_member *m = gc__alloc(gc, sizeof(*m));
	m->g = g;
	m->id.len = m->instance_id.len = m->client_id.len = m->client_host.len = -1;
	gc__str_set(gc, &m->id, id);
	gc__str_set(gc, &m->instance_id, instance_id);
	gc__str_set(gc, &m->client_id, client_id.len >= 0 ? client_id : kstr_c(""));
	gc__str_set(gc, &m->client_host, client_host.len >= 0 ? client_host : kstr_c(""));
	m->session_timeout_ms = session_ms;
	m->rebalance_timeout_ms = rebalance_ms;
	loop_timer_init(&m->session, member_session_expired);
	/* Join order matters: the first member becomes leader when none is. */
	struct gc_member **pp = &g->members;
	while (*pp)
		pp = &(*pp)->next;
	*pp = m;
	g->nmembers++;
	gc->nmembers_total++;
	return m;
}

static void session_reset(struct gc_member *m)
{
	loop_timer_start(m->g->gc->loop, &m->session, m->session_timeout_ms);
}

struct gc_member *gc__member_load(struct group *g, const struct gcrec_member *rm,
                                  struct kstr protocol)
{
	struct gc_member *m =
	    member_new(g, rm->member_id, rm->instance_id, rm->client_id, rm->client_host,
	               rm->session_timeout_ms, rm->rebalance_timeout_ms);
	if (protocol.len >= 0) {
		struct gc_protocol p = {protocol, rm->subscription};
		protocols_set(g->gc, m, &p, 1);
	}
	assignment_set(g->gc, m, rm->assignment);
	session_reset(m);
	return m;
}

/* Answer and free parked ops. The op is detached from its member first. */
static void join_answer(struct gc_op *op, const struct gc_join_result *r)
{
	if (!op->cancelled)
		op->cb.join(op->ctx, r);
	gc__op_free(op);
}

static void join_answer_err(struct gc_op *op, int err, struct kstr member_id)
{
	struct gc_join_result r;
	memset(&r, 0, sizeof(r));
	r.err = err;
	r.generation_id = -1;
	r.protocol_type = kstr_null();
	r.protocol_name = kstr_null();
	r.leader = kstr_c("");
	r.member_id = member_id;
	join_answer(op, &r);
}

static void sync_answer(struct gc_op *op, int err, struct group *g, struct gc_member *m)
{
	struct gc_sync_result r;
	memset(&r, 0, sizeof(r));
	r.err = err;
	r.protocol_type = g ? gc__k(&g->protocol_type) : kstr_null();
	r.protocol_name = g ? gc__k(&g->protocol) : kstr_null();
	if (!err && m) {
		r.assignment.ptr = m->assignment;
		r.assignment.len = m->assignment_len;
	}
	if (!op->cancelled)
		op->cb.sync(op->ctx, &r);
	gc__op_free(op);
}

static void member_fail_ops(struct gc_member *m, int err)
{
	if (m->join_op) {
		struct gc_op *op = m->join_op;
		m->join_op = NULL;
		join_answer_err(op, err, gc__k(&m->id));
	}
	if (m->sync_op) {
		struct gc_op *op = m->sync_op;
		m->sync_op = NULL;
		sync_answer(op, err, NULL, NULL);
	}
}

void gc__member_free(struct group *g, struct gc_member *m)
{
	struct group_coordinator *gc = g->gc;
	loop_timer_stop(gc->loop, &m->session);
	if (m->join_op)
		gc__op_free(m->join_op);
	if (m->sync_op)
		gc__op_free(m->sync_op);
	protocols_clear(gc, m);
	gc__free(gc, m->assignment);
	gc__str_clear(gc, &m->id);
	gc__str_clear(gc, &m->instance_id);
	gc__str_clear(gc, &m->client_id);
	gc__str_clear(gc, &m->client_host);
	gc__free(gc, m);
	gc->nmembers_total--;
}

void gc__members_cancel_all(struct group *g)
{
	for (struct gc_member *m = g->members; m; m = m->next) {
		if (m->join_op)
			gc__op_free(m->join_op);
		if (m->sync_op)
			gc__op_free(m->sync_op);
		m->join_op = m->sync_op = NULL;
	}
}

/* Unlink and free a member without touching the group state. */
static void member_drop(struct group *g, struct gc_member *m)
{
	for (struct gc_member **pp = &g->members; *pp; pp = &(*pp)->next) {
		if (*pp == m) {
			*pp = m->next;
			break;
		}
	}
	g->nmembers--;
	if (g->leader.len >= 0 && gc__str_eq(&g->leader, gc__k(&m->id)))
		gc__str_clear(g->gc, &g->leader);
	gc__member_free(g, m);
}

static void go_empty(struct group *g)
{
	struct group_coordinator *gc = g->gc;
	loop_timer_stop(gc->loop, &g->join_timer);
	g->initial_delay = false;
	g->generation++;
	g->state = GS_EMPTY;
	g->state_ts = clock_now_ms();
	gc__str_clear(gc, &g->protocol);
	gc__str_clear(gc, &g->leader);
	gc__group_store_async(g);
}

/* A member leaves (LeaveGroup, session expiry): the group rebalances. */
static void member_remove(struct group *g, struct gc_member *m, const char *why)
{
	LOG_INFO("group %s: member %s removed (%s)", g->id.p, m->id.p, why);
	member_fail_ops(m, GC_ERR_UNKNOWN_MEMBER);
	member_drop(g, m);
	switch (g->state) {
	case GS_STABLE:
	case GS_COMPLETING:
		prepare_rebalance(g, why);
		break;
	case GS_PREPARING:
		if (g->nmembers == 0)
			go_empty(g);
		else
			try_complete_join(g);
		break;
	default:
		break;
	}
}

static void member_session_expired(struct loop_timer *t)
{
	struct gc_member *m = (struct gc_member *)((char *)t - offsetof(struct gc_member, session));
	if (m->join_op || m->sync_op) {
		session_reset(m); /* awaiting a response: kept alive */
		return;
	}
	member_remove(m->g, m, "session timeout");
}

/* ---- pending member ids (MEMBER_ID_REQUIRED) ---- */

static void pending_prune(struct group *g)
{
	int64_t now = mono(g->gc);
	for (struct gc_pending **pp = &g->pending; *pp;) {
		struct gc_pending *p = *pp;
		if (p->expire_mono_ms <= now || g->npending > GC_MAX_PENDING_MEMBERS) {
			*pp = p->next;
			gc__str_clear(g->gc, &p->id);
			gc__free(g->gc, p);
			g->npending--;
		} else {
			pp = &p->next;
		}
	}
}

static bool pending_take(struct group *g, struct kstr id)
{
	pending_prune(g);
	for (struct gc_pending **pp = &g->pending; *pp; pp = &(*pp)->next) {
		struct gc_pending *p = *pp;
		if (gc__str_eq(&p->id, id)) {
			*pp = p->next;
			gc__str_clear(g->gc, &p->id);
			gc__free(g->gc, p);
			g->npending--;
			return true;
		}
	}
	return false;
}

static void pending_add(struct group *g, struct kstr id, int32_t session_ms)
{
	struct gc_pending *p = gc__alloc(g->gc, sizeof(*p));
	p->id.len = -1;
	gc__str_set(g->gc, &p->id, id);
	p->expire_mono_ms = mono(g->gc) + session_ms;
	p->next = g->pending;
	g->pending = p;
	g->npending++;
	pending_prune(g);
}

/* ---- rebalance ---- */

static int32_t max_rebalance_timeout(struct group *g)
{
	int32_t t = 0;
	for (struct gc_member *m = g->members; m; m = m->next)
		if (m->rebalance_timeout_ms > t)
			t = m->rebalance_timeout_ms;
	return t;
}

static void prepare_rebalance(struct group *g, const char *why)
{
	struct group_coordinator *gc = g->gc;
	if (g->state == GS_COMPLETING) {
		/* The assignment of this generation will never come: syncing members must rejoin.
		 */
		for (struct gc_member *m = g->members; m; m = m->next) {
			struct kbytes none = {NULL, 0};
			assignment_set(gc, m, none);
			if (m->sync_op) {
				struct gc_op *op = m->sync_op;
				m->sync_op = NULL;
				sync_answer(op, GC_ERR_REBALANCE_IN_PROGRESS, g, NULL);
			}
		}
	}
	if (g->nmembers == 0) {
		go_empty(g);
		return;
	}
	bool initial = g->state == GS_EMPTY && gc->cfg->group_initial_rebalance_delay_ms > 0;
	LOG_INFO("group %s: preparing rebalance (generation %d): %s", g->id.p, g->generation, why);
	g->state = GS_PREPARING;
	g->state_ts = clock_now_ms();
	int64_t now = mono(gc);
	g->join_started_mono = now;
	int64_t rt = max_rebalance_timeout(g);
	if (initial) {
		g->initial_delay = true;
		int64_t d = gc->cfg->group_initial_rebalance_delay_ms;
		g->join_deadline_mono = now + (d < rt ? d : rt);
	} else {
		g->initial_delay = false;
		g->join_deadline_mono = now + rt;
	}
	loop_timer_start(gc->loop, &g->join_timer, g->join_deadline_mono - now);
}

/* A new member arrived while the new-group delay runs: extend it, up to the rebalance timeout. */
static void extend_initial_delay(struct group *g)
{
	struct group_coordinator *gc = g->gc;
	int64_t now = mono(gc);
	int64_t limit = g->join_started_mono + max_rebalance_timeout(g);
	int64_t want = now + gc->cfg->group_initial_rebalance_delay_ms;
	if (want > limit)
		want = limit;
	if (want > g->join_deadline_mono) {
		g->join_deadline_mono = want;
		loop_timer_start(gc->loop, &g->join_timer, want - now);
	}
}

static void complete_join(struct group *g);

static void try_complete_join(struct group *g)
{
	if (g->state != GS_PREPARING || g->initial_delay)
		return;
	pending_prune(g);
	if (g->npending > 0)
		return;
	for (struct gc_member *m = g->members; m; m = m->next)
		if (!m->join_op)
			return;
	complete_join(g);
}

void gc__join_timer_expired(struct group *g)
{
	if (g->state != GS_PREPARING)
		return;
	g->initial_delay = false;
	complete_join(g);
}

static bool select_protocol(struct group *g)
{
	struct group_coordinator *gc = g->gc;
	int n = g->nmembers;
	const struct kstr **names = gc__alloc(gc, sizeof(*names) * (size_t)n);
	int *counts = gc__alloc(gc, sizeof(*counts) * (size_t)n);
	struct kstr *all = NULL;
	int total = 0, i = 0;
	for (struct gc_member *m = g->members; m; m = m->next)
		total += m->nprotocols;
	all = gc__alloc(gc, sizeof(*all) * (size_t)(total ? total : 1));
	int pos = 0;
	for (struct gc_member *m = g->members; m; m = m->next, i++) {
		names[i] = &all[pos];
		counts[i] = m->nprotocols;
		for (int k = 0; k < m->nprotocols; k++)
			all[pos++] = gc__k(&m->protocols[k].name);
	}
	int best = gc__select_protocol(n, names, counts);
	if (best >= 0)
		gc__str_set(gc, &g->protocol, names[0][best]);
	gc__free(gc, all);
	gc__free(gc, names);
	gc__free(gc, counts);
	return best >= 0;
}

static struct kbytes member_metadata(const struct gc_member *m, const struct gc_kstr *protocol)
{
	struct kbytes b = {NULL, 0};
	for (int k = 0; k < m->nprotocols; k++) {
		if (protocol->len >= 0 && gc__str_eq(&m->protocols[k].name, gc__k(protocol))) {
			b.ptr = m->protocols[k].meta;
			b.len = m->protocols[k].meta_len;
		}
	}
	return b;
}

static bool is_leader(const struct group *g, const struct gc_member *m)
{
	return g->leader.len >= 0 && gc__str_eq(&g->leader, gc__k(&m->id));
}

/* The join response of member m in the current generation (members only for the leader). */
static void join_result_fill(struct group *g, struct gc_member *m, struct gc_join_result *r,
                             struct gc_join_member *members)
{
	memset(r, 0, sizeof(*r));
	r->err = GC_OK;
	r->generation_id = g->generation;
	r->protocol_type = gc__k(&g->protocol_type);
	r->protocol_name = gc__k(&g->protocol);
	r->leader = g->leader.len >= 0 ? gc__k(&g->leader) : kstr_c("");
	r->member_id = gc__k(&m->id);
	if (is_leader(g, m) && members) {
		int i = 0;
		for (struct gc_member *x = g->members; x; x = x->next, i++) {
			members[i].member_id = gc__k(&x->id);
			members[i].instance_id = gc__k(&x->instance_id);
			members[i].metadata = member_metadata(x, &g->protocol);
		}
		r->nmembers = i;
		r->members = members;
	}
}

static void complete_join(struct group *g)
{
	struct group_coordinator *gc = g->gc;
	loop_timer_stop(gc->loop, &g->join_timer);
	g->initial_delay = false;
	/* Members that did not rejoin in time are out. */
	for (struct gc_member *m = g->members, *next; m; m = next) {
		next = m->next;
		if (!m->join_op) {
			LOG_INFO("group %s: member %s did not rejoin in time; removed", g->id.p,
			         m->id.p);
			member_fail_ops(m, GC_ERR_UNKNOWN_MEMBER);
			member_drop(g, m);
		}
	}
	if (g->nmembers == 0) {
		go_empty(g);
		return;
	}
	gc__str_clear(gc, &g->protocol);
	if (!select_protocol(g)) {
		/* Joins check compatibility, so this means metadata changed under us: start over.
		 */
		for (struct gc_member *m = g->members; m; m = m->next)
			member_fail_ops(m, GC_ERR_INCONSISTENT_PROTOCOL);
		prepare_rebalance(g, "no common protocol");
		return;
	}
	g->generation++;
	g->state = GS_COMPLETING;
	g->state_ts = clock_now_ms();
	if (g->leader.len < 0 || !gc__member_find(g, gc__k(&g->leader)))
		gc__str_set(gc, &g->leader, gc__k(&g->members->id));
	LOG_INFO("group %s: generation %d with %d member(s), protocol %s, leader %s", g->id.p,
	         g->generation, g->nmembers, g->protocol.p, g->leader.p);
	struct gc_join_member *list = gc__alloc(gc, sizeof(*list) * (size_t)g->nmembers);
	/* Detach every parked join first, then answer: callbacks see a consistent group. */
	int n = g->nmembers;
	struct gc_op **ops = gc__alloc(gc, sizeof(*ops) * (size_t)n);
	struct gc_member **who = gc__alloc(gc, sizeof(*who) * (size_t)n);
	int i = 0;
	for (struct gc_member *m = g->members; m; m = m->next, i++) {
		ops[i] = m->join_op;
		who[i] = m;
		m->join_op = NULL;
		m->is_new = false;
		session_reset(m);
	}
	for (i = 0; i < n; i++) {
		struct gc_join_result r;
		join_result_fill(g, who[i], &r, list);
		join_answer(ops[i], &r);
	}
	gc__free(gc, ops);
	gc__free(gc, who);
	gc__free(gc, list);
}

/* ---- JoinGroup ---- */

static bool supports_protocols(struct group *g, const struct gc_join_args *a,
                               const struct gc_member *self)
{
	if (a->protocol_type.len <= 0 || a->nprotocols <= 0)
		return false;
	if (g->nmembers == 0 || (g->nmembers == 1 && self))
		return true;
	if (!gc__str_eq(&g->protocol_type, a->protocol_type))
		return false;
	/* At least one of the new protocols must be supported by every other member. */
	for (int i = 0; i < a->nprotocols; i++) {
		bool all = true;
		for (struct gc_member *m = g->members; m && all; m = m->next) {
			if (m == self)
				continue;
			bool has = false;
			for (int k = 0; k < m->nprotocols && !has; k++)
				has = gc__str_eq(&m->protocols[k].name, a->protocols[i].name);
			all = has;
		}
		if (all)
			return true;
	}
	return false;
}

static void join_reply_now(struct group *g, struct gc_member *m, gc_join_cb cb, void *ctx)
{
	struct group_coordinator *gc = g->gc;
	struct gc_join_member *list =
	    gc__alloc(gc, sizeof(*list) * (size_t)(g->nmembers ? g->nmembers : 1));
	struct gc_join_result r;
	join_result_fill(g, m, &r, list);
	session_reset(m);
	cb(ctx, &r);
	gc__free(gc, list);
}

static void join_reply_err(int err, struct kstr member_id, gc_join_cb cb, void *ctx)
{
	struct gc_join_result r;
	memset(&r, 0, sizeof(r));
	r.err = err;
	r.generation_id = -1;
	r.protocol_type = kstr_null();
	r.protocol_name = kstr_null();
	r.leader = kstr_c("");
	r.member_id = member_id;
	cb(ctx, &r);
}

/* Park a join on m (replacing a stale one). */
static void join_park(struct group *g, struct gc_member *m, gc_join_cb cb, void *ctx,
                      struct gc_op **handle)
{
	if (m->join_op) {
		struct gc_op *old = m->join_op;
		m->join_op = NULL;
		join_answer_err(old, GC_ERR_REBALANCE_IN_PROGRESS, gc__k(&m->id));
	}
	struct gc_op *op = gc__op_new(g->gc, OP_JOIN, NULL);
	op->cb.join = cb;
	op->ctx = ctx;
	op->m = m;
	m->join_op = op;
	if (handle)
		*handle = op;
}

static void member_update(struct gc_member *m, const struct gc_join_args *a)
{
	struct group_coordinator *gc = m->g->gc;
	m->session_timeout_ms = a->session_timeout_ms;
	m->rebalance_timeout_ms = a->rebalance_timeout_ms;
	gc__str_set(gc, &m->client_id, a->client_id.len >= 0 ? a->client_id : kstr_c(""));
	gc__str_set(gc, &m->client_host, a->client_host.len >= 0 ? a->client_host : kstr_c(""));
	if (!protocols_equal(m, a->protocols, a->nprotocols))
		protocols_set(gc, m, a->protocols, a->nprotocols);
}

static void add_member_and_rebalance(struct group *g, struct kstr id, const struct gc_join_args *a,
                                     gc_join_cb cb, void *ctx, struct gc_op **handle)
{
	struct gc_member *m = member_new(g, id, a->instance_id, a->client_id, a->client_host,
	                                 a->session_timeout_ms, a->rebalance_timeout_ms);
	protocols_set(g->gc, m, a->protocols, a->nprotocols);
	m->is_new = true;
	if (g->protocol_type.len < 0)
		gc__str_set(g->gc, &g->protocol_type, a->protocol_type);
	join_park(g, m, cb, ctx, handle);
	if (g->state == GS_PREPARING) {
		if (g->initial_delay)
			extend_initial_delay(g);
	} else {
		prepare_rebalance(g, "new member joined");
	}
	try_complete_join(g);
}

static void update_member_and_rebalance(struct group *g, struct gc_member *m,
                                        const struct gc_join_args *a, gc_join_cb cb, void *ctx,
                                        struct gc_op **handle)
{
	bool changed = !protocols_equal(m, a->protocols, a->nprotocols);
	member_update(m, a);
	switch (g->state) {
	case GS_COMPLETING:
		if (!changed) {
			join_reply_now(g, m, cb, ctx);
			return;
		}
		prepare_rebalance(g, "member metadata changed");
		break;
	case GS_STABLE:
		if (!changed && !is_leader(g, m)) {
			join_reply_now(g, m, cb, ctx);
			return;
		}
		prepare_rebalance(g, changed ? "member metadata changed" : "leader rejoined");
		break;
	default:
		break;
	}
	join_park(g, m, cb, ctx, handle);
	try_complete_join(g);
}

/* A known instance id joins without a member id: the new incarnation replaces the old one. */
static void replace_static_member(struct group *g, struct gc_member *m,
                                  const struct gc_join_args *a, gc_join_cb cb, void *ctx,
                                  struct gc_op **handle)
{
	struct group_coordinator *gc = g->gc;
	char id[512];
	size_t n =
	    gc_member_id_make(id, sizeof(id), a->instance_id.ptr, (size_t)a->instance_id.len);
	struct kstr nid = {id, (int32_t)n};
	LOG_INFO("group %s: static member %.*s rejoined; %s replaced by %s", g->id.p,
	         (int)a->instance_id.len, a->instance_id.ptr, m->id.p, id);
	member_fail_ops(m, GC_ERR_FENCED_INSTANCE_ID);
	bool was_leader = is_leader(g, m);
	gc__str_set(gc, &m->id, nid);
	if (was_leader)
		gc__str_set(gc, &g->leader, nid);
	bool changed = !protocols_equal(m, a->protocols, a->nprotocols);
	member_update(m, a);
	if (g->state == GS_STABLE && !changed) {
		gc__group_store_async(g);
		join_reply_now(g, m, cb, ctx);
		return;
	}
	if (g->state == GS_STABLE || g->state == GS_COMPLETING)
		prepare_rebalance(g, "static member replaced");
	join_park(g, m, cb, ctx, handle);
	try_complete_join(g);
}

static int join_validate(struct group_coordinator *gc, const struct gc_join_args *a)
{
	if (a->group_id.len <= 0)
		return GC_ERR_INVALID_GROUP_ID;
	if (!gc->loaded)
		return GC_ERR_LOADING;
	if (a->session_timeout_ms < gc->cfg->group_min_session_timeout_ms ||
	    a->session_timeout_ms > gc->cfg->group_max_session_timeout_ms)
		return GC_ERR_INVALID_SESSION_TIMEOUT;
	if (a->nprotocols > GC_MAX_PROTOCOLS)
		return GC_ERR_INVALID_REQUEST;
	int64_t total = 0;
	for (int i = 0; i < a->nprotocols; i++)
		total += (a->protocols[i].metadata.len > 0 ? a->protocols[i].metadata.len : 0) +
		         (a->protocols[i].name.len > 0 ? a->protocols[i].name.len : 0);
	if (total > GC_MAX_MEMBER_METADATA)
		return GC_ERR_INVALID_REQUEST;
	if (a->protocol_type.len <= 0 || a->nprotocols <= 0)
		return GC_ERR_INCONSISTENT_PROTOCOL;
	if (gc_ensure_topic(gc))
		return GC_ERR_NOT_AVAILABLE;
	return 0;
}

/* A group created by a join that failed is dropped again. */
static void drop_if_unused(struct group *g)
{
	if (g->state == GS_EMPTY && g->nmembers == 0 && g->noffsets == 0 && g->npending == 0 &&
	    !g->busy && g->generation == 0)
		gc__group_remove(g->gc, g);
}

void gc_join(struct group_coordinator *gc, const struct gc_join_args *a, gc_join_cb cb, void *ctx,
             struct gc_op **handle)
{
	int err = join_validate(gc, a);
	if (err) {
		join_reply_err(err, a->member_id, cb, ctx);
		return;
	}
	bool new_member = a->member_id.len <= 0;
	struct group *g = gc__group_find(gc, a->group_id);
	if (!g) {
		if (!new_member) {
			join_reply_err(GC_ERR_UNKNOWN_MEMBER, a->member_id, cb, ctx);
			return;
		}
		g = gc__group_create(gc, a->group_id);
	}
	struct gc_member *self =
	    new_member ? member_by_instance(g, a->instance_id) : gc__member_find(g, a->member_id);
	if (!supports_protocols(g, a, self)) {
		join_reply_err(GC_ERR_INCONSISTENT_PROTOCOL, a->member_id, cb, ctx);
		drop_if_unused(g);
		return;
	}
	if (new_member) {
		if (self) {
			replace_static_member(g, self, a, cb, ctx, handle);
			return;
		}
		if (g->nmembers >= gc->cfg->group_max_size) {
			join_reply_err(GC_ERR_GROUP_MAX_SIZE, a->member_id, cb, ctx);
			return;
		}
		const char *prefix =
		    a->instance_id.len >= 0 ? a->instance_id.ptr : a->client_id.ptr;
		int32_t plen = a->instance_id.len >= 0 ? a->instance_id.len : a->client_id.len;
		char id[512];
		size_t n = gc_member_id_make(id, sizeof(id), prefix ? prefix : "",
		                             plen > 0 ? (size_t)plen : 0);
		struct kstr nid = {id, (int32_t)n};
		if (a->require_known_member_id && a->instance_id.len < 0) {
			pending_add(g, nid, a->session_timeout_ms);
			join_reply_err(GC_ERR_MEMBER_ID_REQUIRED, nid, cb, ctx);
			return;
		}
		add_member_and_rebalance(g, nid, a, cb, ctx, handle);
		return;
	}
	if (pending_take(g, a->member_id)) {
		if (g->nmembers >= gc->cfg->group_max_size) {
			join_reply_err(GC_ERR_GROUP_MAX_SIZE, a->member_id, cb, ctx);
			return;
		}
		add_member_and_rebalance(g, a->member_id, a, cb, ctx, handle);
		return;
	}
	if (!self) {
		struct gc_member *other = member_by_instance(g, a->instance_id);
		join_reply_err(other ? GC_ERR_FENCED_INSTANCE_ID : GC_ERR_UNKNOWN_MEMBER,
		               a->member_id, cb, ctx);
		return;
	}
	if (a->instance_id.len >= 0 && !gc__str_eq(&self->instance_id, a->instance_id)) {
		join_reply_err(GC_ERR_FENCED_INSTANCE_ID, a->member_id, cb, ctx);
		return;
	}
	update_member_and_rebalance(g, self, a, cb, ctx, handle);
}

/* ---- SyncGroup ---- */

static void sync_written(struct gc_op *op, int err)
{
	struct group *g = op->g;
	g->sync_writing = false;
	if (g->removed || g->state != GS_COMPLETING || g->generation != op->generation)
		return; /* a rebalance started meanwhile; its syncs were answered */
	if (err) {
		LOG_WARN("group %s: storing generation %d failed: %s", g->id.p, g->generation,
		         err_str(err));
		for (struct gc_member *m = g->members; m; m = m->next) {
			struct kbytes none = {NULL, 0};
			assignment_set(g->gc, m, none);
			if (m->sync_op) {
				struct gc_op *s = m->sync_op;
				m->sync_op = NULL;
				sync_answer(s, GC_ERR_NOT_AVAILABLE, g, NULL);
			}
		}
		prepare_rebalance(g, "storing the assignment failed");
		return;
	}
	g->state = GS_STABLE;
	g->state_ts = clock_now_ms();
	LOG_DEBUG("group %s: generation %d stable", g->id.p, g->generation);
	for (struct gc_member *m = g->members; m; m = m->next) {
		if (m->sync_op) {
			struct gc_op *s = m->sync_op;
			m->sync_op = NULL;
			session_reset(m);
			sync_answer(s, GC_OK, g, m);
		}
	}
}

static int sync_check(struct group_coordinator *gc, const struct gc_sync_args *a, struct group **gp,
                      struct gc_member **mp)
{
	if (a->group_id.len <= 0)
		return GC_ERR_INVALID_GROUP_ID;
	if (!gc->loaded)
		return GC_ERR_LOADING;
	struct group *g = gc__group_find(gc, a->group_id);
	if (!g)
		return GC_ERR_UNKNOWN_MEMBER;
	struct gc_member *m = gc__member_find(g, a->member_id);
	if (!m)
		return member_by_instance(g, a->instance_id) ? GC_ERR_FENCED_INSTANCE_ID
		                                             : GC_ERR_UNKNOWN_MEMBER;
	if (a->instance_id.len >= 0 && !gc__str_eq(&m->instance_id, a->instance_id))
		return GC_ERR_FENCED_INSTANCE_ID;
	if (a->generation_id != g->generation)
		return GC_ERR_ILLEGAL_GENERATION;
	if ((a->protocol_type.len >= 0 && !gc__str_eq(&g->protocol_type, a->protocol_type)) ||
	    (a->protocol_name.len >= 0 && !gc__str_eq(&g->protocol, a->protocol_name)))
		return GC_ERR_INCONSISTENT_PROTOCOL;
	*gp = g;
	*mp = m;
	return 0;
}

void gc_sync(struct group_coordinator *gc, const struct gc_sync_args *a, gc_sync_cb cb, void *ctx,
             struct gc_op **handle)
{
	struct group *g = NULL;
	struct gc_member *m = NULL;
	int err = sync_check(gc, a, &g, &m);
	if (!err && g->state == GS_PREPARING)
		err = GC_ERR_REBALANCE_IN_PROGRESS;
	if (!err && g->state == GS_EMPTY)
		err = GC_ERR_UNKNOWN_MEMBER;
	if (err || g->state == GS_STABLE) {
		struct gc_sync_result r;
		memset(&r, 0, sizeof(r));
		r.err = err;
		r.protocol_type = g && !err ? gc__k(&g->protocol_type) : kstr_null();
		r.protocol_name = g && !err ? gc__k(&g->protocol) : kstr_null();
		if (!err) {
			session_reset(m);
			r.assignment.ptr = m->assignment;
			r.assignment.len = m->assignment_len;
		}
		cb(ctx, &r);
		return;
	}
	/* CompletingRebalance: wait for the leader's assignment to be stored. */
	if (is_leader(g, m) && !g->sync_writing) {
		for (int i = 0; i < a->nassignments; i++) {
			if (a->assignments[i].assignment.len > GC_MAX_MEMBER_ASSIGNMENT) {
				struct gc_sync_result r;
				memset(&r, 0, sizeof(r));
				r.err = GC_ERR_INVALID_REQUEST;
				r.protocol_type = r.protocol_name = kstr_null();
				cb(ctx, &r);
				prepare_rebalance(g, "assignment over the size bound");
				return;
			}
		}
	}
	if (m->sync_op) {
		struct gc_op *old = m->sync_op;
		m->sync_op = NULL;
		sync_answer(old, GC_ERR_REBALANCE_IN_PROGRESS, g, NULL);
	}
	struct gc_op *op = gc__op_new(gc, OP_SYNC, NULL);
	op->cb.sync = cb;
	op->ctx = ctx;
	op->m = m;
	m->sync_op = op;
	if (handle)
		*handle = op;
	session_reset(m);
	if (!is_leader(g, m) || g->sync_writing)
		return;
	for (struct gc_member *x = g->members; x; x = x->next) {
		struct kbytes none = {NULL, 0}, mine = none;
		for (int i = 0; i < a->nassignments; i++)
			if (gc__str_eq(&x->id, a->assignments[i].member_id))
				mine = a->assignments[i].assignment;
		assignment_set(gc, x, mine);
	}
	struct gcrec_batch b;
	gcrec_batch_init(&b);
	gc__group_record(g, &b);
	struct gc_op *w = gc__op_new(gc, OP_WRITE, g);
	w->on_durable = sync_written;
	w->generation = g->generation;
	g->sync_writing = true;
	gc__write(gc, g, w, &b);
	gcrec_batch_release(&b);
}

/* ---- Heartbeat, LeaveGroup ---- */

int gc_heartbeat(struct group_coordinator *gc, struct kstr group_id, int32_t generation_id,
                 struct kstr member_id, struct kstr instance_id)
{
	if (group_id.len <= 0)
		return GC_ERR_INVALID_GROUP_ID;
	if (!gc->loaded)
		return GC_ERR_LOADING;
	struct group *g = gc__group_find(gc, group_id);
	if (!g)
		return GC_ERR_UNKNOWN_MEMBER;
	struct gc_member *m = gc__member_find(g, member_id);
	if (!m)
		return member_by_instance(g, instance_id) ? GC_ERR_FENCED_INSTANCE_ID
		                                          : GC_ERR_UNKNOWN_MEMBER;
	if (instance_id.len >= 0 && !gc__str_eq(&m->instance_id, instance_id))
		return GC_ERR_FENCED_INSTANCE_ID;
	if (generation_id != g->generation)
		return GC_ERR_ILLEGAL_GENERATION;
	session_reset(m);
	if (g->state == GS_PREPARING)
		return GC_ERR_REBALANCE_IN_PROGRESS;
	return GC_OK;
}

int gc_leave(struct group_coordinator *gc, struct kstr group_id, struct kstr member_id,
             struct kstr instance_id)
{
	if (group_id.len <= 0)
		return GC_ERR_INVALID_GROUP_ID;
	if (!gc->loaded)
		return GC_ERR_LOADING;
	struct group *g = gc__group_find(gc, group_id);
	if (!g)
		return GC_ERR_UNKNOWN_MEMBER;
	struct gc_member *m;
	if (member_id.len <= 0 && instance_id.len >= 0) {
		m = member_by_instance(g, instance_id);
		if (!m)
			return GC_ERR_UNKNOWN_MEMBER;
	} else {
		if (pending_take(g, member_id)) {
			try_complete_join(g);
			return GC_OK;
		}
		m = gc__member_find(g, member_id);
		if (!m)
			return member_by_instance(g, instance_id) ? GC_ERR_FENCED_INSTANCE_ID
			                                          : GC_ERR_UNKNOWN_MEMBER;
		if (instance_id.len >= 0 && !gc__str_eq(&m->instance_id, instance_id))
			return GC_ERR_FENCED_INSTANCE_ID;
	}
	member_remove(g, m, "left the group");
	return GC_OK;
}

void gc_cancel(struct gc_op *op)
{
	if (op)
		op->cancelled = true;
}
