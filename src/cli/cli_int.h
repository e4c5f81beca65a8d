/*
 * cli_int.h: what the client subcommands share (private to src/cli/).
 *
 * Every subcommand follows one shape: parse its arguments with cli_next()
 * (which also handles the common options -b/--brokers, --timeout, -v,
 * --format, -X and --help), build a librdkafka handle with cli_new_handle()
 * (our log callback keeps librdkafka quiet unless -v), do its work, and print
 * either a table (cli_table_*) or JSON (jansson, cli_json_print).
 *
 * Exit codes: 0 success, 1 an operation failed (cli_fail), 2 usage error
 * (cli_usage). Errors are one line on stderr, "fjord: ...".
 *
 * Everything here runs on the main thread, except the librdkafka callbacks
 * noted below.
 */
#ifndef FJORD_CLI_CLI_INT_H
#define FJORD_CLI_CLI_INT_H

#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CLI_EXIT_OK    0
#define CLI_EXIT_FAIL  1
#define CLI_EXIT_USAGE 2

#define CLI_DEFAULT_BROKERS "localhost:9092"
#define CLI_DEFAULT_TIMEOUT 10000
#define CLI_MAX_PROPS       32

/* The state common to every subcommand; lives on cli_main's stack. */
struct cli {
	const char *cmd; /* "topic create": for usage messages */
	const char *brokers;
	int timeout_ms;
	bool verbose;
	bool json;
	bool validate_only; /* the next cli_admin_run only validates (dry run) */
	int nprops;
	const char *props[CLI_MAX_PROPS]; /* -X key=value, applied last */
	char last_log[512];               /* last librdkafka warning: explains timeouts */
	char cmdbuf[64];                  /* storage for cmd */
	void *user;                       /* the subcommand's state, for librdkafka callbacks */
};

/* A verb of a command with verbs (topic, group, cluster, cluster config). */
struct cli_verb {
	const char *name;
	int (*fn)(struct cli *c, int argc, char **argv); /* argv[0] is the verb */
	const char *summary;
};

/*
 * Runs the verb named by argv[1] (argv[0] is the command), extending c->cmd.
 * Without a verb, or with --help, lists the verbs.
 */
int cli_dispatch(struct cli *c, int argc, char **argv, const struct cli_verb *verbs);

/* ---- argument parsing (cli.c) */

struct cli_opt {
	char short_name; /* 0 if none */
	const char *long_name;
	bool has_arg;
	int id; /* > 0, returned by cli_next */
};

enum {
	CLI_ARG_END = 0,   /* no more arguments */
	CLI_ARG_POS = -1,  /* a positional argument, in *val */
	CLI_ARG_EXIT = -2, /* stop: exit with args->exit_code (help shown, or a usage error) */
};

struct cli_args {
	struct cli *c;
	int argc;
	char **argv;
	int i;
	bool only_pos;              /* after "--" */
	const struct cli_opt *opts; /* the verb's own options, ending with {0}; may be NULL */
	const char *usage;          /* the verb's help text, printed for --help */
	int exit_code;
};

/* argv[0] is the verb; parsing starts at argv[1]. */
void cli_args_init(struct cli_args *a, struct cli *c, int argc, char **argv,
                   const struct cli_opt *opts, const char *usage);

/*
 * The next option id (> 0) with its argument in *val (NULL if it takes none),
 * CLI_ARG_POS with a positional argument in *val, CLI_ARG_END, or
 * CLI_ARG_EXIT. Common options are consumed here and never returned.
 * The verb's options take precedence over the common ones.
 */
int cli_next(struct cli_args *a, const char **val);

/* Prints "fjord: <message>" and a pointer to --help; returns CLI_EXIT_USAGE. */
int cli_usage(struct cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints "fjord: <message>"; returns CLI_EXIT_FAIL. */
int cli_fail(struct cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Strict number parsing: the whole string, in range. 0 or -1. */
int cli_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);
int cli_parse_int(const char *s, int min, int max, int *out);

/* Parses "1,2,5" into out (at most max entries); returns the count or -1. */
int cli_parse_int_list(const char *s, int32_t *out, int max);

/* Splits "key=value" at the first '='; key is copied into kbuf. 0 or -1. */
int cli_split_kv(const char *s, char *kbuf, size_t kn, const char **value);

/* ---- librdkafka handles (cli.c) */

/*
 * A handle of the given type with the common configuration (brokers, our log
 * callback, timeouts, -X overrides) plus the extra key/value pairs in kv
 * (NULL-terminated, may be NULL). The caller owns the handle. Prints the
 * error and returns NULL on failure. The conf may be modified by the caller
 * through setup(conf, arg) before the handle is created (may be NULL).
 */
rd_kafka_t *cli_new_handle(struct cli *c, rd_kafka_type_t type, const char *const *kv,
                           void (*setup)(rd_kafka_conf_t *, void *), void *arg);

/* "timed out after 10 s (last broker error: ...)": why a call did not complete. */
const char *cli_timeout_reason(struct cli *c, char *buf, size_t n);

/* All topic metadata (never auto-creates a topic). NULL after printing an error. */
const struct rd_kafka_metadata *cli_metadata(struct cli *c, rd_kafka_t *rk);

/* The topic in md, or NULL. */
const struct rd_kafka_metadata_topic *cli_md_topic(const struct rd_kafka_metadata *md,
                                                   const char *topic);

/*
 * Low and high watermarks of every partition in list (offsets_for_times with
 * the special timestamps -2 and -1: two batched ListOffsets rounds). lows and
 * highs are filled in list order; entries that failed are -1. 0 or an error.
 */
rd_kafka_resp_err_t cli_watermarks(struct cli *c, rd_kafka_t *rk,
                                   const rd_kafka_topic_partition_list_t *list, int64_t *lows,
                                   int64_t *highs);

/* ---- admin requests (cli_admin.c) */

/*
 * Issues an admin request through call() and waits (bounded by the timeout)
 * for its result event. Returns the event (caller destroys it) or NULL after
 * printing an error that names what.
 */
rd_kafka_event_t *cli_admin_run(struct cli *c, rd_kafka_t *rk, rd_kafka_admin_op_t op,
                                const char *what,
                                void (*call)(rd_kafka_t *, const rd_kafka_AdminOptions_t *,
                                             rd_kafka_queue_t *, void *),
                                void *arg);

/* A sentence for a Kafka error about a topic / group / config, for cli_fail. */
void cli_topic_error(char *buf, size_t n, const char *topic, rd_kafka_resp_err_t err,
                     const char *msg);
void cli_group_error(char *buf, size_t n, const char *group, rd_kafka_resp_err_t err,
                     const char *msg);
/* The API name in "the broker does not support X" for unsupported errors. */
bool cli_is_unsupported(rd_kafka_resp_err_t err);

/* One config entry as shown by describe / config get. */
struct cli_config {
	char *name;
	char *value; /* NULL if the broker did not send one (or sensitive) */
	int source;  /* rd_kafka_ConfigSource_t */
	bool read_only, sensitive, is_default;
};

struct cli_configs {
	struct cli_config *v;
	int n;
};

/*
 * DescribeConfigs of one resource (RD_KAFKA_RESOURCE_TOPIC or _BROKER).
 * 0 on success; otherwise the error was printed and the exit code returned.
 */
int cli_describe_configs(struct cli *c, rd_kafka_t *rk, int restype, const char *name,
                         struct cli_configs *out);
void cli_configs_release(struct cli_configs *cfg);
const char *cli_config_source_name(int source);

/*
 * Read-modify-write of a resource's dynamic configs with AlterConfigs (the
 * only alter API in librdkafka 2.0.2; it replaces the whole dynamic set).
 * We read the current dynamic entries (dyn_source), apply sets and deletes,
 * and send the result. Not atomic against concurrent writers.
 */
int cli_alter_configs(struct cli *c, rd_kafka_t *rk, int restype, const char *name, int dyn_source,
                      const char **sets, int nsets, const char **dels, int ndels, bool dry_run);

/* ---- output (cli.c) */

struct cli_table;

/* A table with ncols columns and the given headers (copied). */
struct cli_table *cli_table_new(int ncols, const char *const *headers);
/* Appends a cell to the current row; a new row starts after ncols cells. */
void cli_table_cell(struct cli_table *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Prints with aligned columns (two spaces apart, no tabs) and frees the table. */
void cli_table_print(struct cli_table *t, FILE *f);
void cli_table_free(struct cli_table *t);
int cli_table_rows(const struct cli_table *t);

/* Prints v (indented, keys in insertion order) and a newline, then decrefs v. */
void cli_json_print(json_t *v);
/* A JSON string of bytes: a string if valid UTF-8, else null and *binary set. */
json_t *cli_json_bytes(const void *p, size_t n);
/* Base64 of bytes, as a JSON string. */
json_t *cli_json_base64(const void *p, size_t n);

/* ---- subcommands */

int cli_topic_main(struct cli *c, int argc, char **argv);
int cli_produce_main(struct cli *c, int argc, char **argv);
int cli_consume_main(struct cli *c, int argc, char **argv);
int cli_group_main(struct cli *c, int argc, char **argv);
int cli_cluster_main(struct cli *c, int argc, char **argv);

/* Help text for the common options, appended to every verb's --help. */
extern const char cli_common_help[];

#endif
