/*
 * unit.c: the runner behind unit.h: fork per test, 60 s alarm, summary line.
 * Run one test with: ./test_binary NAME.
 */
#include "unit.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#define UNIT_MAX 512

static struct {
	const char *name;
	unit_fn fn;
} tests[UNIT_MAX];
static int ntests;
static char tmpdir[256];

void unit_register(const char *name, unit_fn fn)
{
	if (ntests < UNIT_MAX) {
		tests[ntests].name = name;
		tests[ntests].fn = fn;
		ntests++;
	}
}

void unit_fail(const char *file, int line, const char *msg)
{
	fprintf(stderr, "  %s:%d: check failed: %s\n", file, line, msg);
	fflush(stderr);
	_exit(1);
}

const char *unit_tmpdir(void)
{
	if (!tmpdir[0]) {
		const char *base = getenv("TMPDIR");
		snprintf(tmpdir, sizeof(tmpdir), "%s/fjord-unit-XXXXXX", base ? base : "/tmp");
		if (!mkdtemp(tmpdir)) {
			perror("mkdtemp");
			_exit(1);
		}
	}
	return tmpdir;
}

static int run_one(int i)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		return 0;
	}
	if (pid == 0) {
		alarm(60);
		tests[i].fn();
		if (tmpdir[0]) {
			char cmd[300];
			snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
			if (system(cmd) != 0)
				fprintf(stderr, "could not remove %s\n", tmpdir);
		}
		fflush(stdout);
		_exit(0);
	}
	int st = 0;
	while (waitpid(pid, &st, 0) < 0)
		;
	int ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
	if (!ok && WIFSIGNALED(st))
		fprintf(stderr, "  killed by signal %d%s\n", WTERMSIG(st),
		        WTERMSIG(st) == SIGALRM ? " (timeout)" : "");
	printf("%s %s\n", ok ? "PASS" : "FAIL", tests[i].name);
	return ok;
}

int unit_main(int argc, char **argv)
{
	int passed = 0, failed = 0;
	for (int i = 0; i < ntests; i++) {
		if (argc > 1 && strcmp(argv[1], tests[i].name) != 0)
			continue;
		if (run_one(i))
			passed++;
		else
			failed++;
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
