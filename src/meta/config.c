/*
 * config.c: reading server.properties (Java properties syntax), the broker's
 * derived settings (precedence rules, the served listener), and a topic's
 * effective configuration from the broker's defaults plus its overrides.
 *
 * The per-key table and value validation are in config_defs.c. Rules kept
 * here:
 *  - log.retention.ms > log.retention.minutes > log.retention.hours (a
 *    negative result means "forever", -1); log.roll.ms > log.roll.hours;
 *    log.roll.jitter.ms > .hours; log.dirs > log.dir; node.id > broker.id.
 *  - A topic key's default is its first synonym that is set in the broker
 *    config, else the broker key's default (ServerTopicConfigSynonyms).
 *  - fsync_before_ack: no flush key (flush.messages, flush.ms or their broker
 *    synonyms) is set at either level, or flush.messages is 1 (Kafka then
 *    flushes every append before answering, which is the same thing).
 * The properties parser follows java.util.Properties.load, with one
 * departure: trailing whitespace of a value is dropped (Kafka trims every
 * typed value anyway).
 * Callers: main (load, finish), meta.c (topic configs), handlers
 * (DescribeConfigs via the table accessors). Loop thread or startup only.
 */
#include "meta/config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/assert.h"
#include "base/err.h"
#include "base/logging.h"
#include "meta/config_int.h"

/* ---- Java properties ---------------------------------------------------- */

static bool prop_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\f';
}
static bool prop_eol(char c)
{
	return c == '\n' || c == '\r';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static size_t put_utf8(char *out, uint32_t cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xC0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xE0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	out[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

static int read_u4(const char *s, size_t n, size_t i, uint32_t *cp)
{
	if (i + 4 > n)
		return -1;
	uint32_t v = 0;
	for (size_t k = 0; k < 4; k++) {
		int h = hexval(s[i + k]);
		if (h < 0)
			return -1;
		v = v << 4 | (uint32_t)h;
	}
	*cp = v;
	return 0;
}

/*
 * Decode escapes of s[0..n) into out (which has room for n + 1 bytes: no
 * escape grows). \t \n \r \f, \uXXXX (UTF-8 out, surrogate pairs joined),
 * and \x for any other x is x.
 */
static int prop_unescape(const char *s, size_t n, char *out, int line, char *err, size_t errlen)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '\\' || i + 1 == n) {
			if (s[i] != '\\')
				out[o++] = s[i];
			continue;
		}
		char c = s[++i];
		switch (c) {
		case 't':
			out[o++] = '\t';
			break;
		case 'n':
			out[o++] = '\n';
			break;
		case 'r':
			out[o++] = '\r';
			break;
		case 'f':
			out[o++] = '\f';
			break;
		case 'u': {
			uint32_t cp;
			if (read_u4(s, n, i + 1, &cp)) {
				snprintf(err, errlen, "line %d: Malformed \\uxxxx encoding.", line);
				return ERR_INVALID_CONFIG;
			}
			i += 4;
			uint32_t lo;
			if (cp >= 0xD800 && cp < 0xDC00 && i + 2 < n && s[i + 1] == '\\' &&
			    s[i + 2] == 'u' && read_u4(s, n, i + 3, &lo) == 0 && lo >= 0xDC00 &&
			    lo < 0xE000) {
				cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
				i += 6;
			} else if (cp >= 0xD800 && cp < 0xE000) {
				cp = '?'; /* a lone surrogate has no UTF-8 form */
			}
			o += put_utf8(out + o, cp);
			break;
		}
		default:
			out[o++] = c;
			break;
		}
	}
	out[o] = '\0';
	return 0;
}

int config_parse_properties(const char *text, size_t len,
                            int (*cb)(void *arg, const char *key, const char *value, int line),
                            void *arg, char *err, size_t errlen)
{
	char *logical = malloc(len + 1);
	char *key = malloc(len + 1);
	char *val = malloc(len + 1);
	int rc = 0;
	size_t pos = 0;
	int line = 1;

	ASSERT(logical && key && val);
	while (pos < len && rc == 0) {
		/* A natural line: skip its leading whitespace. */
		while (pos < len && prop_ws(text[pos]))
			pos++;
		if (pos == len)
			break;
		if (prop_eol(text[pos]) || text[pos] == '#' || text[pos] == '!') {
			/* Blank or comment line: comments never continue. */
			while (pos < len && !prop_eol(text[pos]))
				pos++;
			if (pos < len && text[pos] == '\r' && pos + 1 < len &&
			    text[pos + 1] == '\n')
				pos++;
			pos++;
			line++;
			continue;
		}
		/* A logical line: join continuations (odd number of trailing backslashes). */
		int start_line = line;
		size_t ln = 0;
		for (;;) {
			size_t s = pos;
			while (pos < len && !prop_eol(text[pos]))
				pos++;
			size_t e = pos;
			size_t bs = 0;
			while (bs < e - s && text[e - 1 - bs] == '\\')
				bs++;
			bool cont = bs % 2 == 1;
			if (cont)
				e--;
			memcpy(logical + ln, text + s, e - s);
			ln += e - s;
			if (pos < len) {
				if (text[pos] == '\r' && pos + 1 < len && text[pos + 1] == '\n')
					pos++;
				pos++;
				line++;
			}
			if (!cont || pos >= len)
				break;
			while (pos < len && prop_ws(text[pos]))
				pos++;
		}
		/* Split the key at the first unescaped '=', ':' or whitespace. */
		size_t k = 0;
		bool has_sep = false;
		while (k < ln) {
			char c = logical[k];
			if (c == '\\') {
				k += 2;
				continue;
			}
			if (c == '=' || c == ':') {
				has_sep = true;
				break;
			}
			if (prop_ws(c))
				break;
			k++;
		}
		if (k > ln)
			k = ln;
		size_t v = k;
		if (has_sep) {
			v++;
		} else {
			while (v < ln && prop_ws(logical[v]))
				v++;
			if (v < ln && (logical[v] == '=' || logical[v] == ':'))
				v++;
		}
		while (v < ln && prop_ws(logical[v]))
			v++;
		rc = prop_unescape(logical, k, key, start_line, err, errlen);
		if (rc == 0)
			rc = prop_unescape(logical + v, ln - v, val, start_line, err, errlen);
		if (rc == 0) {
			size_t n = strlen(val);
			while (n > 0 && (unsigned char)val[n - 1] <= ' ')
				val[--n] = '\0';
			rc = cb(arg, key, val, start_line);
		}
	}
	free(logical);
	free(key);
	free(val);
	return rc;
}

/* ---- Listeners ---------------------------------------------------------- */

static void upcase(char *s)
{
	for (; *s; s++)
		if (*s >= 'a' && *s <= 'z')
			*s = (char)(*s - 32);
}

static int parse_one_listener(const char *s, size_t n, struct config_listener *l, char *err,
                              size_t errlen)
{
	const char *end = s + n;
	const char *sep = NULL;
	for (const char *p = s; p + 3 <= end; p++)
		if (p[0] == ':' && p[1] == '/' && p[2] == '/') {
			sep = p;
			break;
		}
	if (!sep || sep == s || (size_t)(sep - s) >= sizeof(l->name))
		goto bad;
	for (const char *p = s; p < sep; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
			goto bad;
	memcpy(l->name, s, (size_t)(sep - s));
	l->name[sep - s] = '\0';
	upcase(l->name);

	const char *h = sep + 3, *he, *pp;
	if (h < end && *h == '[') {
		he = memchr(h, ']', (size_t)(end - h));
		if (!he || he + 1 >= end || he[1] != ':')
			goto bad;
		h++;
		pp = he + 2;
	} else {
		he = NULL;
		for (const char *p = end; p > h; p--)
			if (p[-1] == ':') {
				he = p - 1;
				break;
			}
		if (!he || memchr(h, ':', (size_t)(he - h)))
			goto bad;
		pp = he + 1;
	}
	if ((size_t)(he - h) >= sizeof(l->host))
		goto bad;
	memcpy(l->host, h, (size_t)(he - h));
	l->host[he - h] = '\0';
	for (const char *p = l->host; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == '/' || *p == '[' || *p == ']')
			goto bad;
	if (pp >= end || end - pp > 5)
		goto bad;
	int port = 0;
	for (const char *p = pp; p < end; p++) {
		if (*p < '0' || *p > '9')
			goto bad;
		port = port * 10 + (*p - '0');
	}
	if (port > 65535)
		goto bad;
	l->port = port;
	return 0;
bad:
	snprintf(err, errlen, "Unable to parse %.*s to a broker endpoint", (int)n, s);
	return ERR_INVALID_CONFIG;
}

int config_parse_listeners(const char *value, struct config_listener *out, int max, char *err,
                           size_t errlen)
{
	int count = 0;
	const char *p = value;
	while ((unsigned char)*p && (unsigned char)*p <= ' ')
		p++;
	if (!*p)
		return 0;
	for (;;) {
		const char *e = strchr(p, ',');
		const char *a = p, *b = e ? e : p + strlen(p);
		while (a < b && (unsigned char)*a <= ' ')
			a++;
		while (b > a && (unsigned char)b[-1] <= ' ')
			b--;
		if (count >= max) {
			snprintf(err, errlen, "Too many listeners (at most %d)", max);
			return ERR_INVALID_CONFIG;
		}
		int rc = parse_one_listener(a, (size_t)(b - a), &out[count], err, errlen);
		if (rc)
			return rc;
		count++;
		if (!e)
			break;
		p = e + 1;
	}
	return count;
}

/* The security protocol of a listener name, from listener.security.protocol.map. */
static bool listener_protocol(const struct broker_config *c, const char *name, char *out,
                              size_t outlen)
{
	const char *p = c->listener_security_protocol_map;
	size_t nlen = strlen(name);
	while (*p) {
		const char *e = strchr(p, ',');
		const char *end = e ? e : p + strlen(p);
		while (p < end && (unsigned char)*p <= ' ')
			p++;
		const char *colon = memchr(p, ':', (size_t)(end - p));
		if (colon) {
			const char *ke = colon;
			while (ke > p && (unsigned char)ke[-1] <= ' ')
				ke--;
			if ((size_t)(ke - p) == nlen && strncasecmp(p, name, nlen) == 0) {
				char tmp[64];
				snprintf(tmp, sizeof(tmp), "%.*s", (int)(end - colon - 1),
				         colon + 1);
				if (!config__trim(tmp, out, outlen))
					return false;
				upcase(out);
				return true;
			}
		}
		if (!e)
			break;
		p = e + 1;
	}
	static const char *const protocols[] = {"PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"};
	for (size_t i = 0; i < ARRAY_SIZE(protocols); i++)
		if (strcmp(name, protocols[i]) == 0) {
			snprintf(out, outlen, "%s", name);
			return true;
		}
	return false;
}

static bool unspecified_host(const char *h)
{
	return !*h || strcmp(h, "0.0.0.0") == 0 || strcmp(h, "::") == 0;
}

/*
 * Choose the served listener: the first one that is not a controller
 * listener and whose security protocol is PLAINTEXT. Then its advertised
 * address: the advertised.listeners entry of the same name, else the
 * listener's own host (or "localhost" for all interfaces) and port.
 */
static int pick_listener(struct broker_config *c, char *err, size_t errlen)
{
	struct config_listener l[16], a[16];
	char tmp[256];
	int n = config_parse_listeners(c->listeners, l, (int)ARRAY_SIZE(l), err, errlen);
	if (n < 0)
		return n;
	int chosen = -1;
	for (int i = 0; i < n && chosen < 0; i++) {
		char proto[32];
		if (!listener_protocol(c, l[i].name, proto, sizeof(proto))) {
			snprintf(err, errlen,
			         "No security protocol defined for listener %s in "
			         "listener.security.protocol.map",
			         l[i].name);
			return ERR_INVALID_CONFIG;
		}
		if (config__list_has(c->controller_listener_names, l[i].name, true))
			continue;
		if (strcmp(proto, "PLAINTEXT") == 0)
			chosen = i;
	}
	if (chosen < 0) {
		snprintf(err, errlen,
		         "listeners=%s has no PLAINTEXT listener to serve (Fjord serves the first "
		         "PLAINTEXT listener that is not in controller.listener.names)",
		         c->listeners);
		return ERR_INVALID_CONFIG;
	}
	snprintf(c->listener_name, sizeof(c->listener_name), "%s", l[chosen].name);
	snprintf(c->listen_host, sizeof(c->listen_host), "%s", l[chosen].host);
	c->listen_port = l[chosen].port;

	int na = 0;
	if (c->advertised_listeners[0]) {
		na = config_parse_listeners(c->advertised_listeners, a, (int)ARRAY_SIZE(a), err,
		                            errlen);
		if (na < 0)
			return na;
	}
	for (int i = 0; i < na; i++) {
		if (strcmp(a[i].host, "0.0.0.0") == 0 || strcmp(a[i].host, "::") == 0) {
			snprintf(err, errlen,
			         "advertised.listeners cannot use the nonroutable meta-address %s. "
			         "Use a routable IP address.",
			         a[i].host);
			return ERR_INVALID_CONFIG;
		}
	}
	for (int i = 0; i < na; i++)
		if (strcmp(a[i].name, l[chosen].name) == 0) {
			snprintf(tmp, sizeof(tmp), "%s", a[i].host[0] ? a[i].host : "localhost");
			snprintf(c->advertised_host, sizeof(c->advertised_host), "%s", tmp);
			c->advertised_port = a[i].port;
			return 0;
		}
	snprintf(c->advertised_host, sizeof(c->advertised_host), "%s",
	         unspecified_host(l[chosen].host) ? "localhost" : l[chosen].host);
	c->advertised_port = l[chosen].port;
	return 0;
}

/* ---- Broker config ------------------------------------------------------ */

bool broker_config_is_set(const struct broker_config *c, const struct config_def *d)
{
	return c->set_at_[config__broker_index(d)] != 0;
}

static bool is_set(const struct broker_config *c, const char *name)
{
	const struct config_def *d = config_broker_def_find(name);
	ASSERT(d);
	return broker_config_is_set(c, d);
}

bool broker_config_get(const struct broker_config *c, const struct config_def *d, char *buf,
                       size_t len, enum config_source *src)
{
	uint16_t at = c->set_at_[config__broker_index(d)];
	if (src)
		*src = at ? CONFIG_SOURCE_STATIC_BROKER : CONFIG_SOURCE_DEFAULT;
	const char *v = at ? c->set_pool_ + at - 1 : d->default_value;
	snprintf(buf, len, "%s", v ? v : "");
	return v != NULL;
}

static int64_t scaled(int64_t v, int64_t unit)
{
	if (v < 0)
		return -1;
	return v > INT64_MAX / unit ? INT64_MAX : v * unit;
}

/* Recompute the derived fields; cannot fail (finish reports what is wrong). */
static void derive(struct broker_config *c)
{
	if (is_set(c, "log.retention.ms"))
		c->log.retention_ms = c->log_retention_ms_ < 0 ? -1 : c->log_retention_ms_;
	else if (is_set(c, "log.retention.minutes"))
		c->log.retention_ms = scaled(c->log_retention_minutes_, 60000);
	else
		c->log.retention_ms = scaled(c->log_retention_hours_, 3600000);

	c->log.segment_ms =
	    is_set(c, "log.roll.ms") ? c->log_roll_ms_ : scaled(c->log_roll_hours_, 3600000);
	c->log_segment_jitter_ms = is_set(c, "log.roll.jitter.ms")
	                               ? c->log_roll_jitter_ms_
	                               : scaled(c->log_roll_jitter_hours_, 3600000);
	if (!is_set(c, "log.dirs"))
		memcpy(c->log_dirs, c->log_dir_, sizeof(c->log_dirs));
	if (!is_set(c, "node.id") && is_set(c, "broker.id"))
		c->node_id = c->broker_id;
	if (!is_set(c, "log.flush.interval.ms"))
		c->log_flush_interval_ms = -1;
	c->log.log_append_time = strcmp(c->log_message_timestamp_type, "LogAppendTime") == 0;
	upcase(c->log_level);

	char err[256];
	(void)pick_listener(c, err, sizeof(err));
}

void broker_config_default(struct broker_config *c)
{
	char err[256];
	memset(c, 0, sizeof(*c));
	log_config_default(&c->log);
	for (int i = 0; i < config_broker_def_count(); i++) {
		const struct config_def *d = config_broker_def(i);
		if (!d->default_value)
			continue;
		int rc = config__apply(d, d->default_value, c, err, sizeof(err));
		ASSERT(rc == 0);
	}
	derive(c);
}

/* Drop values that were set again later (and the one at skip, about to be replaced). */
static void compact_pool(struct broker_config *c, int skip)
{
	char pool[sizeof(c->set_pool_)];
	uint16_t len = 0;
	for (int i = 0; i < config_broker_def_count(); i++) {
		if (!c->set_at_[i] || i == skip)
			continue;
		const char *v = c->set_pool_ + c->set_at_[i] - 1;
		size_t n = strlen(v) + 1;
		memcpy(pool + len, v, n);
		c->set_at_[i] = (uint16_t)(len + 1);
		len = (uint16_t)(len + n);
	}
	if (skip >= 0)
		c->set_at_[skip] = 0;
	memcpy(c->set_pool_, pool, len);
	c->set_pool_len_ = len;
}

int broker_config_set(struct broker_config *c, const char *key, const char *value, char *err,
                      size_t errlen)
{
	const struct config_def *d = config_broker_def_find(key);
	if (!d) {
		snprintf(err, errlen,
		         "The configuration '%s' was supplied but isn't a known config.", key);
		return ERR_NOT_FOUND;
	}
	int rc = config__apply(d, value, c, err, errlen);
	if (rc)
		return rc;

	/* Remember the value as given, for DescribeConfigs. */
	char v[CONFIG_VALUE_MAX];
	config__trim(value, v, sizeof(v));
	size_t n = strlen(v) + 1;
	int idx = config__broker_index(d);
	if (c->set_pool_len_ + n > sizeof(c->set_pool_))
		compact_pool(c, idx);
	if (c->set_pool_len_ + n > sizeof(c->set_pool_)) {
		snprintf(err, errlen, "Too much configuration: %s does not fit", key);
		return ERR_INVALID_CONFIG;
	}
	memcpy(c->set_pool_ + c->set_pool_len_, v, n);
	c->set_at_[idx] = (uint16_t)(c->set_pool_len_ + 1);
	c->set_pool_len_ = (uint16_t)(c->set_pool_len_ + n);

	if (strcmp(key, "zookeeper.connect") == 0 ||
	    strcmp(key, "zookeeper.connection.timeout.ms") == 0)
		LOG_WARN("%s is set but not used: Fjord keeps its metadata itself (KRaft mode)",
		         key);
	else if (d->flags & CONFIG_F_UNUSED)
		LOG_DEBUG("%s is accepted but has no effect in Fjord", key);
	derive(c);
	return 0;
}

int broker_config_finish(struct broker_config *c, char *err, size_t errlen)
{
	derive(c);
	if (is_set(c, "node.id") && is_set(c, "broker.id") && c->node_id != c->broker_id) {
		snprintf(
		    err, errlen,
		    "broker.id (%d) and node.id (%d) are both set and differ; set only node.id",
		    c->broker_id, c->node_id);
		return ERR_INVALID_CONFIG;
	}
	if (c->group_min_session_timeout_ms > c->group_max_session_timeout_ms) {
		snprintf(err, errlen,
		         "group.min.session.timeout.ms (%d) is larger than "
		         "group.max.session.timeout.ms (%d)",
		         c->group_min_session_timeout_ms, c->group_max_session_timeout_ms);
		return ERR_INVALID_CONFIG;
	}
	return pick_listener(c, err, errlen);
}

struct load_ctx {
	struct broker_config *c;
	const char *path;
	char *err;
	size_t errlen;
};

static int load_one(void *arg, const char *key, const char *value, int line)
{
	struct load_ctx *x = arg;
	char msg[512];
	int rc = broker_config_set(x->c, key, value, msg, sizeof(msg));
	if (rc == ERR_NOT_FOUND) {
		LOG_WARN("%s:%d: %s", x->path, line, msg);
		return 0;
	}
	if (rc)
		snprintf(x->err, x->errlen, "%s:%d: %s", x->path, line, msg);
	return rc;
}

int broker_config_load(struct broker_config *c, const char *path, char *err, size_t errlen)
{
	enum { MAX_FILE = 4 << 20 };
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(e));
		return -e;
	}
	char *text = malloc(MAX_FILE);
	ASSERT(text);
	size_t len = 0;
	for (;;) {
		ssize_t r = read(fd, text + len, MAX_FILE - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			snprintf(err, errlen, "cannot read %s: %s", path, strerror(e));
			free(text);
			close(fd);
			return -e;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len == MAX_FILE) {
			snprintf(err, errlen, "%s is larger than %d bytes", path, MAX_FILE);
			free(text);
			close(fd);
			return ERR_INVALID_CONFIG;
		}
	}
	close(fd);

	struct load_ctx x = {c, path, err, errlen};
	char perr[256] = "";
	int rc = config_parse_properties(text, len, load_one, &x, perr, sizeof(perr));
	free(text);
	if (rc) {
		if (perr[0])
			snprintf(err, errlen, "%s: %s", path, perr);
		return rc;
	}
	char msg[512];
	rc = broker_config_finish(c, msg, sizeof(msg));
	if (rc)
		snprintf(err, errlen, "%s: %s", path, msg);
	return rc;
}

/* ---- Topic config ------------------------------------------------------- */

static bool broker_flush_set(const struct broker_config *b)
{
	return is_set(b, "log.flush.interval.messages") || is_set(b, "log.flush.interval.ms") ||
	       is_set(b, "log.flush.scheduler.interval.ms");
}

static void topic_defaults(const struct broker_config *b, struct topic_config *t)
{
	memset(t, 0, sizeof(*t));
	t->log = b->log;
	t->max_message_bytes = b->message_max_bytes;
	snprintf(t->cleanup_policy, sizeof(t->cleanup_policy), "%s", b->cleanup_policy);
	t->flush_messages =
	    is_set(b, "log.flush.interval.messages") ? b->log_flush_interval_messages : INT64_MAX;
	if (is_set(b, "log.flush.interval.ms"))
		t->flush_ms = b->log_flush_interval_ms;
	else if (is_set(b, "log.flush.scheduler.interval.ms"))
		t->flush_ms = b->log_flush_scheduler_interval_ms;
	else
		t->flush_ms = INT64_MAX;
	t->min_insync_replicas = b->min_insync_replicas;
	snprintf(t->compression_type, sizeof(t->compression_type), "%s", b->compression_type);
	t->delete_retention_ms = b->log_cleaner_delete_retention_ms;
	t->min_compaction_lag_ms = b->log_cleaner_min_compaction_lag_ms;
	t->max_compaction_lag_ms = b->log_cleaner_max_compaction_lag_ms;
	t->min_cleanable_dirty_ratio = b->log_cleaner_min_cleanable_ratio;
	t->message_timestamp_before_max_ms = b->log_message_timestamp_before_max_ms;
	t->message_timestamp_after_max_ms = b->log_message_timestamp_after_max_ms;
	snprintf(t->message_timestamp_type, sizeof(t->message_timestamp_type), "%s",
	         b->log_message_timestamp_type);
	t->segment_jitter_ms = b->log_segment_jitter_ms;
	t->preallocate = b->log_preallocate;
	t->unclean_leader_election_enable = b->unclean_leader_election_enable;
	t->message_downconversion_enable = true;
	t->compression_gzip_level = b->compression_gzip_level;
	t->compression_lz4_level = b->compression_lz4_level;
	t->compression_zstd_level = b->compression_zstd_level;
}

int topic_config_resolve(const struct broker_config *b, const struct config_kv *kv, int nkv,
                         struct topic_config *out, char *err, size_t errlen)
{
	struct topic_config t;
	bool topic_flush = false;
	topic_defaults(b, &t);
	for (int i = 0; i < nkv; i++) {
		if (!kv[i].key) {
			snprintf(err, errlen, "Unknown topic config name: null");
			return ERR_INVALID_CONFIG;
		}
		const struct config_def *d = config_topic_def_find(kv[i].key);
		if (!d) {
			snprintf(err, errlen, "Unknown topic config name: %s", kv[i].key);
			return ERR_INVALID_CONFIG;
		}
		if (!kv[i].value)
			continue;
		int rc = config__apply(d, kv[i].value, &t, err, errlen);
		if (rc)
			return rc;
		if (strcmp(d->name, "flush.messages") == 0 || strcmp(d->name, "flush.ms") == 0)
			topic_flush = true;
	}
	if (t.min_compaction_lag_ms > t.max_compaction_lag_ms) {
		snprintf(err, errlen,
		         "conflict topic config setting min.compaction.lag.ms (%lld) > "
		         "max.compaction.lag.ms (%lld)",
		         (long long)t.min_compaction_lag_ms, (long long)t.max_compaction_lag_ms);
		return ERR_INVALID_CONFIG;
	}
	t.cleanup_compact = config__list_has(t.cleanup_policy, "compact", true);
	t.cleanup_delete = config__list_has(t.cleanup_policy, "delete", true);
	t.log.log_append_time = strcmp(t.message_timestamp_type, "LogAppendTime") == 0;
	t.fsync_before_ack = (!topic_flush && !broker_flush_set(b)) || t.flush_messages == 1;
	t.log.direct_writes = b->log.direct_writes;
	t.log.sync_before_ack = t.fsync_before_ack;
	*out = t;
	return 0;
}

int topic_config_validate(const char *key, const char *value, char *err, size_t errlen)
{
	const struct config_def *d = key ? config_topic_def_find(key) : NULL;
	if (!d) {
		snprintf(err, errlen, "Unknown topic config name: %s", key ? key : "null");
		return ERR_INVALID_CONFIG;
	}
	if (!value)
		return 0;
	struct topic_config scratch;
	memset(&scratch, 0, sizeof(scratch));
	return config__apply(d, value, &scratch, err, errlen);
}

bool topic_config_get(const struct broker_config *b, const struct topic_config *cfg,
                      const struct config_kv *kv, int nkv, const struct config_def *d, char *buf,
                      size_t len, enum config_source *src)
{
	for (int i = nkv - 1; i >= 0; i--)
		if (kv[i].key && kv[i].value && strcmp(kv[i].key, d->name) == 0) {
			if (src)
				*src = CONFIG_SOURCE_TOPIC;
			snprintf(buf, len, "%s", kv[i].value);
			return true;
		}
	const struct config_def *syn = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(d->synonyms) && d->synonyms[i]; i++) {
		const struct config_def *s = config_broker_def_find(d->synonyms[i]);
		if (s && broker_config_is_set(b, s)) {
			syn = s;
			break;
		}
	}
	if (src)
		*src = syn ? CONFIG_SOURCE_STATIC_BROKER : CONFIG_SOURCE_DEFAULT;
	if (d->offset >= 0) {
		config__render(d, cfg, buf, len);
		return true;
	}
	if (syn)
		return broker_config_get(b, syn, buf, len, NULL);
	snprintf(buf, len, "%s", d->default_value ? d->default_value : "");
	return d->default_value != NULL;
}

/* ---- Dynamic broker keys ------------------------------------------------ */

/*
 * The subset of Kafka's dynamic broker configs (per broker and cluster
 * default) that Fjord honours at run time: topic defaults are re-resolved
 * by meta, connection limits and cleaner timing are read per use.
 */
static const char *const dynamic_keys[] = {
    "log.segment.bytes",
    "log.roll.ms",
    "log.roll.hours",
    "log.roll.jitter.ms",
    "log.roll.jitter.hours",
    "log.retention.ms",
    "log.retention.minutes",
    "log.retention.hours",
    "log.retention.bytes",
    "log.index.size.max.bytes",
    "log.index.interval.bytes",
    "log.segment.delete.delay.ms",
    "log.flush.interval.messages",
    "log.flush.interval.ms",
    "log.cleanup.policy",
    "log.preallocate",
    "log.message.timestamp.type",
    "log.message.timestamp.before.max.ms",
    "log.message.timestamp.after.max.ms",
    "log.message.downconversion.enable",
    "log.local.retention.ms",
    "log.local.retention.bytes",
    "log.cleaner.delete.retention.ms",
    "log.cleaner.min.compaction.lag.ms",
    "log.cleaner.max.compaction.lag.ms",
    "log.cleaner.min.cleanable.ratio",
    "log.cleaner.backoff.ms",
    "message.max.bytes",
    "compression.type",
    "compression.gzip.level",
    "compression.lz4.level",
    "compression.zstd.level",
    "min.insync.replicas",
    "unclean.leader.election.enable",
    "max.connections",
    "max.connections.per.ip",
};

bool config_broker_dynamic(const struct config_def *d)
{
	for (size_t i = 0; i < ARRAY_SIZE(dynamic_keys); i++)
		if (strcmp(d->name, dynamic_keys[i]) == 0)
			return true;
	return false;
}
