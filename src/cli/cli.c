/*
 * cli.c: routes client subcommands. Subcommands (topic, produce, consume,
 * group, cluster, bench) arrive with the admin-surface work; until then only
 * the router exists.
 */
#include "cli/cli.h"

#include <string.h>

int cli_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return CLI_UNKNOWN_COMMAND;
}
