/*
 * cli_group.c: `fjord group list|describe|lag|reset-offsets|delete`.
 *
 * describe and lag join three sources: DescribeConsumerGroups (members and
 * their assignments), ListConsumerGroupOffsets (committed offsets, one group
 * per request in librdkafka 2.0.2) and the partitions' high watermarks. Lag is
 * high watermark minus committed offset; a partition with no committed offset
 * shows "-" and counts nothing towards the total.
 *
 * reset-offsets changes committed offsets only when the group has no members
 * (state Empty, or Dead for a group that does not exist yet): committing over
 * a live member would be undone by its next commit. Targets are clamped to
 * [low watermark, high watermark] as Kafka's tool does.
 */
#include "cli/cli_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PARTS 4096

/* One partition row of describe / lag. */
struct grow {
	const char *topic; /* borrowed from the offsets or description result */
	int32_t partition;
	int64_t committed; /* -1: none */
	int64_t high;      /* -1: unknown */
	int member;        /* index in the description, or -1 */
};

struct gview {
	const char *group;
	rd_kafka_event_t *desc_ev; /* may be NULL (lag) */
	const rd_kafka_ConsumerGroupDescription_t *desc;
	rd_kafka_event_t *off_ev;
	struct grow *rows;
	int nrows;
};

static void call_describe_groups(rd_kafka_t *rk, const rd_kafka_AdminOptions_t *o,
                                 rd_kafka_queue_t *q, void *arg)
{
	const char *group = arg;
	rd_kafka_DescribeConsumerGroups(rk, &group, 1, o, q);
}

static void call_list_offsets(rd_kafka_t *rk, const rd_kafka_AdminOptions_t *o, rd_kafka_queue_t *q,
                              void *arg)
{
	rd_kafka_ListConsumerGroupOffsets(rk, (rd_kafka_ListConsumerGroupOffsets_t **)&arg, 1, o,
	                                  q);
}

/* The group's description; 0, or the exit code after printing an error. */
static int describe_group(struct cli *c, rd_kafka_t *rk, const char *group, rd_kafka_event_t **evp,
                          const rd_kafka_ConsumerGroupDescription_t **out)
{
	char what[512];
	snprintf(what, sizeof(what), "cannot describe group '%s'", group);
	rd_kafka_event_t *ev = cli_admin_run(c, rk, RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS, what,
	                                     call_describe_groups, (void *)group);
	if (!ev)
		return CLI_EXIT_FAIL;
	size_t n = 0;
	const rd_kafka_ConsumerGroupDescription_t **ds =
	    rd_kafka_DescribeConsumerGroups_result_groups(
	        rd_kafka_event_DescribeConsumerGroups_result(ev), &n);
	if (n != 1) {
		rd_kafka_event_destroy(ev);
		return cli_fail(c, "%s: the broker sent %zu groups", what, n);
	}
	const rd_kafka_error_t *e = rd_kafka_ConsumerGroupDescription_error(ds[0]);
	if (e) {
		char msg[1024];
		cli_group_error(msg, sizeof(msg), group, rd_kafka_error_code(e),
		                rd_kafka_error_string(e));
		rd_kafka_event_destroy(ev);
		return cli_fail(c, "%s", msg);
	}
	*evp = ev;
	*out = ds[0];
	return 0;
}

/* Committed offsets of every partition the group has committed. */
static int group_offsets(struct cli *c, rd_kafka_t *rk, const char *group, rd_kafka_event_t **evp,
                         const rd_kafka_topic_partition_list_t **out)
{
	char what[512];
	snprintf(what, sizeof(what), "cannot list the offsets of group '%s'", group);
	rd_kafka_ListConsumerGroupOffsets_t *req =
	    rd_kafka_ListConsumerGroupOffsets_new(group, NULL);
	rd_kafka_event_t *ev = cli_admin_run(c, rk, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS,
	                                     what, call_list_offsets, req);
	rd_kafka_ListConsumerGroupOffsets_destroy(req);
	if (!ev)
		return CLI_EXIT_FAIL;
	size_t n = 0;
	const rd_kafka_group_result_t **gs = rd_kafka_ListConsumerGroupOffsets_result_groups(
	    rd_kafka_event_ListConsumerGroupOffsets_result(ev), &n);
	const rd_kafka_error_t *e = n == 1 ? rd_kafka_group_result_error(gs[0]) : NULL;
	if (n != 1 || e) {
		char msg[1024];
		if (e)
			cli_group_error(msg, sizeof(msg), group, rd_kafka_error_code(e),
			                rd_kafka_error_string(e));
		else
			snprintf(msg, sizeof(msg), "%s: the broker sent %zu groups", what, n);
		rd_kafka_event_destroy(ev);
		return cli_fail(c, "%s", msg);
	}
	*evp = ev;
	*out = rd_kafka_group_result_partitions(gs[0]);
	return 0;
}

static int cmp_row(const void *x, const void *y)
{
	const struct grow *a = x, *b = y;
	int r = strcmp(a->topic, b->topic);
	return r ? r : (a->partition > b->partition) - (a->partition < b->partition);
}

static struct grow *find_row(struct gview *v, const char *topic, int32_t partition)
{
	for (int i = 0; i < v->nrows; i++)
		if (v->rows[i].partition == partition && !strcmp(v->rows[i].topic, topic))
			return &v->rows[i];
	return NULL;
}

static void add_row(struct gview *v, int *cap, const char *topic, int32_t partition)
{
	if (v->nrows == *cap) {
		*cap = *cap ? *cap * 2 : 32;
		v->rows = realloc(v->rows, (size_t)*cap * sizeof(*v->rows));
		if (!v->rows) {
			fputs("fjord: out of memory\n", stderr);
			exit(CLI_EXIT_FAIL);
		}
	}
	v->rows[v->nrows++] = (struct grow){topic, partition, -1, -1, -1};
}

/* Gathers description (if with_desc), committed offsets and watermarks. */
static int gview_load(struct cli *c, rd_kafka_t *rk, const char *group, bool with_desc,
                      struct gview *v)
{
	const rd_kafka_topic_partition_list_t *offs = NULL;
	int rc, cap = 0;
	memset(v, 0, sizeof(*v));
	v->group = group;
	if (with_desc && (rc = describe_group(c, rk, group, &v->desc_ev, &v->desc)))
		return rc;
	if ((rc = group_offsets(c, rk, group, &v->off_ev, &offs)))
		return rc;
	for (int i = 0; offs && i < offs->cnt; i++) {
		if (offs->elems[i].err || offs->elems[i].offset < 0)
			continue;
		add_row(v, &cap, offs->elems[i].topic, offs->elems[i].partition);
		v->rows[v->nrows - 1].committed = offs->elems[i].offset;
	}
	int nm = v->desc ? rd_kafka_ConsumerGroupDescription_member_count(v->desc) : 0;
	for (int m = 0; m < nm; m++) {
		const rd_kafka_MemberDescription_t *md =
		    rd_kafka_ConsumerGroupDescription_member(v->desc, (size_t)m);
		const rd_kafka_topic_partition_list_t *as =
		    rd_kafka_MemberAssignment_partitions(rd_kafka_MemberDescription_assignment(md));
		for (int i = 0; as && i < as->cnt; i++) {
			struct grow *r = find_row(v, as->elems[i].topic, as->elems[i].partition);
			if (!r) {
				add_row(v, &cap, as->elems[i].topic, as->elems[i].partition);
				r = &v->rows[v->nrows - 1];
			}
			r->member = m;
		}
	}
	if (v->nrows)
		qsort(v->rows, (size_t)v->nrows, sizeof(*v->rows), cmp_row);
	rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(v->nrows + 1);
	for (int i = 0; i < v->nrows; i++)
		rd_kafka_topic_partition_list_add(list, v->rows[i].topic, v->rows[i].partition);
	int64_t *lows = calloc((size_t)v->nrows + 1, sizeof(int64_t));
	int64_t *highs = calloc((size_t)v->nrows + 1, sizeof(int64_t));
	rd_kafka_resp_err_t err = cli_watermarks(c, rk, list, lows, highs);
	for (int i = 0; i < v->nrows; i++)
		v->rows[i].high = err ? -1 : highs[i];
	free(lows);
	free(highs);
	rd_kafka_topic_partition_list_destroy(list);
	if (err)
		fprintf(stderr, "fjord: warning: group '%s': cannot read high watermarks: %s\n",
		        group, rd_kafka_err2str(err));
	return 0;
}

static void gview_release(struct gview *v)
{
	if (v->desc_ev)
		rd_kafka_event_destroy(v->desc_ev);
	if (v->off_ev)
		rd_kafka_event_destroy(v->off_ev);
	free(v->rows);
}

static const char *or_dash(const char *s)
{
	return s && *s ? s : "-";
}

static int64_t row_lag(const struct grow *r)
{
	if (r->committed < 0 || r->high < 0)
		return -1;
	return r->high > r->committed ? r->high - r->committed : 0;
}

static json_t *json_offset(int64_t v)
{
	return v < 0 ? json_null() : json_integer(v);
}

static void cell_offset(struct cli_table *t, int64_t v)
{
	if (v < 0)
		cli_table_cell(t, "-");
	else
		cli_table_cell(t, "%" PRId64, v);
}

/* The partitions as JSON rows and, unless json, as a table with member columns. */
static json_t *print_rows(struct cli *c, struct gview *v, bool members, int64_t *total)
{
	static const char *const hdr[] = {"TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET",
	                                  "LAG",   "MEMBER-ID", "CLIENT-ID",      "HOST"};
	struct cli_table *t = cli_table_new(members ? 8 : 5, hdr);
	json_t *arr = json_array();
	*total = 0;
	for (int i = 0; i < v->nrows; i++) {
		struct grow *r = &v->rows[i];
		int64_t lag = row_lag(r);
		const rd_kafka_MemberDescription_t *md =
		    r->member >= 0
		        ? rd_kafka_ConsumerGroupDescription_member(v->desc, (size_t)r->member)
		        : NULL;
		if (lag > 0)
			*total += lag;
		cli_table_cell(t, "%s", r->topic);
		cli_table_cell(t, "%d", (int)r->partition);
		cell_offset(t, r->committed);
		cell_offset(t, r->high);
		cell_offset(t, lag);
		json_t *o =
		    json_pack("{s:s,s:i,s:o,s:o,s:o}", "topic", r->topic, "partition",
		              (int)r->partition, "committed", json_offset(r->committed),
		              "high_watermark", json_offset(r->high), "lag", json_offset(lag));
		if (members) {
			cli_table_cell(t, "%s",
			               md ? rd_kafka_MemberDescription_consumer_id(md) : "-");
			cli_table_cell(t, "%s",
			               md ? rd_kafka_MemberDescription_client_id(md) : "-");
			cli_table_cell(t, "%s",
			               md ? or_dash(rd_kafka_MemberDescription_host(md)) : "-");
			json_object_set_new(
			    o, "member_id",
			    md ? json_string(rd_kafka_MemberDescription_consumer_id(md))
			       : json_null());
		}
		json_array_append_new(arr, o);
	}
	if (c->json)
		cli_table_free(t);
	else
		cli_table_print(t, stdout);
	return arr;
}

/* ---- list */

static void call_list_groups(rd_kafka_t *rk, const rd_kafka_AdminOptions_t *o, rd_kafka_queue_t *q,
                             void *arg)
{
	(void)arg;
	rd_kafka_ListConsumerGroups(rk, o, q);
}

static int cmp_listing(const void *x, const void *y)
{
	return strcmp(
	    rd_kafka_ConsumerGroupListing_group_id(*(const rd_kafka_ConsumerGroupListing_t **)x),
	    rd_kafka_ConsumerGroupListing_group_id(*(const rd_kafka_ConsumerGroupListing_t **)y));
}

static const char list_help[] = "usage: fjord group list\n"
                                "Lists consumer groups with their state.\n";

static int group_list(struct cli *c, int argc, char **argv)
{
	struct cli_args a;
	const char *v;
	int k, rc = CLI_EXIT_OK;
	cli_args_init(&a, c, argc, argv, NULL, list_help);
	while ((k = cli_next(&a, &v)) != CLI_ARG_END) {
		if (k == CLI_ARG_EXIT)
			return a.exit_code;
		return cli_usage(c, "unexpected argument '%s'", v);
	}
	rd_kafka_t *rk = cli_new_handle(c, RD_KAFKA_PRODUCER, NULL, NULL, NULL);
	if (!rk)
		return CLI_EXIT_FAIL;
	rd_kafka_event_t *ev = cli_admin_run(c, rk, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS,
	                                     "cannot list groups", call_list_groups, NULL);
	if (!ev) {
		rd_kafka_destroy(rk);
		return CLI_EXIT_FAIL;
	}
	const rd_kafka_ListConsumerGroups_result_t *res =
	    rd_kafka_event_ListConsumerGroups_result(ev);
	size_t n = 0, ne = 0;
	const rd_kafka_ConsumerGroupListing_t **gs =
	    rd_kafka_ListConsumerGroups_result_valid(res, &n);
	const rd_kafka_error_t **errs = rd_kafka_ListConsumerGroups_result_errors(res, &ne);
	for (size_t i = 0; i < ne; i++)
		rc = cli_fail(c, "cannot list groups: %s", rd_kafka_error_string(errs[i]));
	const rd_kafka_ConsumerGroupListing_t **sorted = calloc(n + 1, sizeof(*sorted));
	memcpy(sorted, gs, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_listing);
	struct cli_table *t = cli_table_new(2, (const char *[]){"GROUP", "STATE"});
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		const char *id = rd_kafka_ConsumerGroupListing_group_id(sorted[i]);
		const char *st = rd_kafka_consumer_group_state_name(
		    rd_kafka_ConsumerGroupListing_state(sorted[i]));
		cli_table_cell(t, "%s", id);
		cli_table_cell(t, "%s", st);
		json_array_append_new(
		    arr,
		    json_pack("{s:s,s:s,s:b}", "group", id, "state", st, "simple",
		              rd_kafka_ConsumerGroupListing_is_simple_consumer_group(sorted[i])));
	}
	if (c->json) {
		cli_json_print(arr);
		cli_table_free(t);
	} else {
		json_decref(arr);
		cli_table_print(t, stdout);
	}
	free(sorted);
	rd_kafka_event_destroy(ev);
	rd_kafka_destroy(rk);
	return rc;
}

/* ---- describe and lag */

static bool group_missing(const rd_kafka_ConsumerGroupDescription_t *d)
{
	return rd_kafka_ConsumerGroupDescription_state(d) == RD_KAFKA_CONSUMER_GROUP_STATE_DEAD &&
	       rd_kafka_ConsumerGroupDescription_member_count(d) == 0;
}

static json_t *describe_members(struct cli *c, const rd_kafka_ConsumerGroupDescription_t *d)
{
	struct cli_table *t =
	    cli_table_new(4, (const char *[]){"MEMBER-ID", "CLIENT-ID", "HOST", "ASSIGNMENTS"});
	json_t *arr = json_array();
	size_t nm = rd_kafka_ConsumerGroupDescription_member_count(d);
	for (size_t m = 0; m < nm; m++) {
		const rd_kafka_MemberDescription_t *md =
		    rd_kafka_ConsumerGroupDescription_member(d, m);
		const rd_kafka_topic_partition_list_t *as =
		    rd_kafka_MemberAssignment_partitions(rd_kafka_MemberDescription_assignment(md));
		char buf[2048];
		size_t len = 0;
		buf[0] = 0;
		json_t *ja = json_array();
		for (int i = 0; as && i < as->cnt; i++) {
			json_array_append_new(ja,
			                      json_pack("{s:s,s:i}", "topic", as->elems[i].topic,
			                                "partition", (int)as->elems[i].partition));
			if (len < sizeof(buf))
				len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s/%d",
				                        i ? "," : "", as->elems[i].topic,
				                        (int)as->elems[i].partition);
		}
		const char *inst = rd_kafka_MemberDescription_group_instance_id(md);
		cli_table_cell(t, "%s", rd_kafka_MemberDescription_consumer_id(md));
		cli_table_cell(t, "%s", rd_kafka_MemberDescription_client_id(md));
		cli_table_cell(t, "%s", or_dash(rd_kafka_MemberDescription_host(md)));
		cli_table_cell(t, "%s", buf[0] ? buf : "-");
		json_array_append_new(
		    arr, json_pack("{s:s,s:s,s:s,s:o,s:o}", "member_id",
		                   rd_kafka_MemberDescription_consumer_id(md), "client_id",
		                   rd_kafka_MemberDescription_client_id(md), "host",
		                   rd_kafka_MemberDescription_host(md), "instance_id",
		                   inst ? json_string(inst) : json_null(), "assignments", ja));
	}
	if (c->json) {
		cli_table_free(t);
	} else {
		printf("\nMEMBERS\n");
		if (nm) {
			cli_table_print(t, stdout);
		} else {
			printf("(none)\n");
			cli_table_free(t);
		}
	}
	return arr;
}

static int show_group(struct cli *c, rd_kafka_t *rk, const char *group, bool full, json_t *out)
{
	struct gview v;
	int rc = gview_load(c, rk, group, full, &v);
	if (rc) {
		gview_release(&v);
		return rc;
	}
	if (full && group_missing(v.desc)) {
		gview_release(&v);
		return cli_fail(c, "group '%s' does not exist", group);
	}
	json_t *jg = json_pack("{s:s}", "group", group);
	int64_t total = 0;
	if (full) {
		const rd_kafka_Node_t *coord =
		    rd_kafka_ConsumerGroupDescription_coordinator(v.desc);
		const char *state = rd_kafka_consumer_group_state_name(
		    rd_kafka_ConsumerGroupDescription_state(v.desc));
		const char *assignor = rd_kafka_ConsumerGroupDescription_partition_assignor(v.desc);
		int nm = (int)rd_kafka_ConsumerGroupDescription_member_count(v.desc);
		json_object_set_new(jg, "state", json_string(state));
		json_object_set_new(jg, "coordinator",
		                    coord ? json_integer(rd_kafka_Node_id(coord)) : json_null());
		json_object_set_new(jg, "assignor", json_string(assignor ? assignor : ""));
		if (!c->json)
			printf("GROUP        %s\nCOORDINATOR  %d\nSTATE        %s\nASSIGNOR     "
			       "%s\nMEMBERS      %d\n",
			       group, coord ? rd_kafka_Node_id(coord) : -1, state,
			       assignor && *assignor ? assignor : "-", nm);
		json_object_set_new(jg, "members", describe_members(c, v.desc));
		if (!c->json)
			printf("\nOFFSETS\n");
	}
	json_object_set_new(jg, "partitions", print_rows(c, &v, full, &total));
	json_object_set_new(jg, "total_lag", json_integer(total));
	if (!c->json)
		printf("\nTOTAL-LAG  %" PRId64 "\n", total);
	if (c->json)
		json_array_append_new(out, jg);
	else
		json_decref(jg);
	gview_release(&v);
	return CLI_EXIT_OK;
}

static const char describe_help[] =
    "usage: fjord group describe GROUP...\n"
    "Shows a group's state, members (member id, client id, host, assignment), and per\n"
    "partition its committed offset, the log end offset (high watermark) and the lag.\n";

static const char lag_help[] = "usage: fjord group lag GROUP...\n"
                               "Shows per partition the committed offset, the high watermark and "
                               "the lag\n(high watermark minus committed offset), and the total.\n";

static int group_show(struct cli *c, int argc, char **argv, bool full)
{
	struct cli_args a;
	const char *v;
	int k, rc = CLI_EXIT_OK, n = 0;
	const char **groups = calloc((size_t)argc, sizeof(char *));
	cli_args_init(&a, c, argc, argv, NULL, full ? describe_help : lag_help);
	while ((k = cli_next(&a, &v)) != CLI_ARG_END) {
		if (k == CLI_ARG_EXIT) {
			free(groups);
			return a.exit_code;
		}
		groups[n++] = v;
	}
	if (!n) {
		free(groups);
		return cli_usage(c, "name at least one group");
	}
	rd_kafka_t *rk = cli_new_handle(c, RD_KAFKA_PRODUCER, NULL, NULL, NULL);
	if (!rk) {
		free(groups);
		return CLI_EXIT_FAIL;
	}
	json_t *out = json_array();
	for (int i = 0; i < n; i++) {
		if (i && !c->json)
			printf("\n");
		if (show_group(c, rk, groups[i], full, out))
			rc = CLI_EXIT_FAIL;
	}
	if (c->json)
		cli_json_print(out);
	else
		json_decref(out);
	rd_kafka_destroy(rk);
	free(groups);
	return rc;
}

static int group_describe(struct cli *c, int argc, char **argv)
{
	return group_show(c, argc, argv, true);
}

static int group_lag(struct cli *c, int argc, char **argv)
{
	return group_show(c, argc, argv, false);
}

/* ---- reset-offsets */

static void call_alter_offsets(rd_kafka_t *rk, const rd_kafka_AdminOptions_t *o,
                               rd_kafka_queue_t *q, void *arg)
{
	rd_kafka_AlterConsumerGroupOffsets(rk, (rd_kafka_AlterConsumerGroupOffsets_t **)&arg, 1, o,
	                                   q);
}

enum { TO_NONE, TO_EARLIEST, TO_LATEST, TO_OFFSET, TO_DATETIME };

static const char reset_help[] =
    "usage: fjord group reset-offsets GROUP --topic TOPIC TARGET [-p LIST] [--dry-run]\n"
    "Sets the group's committed offsets for a topic. The group must have no members.\n\n"
    "  -t, --topic TOPIC       the topic\n"
    "  -p, --partitions LIST   only these partitions, comma-separated (default: all)\n"
    "      --to-earliest       the low watermark\n"
    "      --to-latest         the high watermark\n"
    "      --to-offset N       offset N (clamped to the watermarks)\n"
    "      --to-datetime MS    the first offset with a timestamp at or after MS\n"
    "      --dry-run           show the new offsets without committing them\n";

/* Computes the target offsets into list (one entry per partition). */
static int reset_targets(struct cli *c, rd_kafka_t *rk, int to, int64_t arg,
                         rd_kafka_topic_partition_list_t *list)
{
	int64_t *lows = calloc((size_t)list->cnt + 1, sizeof(int64_t));
	int64_t *highs = calloc((size_t)list->cnt + 1, sizeof(int64_t));
	rd_kafka_resp_err_t err = cli_watermarks(c, rk, list, lows, highs);
	rd_kafka_topic_partition_list_t *ts = NULL;
	if (!err && to == TO_DATETIME) {
		ts = rd_kafka_topic_partition_list_copy(list);
		for (int i = 0; i < ts->cnt; i++)
			ts->elems[i].offset = arg;
		err = rd_kafka_offsets_for_times(rk, ts, c->timeout_ms);
	}
	for (int i = 0; !err && i < list->cnt; i++) {
		int64_t off = to == TO_EARLIEST ? lows[i] : highs[i];
		if (to == TO_OFFSET)
			off = arg < lows[i] ? lows[i] : arg > highs[i] ? highs[i] : arg;
		else if (to == TO_DATETIME && ts->elems[i].offset >= 0)
			off = ts->elems[i].offset;
		list->elems[i].offset = off;
	}
	if (ts)
		rd_kafka_topic_partition_list_destroy(ts);
	free(lows);
	free(highs);
	if (err)
		return cli_fail(c, "cannot read the offsets of '%s': %s", list->elems[0].topic,
		                rd_kafka_err2str(err));
	return 0;
}

static int group_reset_offsets(struct cli *c, int argc, char **argv)
{
	enum { O_TOPIC = 1, O_PART, O_EARLY, O_LATE, O_OFF, O_DT, O_DRY };
	static const struct cli_opt opts[] = {
	    {'t', "topic", true, O_TOPIC},      {'p', "partitions", true, O_PART},
	    {0, "to-earliest", false, O_EARLY}, {0, "to-latest", false, O_LATE},
	    {0, "to-offset", true, O_OFF},      {0, "to-datetime", true, O_DT},
	    {0, "dry-run", false, O_DRY},       {0, NULL, false, 0},
	};
	struct cli_args a;
	const char *group = NULL, *topic = NULL, *v;
	int32_t parts[MAX_PARTS];
	int nparts = 0, to = TO_NONE, k, rc = CLI_EXIT_OK;
	int64_t arg = 0;
	bool dry = false;
	cli_args_init(&a, c, argc, argv, opts, reset_help);
	while ((k = cli_next(&a, &v)) != CLI_ARG_END) {
		int want = TO_NONE;
		switch (k) {
		case CLI_ARG_EXIT:
			return a.exit_code;
		case CLI_ARG_POS:
			if (group)
				return cli_usage(c, "name exactly one group");
			group = v;
			break;
		case O_TOPIC:
			topic = v;
			break;
		case O_PART:
			if ((nparts = cli_parse_int_list(v, parts, MAX_PARTS)) < 0)
				return cli_usage(c, "invalid partition list '%s'", v);
			break;
		case O_EARLY:
			want = TO_EARLIEST;
			break;
		case O_LATE:
			want = TO_LATEST;
			break;
		case O_OFF:
			if (cli_parse_i64(v, 0, INT64_MAX, &arg))
				return cli_usage(c, "invalid offset '%s'", v);
			want = TO_OFFSET;
			break;
		case O_DT:
			if (cli_parse_i64(v, 0, INT64_MAX, &arg))
				return cli_usage(c, "invalid timestamp '%s' (milliseconds)", v);
			want = TO_DATETIME;
			break;
		case O_DRY:
			dry = true;
			break;
		}
		if (want != TO_NONE) {
			if (to != TO_NONE)
				return cli_usage(c, "give only one --to-* target");
			to = want;
		}
	}
	if (!group || !topic || to == TO_NONE)
		return cli_usage(c, "give a GROUP, --topic and one --to-* target");
	rd_kafka_t *rk = cli_new_handle(c, RD_KAFKA_PRODUCER, NULL, NULL, NULL);
	if (!rk)
		return CLI_EXIT_FAIL;
	rd_kafka_event_t *dev = NULL, *oev = NULL;
	const rd_kafka_ConsumerGroupDescription_t *d;
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(16);
	if ((rc = describe_group(c, rk, group, &dev, &d)))
		goto out;
	rd_kafka_consumer_group_state_t st = rd_kafka_ConsumerGroupDescription_state(d);
	if (st != RD_KAFKA_CONSUMER_GROUP_STATE_EMPTY && st != RD_KAFKA_CONSUMER_GROUP_STATE_DEAD) {
		rc = cli_fail(c,
		              "group '%s' is not empty (state %s, %zu member(s)): stop its "
		              "consumers first",
		              group, rd_kafka_consumer_group_state_name(st),
		              rd_kafka_ConsumerGroupDescription_member_count(d));
		goto out;
	}
	if (!(md = cli_metadata(c, rk))) {
		rc = CLI_EXIT_FAIL;
		goto out;
	}
	const struct rd_kafka_metadata_topic *mt = cli_md_topic(md, topic);
	if (!mt || mt->err) {
		rc = cli_fail(c, "topic '%s' does not exist", topic);
		goto out;
	}
	for (int i = 0; i < nparts; i++) {
		if (parts[i] >= mt->partition_cnt) {
			rc = cli_fail(c, "topic '%s' has no partition %d", topic, (int)parts[i]);
			goto out;
		}
		rd_kafka_topic_partition_list_add(list, topic, parts[i]);
	}
	for (int i = 0; !nparts && i < mt->partition_cnt; i++)
		rd_kafka_topic_partition_list_add(list, topic, mt->partitions[i].id);
	if ((rc = reset_targets(c, rk, to, arg, list)))
		goto out;
	const rd_kafka_topic_partition_list_t *old = NULL;
	if (group_offsets(c, rk, group, &oev, &old)) {
		rc = CLI_EXIT_FAIL;
		goto out;
	}
	if (!dry) {
		char what[512];
		snprintf(what, sizeof(what), "cannot reset the offsets of group '%s'", group);
		rd_kafka_AlterConsumerGroupOffsets_t *req =
		    rd_kafka_AlterConsumerGroupOffsets_new(group, list);
		rd_kafka_event_t *ev =
		    cli_admin_run(c, rk, RD_KAFKA_ADMIN_OP_ALTERCONSUMERGROUPOFFSETS, what,
		                  call_alter_offsets, req);
		rd_kafka_AlterConsumerGroupOffsets_destroy(req);
		if (!ev) {
			rc = CLI_EXIT_FAIL;
			goto out;
		}
		size_t n = 0;
		const rd_kafka_group_result_t **gs =
		    rd_kafka_AlterConsumerGroupOffsets_result_groups(
		        rd_kafka_event_AlterConsumerGroupOffsets_result(ev), &n);
		const rd_kafka_error_t *e = n == 1 ? rd_kafka_group_result_error(gs[0]) : NULL;
		const rd_kafka_topic_partition_list_t *res =
		    n == 1 ? rd_kafka_group_result_partitions(gs[0]) : NULL;
		if (e) {
			char msg[1024];
			cli_group_error(msg, sizeof(msg), group, rd_kafka_error_code(e),
			                rd_kafka_error_string(e));
			rc = cli_fail(c, "%s", msg);
		}
		for (int i = 0; res && i < res->cnt; i++)
			if (res->elems[i].err)
				rc = cli_fail(c, "group '%s': topic '%s' partition %d: %s", group,
				              res->elems[i].topic, (int)res->elems[i].partition,
				              rd_kafka_err2str(res->elems[i].err));
		rd_kafka_event_destroy(ev);
		if (rc)
			goto out;
	}
	struct cli_table *t =
	    cli_table_new(4, (const char *[]){"TOPIC", "PARTITION", "OLD-OFFSET", "NEW-OFFSET"});
	json_t *arr = json_array();
	for (int i = 0; i < list->cnt; i++) {
		const rd_kafka_topic_partition_t *p = &list->elems[i];
		const rd_kafka_topic_partition_t *o =
		    old ? rd_kafka_topic_partition_list_find(old, p->topic, p->partition) : NULL;
		int64_t was = o && !o->err ? o->offset : -1;
		cli_table_cell(t, "%s", p->topic);
		cli_table_cell(t, "%d", (int)p->partition);
		cell_offset(t, was);
		cli_table_cell(t, "%" PRId64, p->offset);
		json_array_append_new(arr,
		                      json_pack("{s:s,s:i,s:o,s:I}", "topic", p->topic, "partition",
		                                (int)p->partition, "old_offset", json_offset(was),
		                                "new_offset", (json_int_t)p->offset));
	}
	if (c->json) {
		cli_json_print(
		    json_pack("{s:s,s:b,s:o}", "group", group, "dry_run", dry, "partitions", arr));
		cli_table_free(t);
	} else {
		json_decref(arr);
		cli_table_print(t, stdout);
		if (dry)
			printf("(dry run: nothing committed)\n");
	}
out:
	if (dev)
		rd_kafka_event_destroy(dev);
	if (oev)
		rd_kafka_event_destroy(oev);
	if (md)
		rd_kafka_metadata_destroy(md);
	rd_kafka_topic_partition_list_destroy(list);
	rd_kafka_destroy(rk);
	return rc;
}

/* ---- delete */

struct del_req {
	rd_kafka_DeleteGroup_t **v;
	size_t n;
};

static void call_delete_groups(rd_kafka_t *rk, const rd_kafka_AdminOptions_t *o,
                               rd_kafka_queue_t *q, void *arg)
{
	struct del_req *r = arg;
	rd_kafka_DeleteGroups(rk, r->v, r->n, o, q);
}

static const char delete_help[] = "usage: fjord group delete GROUP...\n"
                                  "Deletes groups with no members, and their committed offsets.\n";

static int group_delete(struct cli *c, int argc, char **argv)
{
	struct cli_args a;
	struct del_req req = {calloc((size_t)argc, sizeof(void *)), 0};
	const char *v;
	int k, rc = CLI_EXIT_OK;
	cli_args_init(&a, c, argc, argv, NULL, delete_help);
	while ((k = cli_next(&a, &v)) != CLI_ARG_END) {
		if (k == CLI_ARG_EXIT) {
			rc = a.exit_code;
			goto out;
		}
		req.v[req.n++] = rd_kafka_DeleteGroup_new(v);
	}
	if (!req.n) {
		rc = cli_usage(c, "name at least one group");
		goto out;
	}
	rd_kafka_t *rk = cli_new_handle(c, RD_KAFKA_PRODUCER, NULL, NULL, NULL);
	if (!rk) {
		rc = CLI_EXIT_FAIL;
		goto out;
	}
	rd_kafka_event_t *ev = cli_admin_run(c, rk, RD_KAFKA_ADMIN_OP_DELETEGROUPS,
	                                     "cannot delete groups", call_delete_groups, &req);
	if (ev) {
		size_t n = 0;
		const rd_kafka_group_result_t **gs =
		    rd_kafka_DeleteGroups_result_groups(rd_kafka_event_DeleteGroups_result(ev), &n);
		struct cli_table *t = cli_table_new(2, (const char *[]){"GROUP", "STATUS"});
		json_t *arr = json_array();
		for (size_t i = 0; i < n; i++) {
			const char *name = rd_kafka_group_result_name(gs[i]);
			const rd_kafka_error_t *e = rd_kafka_group_result_error(gs[i]);
			json_t *o = json_pack("{s:s}", "group", name);
			if (e) {
				char msg[1024];
				cli_group_error(msg, sizeof(msg), name, rd_kafka_error_code(e),
				                rd_kafka_error_string(e));
				rc = cli_fail(c, "%s", msg);
				json_object_set_new(o, "status", json_string("error"));
				json_object_set_new(o, "error", json_string(msg));
			} else {
				cli_table_cell(t, "%s", name);
				cli_table_cell(t, "deleted");
				json_object_set_new(o, "status", json_string("deleted"));
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
		rd_kafka_event_destroy(ev);
	} else {
		rc = CLI_EXIT_FAIL;
	}
	rd_kafka_destroy(rk);
out:
	rd_kafka_DeleteGroup_destroy_array(req.v, req.n);
	free(req.v);
	return rc;
}

static const struct cli_verb group_verbs[] = {
    {"list", group_list, "list consumer groups"},
    {"describe", group_describe, "members, assignments, committed offsets and lag"},
    {"lag", group_lag, "committed offsets and lag per partition"},
    {"reset-offsets", group_reset_offsets, "move an empty group's committed offsets"},
    {"delete", group_delete, "delete empty groups"},
    {NULL, NULL, NULL},
};

int cli_group_main(struct cli *c, int argc, char **argv)
{
	return cli_dispatch(c, argc, argv, group_verbs);
}
