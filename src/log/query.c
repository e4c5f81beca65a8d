/*
 * query.c: ListOffsets and OffsetForLeaderEpoch lookups on a partition log.
 *
 * Timestamps: each segment knows its largest timestamp and the offset of the
 * batch that holds it (the last time-index entry, loaded lazily), so finding
 * the segment is a walk over segment headers in memory. Inside a segment,
 * the time index gives an offset to start from, the offset index turns it
 * into a position, a header scan finds the first batch whose max timestamp is
 * late enough, and only that batch is decoded (batch_iter_*, decompressing)
 * to find the exact record.
 *
 * Left to others: the record format (proto/batch.c), how ListOffsets maps
 * special timestamps (-1 latest, -2 earliest) to calls here (handlers/).
 */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "log/log_int.h"
#include "proto/batch.h"

/* Scan s from pos for the first record at or after min_offset with
 * timestamp >= ts (exact: timestamp == ts). 1 found, 0 not, or an error. */
static int find_record(struct plog *l, struct segment *s, int64_t pos, int64_t min_offset,
                       int64_t ts, bool exact, int64_t *off, int64_t *found_ts)
{
	int r = segment_open_fd(s, l->dir);
	if (r < 0)
		return r;
	struct seg_scan sc;
	struct scan_batch b;
	int found = 0;
	seg_scan_init(&sc, s->fd, pos, direct_readable_end(l, s));
	while (!found && seg_scan_next(&sc, &b) == 1) {
		if (b.last < min_offset || b.max_ts < ts)
			continue;
		const uint8_t *p = seg_scan_bytes(&sc, &b);
		if (!p) {
			r = sc.err ? sc.err : ERR_CORRUPT;
			break;
		}
		struct batch_iter it;
		struct batch_record rec;
		r = batch_iter_init(&it, p, (size_t)b.size);
		if (r < 0) {
			batch_iter_release(&it);
			break;
		}
		while ((r = batch_iter_next(&it, &rec)) == 1) {
			if (rec.offset < min_offset)
				continue;
			if (exact ? rec.timestamp == ts : rec.timestamp >= ts) {
				*off = rec.offset;
				*found_ts = rec.timestamp;
				found = 1;
				break;
			}
		}
		batch_iter_release(&it);
		if (r < 0)
			break;
		r = 0;
	}
	if (r == 0 && sc.err)
		r = sc.err;
	seg_scan_release(&sc);
	return r < 0 ? r : found;
}

int plog_offset_for_timestamp(struct plog *l, int64_t ts, int64_t *offset, int64_t *found_ts)
{
	for (int i = 0; i < l->nsegs; i++) {
		struct segment *s = l->segs[i];
		if (s->size == 0)
			continue;
		int r = segment_load_max_ts(s, l->dir, &l->cfg);
		if (r < 0)
			return r;
		if (s->max_ts < ts || plog_seg_end(l, i) <= l->start_offset)
			continue;
		r = index_load(s, l->dir, &l->cfg);
		if (r < 0)
			return r;
		int64_t from = index_lookup_time(s, ts);
		r = find_record(l, s, index_lookup(s, from), l->start_offset, ts, false, offset,
		                found_ts);
		if (r != 0)
			return r < 0 ? r : 0;
	}
	return ERR_NOT_FOUND;
}

int plog_max_timestamp(struct plog *l, int64_t *offset, int64_t *ts)
{
	struct segment *best = NULL;
	for (int i = 0; i < l->nsegs; i++) {
		struct segment *s = l->segs[i];
		if (s->size == 0 || plog_seg_end(l, i) <= l->start_offset)
			continue;
		int r = segment_load_max_ts(s, l->dir, &l->cfg);
		if (r < 0)
			return r;
		if (s->max_ts >= 0 && (!best || s->max_ts > best->max_ts))
			best = s;
	}
	if (!best)
		return ERR_NOT_FOUND;
	int r = index_load(best, l->dir, &l->cfg);
	if (r < 0)
		return r;
	/* The batch holding the maximum ends at max_ts_off; its first record
	 * with that timestamp is the answer. */
	int64_t pos = index_lookup(best, best->max_ts_off);
	int64_t min_off = l->start_offset;
	r = find_record(l, best, pos, min_off, best->max_ts, true, offset, ts);
	if (r < 0)
		return r;
	if (r == 0) {
		/* The header claims a maximum no record has: report the batch. */
		*offset = best->max_ts_off;
		*ts = best->max_ts;
	}
	return 0;
}

int plog_end_offset_for_epoch(struct plog *l, int32_t epoch, int32_t *found_epoch,
                              int64_t *end_offset)
{
	*found_epoch = -1;
	*end_offset = -1;
	if (epoch < 0 || l->nepochs == 0)
		return 0;
	if (epoch == l->epochs[l->nepochs - 1].epoch) {
		*found_epoch = epoch;
		*end_offset = l->leo;
		return 0;
	}
	int floor = -1;
	for (int i = 0; i < l->nepochs; i++) {
		if (l->epochs[i].epoch <= epoch)
			floor = i;
		else
			break;
	}
	if (floor < 0 || floor + 1 >= l->nepochs)
		return 0; /* older than every epoch, or newer than the latest */
	*found_epoch = l->epochs[floor].epoch;
	*end_offset = l->epochs[floor + 1].start;
	return 0;
}
