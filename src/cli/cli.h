/*
 * cli.h: the client subcommands of the fjord binary (Kafka clients built on
 * librdkafka; they share nothing with the broker but base/): topic, produce,
 * consume, group and cluster. What they share among themselves is in
 * cli_int.h, private to src/cli/.
 */
#ifndef FJORD_CLI_CLI_H
#define FJORD_CLI_CLI_H

#define FJORD_VERSION       "0.1.0"
#define CLI_UNKNOWN_COMMAND (-1000)

/* argv[0] is the subcommand name. Returns the exit code, or CLI_UNKNOWN_COMMAND. */
int cli_main(int argc, char **argv);

#endif
